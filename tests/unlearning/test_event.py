"""The removal record: every removed id kept, a summary printed."""

import json
import pickle

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.stores import MemoryStore
from sktraceprop.unlearning import GradientCorrectionUnlearner, RemovedRows, UnlearningEvent
from sktraceprop.unlearning._event import row_ids_digest


def _fitted(n=(600, 400), store=None):
    rng = np.random.default_rng(0)
    parts = [
        stp.from_pandas(pd.DataFrame(rng.normal(size=(m, 3)), columns=list("abc")), f"ev_{k}")
        for k, m in enumerate(n)
    ]
    X = pd.concat(parts)
    y = X.to_numpy() @ [1.0, -2.0, 0.5] + rng.normal(size=len(X))
    return X, GradientCorrectionUnlearner(Ridge(), store=store).fit(X, y)


def test_printing_an_event_summarises_the_ids_and_keeps_them_all():
    store = MemoryStore()
    X, unl = _fitted(store=store)
    ids = stp.row_ids(X)
    removed = np.r_[ids[10:510], ids[650:700]]
    unl.unlearn(sample_id=removed)
    event = unl.unlearning_log_[-1]
    text = repr(event)
    assert str(event) == text and repr(unl.unlearning_log_) == f"[{text}]"
    assert "<550 row ids: ev_0 lines 11-510, ev_1 lines 51-100; sha256 " in text
    assert row_ids_digest(removed)[:16] in text
    assert "sources={'ev_0': 500, 'ev_1': 50}" in text
    assert len(text) < 1500  # not 550 ids
    assert str(int(removed[123])) not in text
    # every id is kept, in order, and the digest names them
    assert isinstance(event, UnlearningEvent) and isinstance(event["row_ids"], RemovedRows)
    assert event["row_ids"] == removed and len(event["row_ids"]) == 550
    np.testing.assert_array_equal(np.asarray(event["row_ids"]), removed)
    assert event["row_ids"].tolist() == [int(i) for i in removed]
    assert event["row_ids_sha256"] == row_ids_digest(removed[::-1])  # order-free
    assert event["lines"] == {"ev_0": [11, 510], "ev_1": [51, 100]}
    # the store receives the same fields as JSON, every id included
    payload = store.events()[-1]["payload"]
    assert payload["row_ids"] == removed.tolist()
    mine = {k: v for k, v in event.payload().items() if k not in ("seq", "event_hash")}
    assert payload == json.loads(json.dumps(mine)) == mine
    assert store.verify()
    # and it travels
    back = pickle.loads(pickle.dumps(event))
    assert back == event and repr(back) == text


def test_a_row_ids_record_compares_and_prints():
    rows = RemovedRows(np.array([5, 3, 9]), {"s": (1, 3)})
    assert rows == [5, 3, 9] and rows != [3, 5, 9] and rows != [5, 3]
    assert list(rows) == [5, 3, 9] and rows[1] == 3 and len(rows) == 3
    assert repr(rows).startswith("<3 row ids: s lines 1-3; sha256 ")
    assert not np.asarray(rows).flags.writeable
    one = UnlearningEvent({"method": "newton", "row_ids": [7], "lines": {"s": [2, 2]}})
    assert "<1 row ids: s line 2; sha256" in repr(one)
    assert one.payload() == {"method": "newton", "row_ids": [7], "lines": {"s": [2, 2]}}
