"""A stored run's ``op_source_keys`` cannot be dropped or blanked by hand: the run would
read as one recorded before keys were kept, matching its ops by source id (an op fitted
on a/data.csv listed for b/data.csv's rows too). Every store's ``verify`` and
``load_run`` call either edit corruption, as they do a swapped key."""

import json

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError
from tests.conftest import write_normal_features


def _write(path, n, seed):
    return write_normal_features(path, n, seed, label="alternating")


def _dropped(key):
    """An edit of a stored run record's text: ``key`` removed."""

    def edit(text):
        record = json.loads(text)
        del record[key]
        return json.dumps(record, separators=(",", ":"), sort_keys=True)

    return edit


def _blanked(key):
    """An edit of a stored run record's text: ``key`` set to None for every op."""

    def edit(text):
        record = json.loads(text)
        record[key] = [None] * len(record["ops"])
        return json.dumps(record, separators=(",", ":"), sort_keys=True)

    return edit


def _edit_is_corruption(backend, store, run, edit):
    """``edit`` of ``run``'s stored record: ``verify`` and ``load_run`` of the store
    reopened both raise CorruptStoreError (the record verified before the edit)."""
    assert store.verify()
    backend.edit_run_record(store, run.run_id, edit)
    reopened = backend.make()
    with pytest.raises(CorruptStoreError):
        reopened.verify()
    with pytest.raises(CorruptStoreError):
        reopened.load_run(run.run_id)


@pytest.mark.parametrize("edit", [_dropped("op_source_keys"), _blanked("op_source_keys")])
def test_dropping_an_ops_source_keys_is_corruption(backend, tmp_path, edit):
    store = backend.make()
    a = _write(tmp_path / "a" / "data.csv", 12, 21)
    b = _write(tmp_path / "b" / "data.csv", 8, 22)
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    run = pipe.fit(X, pd.concat([A["y"], B["y"]])).lineage_
    _edit_is_corruption(backend, store, run, edit)


# (blanked: the step said to have transformed every row of the file)
@pytest.mark.parametrize("edit", [_dropped("op_rows"), _blanked("op_rows")])
def test_editing_which_rows_went_through_a_step_is_corruption(backend, tmp_path, edit):
    """``op_rows`` (a step fitted on one part of a file) is part of the sealed record."""
    store = backend.make()
    A = stp.read_csv(_write(tmp_path / "a.csv", 20, 23))
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]].iloc[:8]), A[["x1", "x2"]].iloc[8:]])
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    run = pipe.fit(X, A["y"]).lineage_
    assert run.to_dict()["op_rows"][0] is not None
    _edit_is_corruption(backend, store, run, edit)
