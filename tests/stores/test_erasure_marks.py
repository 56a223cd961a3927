"""Every place that shows a training row's file line marks an erased one.

``Lineage.rows()`` and an explanation's ``top()`` and ``train_rows`` named an erased
row's file line with no mark; and a model checked against its store's erasure requests
(its ``trace()``'s warning, an explanation's ``trace()``, a compliance report) saw only
the requests that listed its run, so a run stored later on the same file lines was said
to hold no erased row while ``lineage_.trace(store=)`` marked them. The truth: each
training row's key read from the data fitted on, the raw bytes of the file line named,
and the store's ``store.erasure`` events.
"""

import io
import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main as cli_main
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores._erased_rows import erased_rows
from tests.stores._store_helpers import DEPLOYER
from tests.stores.test_trace_erasures import (
    _caught,
    _check,
    _data,
    _erased_by_key,
    _fit,
    _known_here,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _erasures(store):
    return store.events(kind="store.erasure", include_store_events=True)


def _keys_at(df, frame):
    """The key of the data fitted on at each row of ``frame`` (its training position)."""
    return df["key"].to_numpy()[frame["train_index"].to_numpy()]


def _erased_positions(frame):
    return np.unique(frame["train_index"][frame["erased"].to_numpy(bool)]).tolist()


def test_rows_marks_the_erased_rows_or_says_it_did_not_check(backend, tmp_path):
    folder = tmp_path / "data"
    store = backend.make()
    df, visits = _data(folder)
    pipe = _fit(store, df)
    keys = {1003, 1014, 1029}
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = _erasures(store)

    for run in (pipe.lineage_, backend.make().load_run(pipe.lineage_.run_id)):
        frame, said = _caught(lambda run=run: run.rows(store=backend.make()))
        # every training row, once per file line behind it (visits and people)
        assert len(frame) == 2 * len(df)
        _check(frame.reset_index(drop=True), _keys_at(df, frame), keys, folder)
        (message,) = said
        assert f"rows: {len(keys)} of the {len(df)} row(s)" in message
        assert f"seq {event['seq']})" in message
        # no store: the request was made in this process, so its rows are known here
        here, said_here = _caught(lambda run=run: run.rows())
        _known_here(here, frame, said_here, store, [event["seq"]], said)


def _explained(store, folder):
    df, visits = _data(folder)
    pipe = _fit(store, df)
    X, y = df[["city", "age"]], df["y"]
    explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:3], top_k=6)
    return df, visits, explanation


def test_an_explanation_made_before_an_erasure_marks_the_erased_rows(backend, tmp_path):
    folder = tmp_path / "data"
    store = backend.make()
    df, visits, explanation = _explained(store, folder)
    before, said = _caught(lambda: explanation.top())
    assert not before["erased"].any() and before.attrs["erasures_checked"] and said == []
    # erase the keys of two of the rows it names (and one it does not)
    keys = set(_keys_at(df, before)[[0, 2 * 3]].tolist()) | {1000 + 29}
    data = pickle.dumps(explanation)
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = _erasures(store)
    # (this process's explanation is refused: the erasure dropped its explainer's fit)
    with pytest.raises(ValueError, match="an erasure request"):
        explanation.top()
    loaded = pickle.loads(data)
    if backend.kind == "memory":
        # a MemoryStore is pickled as a copy of what it held: the model is given the
        # store that records the erasure, as it would be its SQLite file
        loaded._explainer._explainer.estimator_.set_params(store=store)
    for opponents in (False, True):
        top, said = _caught(lambda opponents=opponents: loaded.top(opponents=opponents))
        _check(top.reset_index(drop=True), _keys_at(df, top), keys, folder)
        hit = np.isin(_keys_at(df, top), sorted(keys))
        (message,) = said
        if hit.any():
            assert message.startswith(f"Explanation.top: {hit.sum()} of the {len(top)} row(s)")
        else:  # (none shown was erased: its scores are still of the model they trained)
            assert message.startswith("Explanation.top: ") and "row(s) scored" in message
        assert f"seq {event['seq']})" in message
    rows, said = _caught(lambda: loaded.train_rows)
    _check(rows.reset_index(drop=True), _keys_at(df, rows), keys, folder)
    assert len(said) == 1 and f"train_rows: {2 * len(keys)} of the 60 row(s)" in said[0]


def test_an_explanation_of_a_model_without_a_store_says_it_could_not_check(tmp_path):
    df, _, explanation = _explained(None, tmp_path / "data")
    for frame in (explanation.top(), explanation.train_rows):
        assert frame["erased"].isna().all() and frame["erased"].dtype == "boolean"
        assert frame.attrs["erasures_checked"] is False
        assert "the explained model has no store" in frame.attrs["erasures_note"]


def test_a_request_recorded_for_one_run_is_seen_for_another_on_the_same_lines(backend, tmp_path):
    """Two runs trained on one file; the request was recorded when only the first was
    stored. The second holds the same erased lines: every check says so."""
    folder = tmp_path / "data"
    store = backend.make()
    df, visits = _data(folder)
    first = _fit(store, df)
    keys = {1004, 1011}
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = _erasures(store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the refit on rows erased is said)
        second = _fit(store, df).set_params(log_predictions=True)
        second.predict(df[["city", "age"]])  # (a use logged, for the report)
    assert event["payload"]["runs"] == [first.lineage_.run_id]
    run = store.load_run(second.lineage_.run_id)
    truth = np.flatnonzero(np.isin(df["key"].to_numpy(), sorted(keys)))

    # the store's read of it, and the lineage query: the same rows
    erased = erased_rows(store, run)
    assert sorted(erased) == truth.tolist()
    assert {e["seq"] for e in erased.values()} == {event["seq"]}
    assert not any(e["carried_out"] for e in erased.values())  # (not listed: not erased)
    frame, _ = _caught(lambda: run.trace(np.arange(len(df)), store=store))
    assert _erased_positions(frame) == truth.tolist()

    # the model's own trace(): the model is named as holding them, with the request
    frame, said = _caught(lambda: second.trace(np.arange(len(df))))
    assert _erased_positions(frame) == truth.tolist()
    (message,) = said
    assert f"holds {len(keys)} training row(s)" in message
    assert f"erasure event(s) seq {event['seq']}." in message
    assert "not carried out for this run" in message
    _, said = _caught(lambda: compliance_report(second, store=store, **DEPLOYER))
    assert said == [message]

    if backend.kind == "sqlite":  # (the command reads a store's file)
        for position in (truth[0], np.setdiff1d(np.arange(len(df)), truth)[0]):
            out = io.StringIO()
            args = ["trace", str(backend.path), "--run", run.run_id, "--row", str(position)]
            assert cli_main(args, out=out) == 0
            text = out.getvalue()
            erased_here = position in truth
            assert (f"named by erasure request event seq {event['seq']}" in text) == erased_here
            assert ("not carried out for this run" in text) == erased_here
            # the raw line of the file (its key, pid) is shown only for a row not erased
            shown = f"{df['key'].iloc[position]},{df['pid'].iloc[position]}"
            assert (shown in text) != erased_here

    # an explanation of it: the rows' values are not handed out
    X, y = df[["city", "age"]], df["y"]
    explanation = stp.InfluenceExplainer(second).fit(X, y).explain(X.iloc[:2], top_k=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErasedRowsHeldWarning)
        top = explanation.top()
        for rank in range(30):
            traced = explanation.trace(0, rank)
            if traced["train_index"] in truth:
                assert traced["values"] is None
                assert f"erasure event {event['seq']}" in traced["removed"]
            else:
                assert traced["values"] == X.iloc[traced["train_index"]].to_dict()
    assert np.array_equal(
        top["erased"].to_numpy(bool), np.isin(top["train_index"].to_numpy(), truth)
    )

    # the request run again, as the warning says: carried out for the second run now
    _erased_by_key(store, visits, keys, "art. 17, again")
    again = _erasures(store)[-1]
    assert again["payload"]["runs"] == [run.run_id]
    erased = erased_rows(store, store.load_run(run.run_id))
    assert sorted(erased) == truth.tolist()
    assert all(e["carried_out"] and e["seq"] == again["seq"] for e in erased.values())


def test_a_request_for_other_lines_marks_nothing(backend, tmp_path):
    folder = tmp_path / "data"
    store = backend.make()
    df, visits = _data(folder)
    first = _fit(store, df)
    _erased_by_key(store, visits, {1004}, "art. 17")
    # the second run is fitted without the erased row: nothing of it is erased
    kept = df[df["key"] != 1004]
    second = stp.make_traced_pipeline(
        stp.make_traced_column_transformer(("passthrough", ["age"])),
        LogisticRegression(),
        store=store,
    ).fit(kept[["age"]], kept["y"])
    frame, said = _caught(lambda: second.trace(np.arange(len(kept))))
    assert not frame["erased"].any() and said == []
    assert erased_rows(store, store.load_run(second.lineage_.run_id)) == {}
    assert first.lineage_.run_id != second.lineage_.run_id
