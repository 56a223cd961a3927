"""A step fitted outside the pipeline on some rows of a source (one scaler per hospital of
one file, before ``pd.concat``) is listed for the rows it transformed, not for every row
of the source (``Op.rows``, ``sktraceprop._lineage._row_sets``).

The truth is what the test did: which transformer each row was given to. Before, every
row of the file listed every hospital's scaler.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._row_sets import contains, count, encode, from_json, to_json
from sktraceprop._lineage._run import op_labels
from tests.conftest import scaled_per_hospital, write_two_features

_STEPS = [
    lambda: StandardScaler(),
    lambda: MinMaxScaler(),
    lambda: RobustScaler(),
    lambda: MinMaxScaler(feature_range=(-3, 2)),
]


def _traced(est):
    return stp.TracedEstimator(est).set_output(transform="pandas")


def _fingerprint(wrapper):
    return wrapper.lineage_.ops[-1].fingerprint


def _half_in_a_worker(step, X, k):
    """``step.transform`` of the first ``k`` rows here, of the rest in a joblib worker
    process (loky): ``(here, there)``."""
    here = step.transform(X.iloc[:k])
    (there,) = joblib.Parallel(n_jobs=2, backend="loky")(
        [joblib.delayed(step.transform)(X.iloc[k:])]
    )
    return here, there


def _ops_per_row(model, n):
    """Row id -> set of fingerprints of the upstream ops its trace lists."""
    run = model.lineage_
    by_label = dict(zip(op_labels(run.ops), (op.fingerprint for op in run.ops)))
    upstream = {op.fingerprint for op in run.ops if op.sources is not None}
    trace = model.trace(np.arange(n))
    return {
        int(r): {by_label[o] for o in ops} & upstream
        for r, ops in zip(trace["row_id"], trace["ops"])
    }


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(12, 600),
    plan=st.lists(st.integers(-1, len(_STEPS) - 1), min_size=1, max_size=3),
    then=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_each_row_lists_exactly_the_steps_it_was_given_to(
    tmp_path, rows, plan, then, shuffle, seed
):
    """Rows of one file split at random into groups; each group scaled by its own step
    (or left as loaded, -1), the first group optionally by a second step after its
    first; the parts concatenated (shuffled or not). Each row's trace lists the steps
    its group went through, and nothing else; so do the stored run, the valuer's
    ``by_op`` and the unlearner's count of retained rows through each step."""
    REGISTRY.clear()
    df = stp.read_csv(write_two_features(tmp_path / f"d{rows}.csv", rows, 0.5, seed))
    rng = np.random.default_rng(seed)
    group = rng.integers(0, len(plan), rows)
    group[: len(plan)] = np.arange(len(plan))  # every group has a row
    parts, truth = [], {}
    for g, step in enumerate(plan):
        part = df[["x1", "x2"]][group == g]
        ids = stp.row_ids(part)
        done = set()
        if step >= 0:
            wrapper = _traced(_STEPS[step]())
            part = wrapper.fit_transform(part)
            done.add(_fingerprint(wrapper))
            if then and g == 0:
                second = _traced(StandardScaler(with_mean=False))
                part = second.fit_transform(part)
                done.add(_fingerprint(second))
        truth.update({int(i): done for i in ids})
        parts.append(part)
    X = pd.concat(parts)
    if shuffle:
        X = X.sample(frac=1.0, random_state=seed)
    y = df["y"].loc[X.index]
    model = stp.TracedEstimator(LogisticRegression(), store=stp.stores.MemoryStore())
    model.fit(X, y)
    listed = _ops_per_row(model, rows)
    wrong = {r: (listed[r], truth[r]) for r in truth if listed[r] != truth[r]}
    assert not wrong, list(wrong.items())[:3]
    assert not any("is listed for every row" in n for n in model.lineage_.notes)
    # the stored run says the same
    back = model.store.load_run(model.lineage_.run_id)
    pd.testing.assert_frame_equal(
        back.trace(np.arange(rows), store=model.store), model.trace(np.arange(rows))
    )
    assert model.store.verify()
    # the valuer counts the rows through each step as the truth does
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    valuer.value(X.iloc[:4], y.iloc[:4])
    table = valuer.by_op().set_index("fingerprint")
    for op in valuer.ops_:
        want = sum(op.fingerprint in done for done in truth.values())
        assert table.loc[op.fingerprint, "n_rows"] == want, op.name


def test_two_hospitals_in_one_file(tmp_path):
    """The reproducer: a hospital column, one scaler per hospital, concat."""
    n = 200
    frame, d, X, scalers = scaled_per_hospital(tmp_path, n, ["a", "b"], 0)
    model = stp.TracedEstimator(LogisticRegression()).fit(X, d["y"].loc[X.index])
    listed = _ops_per_row(model, n)
    hospital = dict(zip(stp.row_ids(d).tolist(), frame["hospital"]))
    for r, ops in listed.items():
        assert ops == {_fingerprint(scalers[hospital[r]])}


def test_a_part_transformed_in_another_process_keeps_the_step_for_every_row(tmp_path):
    """Half the rows scaled here, half in a worker process: which rows the worker
    transformed is not known here, so the step stays listed for every row, and the
    notes say why (restricting it to the rows seen here would drop it from the others)."""
    df = stp.read_csv(write_two_features(tmp_path / "d.csv", 300, 0.0, 7))
    X = df[["x1", "x2"]]
    scaler = _traced(StandardScaler()).fit(X)
    here, there = _half_in_a_worker(scaler, X, 150)
    Z = pd.concat([here, there])
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, df["y"])
    listed = _ops_per_row(model, len(Z))
    assert all(ops == {_fingerprint(scaler)} for ops in listed.values())
    assert any("which rows went through it is not known" in n for n in model.lineage_.notes)


def test_rows_left_as_loaded_are_not_listed(tmp_path):
    df = stp.read_csv(write_two_features(tmp_path / "d.csv", 300, 0.0, 8))
    X = df[["x1", "x2"]]
    scaler = _traced(StandardScaler())
    Z = pd.concat([scaler.fit_transform(X.iloc[::3]), X.drop(index=X.index[::3])])
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, df["y"].loc[Z.index])
    listed = _ops_per_row(model, len(Z))
    through = set(stp.row_ids(X.iloc[::3]).tolist())
    for r, ops in listed.items():
        assert ops == ({_fingerprint(scaler)} if r in through else set())
    (op,) = [op for op in model.lineage_.ops if op.sources is not None]
    assert count(op.rows) == 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3000)), min_size=0, max_size=300),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3100)), min_size=1, max_size=80),
)
def test_row_sets_hold_exactly_their_ids(members, probes):
    """Against ``np.isin`` on the raw ids, across source codes."""
    ids = np.array([(c << 36) | line for c, line in members], dtype=np.int64)
    probe = np.array([(c << 36) | line for c, line in probes], dtype=np.int64)
    segments = encode(ids)
    assert np.array_equal(contains(segments, probe), np.isin(probe, ids))
    assert count(segments) == np.unique(ids).size
    assert from_json(to_json(segments)) == segments


@pytest.mark.parametrize(
    "bad",
    [
        [["1", 8, "not base64!"]],
        [["1", 100, "eJz7DwABAAEA"]],  # one byte of bits, 100 recorded
        [["x", 8, "eJz7DwABAAEA"]],
        "text",
    ],
)
def test_a_malformed_row_set_is_an_error(bad):
    with pytest.raises(ValueError, match="malformed set of row ids"):
        from_json(bad)


def test_a_fit_on_rows_a_step_never_transformed_leaves_it_out(tmp_path):
    """A scaler fitted and applied to the first half of a file; a fit on the second half
    as loaded. Before, the step was listed (its output could not be compared on rows it
    never saw) with a 'not established' note; the rows it transformed say it was not."""
    df = stp.read_csv(write_two_features(tmp_path / "d.csv", 200, 0.0, 9))
    X, y = df[["x1", "x2"]], df["y"]
    scaler = _traced(StandardScaler())
    scaler.fit_transform(X.iloc[:100])
    model = stp.TracedEstimator(LogisticRegression()).fit(X.iloc[100:], y.iloc[100:])
    assert [op for op in model.lineage_.ops if op.sources is not None] == []
    notes = model.lineage_.notes
    assert any("left out of this run's ops" in n for n in notes), notes
    assert not any("not established" in n for n in notes), notes


def _with_missing(path, n, seed):
    """A CSV file of ``n`` rows, three features, a fifth of ``x1`` missing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[rng.random(n) < 0.2, 0] = np.nan
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "y": np.arange(n) % 2})
    frame.to_csv(path, index=False)
    return path


def test_a_step_that_changes_few_cells_in_another_process_keeps_every_row(tmp_path):
    """An imputer applied to half the rows here and half in a worker: the worker's rows
    agree with what was loaded on every cell but the imputed ones, which counted as
    'accounted for as loaded' (half the cells or more), so the step was listed for the
    rows seen here only, with no note. A row is accounted for only where each of its
    cells is (as loaded or another step's output)."""
    from sklearn.impute import SimpleImputer

    df = stp.read_csv(_with_missing(tmp_path / "d.csv", 400, 3))
    X = df[["x1", "x2", "x3"]]
    imputer = _traced(SimpleImputer()).fit(X)
    here, there = _half_in_a_worker(imputer, X, 200)
    model = stp.TracedEstimator(LogisticRegression()).fit(pd.concat([here, there]), df["y"])
    listed = _ops_per_row(model, len(df))
    assert all(ops == {_fingerprint(imputer)} for ops in listed.values())
    assert any("which rows went through it is not known" in n for n in model.lineage_.notes)


def test_a_step_in_another_process_then_a_step_here_keeps_every_row(tmp_path):
    """A scaler applied to half the rows here and half in a worker, then a second scaler
    fitted here on all of them: the worker's rows are the second scaler's output, which
    counted as 'accounted for', so the first scaler was listed for half the rows with no
    note. The second scaler's input did not establish which rows went through the first;
    its output cannot rule it out either."""
    df = stp.read_csv(write_two_features(tmp_path / "d.csv", 300, 0.0, 11))
    X = df[["x1", "x2"]]
    first = _traced(StandardScaler()).fit(X)
    here, there = _half_in_a_worker(first, X, 150)
    second = _traced(MinMaxScaler())
    Z = second.fit_transform(pd.concat([here, there]))
    model = stp.TracedEstimator(LogisticRegression()).fit(Z, df["y"])
    listed = _ops_per_row(model, len(df))
    both = {_fingerprint(first), _fingerprint(second)}
    assert all(ops == both for ops in listed.values()), {
        r: o for r, o in listed.items() if o != both
    }
    assert any("which rows went through it is not known" in n for n in model.lineage_.notes)


def test_cells_accounted_for_by_different_steps(tmp_path):
    """A scaler on ``x1`` of the first half of the rows, another on ``x2`` of every row:
    the second half's ``x1`` is as loaded and its ``x2`` the second scaler's output, so
    each of its cells is accounted for and the first scaler is listed for the first half
    only (no single candidate explains those rows' every cell)."""
    df = stp.read_csv(write_two_features(tmp_path / "d.csv", 200, 0.0, 12))
    on_x2 = _traced(StandardScaler())
    x2 = on_x2.fit_transform(df[["x2"]])
    on_x1 = _traced(MinMaxScaler())
    x1 = pd.concat([on_x1.fit_transform(df[["x1"]].iloc[:100]), df[["x1"]].iloc[100:]])
    X = pd.concat([x1, x2], axis=1)
    model = stp.TracedEstimator(LogisticRegression()).fit(X, df["y"])
    listed = _ops_per_row(model, len(df))
    first = set(stp.row_ids(df.iloc[:100]).tolist())
    for r, ops in listed.items():
        want = {_fingerprint(on_x2)} | ({_fingerprint(on_x1)} if r in first else set())
        assert ops == want, r
    assert not any("not known" in n for n in model.lineage_.notes), model.lineage_.notes
