"""``store.erase_predictions`` that reaches no call says so, and a run it does not hold
is refused: an erasure request never looks done when nothing was erased.

Before: a person's row passed as a Series (``frame.iloc[i]``), a row never scored, or a
mistyped ``run_id`` returned ``{"calls": []}`` without a word, and a handler reading no
exception took the request as carried out; a row held as a dict failed with an error
about shapes (``IndexError: tuple index out of range`` from ``find_predictions``). The
truths: the store's events and salts before and after (nothing written), and, for random
sequences of calls, which batches held the person's row (brute force over what was
scored).
"""

import itertools
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.compliance import find_predictions
from sktraceprop.exceptions import UnknownRunError
from tests.stores.test_erase_predictions import _X, _model


def _held(store):
    return [e["seq"] for e in store.events(include_store_events=True)], dict(
        store._raw_prediction_salts()
    )


def _erase(store, X, **kwargs):
    """``(result, [UserWarning texts])`` of one erasure."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = store.erase_predictions(X, reason="Art. 17 #1", **kwargs)
    return done, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_a_row_as_a_series_erases_nothing_and_says_to_pass_the_frame(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_X.iloc[[2]])
    before = _held(store)
    for dry_run in (True, False):
        done, said = _erase(store, _X.iloc[2], dry_run=dry_run)
        assert done["calls"] == [] and _held(store) == before
        (text,) = [s for s in said if "erased: no logged call" in s]
        assert ("nothing would be erased" if dry_run else "nothing was erased") in text
        assert "pass frame.iloc[[i]]" in text
    done, said = _erase(store, _X.iloc[[2]])
    assert done["calls"] == [before[0][-1]] and not any("nothing" in s for s in said)


def test_a_run_the_store_does_not_hold_is_refused_before_anything(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_X.iloc[[1]])
    before = _held(store)
    for run_id in ("no-such-run", model.lineage_.run_id + "x", "bad\x00id"):
        for dry_run in (True, False):
            with pytest.raises(UnknownRunError, match="nothing was erased"):
                store.erase_predictions(_X.iloc[[1]], reason="r", run_id=run_id, dry_run=dry_run)
    assert _held(store) == before
    done, said = _erase(store, _X.iloc[[1]], run_id=model.lineage_.run_id)
    assert done["calls"] == [before[0][-1]] and said == []


def test_a_row_that_is_not_rows_is_refused_naming_what_to_pass(backend):
    store = backend.make()
    model = _model(store)
    model.predict(_X.iloc[2:5])
    before = _held(store)
    row = dict(_X.iloc[3])  # a person's row as they might hold it
    for rows in (row, 5, None, "age"):
        with pytest.raises(TypeError, match=f"got {type(rows).__name__}") as raised:
            find_predictions(store, rows)
        for dry_run in (True, False):
            with pytest.raises(TypeError, match=f"got {type(rows).__name__}"):
                store.erase_predictions(rows, reason="r", dry_run=dry_run)
        assert ("pandas.DataFrame([row])" in str(raised.value)) == (rows is row)
    assert _held(store) == before
    found = find_predictions(store, pd.DataFrame([row]))
    assert found.seq.tolist() == [before[0][-1]] and found.positions.tolist() == [[1]]


def _not_found(store, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        found = find_predictions(store, X)
    assert found.empty
    return found.attrs["not_found"]


def test_a_lookup_that_finds_nothing_offers_erasure_as_the_reason_only_where_one_was(backend):
    store = backend.make()
    model = _model(store)
    for rows in ([0], [1, 2], [3], [4]):
        model.predict(_X.iloc[rows])
    assert "erased" not in _not_found(store, _X.iloc[[5]])  # nothing was erased
    erased = 0
    for person in (0, 2):  # person 2 is erased with its batch (rows 1 and 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            erased += len(store.erase_predictions(_X.iloc[[person]], reason="r")["calls"])
        said = _not_found(store, _X.iloc[[person]])
        assert f"the call was erased ({erased} of those 4 were, by an erasure request" in said
    assert erased == 2 and f"({erased} of those 4 were" in _not_found(store, _X.iloc[[5]])


_BATCHES = st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), max_size=4)


@pytest.mark.parametrize(("kind", "examples"), [("memory", 30), ("sqlite", 6)])
def test_nothing_erased_is_said_exactly_when_no_batch_held_the_row(kind, examples, tmp_path):
    names = itertools.count()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batches=_BATCHES, person=st.integers(0, 5), dry_run=st.booleans())
    @example(batches=[], person=0, dry_run=False)
    @example(batches=[[1, 2], [0]], person=3, dry_run=True)
    def check(batches, person, dry_run):
        if kind == "memory":
            store = stp.stores.MemoryStore()
        else:
            store = stp.stores.SQLiteStore(tmp_path / f"s{next(names)}.db")  # a new file
        model = _model(store)
        seqs = []
        for rows in batches:
            model.predict(_X.iloc[rows])
            seqs.append(store.events(kind="prediction")[-1]["seq"])
        # the truth: the calls whose batch held the person's row
        held = [seq for seq, rows in zip(seqs, batches) if person in rows]
        done, said = _erase(store, _X.iloc[[person]], dry_run=dry_run)
        assert done["calls"] == held
        nothing = [s for s in said if "erased: no logged call" in s]
        assert bool(nothing) == (not held)

    check()


def test_the_command_exits_2_on_a_run_the_store_does_not_hold(tmp_path, capsys):
    from tests.stores.test_erase_predictions_cli import _cli, _salts

    path = tmp_path / "s.db"
    model = _model(stp.stores.SQLiteStore(path))
    model.predict(_X.iloc[[1]])
    rows = tmp_path / "person.csv"
    _X.iloc[[1]].to_csv(rows, index=False)
    before = _salts(path)
    code, out = _cli("erase-predictions", path, "--input", rows, "--reason", "r", "--run", "nope")
    assert code == 2 and out == "" and "no run 'nope'" in capsys.readouterr().err
    assert _salts(path) == before
    code, out = _cli(
        "erase-predictions", path, "--input", rows, "--reason", "r", "--run", model.lineage_.run_id
    )
    assert code == 0 and "erased 1 logged call" in out and _salts(path) != before
