"""Write ``store.db``: ``ops_without_keys.db`` (schema version 3) upgraded to version 4 by
sktraceprop at commit 3c318ea (store schema 4, upgrades recorded as ``store.upgrade``
events, no index on the events' kind): a logistic regression fitted on 8 rows with
``log_predictions=True``, then ``predict`` of 2 rows (the call that upgrades it, with its
event), an ``"unlearning"`` event (a removal the mark of removal events counts) and a
``review`` event.

Run from a checkout of that commit: PYTHONPATH=<checkout> python make_schema4.py
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp

HERE = Path(__file__).parent
X = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3})
Y = np.arange(8) % 2

if __name__ == "__main__":
    path = HERE / "store.db"
    shutil.copyfile(HERE.parent / "ops_without_keys.db", path)
    store = stp.stores.SQLiteStore(path)
    model = stp.TracedPipeline([("lr", LogisticRegression())], store=store, log_predictions=True)
    model.fit(X, Y).predict(X.iloc[:2])
    store.append_event("unlearning", {"removed": 1})
    store.append_event("review", {"by": "fixture"})
    store.close()
    assert stp.stores.SQLiteStore(path, mode="ro").schema_version == 4
