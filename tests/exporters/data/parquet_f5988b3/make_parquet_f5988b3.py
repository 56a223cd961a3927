"""Wrote ``store.db`` and ``export/`` with sktraceprop at commit f5988b3 (Parquet exports
whose ``digest_scheme`` column held only what a source record holds: ``"frame-2"`` for
frames registered then, null for files, arrays, derived sources and earlier frames):
a copy of ``tests/stores/data/frame_digest1.db`` (a frame-1 frame and an array-bytes-1
array), three runs added (a CSV file, a frame, and both merged), and every run of it
exported by ``to_parquet``. Run with that version installed:
``python make_parquet_f5988b3.py OUT_DIR``."""

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def main(out):
    from sklearn.linear_model import LogisticRegression

    import sktraceprop as stp

    out = Path(out)
    shutil.copyfile(HERE.parents[2] / "stores" / "data" / "frame_digest1.db", out / "store.db")
    store = stp.stores.SQLiteStore(out / "store.db")
    rng = np.random.default_rng(3)
    csv = out / "visits.csv"
    pd.DataFrame(
        {"key": np.arange(20) % 5, "a": rng.normal(size=20).round(3), "y": np.arange(20) % 2}
    ).to_csv(csv, index=False)
    visits = stp.read_csv(csv, source_id="visits")
    sites = stp.from_pandas(
        pd.DataFrame({"key": np.arange(5), "b": rng.normal(size=5).round(3)}), "sites"
    )
    stp.TracedEstimator(LogisticRegression(), store=store).fit(visits[["a"]], visits["y"])
    stp.TracedEstimator(LogisticRegression(), store=store).fit(sites[["b"]], [0, 1, 0, 1, 1])
    joined = stp.merge(visits, sites, on="key", source_id="visits_sites")
    stp.TracedEstimator(LogisticRegression(), store=store).fit(joined[["a", "b"]], joined["y"])
    csv.unlink()
    stp.exporters.to_parquet(store, out / "export")


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main(sys.argv[1])
