"""A fit on a traced transformer's output that carries no row ids says where they were left.

``pipe.transform(X)`` of a traced pipeline (column transformer, ``TracedEstimator``)
is a NumPy array by scikit-learn's default: a model fitted on it records anonymous rows.
The fit warns, naming the step, and the remedies it names keep the lines; the truth
of those lines is the raw file (``_raw_files.keys_by_line``).
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import keys_by_line


def _write(tmp_path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["key,age,bp,chol,sex,label"]
    for i in range(n):
        if i % 9 == 4:
            lines.append("")  # a blank line: lines are not positions
        lines.append(
            f"k{i},{rng.integers(20, 90)},{rng.normal(120, 15):.3f},"
            f"{rng.normal(200, 30):.3f},{'FM'[i % 2]},{i % 2}"
        )
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fit_warnings(X, y, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = stp.make_traced_pipeline(LogisticRegression()).fit(X, y, **kw)
    return model, [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


def _lines_hold_keys(model, keys, path):
    """Whether every training row's named line holds that row's key in the raw file."""
    truth = keys_by_line(path)
    rows = model.lineage_.rows()
    return [truth.get((path.stem, int(line))) for line in rows["line"]] == list(keys)


FEATURES = ["age", "bp", "chol"]


@pytest.mark.parametrize(
    "make",
    [
        lambda d: stp.make_traced_pipeline(StandardScaler()).fit(d[FEATURES]).transform,
        lambda d: stp.make_traced_pipeline(StandardScaler()).fit_transform,
        lambda d: stp.TracedEstimator(StandardScaler()).fit(d[FEATURES]).transform,
        lambda d: stp.TracedEstimator(StandardScaler()).fit_transform,
    ],
)
def test_fit_on_bare_output_names_the_step(tmp_path, make):
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    Z = make(d)(d[FEATURES])
    assert isinstance(Z, np.ndarray)
    _, caught = _fit_warnings(Z, d["label"].to_numpy())
    assert len(caught) == 1
    assert re.search(r"Traced(Pipeline\(standardscaler\)|Estimator\(StandardScaler\))", caught[0])
    assert "on rows of patients" in caught[0]
    assert "set_output(transform='pandas')" in caught[0]


def test_column_transformer_output_split_then_fitted(tmp_path):
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    ct = stp.make_traced_column_transformer(
        (StandardScaler(), ["age", "bp"]), (OneHotEncoder(), ["sex"])
    )
    Z = ct.fit_transform(d, d["label"])
    _, Z_test, _, y_test = train_test_split(Z, d["label"].to_numpy(), random_state=0)
    _, caught = _fit_warnings(Z_test, y_test)
    assert len(caught) == 1
    assert f"{len(Z_test)} of its {len(Z_test)} rows" in caught[0]
    assert "TracedColumnTransformer(standardscaler, onehotencoder).fit_transform" in caught[0]


def test_remedies_keep_the_lines(tmp_path):
    """set_output(transform='pandas') and sample_id=, as the warning says: no warning, and
    every named line holds the row's key in the raw file."""
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients").sample(frac=1, random_state=3)
    pipe = stp.make_traced_pipeline(StandardScaler()).fit(d[FEATURES])
    model, caught = _fit_warnings(
        pipe.transform(d[FEATURES]), d["label"].to_numpy(), sample_id=stp.row_ids(d)
    )
    assert caught == [] and _lines_hold_keys(model, d["key"], path)
    Z = pipe.set_output(transform="pandas").transform(d[FEATURES])
    model, caught = _fit_warnings(Z, d["label"])
    assert caught == [] and _lines_hold_keys(model, d["key"], path)


def test_other_data_and_one_hot_rows_do_not_warn(tmp_path):
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    stp.make_traced_pipeline(StandardScaler()).fit(d[FEATURES]).transform(d[FEATURES])
    rng = np.random.default_rng(0)
    _, caught = _fit_warnings(rng.normal(size=(50, 3)), np.arange(50) % 2)
    assert caught == []
    onehot = stp.TracedEstimator(OneHotEncoder(sparse_output=False)).fit(d[["sex"]])
    Z = onehot.transform(d[["sex"]])
    _, caught = _fit_warnings(np.eye(2)[np.arange(40) % 2], np.arange(40) % 2)
    assert Z.shape[1] == 2 and caught == []


def test_transforms_inside_a_traced_fit_are_not_remembered(tmp_path):
    """Only the outermost traced call remembers: the scaler's output inside the pipeline
    is not the pipeline's."""
    from sktraceprop._lineage import _bare_outputs

    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    inner = stp.TracedEstimator(StandardScaler())
    pipe = stp.make_traced_pipeline(inner, StandardScaler()).fit(d[FEATURES])
    before = len(_bare_outputs._KEPT)
    pipe.transform(d[FEATURES])
    assert [o.step for o in list(_bare_outputs._KEPT)[before:]] == [
        "TracedPipeline(tracedestimator, standardscaler).transform"
    ]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.permutations(range(120)),
    size=st.integers(2, 120),
    float32=st.booleans(),
)
def test_any_rows_of_the_output_warn_and_sample_id_names_their_lines(
    tmp_path, order, size, float32
):
    """Any subset and order of the output's rows (cast to float32 or not) is recognised;
    fitted with the ids of the same rows, every line holds the row's key."""
    path = tmp_path / "patients.csv"
    if not path.exists():
        _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    Z = stp.make_traced_pipeline(StandardScaler()).fit(d[FEATURES]).transform(d[FEATURES])
    rows = np.asarray(order[:size])
    part = Z[rows].astype(np.float32) if float32 else Z[rows]
    y = np.arange(size) % 2
    _, caught = _fit_warnings(part, y)
    assert len(caught) == 1 and f"{size} of its {size} rows" in caught[0]
    model, caught = _fit_warnings(part, y, sample_id=stp.row_ids(d)[rows])
    assert caught == [] and _lines_hold_keys(model, d["key"].to_numpy()[rows], path)


def test_forgotten_rows_empty_the_memory(tmp_path):
    from sktraceprop._lineage._witness import WITNESSES

    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    Z = stp.make_traced_pipeline(StandardScaler()).fit(d[FEATURES]).transform(d[FEATURES])
    WITNESSES.forget(stp.row_ids(d)[:1])
    _, caught = _fit_warnings(Z, d["label"].to_numpy())
    assert not any("output of" in m for m in caught)


def test_a_split_of_a_large_output_holds_kept_rows():
    """Past 4,096 rows only rows picked by their ids are kept; a fifth of the output
    (and a sparse output) still holds its share of them."""
    from scipy import sparse

    rng = np.random.default_rng(1)
    frame = stp.from_pandas(pd.DataFrame(rng.normal(size=(20_000, 3)), columns=FEATURES), "large")
    Z = stp.make_traced_pipeline(StandardScaler()).fit(frame).transform(frame)
    _, Z_test = train_test_split(Z, test_size=0.2, random_state=0)
    _, caught = _fit_warnings(Z_test, np.arange(len(Z_test)) % 2)
    found = int(re.search(r"at least (\d+) of its 4000 rows", caught[0]).group(1))
    assert 500 < found < 1200  # about a fifth of the 4,096 kept
    _, caught = _fit_warnings(sparse.csr_matrix(Z_test), np.arange(len(Z_test)) % 2)
    assert "TracedPipeline(standardscaler).transform on rows of large" in caught[0]


def test_the_numpy_of_a_pandas_output_names_the_step(tmp_path):
    """set_output(transform='pandas') keeps the ids; .to_numpy() of that frame drops them."""
    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    pipe = stp.make_traced_pipeline(StandardScaler()).set_output(transform="pandas")
    Z = pipe.fit(d[FEATURES]).transform(d[FEATURES].iloc[::-1])
    assert stp.row_ids(Z).tolist() == stp.row_ids(d)[::-1].tolist()
    _, caught = _fit_warnings(Z.to_numpy()[:30], np.arange(30) % 2)
    assert len(caught) == 1
    assert "TracedPipeline(standardscaler).transform on rows of patients" in caught[0]
    model, caught = _fit_warnings(Z.iloc[:30], np.arange(30) % 2)
    assert caught == [] and _lines_hold_keys(model, d["key"].iloc[::-1][:30], path)


def _serving_pipelines(d):
    """A traced pipeline and a scikit-learn one, each with a traced step (the step a
    ``predict``, ``score`` or ``fit`` of the pipeline transforms with)."""
    from sklearn.pipeline import Pipeline

    X, y = d[FEATURES], d["label"]
    traced = stp.make_traced_pipeline(stp.TracedEstimator(StandardScaler()), LogisticRegression())
    plain = Pipeline(
        [("scale", stp.TracedEstimator(StandardScaler())), ("model", LogisticRegression())]
    )
    return traced.fit(X, y), plain.fit(X, y)


def test_serving_calls_keep_the_users_output(tmp_path):
    """Before: every predict/predict_proba/score of a pipeline with a traced step
    remembered the step's output, and after 16 of them the output the user holds was
    gone: a fit on it recorded anonymous rows without a word. Only outputs handed to
    the user's code are remembered now."""
    from sklearn.model_selection import cross_val_score

    from sktraceprop._lineage import _bare_outputs

    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    X, y = d[FEATURES], d["label"]
    Z = stp.make_traced_pipeline(StandardScaler(with_std=False)).fit(X).transform(X)
    kept = [o.step for o in _bare_outputs._KEPT]
    for pipe in _serving_pipelines(d):
        for _ in range(_bare_outputs.MAX_OUTPUTS + 1):
            pipe.predict(X)
            pipe.predict_proba(X.iloc[:7])
            pipe.score(X, y)
        pipe.fit(X, y)
        cross_val_score(pipe, X, y, cv=3)
    assert [o.step for o in _bare_outputs._KEPT] == kept
    _, caught = _fit_warnings(Z, y.to_numpy())
    assert len(caught) == 1 and "TracedPipeline(standardscaler).transform" in caught[0]


def test_a_transform_the_user_calls_through_a_pipeline_or_a_thread_is_remembered(tmp_path):
    """A scikit-learn pipeline's transform (its traced step's output is the user's) and a
    traced transform called from the user's own worker thread still warn."""
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.pipeline import make_pipeline

    path = _write(tmp_path)
    d = stp.read_csv(path, source_id="patients")
    X, y = d[FEATURES], d["label"].to_numpy()
    plain = make_pipeline(stp.TracedEstimator(StandardScaler())).fit(X)
    _, caught = _fit_warnings(plain.transform(X), y)
    assert len(caught) == 1 and "TracedEstimator(StandardScaler).transform" in caught[0]
    traced = stp.make_traced_pipeline(StandardScaler(with_mean=False)).fit(X)
    with ThreadPoolExecutor(1) as pool:
        Z = pool.submit(lambda: traced.fit_transform(X)).result()
    _, caught = _fit_warnings(Z, y)
    assert len(caught) == 1 and "TracedPipeline(standardscaler).fit_transform" in caught[0]
