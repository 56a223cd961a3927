"""A column attached by position from another traced source (``a["x"] = B["v"].values``):
identified by its values, recorded, warned of, and never named by a chance match.

The truth is what each test attached: which of B's rows each training row holds.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._attached import MIN_PAIRS, MIN_SHARE, MIN_STRONG
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._run import Lineage
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exceptions import LineageWarning, UnlearningError

_IDS = itertools.count()


def _read(tmp, name, frame):
    path = tmp / f"{name}.csv"
    frame.to_csv(path, index=False)
    return stp.read_csv(path, source_id=name)


def _source_id_of(frame):
    (code,) = np.unique(codes_of(stp.row_ids(frame)))
    return REGISTRY.by_code(code).source_id


def _sources(tmp, n_a, n_b, seed):
    k = next(_IDS)
    # (values of their own: two tests' sources holding the same values in order would
    # both be named, rightly)
    rng = np.random.default_rng([seed, k, 51])
    A = _read(
        tmp,
        f"attached_A{k}",
        pd.DataFrame({"a": rng.normal(size=n_a), "y": rng.normal(size=n_a)}),
    )
    B = _read(
        tmp,
        f"attached_B{k}",
        pd.DataFrame(
            {
                "v": rng.normal(size=n_b),
                "f": rng.integers(0, 3, n_b),
                "g": rng.integers(0, 2 * n_b, n_b),
            }
        ),
    )
    return A, B


def _fit(a, est=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(est or LinearRegression()).fit(a[["a", "x"]], a["y"])
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return pipe, [m for m in said if "attached by position" in m]


@pytest.mark.parametrize("how", ["setitem", "assign", "loc"])
def test_a_column_copied_by_position_names_its_source(tmp_path, how):
    A, B = _sources(tmp_path, 50, 50, 0)
    a = A.copy()
    if how == "setitem":
        a["x"] = B["v"].values
    elif how == "assign":
        a = a.assign(x=B["v"].values)
    else:
        a.loc[:, "x"] = B["v"].values
    pipe, said = _fit(a)
    run = pipe.lineage_
    (entry,) = run.attached_columns
    source_b = _source_id_of(B)
    assert entry["source_id"] == source_b
    assert entry["input_column"] == "x" and entry["column"] == "v"
    assert entry["match"] == "same lines"
    assert entry["rows_matched"] == entry["rows_compared"] == 50
    assert run.feature_sources()["x"] == [source_b]
    assert run.feature_sources()["a"] == [_source_id_of(A)]
    (message,) = said
    assert "x holds column v" in message and "sktraceprop.merge" in message
    # the note that the column has no known source is no longer made
    assert not any("are in none of the sources" in n for n in run.notes)
    # the record travels: to_dict/from_dict, and a record without the field still loads
    d = run.to_dict()
    back = Lineage.from_dict(d, run.row_ids)
    assert back.attached_columns == run.attached_columns
    d.pop("attached_columns")
    assert Lineage.from_dict(d, run.row_ids).attached_columns == []


def test_a_subset_in_order_is_named_and_a_shuffle_is_not(tmp_path):
    A, B = _sources(tmp_path, 40, 100, 1)
    rng = np.random.default_rng(1)
    mask = np.zeros(100, dtype=bool)
    mask[rng.choice(100, 40, replace=False)] = True
    a = A.copy()
    a["x"] = B.loc[mask, "v"].values
    pipe, said = _fit(a)
    (entry,) = pipe.lineage_.attached_columns
    assert entry["match"] == "in order" and entry["rows_matched"] == 40
    assert entry["rows_compared"] == 100
    a["x"] = B.loc[mask, "v"].values[rng.permutation(40)]
    pipe, said = _fit(a)
    assert pipe.lineage_.attached_columns == [] and not said
    assert any("are in none of the sources" in n for n in pipe.lineage_.notes)
    assert pipe.lineage_.feature_sources()["x"] == []


def test_a_float32_copy_is_named_and_a_counter_is_not(tmp_path):
    A, B = _sources(tmp_path, 40, 40, 6)
    a = A.copy()
    a["x"] = B["v"].to_numpy().astype(np.float32)  # (cast for torch: values rounded)
    pipe, said = _fit(a)
    (entry,) = pipe.lineage_.attached_columns
    assert entry["column"] == "v" and entry["rows_matched"] == 40 and len(said) == 1
    # a counter matches any counter, in order: sorted values are no evidence
    k = next(_IDS)
    C = _read(tmp_path, f"attached_C{k}", pd.DataFrame({"t": np.arange(40) * 7 + 3}))
    a["x"] = C["t"].to_numpy()
    pipe, said = _fit(a)
    assert pipe.lineage_.attached_columns == [] and not said
    assert any("are in none of the sources" in n for n in pipe.lineage_.notes)


def test_a_shift_of_the_rows_own_column_stays_of_unknown_source(tmp_path):
    A, _ = _sources(tmp_path, 60, 10, 2)
    a = A.assign(x=A["a"].shift(1))  # the training data's own values, moved: a lag
    pipe, said = _fit(a.iloc[1:])
    assert pipe.lineage_.attached_columns == [] and not said
    # (identified as a's values moved between rows: noted as changed, not attached)
    assert any("hold values that differ from what was loaded" in n for n in pipe.lineage_.notes)
    assert pipe.lineage_.feature_sources()["x"] == []


def test_few_distinct_values_are_not_checked_and_said(tmp_path):
    A, B = _sources(tmp_path, 60, 60, 3)
    a = A.copy()
    a["x"] = B["f"].values  # 0, 1, 2: every value repeats, a match could be chance
    pipe, said = _fit(a)
    run = pipe.lineage_
    assert run.attached_columns == [] and not said
    (note,) = [n for n in run.notes if "not compared with the loaded columns" in n]
    assert "x (fewer than" in note and "chance" in note
    u = stp.GradientCorrectionUnlearner(pipe).fit(a[["a", "x"]], a["y"])
    with pytest.raises(UnlearningError, match="never trained on") as err:
        u.unlearn(source_id=_source_id_of(B))
    assert "input column(s) x have no known source" in str(err.value)
    assert f"may carry data of {_source_id_of(B)!r}" in str(err.value)


def test_unlearning_an_attached_source_is_refused_and_says_why(tmp_path):
    A, B = _sources(tmp_path, 50, 50, 4)
    a = A.copy()
    a["x"] = B["v"].values
    a["y"] = (a["y"] > 0).astype(int)
    pipe, _ = _fit(a, LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        u = stp.GradientCorrectionUnlearner(pipe).fit(a[["a", "x"]], a["y"])
    coef = u.estimator_[-1].coef_.copy()
    b = _source_id_of(B)
    with pytest.raises(UnlearningError) as err:
        u.unlearn(source_id=b)
    said = str(err.value)
    assert "never trained on" not in said
    assert "input column(s) x" in said and "its column v" in said
    assert "nothing was changed" in said and "sktraceprop.merge" in said
    assert "Refit without those columns" in said
    # by row ids of B too
    with pytest.raises(UnlearningError, match="attached by position"):
        u.unlearn(sample_id=stp.row_ids(B)[:3])
    assert u.unlearning_log_ == [] and np.array_equal(u.estimator_[-1].coef_, coef)
    # asked at fit: refused too, the unlearner left unfitted
    asked = stp.GradientCorrectionUnlearner(pipe, forget=[b])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        with pytest.raises(UnlearningError, match="attached by position"):
            asked.fit(a[["a", "x"]], a["y"])
    assert not hasattr(asked, "estimator_")
    # removing rows of A works, and the corrected run still names B for x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u.unlearn(sample_id=stp.row_ids(a)[:3])
    assert u.estimator_.lineage_.feature_sources()["x"] == [b]
    assert "columns_in_no_source" not in u.unlearning_log_[-1]
    # a column computed from B (not a copy): unknown, and said to maybe carry B's data
    a["x"] = B["v"].values * 2 + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe, said_fit = _fit(a, LogisticRegression())
        u = stp.GradientCorrectionUnlearner(pipe).fit(a[["a", "x"]], a["y"])
    assert not said_fit and pipe.lineage_.attached_columns == []
    with pytest.raises(UnlearningError, match="never trained on") as err:
        u.unlearn(source_id=b)
    assert "input column(s) x have no known source" in str(err.value)


def test_a_source_a_merged_attached_column_was_made_from_is_refused_too(tmp_path):
    """``x`` attached from a right merge of B1 and B2 (B2's order): the merge is named in
    order, and B1 as reordered (x holds B1's column in B2's order); B2's rows chose and
    ordered them: unlearning either is refused, never "never trained on"."""
    A, B1 = _sources(tmp_path, 40, 40, 7)
    k = next(_IDS)
    keys = pd.DataFrame({"k": np.arange(40)[::-1], "w": np.arange(40.0)})
    B2 = _read(tmp_path, f"attached_B2_{k}", keys)
    B1 = B1.assign(k=np.arange(40))
    merged = stp.merge(B1, B2, on="k", how="right")
    a = A.copy()
    a["x"] = merged["v"].values
    a["y"] = (a["y"] > 0).astype(int)
    pipe, said = _fit(a, LogisticRegression())
    found = {e["source_id"]: e["match"] for e in pipe.lineage_.attached_columns}
    assert found.keys() == {_source_id_of(merged), _source_id_of(B1)}
    assert found[_source_id_of(merged)] != "reordered"
    assert found[_source_id_of(B1)] == "reordered"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        u = stp.GradientCorrectionUnlearner(pipe).fit(a[["a", "x"]], a["y"])
    for source in (B1, B2):
        with pytest.raises(UnlearningError, match="attached by position") as err:
            u.unlearn(source_id=_source_id_of(source))
        said = str(err.value)
        assert "never trained on" not in said and "made from it" in said
        assert "nothing was changed" in said
    assert u.unlearning_log_ == []


def test_the_run_survives_a_sqlite_store(tmp_path):
    A, B = _sources(tmp_path, 50, 50, 5)
    a = A.copy()
    a["x"] = B["v"].values
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe = stp.make_traced_pipeline(LinearRegression(), store=store)
        pipe.fit(a[["a", "x"]], a["y"])
    run = pipe.lineage_
    assert store.verify()
    store.close()
    reopened = stp.stores.SQLiteStore(tmp_path / "audit.db")
    loaded = reopened.load_run(run.run_id)
    assert loaded.attached_columns == run.attached_columns
    assert loaded.feature_sources()["x"] == [_source_id_of(B)]
    assert reopened.verify()
    # and a Parquet export, read back
    pytest.importorskip("pyarrow")
    from sktraceprop.exporters import read_parquet, to_parquet

    to_parquet(run, tmp_path / "export")
    back = read_parquet(tmp_path / "export")
    assert back == run and back.attached_columns == run.attached_columns


_KINDS = ["whole", "subset", "permuted", "flags", "chance"]


@settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(4, 70),
    extra=st.integers(0, 60),
    kind=st.sampled_from(_KINDS),
    drop_a=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
@example(n=20, extra=0, kind="permuted", drop_a=False, seed=0)
@example(n=MIN_PAIRS - 1, extra=0, kind="whole", drop_a=False, seed=1)
@example(n=40, extra=0, kind="flags", drop_a=False, seed=2)
@example(n=70, extra=60, kind="chance", drop_a=False, seed=3)
@example(n=60, extra=3, kind="permuted", drop_a=True, seed=4)
@example(n=60, extra=30, kind="permuted", drop_a=False, seed=5)
def test_attachments_are_named_only_when_in_order_or_strong(
    tmp_path, n, extra, kind, drop_a, seed
):
    rng = np.random.default_rng(seed)
    n_a = n + (5 if drop_a else 0)
    m = n if kind == "whole" else n + extra
    A, B = _sources(tmp_path, n_a, m, seed)
    # the training rows: all of A's, or all but 5 (then lines differ from positions)
    a = A.iloc[np.sort(rng.choice(n_a, n, replace=False))] if drop_a else A.copy()
    # the truth: which of B's rows (positions) each training row holds
    rows = np.sort(rng.choice(m, n, replace=False))
    if kind == "permuted":
        rows = rng.permutation(rows)
    column = "f" if kind == "flags" else "v"
    values = B[column].to_numpy()[rows]
    if kind == "chance":
        # integers drawn apart from B's column g, from the same range: values shared
        # by chance, on rows in no relation
        values = rng.integers(0, 2 * m, n)
    a = a.assign(x=values)
    pipe, said = _fit(a)
    run = pipe.lineage_
    in_order = kind != "chance" and bool((np.diff(rows) > 0).all())
    distinct = column == "v" and np.unique(values).size == n
    named = [e for e in run.attached_columns if e["input_column"] == "x"]
    if in_order and distinct and n >= MIN_PAIRS:
        (entry,) = named
        assert entry["column"] == "v" and entry["source_id"] == _source_id_of(B)
        # every row of B is a witness here (fewer than 512): each compared, each found
        assert entry["rows_compared"] == m and entry["rows_matched"] == n
        a_lines = lines_of(stp.row_ids(a))
        same = bool((a_lines == rows + 2).all())  # (a header line, then row p on p + 2)
        assert entry["match"] == ("same lines" if same else "in order")
        assert len(said) == 1
        assert run.feature_sources()["x"] == [entry["source_id"]]
    elif kind == "permuted" and distinct and n >= MIN_STRONG and n >= MIN_SHARE * m:
        # B's values, most of them, in another order: a copy from B reordered
        (entry,) = named
        assert entry["column"] == "v" and entry["source_id"] == _source_id_of(B)
        assert entry["match"] == "reordered"
        assert entry["rows_compared"] == m and entry["rows_matched"] == n
        (message,) = said
        assert "x holds the values of column v" in message and "reordered table" in message
        assert "may belong to another row" in message and "sktraceprop.merge" in message
        assert run.feature_sources()["x"] == [entry["source_id"]]
    else:
        # out of order and not strong, too few rows, or few distinct values: never named
        assert named == [] and not said
        assert run.feature_sources()["x"] == []
    if column == "f" or n < MIN_PAIRS:
        assert any("not compared with the loaded columns" in t for t in run.notes)
