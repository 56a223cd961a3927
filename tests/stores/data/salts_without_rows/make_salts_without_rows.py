"""Wrote ``store.db`` with sktraceprop at commit c6bbe7b (schema version 4: calls salted,
before per-row digests): one run of a traced ``LogisticRegression`` on the 6 rows of
:func:`frame`, then ``predict`` of rows 0-2 as one batch, ``predict`` of row 4 alone and
``predict_proba`` of rows 3-5 as one batch. Run with that version on the path:
``PYTHONPATH=/path/to/checkout python make_salts_without_rows.py OUT_DIR``."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def frame():
    return pd.DataFrame(
        {"age": [31.0, 47.0, 52.0, 29.0, 64.0, 38.0], "income": [2.5, 4.0, 1.2, 3.3, 5.1, 2.2]}
    )


Y = np.array([0, 1, 0, 1, 1, 0])


def main(out):
    from sklearn.linear_model import LogisticRegression

    import sktraceprop as stp

    store = stp.stores.SQLiteStore(Path(out) / "store.db")
    X = frame()
    model = stp.TracedPipeline([("lr", LogisticRegression())], store=store, log_predictions=True)
    model.fit(X, Y)
    model.predict(X.iloc[0:3])
    model.predict(X.iloc[[4]])
    model.predict_proba(X.iloc[3:6])
    store.close()


if __name__ == "__main__":
    main(sys.argv[1])
