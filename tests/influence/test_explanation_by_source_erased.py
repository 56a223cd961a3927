"""``Explanation.by_source()`` says where its sums hold rows erased since.

An explanation pickled before an erasure request and loaded after cannot know that the
erasure dropped its explainer's fit; ``top()`` marks the rows erased (column
``erased``, with an ErasedRowsHeldWarning), but ``by_source()``, whose sums hold their
scores, handed them out with no word. It now warns, naming the request and how many
training rows. The truth: the data's keys of the rows erased (each training row holds
one visit's key), against the keys requested.
"""

import pickle
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning
from tests.stores.test_erasure_marks import _explained, _keys_at
from tests.stores.test_trace_erasures import _erased_by_key

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _said(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if issubclass(w.category, ErasedRowsHeldWarning)]


def test_by_source_of_an_explanation_loaded_after_an_erasure_warns(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits, explanation = _explained(store, tmp_path / "data")
    before, said = _said(explanation.by_source)
    assert said == []  # (nothing erased yet: no word)
    keys = set(_keys_at(df, explanation.top())[[0, 6]].tolist()) | {1000 + 29}
    blob = pickle.dumps(explanation)
    _erased_by_key(store, visits, keys, "art. 17")
    loaded = pickle.loads(blob)

    table, said = _said(loaded.by_source)
    (message,) = said
    truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    assert f"{truth} of the {len(df)} training row(s) scored" in message
    seq = store.events(kind="store.erasure", include_store_events=True)[-1]["seq"]
    assert f"store.erasure event seq {seq}" in message
    # the sums are still those of the explanation (marked, not changed)
    assert table.equals(before)
