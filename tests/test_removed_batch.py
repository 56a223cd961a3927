"""The refit check matches the rows of every removal event of a store at once
(sktraceprop._removed_batch): each event's rows must be those the event names, as an
event read alone by its own words says them.

The truth is brute force over Python sets: for each erasure event, the fit's rows whose
(source_id, sha256, line) it names (or whose source it names), in the order of the
events; events that name none of them give nothing.
"""

import copy
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY
from sktraceprop._removal_events import removal_events
from sktraceprop._removed_in_store import removed_in_store

SIZES = {"batch_people": 30, "batch_other": 20}


@pytest.fixture
def world():
    """A store with a fit of each source, a real erasure event to copy, and the ids
    (the frames kept: a source is known while its rows are)."""
    rng = np.random.default_rng(0)
    store = stp.stores.MemoryStore()
    ids, frames = {}, []
    for name, n in SIZES.items():
        X = stp.from_numpy(rng.normal(size=(n, 2)), name)
        y = np.arange(n) % 2 == 0
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store).fit(X, y)
        ids[name] = stp.row_ids(X)
        frames.append(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=ids["batch_other"][[0]], reason="template")
    (template,) = removal_events(store)
    runs = store.list_runs()["run_id"].tolist()
    yield store, ids, template, runs
    frames.clear()


def _sha(ids):
    return REGISTRY.by_code(int(codes_of(ids[:1])[0])).sha256


_rows = st.lists(
    st.tuples(
        st.sampled_from([*SIZES, "unknown"]),
        st.booleans(),  # the source's own sha256, or another content's
        st.lists(st.integers(1, 30), max_size=5),
    ),
    max_size=3,
)
_event = st.one_of(
    st.tuples(st.just("rows"), _rows),
    st.tuples(st.just("sources"), st.lists(st.sampled_from([*SIZES, "unknown"]), max_size=2)),
    st.tuples(st.just("review"), st.none()),
)


def _events(template, runs, ids, drawn):
    events = []
    for k, (form, what) in enumerate(drawn):
        event = copy.deepcopy(template)
        event["seq"] = template["seq"] + 1 + k
        event["created_at"] = f"2026-12-06T00:00:{k:02d}+00:00"
        payload = event["payload"]
        payload["runs"] = runs
        if form == "rows":
            payload["source_ids"] = None
            payload["rows"] = [
                {
                    "source_id": name,
                    "sha256": _sha(ids[name]) if own and name in ids else "0" * 64,
                    "lines": lines,
                }
                for name, own, lines in what
            ]
        elif form == "sources":
            payload["source_ids"], payload["rows"] = what, None
        else:
            event["kind"] = "review"
        events.append(event)
    return events


def _truth(store, fit_ids, events):
    """``[(rows, what, sources)]`` of each event, read alone, by sets."""
    out = []
    for event in events:
        if event["kind"] != "store.erasure":
            continue
        payload = event["payload"]
        if payload["source_ids"] is not None:
            named = set(payload["source_ids"])
            hit = {i for i in fit_ids.tolist() if _source(i).source_id in named}
        else:
            said = {
                (r["source_id"], r["sha256"], line) for r in payload["rows"] for line in r["lines"]
            }
            hit = {
                i
                for i in fit_ids.tolist()
                if (_source(i).source_id, _source(i).sha256, _line(i)) in said
            }
        if hit:
            what = f"erasure event {event['seq']} in {store!r} at {event['created_at']}"
            sources = {int(codes_of([i])[0]): _source(i).source_id for i in hit}
            out.append((sorted(hit), what, sources))
    return out


def _source(row_id):
    return REGISTRY.by_code(int(codes_of([row_id])[0]))


def _line(row_id):
    return int(lines_of([row_id])[0])


# (the world is only read: one for every example)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drawn=st.lists(_event, max_size=12),
    kept=st.lists(st.booleans(), min_size=50, max_size=50),
)
def test_each_events_rows_are_those_it_names_read_alone(world, drawn, kept):
    store, ids, template, runs = world
    every = np.concatenate([ids["batch_people"], ids["batch_other"]])
    fit_ids = every[np.asarray(kept)]
    events = _events(template, runs, ids, drawn)
    got = removed_in_store(store, fit_ids, events=events)
    truth = _truth(store, fit_ids, events)
    assert [r.ids.tolist() for r in got] == [t[0] for t in truth]
    assert [r.what for r in got] == [t[1] for t in truth]
    assert [r._sources for r in got] == [t[2] for t in truth]
    for removed, (rows, _, _) in zip(got, truth):
        assert removed.isin(fit_ids).tolist() == [i in rows for i in fit_ids.tolist()]


def test_a_line_out_of_range_is_refused(world):
    # (as matching the event alone refused it: no row is line 0)
    store, ids, template, runs = world
    events = _events(template, runs, ids, [("rows", [("batch_people", True, [0, 2])])])
    with pytest.raises(ValueError, match="line numbers must be in"):
        removed_in_store(store, ids["batch_people"], events=events)
