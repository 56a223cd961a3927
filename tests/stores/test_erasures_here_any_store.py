"""Every view says True for the rows of an erasure request made in this process.

Before: an explanation of a model with no store said ``<NA>`` ("not known") for every
row, while the lineage views given no store (``Lineage.trace``, ``stp.row_lineage``)
said True for the rows of a request made in this process; and every view given store A
said False ("not erased") for rows erased through store B in this same process, with
the explanation's ``trace()`` handing out their values. Now a request made here is seen
by every view, whatever store it is given (or none), named in
``attrs["erasures_requests_here"]``, said once where the store given records it itself.
The truth: the same view given the store the request was made through, and the keys of
the data's rows.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.stores import MemoryStore, SQLiteStore
from tests.stores.test_lineage_erasures_here import N, _caught, _data, _erase, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _explain(pipe, df):
    X, y = df[["age"]], df["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a fit after the erasure is warned of it)
        explainer = stp.InfluenceExplainer(pipe).fit(X, y)
        return explainer.explain(X.iloc[:2], top_k=len(df))


def _by_row(frame):
    """``{(train_index, row_id): erased}`` (``None`` for ``<NA>``)."""
    marks = frame["erased"].astype(object).where(frame["erased"].notna(), None)
    keys = zip(frame["train_index"].to_numpy().tolist(), frame["row_id"].to_numpy().tolist())
    return dict(zip(keys, marks.tolist()))


def _same_as_lineage(explanation, pipe, store):
    """The explanation's ``train_rows`` and ``top()`` mark each row as the model's
    ``lineage_.trace(store=)`` does; returns the trace."""
    n = pipe.lineage_.n_samples
    truth, said = _caught(lambda: pipe.lineage_.trace(np.arange(n), store=store))
    for view in (lambda: explanation.train_rows, lambda: explanation.top()):
        frame, said_here = _caught(view)
        expected = _by_row(truth)
        assert {k: expected[k] for k in _by_row(frame)} == _by_row(frame)
        assert frame.attrs["erasures_checked"] == truth.attrs["erasures_checked"]
        named = truth.attrs.get("erasures_requests_here", [])
        assert frame.attrs.get("erasures_requests_here", []) == named
        assert all(w in frame.attrs["erasures_note"] for w in named)
        assert bool(said_here) == bool(said)
    return truth


def _erased_keys(df, frame):
    marked = frame["erased"].fillna(False).to_numpy(bool)
    return set(df["key"].to_numpy()[frame["train_index"].to_numpy()[marked]].tolist())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.sets(st.integers(0, N - 1), min_size=1, max_size=N),
    kind=st.sampled_from(["sqlite", "memory"]),
)
@example(lines={0, 7}, kind="memory")
@example(lines=set(range(N)), kind="sqlite")
def test_an_explanation_with_no_store_marks_what_the_lineage_views_mark(
    tmp_path_factory, lines, kind
):
    _removed_rows.clear()  # (each example its own requests: earlier ones name these rows)
    folder = tmp_path_factory.mktemp("ex")
    df, visits = _data(folder / "data")
    store = SQLiteStore(folder / "audit.db") if kind == "sqlite" else MemoryStore()
    stored, plain = _fit(store, df), _fit(None, df)
    _erase(store, sample_id=stp.row_ids(visits.iloc[sorted(lines)]))
    keys = set(visits["key"].to_numpy()[sorted(lines)].tolist())

    truth = _same_as_lineage(_explain(plain, df), plain, None)
    # the truth: the rows of the data whose keys were erased, and only they
    assert _erased_keys(df, truth) == keys
    assert truth["erased"].fillna(True).all()  # (never False without a store)
    assert truth.attrs["erasures_requests_here"]
    # the model with the store says the same rows, False for the others
    checked = _same_as_lineage(_explain(stored, df), stored, store)
    assert _erased_keys(df, checked) == keys and not checked["erased"].isna().any()
    assert "erasures_requests_here" not in checked.attrs  # (its own request: said once)


def test_an_explanation_with_no_store_before_any_request_here_says_not_known(tmp_path):
    _removed_rows.clear()
    df, _ = _data(tmp_path / "data")
    plain = _fit(None, df)
    frame, said = _caught(lambda: _explain(plain, df).train_rows)
    assert frame["erased"].isna().all() and said == []
    assert "this process made no erasure request" in frame.attrs["erasures_note"]


def _stores(kind, folder):
    if kind == "memory":
        return MemoryStore(), MemoryStore()
    return SQLiteStore(folder / "a.db"), SQLiteStore(folder / "b.db")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_views_given_another_store_say_the_rows_erased_here_are_erased(kind, tmp_path):
    _removed_rows.clear()
    df, visits = _data(tmp_path / "data")
    a, b = _stores(kind, tmp_path)
    pipe_a, pipe_b = _fit(a, df), _fit(b, df)
    keys = {503, 508}
    (event,) = _erase(b, sample_id=stp.row_ids(visits[visits["key"].isin(keys)]))
    words = f"erasure event {event['seq']} in {b!r} at {event['created_at']}"
    n = len(df)
    views = [
        lambda s: stp.row_lineage(df, store=s),
        lambda s: pipe_a.lineage_.trace(np.arange(n), store=s),
        lambda s: pipe_a.lineage_.rows(store=s),
    ]
    for view in views:
        truth, _ = _caught(lambda view=view: view(b))
        frame, said = _caught(lambda view=view: view(a))
        # True exactly where the store the request went through says so, never False
        assert frame["erased"].tolist() == truth["erased"].tolist()
        assert frame["erased"].any() and not frame["erased"].isna().any()
        assert frame.attrs["erasures_requests_here"] == [words]
        assert words in frame.attrs["erasures_note"]
        assert "erasures_requests_here" not in truth.attrs  # (b records it: said once)
        (message,) = said
        assert words in message and "does not record" in message
    truth = _same_as_lineage(_explain(pipe_a, df), pipe_a, a)
    assert _erased_keys(df, truth) == keys
    # an explanation's trace() withholds the values of those rows, naming the request
    explanation = _explain(pipe_a, df)
    for rank in range(n):
        found = explanation.trace(0, rank)
        erased = int(df["key"].to_numpy()[found["train_index"]]) in keys
        assert (found["values"] is None) == erased
        assert (found["removed"] is not None and words in found["removed"]) == erased
    # and pipe_b's, given its own store, the same rows, by the store's seq
    frame, said = _caught(lambda: pipe_b.lineage_.trace(np.arange(n), store=b))
    assert _erased_keys(df, frame) == keys and f"seq {event['seq']})" in said[0]


def test_two_openings_of_one_sqlite_file_are_one_store(tmp_path):
    _removed_rows.clear()
    df, visits = _data(tmp_path / "data")
    one = SQLiteStore(tmp_path / "audit.db")
    pipe = _fit(one, df)
    (event,) = _erase(one, sample_id=stp.row_ids(visits.iloc[[2]]))
    other = SQLiteStore(tmp_path / "audit.db")
    frame, said = _caught(lambda: pipe.lineage_.rows(store=other))
    assert frame["erased"].sum() == 2  # (the merged row, once per file line behind it)
    assert "erasures_requests_here" not in frame.attrs
    (message,) = said
    assert f"seq {event['seq']})" in message and "made in this process" not in message


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_model_used_with_another_store_says_it_holds_rows_erased_here(kind, tmp_path):
    _removed_rows.clear()
    df, visits = _data(tmp_path / "data")
    a, b = _stores(kind, tmp_path)
    pipe_a = _fit(a, df).set_params(log_predictions=True)
    _fit(b, df)
    (event,) = _erase(b, sample_id=stp.row_ids(visits.iloc[[1, 6]]))
    words = f"erasure event {event['seq']} in {b!r} at {event['created_at']}"
    # its trace() and its first logged call to its own store (which records no request)
    frame, said = _caught(lambda: pipe_a.trace(np.arange(len(df))))
    (message,) = said
    assert "holds 2 training row(s)" in message and words in message
    assert "does not record" in message and frame["erased"].sum() == 4  # (2 lines a row)
    assert f"which this {a!r} does not record" in message  # (which store, not its class)
    _, said = _caught(lambda: pipe_a.predict(df[["age"]].iloc[:2]))
    (message,) = said
    assert "holds 2 training row(s)" in message and words in message
