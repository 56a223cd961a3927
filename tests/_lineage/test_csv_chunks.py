"""read_csv(chunksize=...): pandas' chunks, each row naming its line, checked on raw bytes."""

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage.test_csv_properties import _physical_lines, documents

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
ADULT = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]  # fmt: skip


def _without_ids(chunk):
    if chunk.index.nlevels > 1:
        return chunk.reset_index(level="stp_row_id", drop=True)
    return chunk.reset_index(drop=True)


def test_chunks_of_adult_name_each_rows_line():
    path = DATA / "adult.test.gz"  # a junk first line, ", " separators, a blank last line
    options = {"header": None, "names": ADULT, "skiprows": 1, "skipinitialspace": True}
    ours = list(stp.read_csv(path, chunksize=5000, na_values="?", **options))
    theirs = list(pd.read_csv(path, chunksize=5000, na_values="?", **options))
    assert [len(c) for c in ours] == [5000, 5000, 5000, 1281]
    for got, want in zip(ours, theirs):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    raw = gzip.decompress(path.read_bytes()).decode().split("\n")
    whole = pd.concat(ours)
    lines = stp.row_lineage(whole)["line"].to_numpy()
    assert np.array_equal(lines, np.arange(2, 16283))
    fields = [raw[k - 1].split(", ") for k in lines]
    assert [int(f[2]) for f in fields] == whole["fnlwgt"].tolist()
    assert [f[14] for f in fields] == whole["income"].tolist()
    assert stp.row_lineage(whole)["source_id"].unique().tolist() == ["adult"]


def test_a_shifted_chunk_is_refused_before_it_is_handed_out(tmp_path, monkeypatch):
    # The line finder made wrong on purpose (record 1 lost): the first chunk's rows would
    # be named the next records' lines; its own check refuses it.
    from sktraceprop._lineage import _csv_stream

    real = _csv_stream.scan_file

    def shifted(path, kwargs, n_keep, last_kept, max_records=-1, every=0):
        scan = real(path, kwargs, n_keep, last_kept, max_records, every=every)
        scan.lines = np.delete(scan.lines, 1)
        scan.samples = {g - (g > 1): t for g, t in scan.samples.items() if g != 1}
        scan.bounds = {g - (g > 1): t for g, t in scan.bounds.items() if g != 1}
        scan.n_records -= 1
        return scan

    path = tmp_path / "s.csv"
    path.write_bytes(b"k,v\na,1\nb,2\nc,3\nd,4\ne,5\n")
    monkeypatch.setattr("sktraceprop._lineage._csv_chunks.scan_file", shifted)
    chunks = stp.read_csv(path, chunksize=2)
    with pytest.raises(LineageError, match="does not equal the record found"):
        next(chunks)


def test_iterator_with_a_chunksize(tmp_path):
    # (iterator=True alone, refused before, is read as pandas reads it: test_csv_iterator)
    path = tmp_path / "i.csv"
    path.write_bytes(b"a\n1\n2\n")
    with stp.read_csv(path, iterator=True, chunksize=1) as reader:
        chunk = reader.get_chunk()
    assert stp.row_lineage(chunk)["line"].tolist() == [2]


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents(), st.integers(1, 5))
@example(  # a chunk raises csv.Error where pandas raises it too
    doc=(
        b'id,a,b\nr0,,\nr1,,\nr2,,\n\n#,""a\nr3,,',
        {"skiprows": 0, "comment": "#", "engine": "python"},
        {"r0": 2, "r1": 3, "r2": 4, "r3": 7},
        False,
    ),
    size=1,
)
def test_chunks_name_the_line_the_writer_wrote(tmp_path_factory, doc, size):
    data, options, truth, gz = doc
    options.pop("skipfooter", None)  # (pandas does not iterate with it)
    path = tmp_path_factory.mktemp("csv") / ("doc.csv.gz" if gz else "doc.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    options = {"dtype": {"id": str}, "chunksize": size, **options}
    # (pandas' python engine raises the csv module's own error from a chunk, where a
    # whole read raises ParserError)
    errors = (pd.errors.ParserError, ValueError, UnicodeError, csv.Error)
    try:
        expected = list(pd.read_csv(io.BytesIO(data), **options))
    except errors:
        with pytest.raises(errors):
            list(stp.read_csv(path, source_id="doc", **options))
        return
    try:
        chunks = list(stp.read_csv(path, source_id="doc", **options))
    except LineageError:
        assert "engine" in options or not truth, "read_csv refused a well-formed file"
        return
    assert len(chunks) == len(expected)
    lines = _physical_lines(data.decode(options.get("encoding", "utf-8")))
    keyed = "index_col" in options
    for got, want in zip(chunks, expected):
        pd.testing.assert_frame_equal(
            _without_ids(got) if keyed else got.reset_index(drop=True),
            want if keyed else want.reset_index(drop=True),
        )
        ids = got.index.get_level_values("id") if keyed else got["id"]
        for rid, reported in zip(ids, stp.row_lineage(got)["line"]):
            assert reported == truth[rid], (rid, reported, truth[rid])
            assert rid in lines[reported - 1]


def test_values_changed_in_any_chunk_are_noted(tmp_path):
    # The chunks of one read keep their witness rows as one load (the whole read's
    # stride): 14 chunks neither overflow the loads kept per source nor drop the load of
    # an earlier whole read of the file.
    path = tmp_path / "w.csv"
    path.write_text("k,x,y\n" + "".join(f"{k},{k * 0.5},{k % 2}\n" for k in range(4000)))
    whole = stp.read_csv(path)
    chunks = list(stp.read_csv(path, chunksize=300))
    assert len(chunks) == 14
    df = pd.concat(chunks)

    def notes(X):
        pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X[["x"]], X["y"])
        return [n for n in pipe.lineage_.notes if n.startswith("input column(s) x (")]

    assert notes(df) == []
    changed = df.assign(x=np.where(np.arange(len(df)) >= 3000, df["x"] + 1, df["x"]))
    assert len(notes(changed)) == 1
    assert len(notes(whole.assign(x=whole["x"] + 1))) == 1
