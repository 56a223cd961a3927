"""A run exported to Parquet keeps which source contents went through each op
(``Op.source_keys``): read back, it equals the run, as ``read_parquet`` promises; a
folder written before ops kept them reads its ops by source id."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exporters import read_parquet, to_parquet
from tests.conftest import write_normal_features


def _write(path, n, seed):
    return write_normal_features(path, n, seed)


def test_parquet_keeps_the_source_keys_of_an_op(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    a = _write(tmp_path / "a" / "data.csv", 12, 5)
    b = _write(tmp_path / "b" / "data.csv", 8, 6)
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    y = pd.concat([A["y"], B["y"]])
    run = stp.TracedEstimator(LogisticRegression()).fit(X, y).lineage_
    folder = to_parquet(run, tmp_path / "export")
    back = read_parquet(folder)
    assert back == run  # (the keys were dropped: read back, it differed)
    sha_a = hashlib.sha256(a.read_bytes()).hexdigest()
    assert back.ops[0].source_keys == [["data", sha_a]]
    # a folder written before: no source_keys column
    table = pq.read_table(folder / "ops.parquet")
    pq.write_table(table.drop_columns(["source_keys"]), folder / "ops.parquet")
    old = read_parquet(folder)
    assert [op.source_keys for op in old.ops] == [None, None]
    assert [op.sources for op in old.ops] == [["data"], None]


def test_parquet_keeps_which_rows_went_through_an_op(tmp_path):
    """A scaler fitted on a third of one file's rows: read back, each row lists it only
    where it did (``Op.rows``); a malformed ``rows`` cell is corruption, not all rows."""
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    from sktraceprop.exceptions import LineageError

    A = stp.read_csv(_write(tmp_path / "a.csv", 30, 7))
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat(
        [scaler.fit_transform(A[["x1", "x2"]].iloc[::3]), A[["x1", "x2"]].drop(index=A.index[::3])]
    )
    model = stp.TracedEstimator(LogisticRegression()).fit(X, A["y"].loc[X.index])
    run = model.lineage_
    assert run.ops[0].rows is not None
    folder = to_parquet(run, tmp_path / "export")
    back = read_parquet(folder)
    assert back == run  # (without the rows, read back, it differed)
    pd.testing.assert_frame_equal(back.trace(np.arange(30)), run.trace(np.arange(30)))
    table = pq.read_table(folder / "ops.parquet")
    rows = table.column("rows").to_pylist()
    rows[0] = '[["1", 8, "not base64"]]'
    at = table.schema.get_field_index("rows")
    pq.write_table(
        table.set_column(at, "rows", pa.array(rows, pa.string())), folder / "ops.parquet"
    )
    with pytest.raises(LineageError, match="an op's rows"):
        read_parquet(folder)
