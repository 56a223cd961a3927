"""A person scored inside a batch is found, and erased, from their own row.

The truth is brute force: the test keeps every batch it logged and compares the row
looked for with each row of each batch, value by value. Rows are drawn from a few values
so that batches hold duplicates and share rows; calls are logged by two runs (models),
as predictions and as explanations.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import find_predictions

_POOL = pd.DataFrame(
    {"age": [30.0, 41.0, 30.0, 52.0, 41.0, 63.0], "bp": [1.0, 2.0, 1.0, 2.0, 3.0, 1.0]}
)  # rows 0 and 2 are the same values
_Y = np.array([0, 1, 0, 1, 1, 0])


def _models(store):
    return [
        stp.TracedPipeline(
            [("lr", LogisticRegression(C=c))], store=store, log_predictions=True
        ).fit(_POOL, _Y)
        for c in (1.0, 0.1)
    ]


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call(*args, **kwargs)


def _same(a, b):
    return np.array_equal(_POOL.iloc[a].to_numpy(), _POOL.iloc[b].to_numpy())


def _truth(logged, j):
    """``{seq: positions}`` of the calls whose batch held pool row ``j``'s values."""
    out = {}
    for seq, rows, _ in logged:
        positions = [p for p, r in enumerate(rows) if _same(r, j)]
        if positions:
            out[seq] = positions
    return out


def _found(store, X):
    """``{(seq, row of X): positions}`` of what find_predictions returns (a call found as
    X's whole batch: every position of each row in it)."""
    found = _quiet(find_predictions, store, X)
    out = {}
    for f in found.itertuples():
        if f.positions is None:  # X itself was the batch
            for i in range(len(X)):
                out[(f.seq, i)] = [p for p in range(len(X)) if X.iloc[p].equals(X.iloc[i])]
        else:
            out[(f.seq, f.row)] = list(f.positions)
    return out, found


_batches = st.lists(
    st.tuples(
        st.integers(0, 1),  # which model
        st.sampled_from(["predict", "predict_proba", "explain"]),
        st.lists(st.integers(0, 5), min_size=1, max_size=7),  # the pool rows of the batch
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=_batches, wanted=st.lists(st.integers(0, 5), min_size=1, max_size=3))
@example(batches=[(0, "predict", [0, 0])], wanted=[0])  # (one row twice: two positions)
@example(batches=[(0, "predict", [0])], wanted=[0])  # (the row's own batch)
@example(batches=[(1, "explain", [3, 2, 0]), (0, "predict_proba", [5, 0])], wanted=[2, 3])
def test_each_row_is_found_in_every_batch_that_held_it_and_erased_with_them(batches, wanted):
    store = stp.stores.MemoryStore()
    models = _models(store)
    explainers = {}
    logged = []  # (seq, pool rows, outputs)
    for which, method, rows in batches:
        X = _POOL.iloc[rows]
        if method == "explain":
            if which not in explainers:
                explainers[which] = stp.InfluenceExplainer(models[which]).fit(_POOL, _Y)
            explainers[which].explain(X, _Y[rows], log=True)
            outputs = np.array([str(v) for v in _Y[rows]], dtype=object)
        else:
            outputs = getattr(models[which], method)(X)
            if method == "predict":
                outputs = np.array([str(v) for v in outputs], dtype=object)
        logged.append((store.events()[-1]["seq"], rows, outputs))
    # each pool row alone: every call that held it, at its positions, with its output
    outputs = {seq: out for seq, _, out in logged}
    for j in range(6):
        truth = _truth(logged, j)
        found, table = _found(store, _POOL.iloc[[j]])
        assert {seq: p for (seq, _), p in found.items()} == truth
        for f in table.itertuples():
            want = outputs[f.seq]  # the whole batch: all its outputs
            if f.positions is not None:  # one output per position of the row
                want = want[f.positions[0]] if len(f.positions) == 1 else want[f.positions]
            got = np.asarray(f.output, dtype=object)
            assert np.array_equal(got, np.asarray(want, dtype=object))
    # several rows at once: each found in its calls
    X = _POOL.iloc[wanted].reset_index(drop=True)
    found, _ = _found(store, X)
    for i, j in enumerate(wanted):
        assert {seq: p for (seq, row), p in found.items() if row == i} == _truth(logged, j)
    # erasing the first wanted row erases every call that held it, whole; nothing else
    gone = set(_truth(logged, wanted[0]))
    done = _quiet(store.erase_predictions, _POOL.iloc[[wanted[0]]], reason="Art. 17")
    assert sorted(done["calls"]) == sorted(gone) and done["wiped"]
    assert store.verify()
    kept = [entry for entry in logged if entry[0] not in gone]
    for j in range(6):
        found, _ = _found(store, _POOL.iloc[[j]])
        assert {seq: p for (seq, _), p in found.items()} == _truth(kept, j)
