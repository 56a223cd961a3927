"""A Parquet export carries the codec ``read_csv`` decoded a source with
(``Source.encoding``); a folder written before the column existed reads as None."""

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exporters import read_parquet, to_parquet

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

BEFORE = Path(__file__).parent / "data" / "parquet_f5988b3"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", None])
def test_the_encoding_of_a_source_reads_back(tmp_path, encoding):
    path = tmp_path / "people.csv"
    text = "name,x,y\n" + "".join(f"Zoë{k},{k * 0.5},{k % 2}\n" for k in range(20))
    path.write_bytes(text.encode(encoding or "utf-8"))
    df = stp.read_csv(path, encoding=encoding)
    est = stp.TracedEstimator(LogisticRegression()).fit(df[["x"]], df["y"])
    run = est.lineage_
    (source,) = run.sources.values()
    assert source.encoding == encoding
    to_parquet(run, tmp_path / "export")
    (stored,) = pq.read_table(tmp_path / "export" / "sources.parquet")["encoding"].to_pylist()
    assert stored == encoding
    back = read_parquet(tmp_path / "export")
    assert back == run
    (back_source,) = back.sources.values()
    assert back_source.encoding == encoding


def test_a_folder_written_before_reads_no_encoding():
    folder = BEFORE / "export"
    assert "encoding" not in pq.read_schema(folder / "sources.parquet").names
    for run_id in pd.read_parquet(folder / "runs.parquet")["run_id"]:
        run = read_parquet(folder, run_id=run_id)
        assert run.sources and all(s.encoding is None for s in run.sources.values())
