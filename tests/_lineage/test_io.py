import csv
import gzip
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._ids import LINE_BITS
from sktraceprop._lineage._source import Source
from sktraceprop.exceptions import LineageError, UnknownSourceError
from tests.conftest import lines_from_key

ADULT = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "adult.data.gz"


def _physical_line(path, line):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[line - 1]


def test_read_csv_lines_are_physical_lines(hospitals):
    b = stp.read_csv(hospitals["hospital_b"], source_id="hospital_b", comment="#")
    lineage = stp.row_lineage(b)
    np.testing.assert_array_equal(lineage["line"].to_numpy(), lines_from_key(b))
    # the independent check a user would do: sed -n '<line>p' file starts with the key
    for line in lineage["line"].to_numpy()[:15]:
        text = _physical_line(hospitals["hospital_b"], line)
        assert next(csv.reader([text]))[0] == str(line)
    assert lineage["source_id"].unique().tolist() == ["hospital_b"]
    assert lineage["uri"].iloc[0] == hospitals["hospital_b"].resolve().as_uri()


def test_read_csv_records_source_metadata(hospitals):
    a = stp.read_csv(hospitals["hospital_a"])  # source_id defaults to the file stem
    source = stp._lineage.REGISTRY.by_id("hospital_a")
    assert source.sha256 == hashlib.sha256(hospitals["hospital_a"].read_bytes()).hexdigest()
    assert source.n_rows == len(a) == 40
    assert source.columns == ("key", "age", "sex", "bp", "note", "label")
    assert source.dtypes[:3] == ("int64", "int64", str(a["sex"].dtype))
    assert source.kind == "file"
    assert source.loaded_at.endswith("+00:00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"skiprows": [5, 9]},
        {"skiprows": lambda i: i in (3, 4, 20)},
        {"nrows": 7},
        {"skipfooter": 3, "engine": "python"},
        {"skip_blank_lines": True, "skiprows": 2},
    ],
)
def test_read_csv_options_keep_lines(hospitals, kwargs):
    path = hospitals["hospital_b"]
    kwargs = dict(kwargs)
    if kwargs.get("skiprows") == 2:
        kwargs["header"] = None
        kwargs["names"] = ["key", "age", "sex", "bp", "note", "label"]
    df = stp.read_csv(path, source_id="b", comment="#", **kwargs)
    df = df[pd.to_numeric(df["key"], errors="coerce").notna()]  # header=None keeps the header
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["key"].astype(np.int64))


def test_read_csv_gzip_and_header_none(tmp_path):
    text = "".join(f"{i + 1},{i * 2}\n" for i in range(25))
    path = tmp_path / "numbers.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    df = stp.read_csv(path, header=None, names=["key", "v"])
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["key"])
    assert stp.row_lineage(df)["source_id"].iloc[0] == "numbers"


def test_read_csv_quoted_without_comment(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('k,t\n2,"a\nb\nc"\n5,x\n\n7,"y"\n')
    df = stp.read_csv(path)
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["k"])


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        stp.read_csv(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="not URLs"):
        stp.read_csv((tmp_path / "nope.csv").as_uri())


def test_read_csv_expands_the_home_directory(tmp_path, monkeypatch):
    # pandas reads "~/file.csv"; so does read_csv, naming the file's resolved path.
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "home.csv").write_text("k,v\n\na,1\n")
    df = stp.read_csv("~/home.csv")
    assert stp.row_lineage(df)["line"].tolist() == [3]
    assert stp.row_lineage(df)["uri"].iloc[0] == (tmp_path / "home.csv").resolve().as_uri()


def test_read_csv_unsupported_option(hospitals):
    with pytest.raises(ValueError, match="single-character sep"):
        stp.read_csv(hospitals["hospital_a"], sep=r"\s+")
    # A dialect overrides sep and the quoting options under the line finder's feet.
    with pytest.raises(ValueError, match="dialect"):
        stp.read_csv(hospitals["hospital_a"], dialect="excel-tab")
    with pytest.raises(TypeError, match="path"):
        stp.read_csv(io.StringIO("a\n1\n"))


def test_read_csv_refuses_each_option_it_cannot_map_naming_it(tmp_path):
    # Options whose rows the line finder does not map to lines are refused before
    # reading, each naming the option (on_bad_lines="skip" drops line 3 here; with the
    # python engine or nrows, which rows it keeps is not modelled).
    path = tmp_path / "o.csv"
    path.write_bytes(b"a,b\n1,2\n3,4,5\n6,7\n8,9\n")
    assert pd.read_csv(path, on_bad_lines="skip")["a"].tolist() == [1, 6, 8]
    refused = [
        ({"iterator": True, "on_bad_lines": "skip"}, "iterator"),
        ({"memory_map": True}, "memory_map"),
        ({"on_bad_lines": "skip", "engine": "python"}, "on_bad_lines"),
        ({"on_bad_lines": "warn", "nrows": 2}, "on_bad_lines"),
        ({"on_bad_lines": lambda bad: bad[:2], "engine": "python"}, "on_bad_lines"),
        ({"engine": "pyarrow"}, "pyarrow"),
        ({"header": [0, 1]}, "header"),
        ({"sep": "ab"}, "sep"),
        ({"nrows": 2, "engine": "python"}, "nrows"),
    ]
    for options, name in refused:
        with pytest.raises(ValueError, match=name):
            stp.read_csv(path, **options)
    with open(path, "rb") as f:
        f.readline()  # a file opened mid-way: its lines are not the file's
        with pytest.raises(TypeError, match="path"):
            stp.read_csv(f)
    with pytest.raises(TypeError, match="path"):
        stp.read_csv(io.BytesIO(path.read_bytes()))


def test_read_csv_refuses_the_regex_tab(tmp_path):
    # sep=r"\t" is two characters: pandas reads it as a regex with its python engine,
    # which ignores quotes and skips the tab-only line. Read as a tab with quotes, the
    # row on line 3 was named line 4.
    text = 'id\tb\n"x\ty\nz"\tw\n\t\n5\t2\n'
    path = tmp_path / "t.tsv"
    path.write_text(text)
    with pytest.warns(pd.errors.ParserWarning):
        rows = pd.read_csv(path, sep=r"\t")
    assert rows["id"].astype(str).tolist() == ['"x', 'z"', "5"]
    with pytest.raises(ValueError, match="single-character sep"):
        stp.read_csv(path, sep=r"\t")
    df = stp.read_csv(path, sep="\t")  # the tab itself: quotes are read, "\t" is a row
    assert df["b"].fillna("-").tolist() == ["w", "-", "2"]
    assert stp.row_lineage(df)["line"].tolist() == [2, 4, 5]


def test_read_csv_keeps_the_implicit_index(tmp_path):
    # Data rows one field longer than the header: pandas reads the first field as the
    # index. It is kept in front of the row ids, as with index_col.
    path = tmp_path / "implicit.csv"
    path.write_text("a,b\n7,x,1\n9,y,2\n\n12,z,3\n")
    expected = pd.read_csv(path)
    df = stp.read_csv(path)
    pd.testing.assert_frame_equal(df.reset_index(level="stp_row_id", drop=True), expected)
    raw = path.read_text().split("\n")
    for key, line in zip(expected.index, stp.row_lineage(df)["line"]):
        assert raw[line - 1].startswith(f"{key},")


def test_a_file_written_from_a_traced_frame_read_with_its_id_column_as_index(tmp_path):
    # to_csv writes the row ids as a column "stp_row_id"; read back with that column as
    # index_col, the frame had two index levels of that name and the fit crashed in
    # pandas ("The name stp_row_id occurs multiple times"). Refused at the read, before
    # anything is registered; read as a column, its rows are traced to the new file.
    path = tmp_path / "first.csv"
    path.write_text("key,a,y\n# c\nk0,1.5,0\n\nk1,2.5,1\nk2,3.5,0\n")
    df = stp.read_csv(path, comment="#")
    df.to_csv(tmp_path / "written.csv")
    registered = len(REGISTRY.snapshot())
    for chunksize in (None, 2):
        with pytest.raises(LineageError, match="index read from the file .* 'stp_row_id'"):
            out = stp.read_csv(
                tmp_path / "written.csv", index_col="stp_row_id", chunksize=chunksize
            )
            if chunksize:
                next(iter(out))
    assert len(REGISTRY.snapshot()) == registered
    again = stp.read_csv(tmp_path / "written.csv", index_col=["key"])
    raw = (tmp_path / "written.csv").read_text().split("\n")
    for key, line in zip(again.index.get_level_values("key"), stp.row_lineage(again)["line"]):
        assert raw[line - 1].split(",")[1] == key
    # with pandas, the ids name the lines of the first file, where the rows were read
    first = pd.read_csv(tmp_path / "written.csv", index_col="stp_row_id")
    est = stp.TracedEstimator(LogisticRegression()).fit(first[["a"]], first["y"])
    lines = est.trace(np.arange(3))["line"].tolist()
    assert lines == [3, 5, 6]


def test_read_csv_index_name_row_is_refused_not_a_crash(tmp_path):
    # pandas' python engine takes "r1" (after a blank first line it does not count as the
    # header) for the index's name, "r2" for its value; the line finder starts data one
    # record earlier. The content check compared the index levels by name and raised
    # KeyError; they are compared by position, and the disagreement is refused.
    # (read_csv now refuses nrows with the python engine before reading: the check is
    # called on the scan directly.)
    from sktraceprop._lineage._csv_stream import scan_file
    from sktraceprop._lineage._csv_verify import check_content

    path = tmp_path / "odd.csv"
    path.write_bytes(b"\rr1\nr2\n")
    options = {"engine": "python", "skip_blank_lines": False, "nrows": 1}
    rows = pd.read_csv(path, **options)
    assert (rows.index.name, rows.index.tolist()) == ("r1", ["r2"])
    scan = scan_file(path, options, n_keep=2, last_kept=1, max_records=2)
    with pytest.raises(LineageError, match="does not equal the record"):
        check_content(rows, scan, options, path)
    with pytest.raises(ValueError, match="nrows with engine='python'"):
        stp.read_csv(path, **options)


def test_read_csv_refuses_nrows_with_the_python_engine(tmp_path):
    # pandas' python engine drops a row that is blank once unquoted ('""' on line 3),
    # and fills the rows it peeks at first (for an implicit index) from the lines after
    # it, so with nrows it returned 500 rows from lines 2 and 4-502 (the count agreed);
    # the line finder, which counts '""' as a row as the C tokenizer does, named lines
    # 2-501. Identical values hid the shift from the content check's sample.
    path = tmp_path / "p.csv"
    path.write_bytes(b"v\n1\n" + b'""\n' + b"1\n" * 600)
    rows = pd.read_csv(path, engine="python", nrows=500)
    assert rows["v"].tolist() == [1] * 500  # no NaN: no row of pandas' is from line 3
    assert path.read_bytes().split(b"\n")[2] == b'""'
    with pytest.raises(ValueError, match="nrows with engine='python'"):
        stp.read_csv(path, engine="python", nrows=500)
    df = stp.read_csv(path, nrows=5)  # the C engine reads '""' as a row of NaN
    assert df["v"].isna().tolist() == [False, True, False, False, False]
    assert stp.row_lineage(df)["line"].tolist() == [2, 3, 4, 5, 6]
    # Nor does it ask skiprows about the line after a blank one among the first rows:
    # here it reads line 4 (logical line 3), the line finder skips it, and nrows hides
    # the extra row from the count (rows 1-499 were named one line late).
    path.write_bytes(b"h,v\na,1\n\nb,1\n" + b"b,1\n" * 600)
    assert len(pd.read_csv(path, engine="python", skiprows=[3])) == 602  # 601 records + 1
    with pytest.raises(ValueError, match="nrows with engine='python'"):
        stp.read_csv(path, engine="python", skiprows=[3], nrows=500)


def test_read_csv_refuses_rows_the_python_engine_drops(tmp_path):
    # pandas' python engine drops the row '""' (line 305: blank once unquoted), which
    # the C tokenizer reads as a row of NaN, and keeps line 4 although skiprows names
    # it (it does not ask skiprows about the line after a blank one among the first
    # rows): the count agrees with the line finder's, and rows 1-302 were named one line
    # late (line 5 for the row of line 4), with values the content check's sample
    # cannot tell apart. So is each such row refused, naming its line (line 4 first,
    # where skiprows names it; line 305 where it does not).
    path = tmp_path / "d.csv"
    path.write_bytes(b"h,v\na,1\n\nb,1\n" + b"b,1\n" * 300 + b'""\n' + b"b,1\n" * 300)
    raw = path.read_bytes().split(b"\n")
    assert raw[3] == b"b,1" and raw[304] == b'""'  # lines 4 and 305
    for options in ({"engine": "python"}, {"skipfooter": 1}):
        rows = pd.read_csv(path, skiprows=[3], **{"engine": "python", **options})
        assert rows["v"].notna().all()  # no row from line 305
        assert len(rows) == 602 - ("skipfooter" in options)  # line 4 is read
        with pytest.raises(LineageError, match="line 4 is named by skiprows"):
            stp.read_csv(path, skiprows=[3], **options)  # (the first such row: refused)
        assert len(pd.read_csv(path, **{"engine": "python", **options})) == 602 - (
            "skipfooter" in options
        )  # (without skiprows: line 4 read by both, line 305 dropped by this engine)
        with pytest.raises(LineageError, match="line 305 starts a row"):
            stp.read_csv(path, **options)
    c_engine = stp.read_csv(path, skiprows=[3])  # skips line 4, reads line 305
    found = stp.row_lineage(c_engine)["line"].to_numpy()
    assert found[:3].tolist() == [2, 5, 6] and c_engine["v"].isna().sum() == 1
    assert found[c_engine["v"].isna().to_numpy()].tolist() == [305]
    # a line of non-breaking spaces, and a quoted comment character, likewise
    for text, options in (
        ("h,v\na,1\n\u00a0\nb,2\n", {}),
        ('h,v\na,1\n"#x",3\nb,2\n', {"comment": "#"}),
    ):
        path.write_text(text, encoding="utf-8")
        assert len(pd.read_csv(path, engine="python", **options)) == 2
        assert len(pd.read_csv(path, **options)) == 3
        with pytest.raises(LineageError, match="line 3 starts a row"):
            stp.read_csv(path, engine="python", **options)
    # a quoted field ending on a line of its own is no blank row
    path.write_bytes(b'h,v\na,"x\n"\nb,"\n\n"\n')
    df = stp.read_csv(path, engine="python")
    pd.testing.assert_frame_equal(df.reset_index(drop=True), pd.read_csv(path, engine="python"))
    assert stp.row_lineage(df)["line"].tolist() == [2, 4]


@pytest.mark.skipif(
    Version(pd.__version__) < Version("3"),
    reason="pandas 2's python engine skips records, as the C tokenizer does (and raises the "
    "csv module's error on the second file): the hazard is pandas 3's",
)
def test_read_csv_refuses_a_quoted_line_the_python_engine_skips_as_one(tmp_path):
    # skiprows=2 with the python engine skips the first two physical lines, so its csv
    # reader starts inside the quoted field of line 2 (its header is 'y"'); the C
    # tokenizer skips two records, lines 1-3. Refused, naming line 2, before any count.
    path = tmp_path / "q.csv"
    path.write_bytes(b'meta "1"\n"x\ny"\nid,v\na,1\nb,2\n')
    assert list(pd.read_csv(path, skiprows=2, engine="python").columns) == ['y"']
    assert list(pd.read_csv(path, skiprows=2).columns) == ["id", "v"]
    with pytest.raises(LineageError, match="line 2 is skipped by skiprows"):
        stp.read_csv(path, skiprows=2, engine="python")
    df = stp.read_csv(path, skiprows=2)
    assert stp.row_lineage(df)["line"].tolist() == [5, 6]
    # quotes that close on their line, or do not open a field, skip as one line both ways
    path.write_bytes(b'meta "1",\n,"x\n"a""b"\nid,v\na,1\nb,2\n')
    df = stp.read_csv(path, skiprows=3, engine="python")
    pd.testing.assert_frame_equal(
        df.reset_index(drop=True), pd.read_csv(path, skiprows=3, engine="python")
    )
    assert stp.row_lineage(df)["line"].tolist() == [5, 6]


def test_read_csv_skipfooter_refuses_lines_between_footer_records(tmp_path):
    # skipfooter drops the rows of the file's last lines, blank lines included (pandas'
    # python engine); the line finder dropped the last records. Here the trailing blank
    # line was the footer, and the row pandas drops as blank ('""', line 102) cancelled
    # the count: rows 100 on were named one line early (line 102 for the row of line 103).
    path = tmp_path / "f.csv"
    path.write_bytes(b"v\n" + b"1\n" * 100 + b'""\n' + b"1\n" * 100 + b"\n")
    rows = pd.read_csv(path, skipfooter=1, engine="python")
    assert len(rows) == 200  # lines 2-101 and 103-202: neither line 102 nor a footer
    with pytest.raises(LineageError, match="line 102 starts a row"):
        stp.read_csv(path, skipfooter=1)
    # Whatever else makes the counts agree, a line after the first footer record is
    # refused: pandas read 3 rows of "v\n1\n2\n3\n\n" (the blank line was its footer);
    # the line finder's 2 records would pass the count check had pandas read 2.
    from sktraceprop._lineage._csv_lines import data_lines
    from sktraceprop._lineage._csv_stream import scan_file

    path.write_bytes(b"v\n1\n2\n3\n\n")
    options = {"skipfooter": 1, "engine": "python"}
    assert pd.read_csv(path, **options)["v"].tolist() == [1, 2, 3]
    scan = scan_file(path, options, n_keep=2, last_kept=2)
    with pytest.raises(LineageError, match="skipfooter=1, but blank"):
        data_lines(scan, 2, options, path)
    with pytest.raises(LineageError):
        stp.read_csv(path, skipfooter=1)
    # footer records that end the file are dropped as pandas drops them
    path.write_bytes(b'v\n1\n\n2\r\n"3\n4"\r\ntotal\n')
    df = stp.read_csv(path, skipfooter=2)
    pd.testing.assert_frame_equal(
        df.reset_index(drop=True), pd.read_csv(path, skipfooter=2, engine="python")
    )
    assert stp.row_lineage(df)["line"].tolist() == [2, 4]


def test_read_csv_skipfooter_names_the_blank_line_ending_adult():
    # UCI Adult's adult.data ends with a blank line, which pandas' python engine takes
    # as the footer line: skipfooter=1 keeps every record. The refusal says so, where it
    # said only that the counts differ.
    raw = gzip.decompress(ADULT.read_bytes())
    assert raw.endswith(b">50K\n\n")
    records = raw.count(b"\n") - 1
    options = {"header": None, "skipfooter": 1, "engine": "python"}
    assert len(pd.read_csv(ADULT, **options)) == records
    with pytest.raises(LineageError, match="skipfooter=1, but blank, comment or skipped"):
        stp.read_csv(ADULT, **options)


def test_content_check_catches_a_split_record_next_to_an_empty_one():
    # The line finder's records (as kept by the scan) for the file "a,b\n1,x\n2,y\n\n3,z\n"
    # if it had taken "1,x\n2,y" for one record and the blank line for another: pandas
    # reads the first as two rows and the second as none, so the frame's rows 1 and 2
    # would be named the lines of the wrong records. Parsed together the four records
    # give the frame's rows back (the count and the values agree); parsed with no
    # record followed by its successor in the file (odd-numbered rows, then even) they
    # cannot.
    from types import SimpleNamespace

    from sktraceprop._lineage._csv_verify import check_content

    text = "a,b\n1,x\n2,y\n\n3,z\n"
    frame = pd.read_csv(io.StringIO(text))
    misjudged = SimpleNamespace(samples={0: b"a,b", 1: b"1,x\n2,y", 2: b"", 3: b"3,z"})
    joined = b"\n".join(misjudged.samples[k] for k in range(4)) + b"\n"
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(joined)), frame)  # cancels out
    with pytest.raises(LineageError, match="does not equal the record found"):
        check_content(frame, misjudged, {}, "f.csv")
    right = SimpleNamespace(samples={0: b"a,b", 1: b"1,x", 2: b"2,y", 3: b"3,z"})
    check_content(frame, right, {}, "f.csv")


def test_read_csv_default_source_ids_of_dot_files(tmp_path):
    # '.a.csv' and '.b.csv' both defaulted to the source id '' (versions of one source)
    ids = []
    for name in (".a.csv", ".b.csv", "c.tar.csv"):
        (tmp_path / name).write_text(f"x\n{len(ids)}\n")
        df = stp.read_csv(tmp_path / name)
        ids.append(stp.row_lineage(df)["source_id"].iloc[0])
    assert ids == [".a", ".b", "c"]


def test_read_csv_skiprows_asked_once_per_line(tmp_path):
    # Subsampling with a random skiprows (or a generator of lines): pandas and the line
    # finder must skip the same lines, though each asks for every line.
    path = tmp_path / "big.csv"
    path.write_text("line,v\n" + "".join(f"{k},{k % 3}\n" for k in range(2, 3002)))
    rng = np.random.default_rng(0)
    df = stp.read_csv(path, skiprows=lambda k: k > 0 and rng.random() < 0.5)
    assert 1300 < len(df) < 1700
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["line"])
    df = stp.read_csv(path, skiprows=(k for k in (3, 5)), nrows=4)
    assert df["line"].tolist() == [2, 3, 5, 7]
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["line"])
    # A mask as long as the file: pandas never asks past its last line, nor may the scan.
    mask = [False] * 3001
    mask[7] = mask[3000] = True
    df = stp.read_csv(path, skiprows=mask.__getitem__)
    assert len(df) == 2998
    np.testing.assert_array_equal(stp.row_lineage(df)["line"], df["line"])


def test_same_source_id_new_content_is_a_new_version(hospitals, tmp_path):
    path = tmp_path / "notebook.csv"
    path.write_text("v,label\n1,0\n2,1\n3,0\n")
    old = stp.read_csv(path, source_id="h")
    again = stp.read_csv(path, source_id="h")
    np.testing.assert_array_equal(stp.row_ids(old), stp.row_ids(again))
    # The file is edited (a row inserted on top) and read again under the same name.
    path.write_text("v,label\n9,1\n1,0\n2,1\n3,0\n")
    new = stp.read_csv(path, source_id="h")
    versions = stp._lineage.REGISTRY.versions("h")
    assert [v.n_rows for v in versions] == [3, 4]
    assert versions[0].sha256 != versions[1].sha256
    assert stp._lineage.REGISTRY.by_id("h") is versions[1]
    # Frames read before still name the old version's lines (and its SHA-256) ...
    old_lineage = stp.row_lineage(old)
    assert old_lineage["line"].tolist() == [2, 3, 4]
    codes = stp.row_ids(old) >> LINE_BITS
    assert {stp._lineage.REGISTRY.by_code(c).sha256 for c in codes} == {versions[0].sha256}
    # ... and the new frame the new one's: line 2 now holds the inserted row.
    assert stp.row_lineage(new)["line"].tolist() == [2, 3, 4, 5]
    assert new["v"].tolist() == [9, 1, 2, 3]
    # A fit on rows of both versions records both, each with its own hash.
    both = pd.concat([old, new])
    pipe = stp.make_traced_pipeline(LogisticRegression())
    pipe.fit(both[["v"]], both["label"])
    assert {s.sha256 for s in pipe.lineage_.sources.values()} == {
        versions[0].sha256,
        versions[1].sha256,
    }
    trace = pipe.trace(list(range(7)))
    assert trace["line"].tolist() == [2, 3, 4, 2, 3, 4, 5]
    assert stp.row_lineage(old)["uri"].iloc[0].endswith("notebook.csv")


def test_from_pandas_and_from_numpy_lines_are_positions():
    df = pd.DataFrame({"a": [5.0, 6.0, 7.0]}, index=["x", "y", "z"])
    t = stp.from_pandas(df, "frame")
    assert stp.row_lineage(t)["line"].tolist() == [1, 2, 3]
    assert stp.row_lineage(t)["uri"].iloc[0] == "pandas:frame"
    arr = stp.from_numpy(np.arange(12.0).reshape(4, 3), "arr")
    assert list(arr.columns) == ["x0", "x1", "x2"]
    assert stp.row_lineage(arr.iloc[[3, 0]])["line"].tolist() == [4, 1]
    with pytest.raises(LineageError, match="already carries"):
        stp.from_pandas(t, "again")
    with pytest.raises(TypeError, match="DataFrame"):
        stp.from_pandas(np.zeros(3), "x")


def test_from_numpy_and_from_pandas_keep_rows_the_caller_writes_to_later():
    # the traced rows are what was registered (and hashed): a later write to the
    # caller's array or frame must not reach them
    values = np.arange(12.0).reshape(4, 3)
    traced = stp.from_numpy(values, "written_later")
    frame = pd.DataFrame(values.copy())
    traced_frame = stp.from_pandas(frame, "written_later_frame")
    values[0, 0] = 99.0
    frame.iloc[1, 1] = 98.0
    assert traced.to_numpy()[0, 0] == 0.0 and traced_frame.to_numpy()[1, 1] == 4.0
    assert not np.shares_memory(traced.to_numpy(), values)


def test_ids_survive_pandas_operations(hospital_frames):
    a, b = hospital_frames
    df = pd.concat([a, b])
    df = df[df["age"] > 18]
    df = df.dropna()
    df = df.sort_values("age")
    df = df.sample(frac=0.9, random_state=0)
    df = df.loc[df.index[::2]]
    df = df.iloc[3:]
    X, y = df.drop(columns="label"), df["label"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    for part in (X_tr, X_te, y_tr):
        lineage = stp.row_lineage(part)
        key = X.loc[part.index, "key"] if isinstance(part, pd.Series) else part["key"]
        np.testing.assert_array_equal(lineage["line"], key.to_numpy())
    sources = stp.row_lineage(X_tr)["source_id"]
    assert set(sources) == {"hospital_a", "hospital_b"}
    assert (
        stp.row_lineage(X_tr)["source_id"].values
        == np.where(
            stp.row_ids(X_tr) >> LINE_BITS == stp._lineage.REGISTRY.by_id("hospital_a").code,
            "hospital_a",
            "hospital_b",
        )
    ).all()


def test_merge_records_both_parents(tmp_path):
    left = stp.from_pandas(pd.DataFrame({"pid": [1, 2, 3], "age": [30, 40, 50]}), "patients")
    right = stp.from_pandas(pd.DataFrame({"pid": [3, 1, 1], "lab": [7.0, 8.0, 9.0]}), "labs")
    merged = stp.merge(left, right, on="pid")
    lineage = stp.row_lineage(merged)
    # each merged row appears once per parent
    assert lineage.groupby("row").size().tolist() == [2] * len(merged)
    for row, group in lineage.groupby("row"):
        pid = merged["pid"].iloc[row]
        lab = merged["lab"].iloc[row]
        got = dict(zip(group["source_id"], group["line"]))
        assert got["patients"] == [1, 2, 3].index(pid) + 1
        assert got["labs"] == [7.0, 8.0, 9.0].index(lab) + 1
        assert set(group["via"]) == {
            stp._lineage.REGISTRY.by_code(stp.row_ids(merged)[row] >> LINE_BITS).source_id
        }


def test_row_ids_errors():
    with pytest.raises(LineageError, match="carries no sktraceprop row ids"):
        stp.row_ids(pd.DataFrame({"a": [1]}))
    bogus = np.array([(12345 << LINE_BITS) | 1], dtype=np.int64)
    with pytest.raises(UnknownSourceError, match="source code 12345"):
        stp.row_lineage(bogus)
    t = stp.from_numpy(np.zeros((3, 1)), "z")
    with pytest.raises(LineageError, match="past its last row"):
        stp.row_lineage(stp.row_ids(t) + 5)


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.lists(st.integers(-5, 5), max_size=12),
        st.lists(st.integers(-5, 5), max_size=12, unique=True).map(sorted),
        st.lists(st.one_of(st.floats(-3, 3), st.just(float("nan"))), max_size=12),
        st.lists(st.floats(-3, 3), max_size=12, unique=True).map(sorted),
    )
)
def test_kept_index_level_is_what_factorize_gives(values):
    # An increasing numeric index level skips factorize; it must give the same codes and
    # levels as factorize does for any level.
    from sktraceprop._lineage._io import _with_ids

    df = pd.DataFrame({"a": range(len(values))}, index=pd.Index(values, name="i"))
    ids = np.arange(1, len(values) + 1, dtype=np.int64) | (np.int64(5) << 36)
    got = _with_ids(df, ids, keep_index=True).index
    codes, uniques = pd.factorize(df.index)
    np.testing.assert_array_equal(got.codes[0], codes)
    assert got.levels[0].equals(pd.Index(uniques))
    np.testing.assert_array_equal(got.get_level_values(1), ids)


def test_implicit_index_of_an_r_style_file_is_kept(tmp_path):
    # R's write.csv: the header lacks the row-name column, so pandas makes it the index
    path = tmp_path / "r.csv"
    path.write_text('"a","b"\n"p1",1,2\n# x\n"p2",3,4\n')
    df = stp.read_csv(path, comment="#")
    pd.testing.assert_frame_equal(df.droplevel("stp_row_id"), pd.read_csv(path, comment="#"))
    lines = stp.row_lineage(df)["line"].tolist()
    assert [_physical_line(path, n).split(",")[0] for n in lines] == ['"p1"', '"p2"']


def test_from_pandas_refuses_a_frame_whose_ids_were_moved_out(hospital_frames):
    a, _ = hospital_frames
    untraced = pd.DataFrame({"age": [50], "label": [1]})
    for frame in (a.reset_index(), pd.concat([a, untraced])):
        with pytest.raises(stp.exceptions.LineageLostError, match="cut its lineage"):
            stp.from_pandas(frame, "again")
    # the ids restored, or a frame that never had any: nothing to refuse
    restored = a.reset_index().set_index("stp_row_id")
    assert np.array_equal(stp.row_ids(restored), stp.row_ids(a))
    fresh = stp.from_pandas(untraced, "fresh")
    assert stp.row_lineage(fresh)["line"].tolist() == [1]


def test_from_pandas_names_frames_with_unhashable_cells():
    from sktraceprop._lineage import REGISTRY

    big = np.arange(5000)
    one = pd.DataFrame({"a": [[1, 2], [3]], "v": [big, big]})
    other = pd.DataFrame({"a": [[1, 2], [3]], "v": [big, np.where(big == 2500, -1, big)]})
    stp.from_pandas(one, "cells")
    stp.from_pandas(other, "cells")
    # the arrays' text is the same (truncated), their content is not: two versions
    assert len({s.sha256 for s in REGISTRY.versions("cells")}) == 2

    class Opaque:
        def __reduce__(self):
            raise TypeError("no pickling here")

        __hash__ = None

    with pytest.raises(LineageError, match="column 'o' holds cells"):
        stp.from_pandas(pd.DataFrame({"o": [Opaque()]}), "opaque")
    assert "opaque" not in {s.source_id for s in REGISTRY.snapshot()}


def test_a_file_read_again_with_other_options_lists_every_read(tmp_path):
    """A peek with nrows, then the full read, then another usecols: one code (the same
    lines), and the record lists the three reads, not the first one's 3 rows only."""
    path = tmp_path / "peek.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(10)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        peek = stp.read_csv(path, nrows=3)
        stp.read_csv(path, nrows=3)  # the same read again: listed once
        full = stp.read_csv(path)
        only_b = stp.read_csv(path, usecols=["b"], dtype={"b": "float64"})
    assert full.index[:3].equals(peek.index) and full.index.equals(only_b.index)
    record = REGISTRY.by_id("peek")
    reads = [(r["n_rows"], r["columns"], r["dtypes"]) for r in record.reads()]
    assert reads == [
        (3, ["a", "b"], ["int64", "int64"]),
        (10, ["a", "b"], ["int64", "int64"]),
        (10, ["b"], ["float64"]),
    ]
    assert record.max_line == 11  # the full reads reach the last line
    assert Source.from_dict(record.to_dict()) == record
    # lines stay right: the raw bytes at each line hold the row
    raw = path.read_text().splitlines()
    for line, a in zip(stp.row_lineage(full)["line"], full["a"]):
        assert raw[line - 1].split(",")[0] == str(a)


def test_reads_another_process_made_are_learned(tmp_path):
    """A record from a worker that read the file differently adds its read here (under
    the same code), and a read already known is not listed twice."""
    from sktraceprop._lineage._source import SourceRegistry

    path = tmp_path / "w.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(6)))
    stp.read_csv(path, source_id="w")
    there = SourceRegistry()
    there.adopt(REGISTRY.by_id("w"))
    here = REGISTRY.by_id("w")
    peek = stp.read_csv(path, source_id="w", nrows=2)  # the worker's second read
    there.adopt(REGISTRY.by_id("w"))
    there.adopt(REGISTRY.by_id("w"))
    learned = there.by_code(here.code)
    assert [r["n_rows"] for r in learned.reads()] == [6, 2]
    assert learned.code == here.code
    assert (
        stp.row_lineage(peek)["row_id"].tolist()
        == stp.row_lineage(stp.read_csv(path, source_id="w"))["row_id"].tolist()[:2]
    )


def test_a_read_learned_under_an_alias_code_keeps_the_primary_code(tmp_path):
    """A worker's record of this file under another code (an alias) that brings a new
    read: the alias learns it, and so does the record new reads here get, whose code
    stays the one this process gave the file."""
    from dataclasses import replace

    path = tmp_path / "al.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(5)))
    stp.read_csv(path, source_id="al")
    primary = REGISTRY.by_id("al")
    alias = replace(primary, code=primary.code % 1000 + 7)
    REGISTRY.adopt(alias)
    REGISTRY.adopt(replace(alias, other_reads=({**primary.read(), "n_rows": 2},)))
    assert REGISTRY.by_id("al").code == primary.code
    assert [r["n_rows"] for r in REGISTRY.by_id("al").reads()] == [5, 2]
    assert [r["n_rows"] for r in REGISTRY.by_code(alias.code).reads()] == [5, 2]
    again = stp.read_csv(path, source_id="al")
    assert set(stp.row_lineage(again)["row_id"].to_numpy(np.int64) >> LINE_BITS) == {primary.code}


_READS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 7)),  # nrows
        st.sampled_from([None, ["a"], ["a", "b"], ["b", "c"]]),  # usecols
        st.sampled_from([None, {"a": "float64"}]),  # dtype
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(reads=_READS)
def test_every_read_of_one_file_is_listed_as_pandas_reads_it(tmp_path_factory, reads):
    """Reads of one file with random nrows/usecols/dtype: the record lists each distinct
    read (rows, columns and dtypes exactly as pandas.read_csv gives them) once, oldest
    first; a line has one row id whatever the read; the last line any read reached is
    the record's max_line."""
    REGISTRY.clear()
    path = tmp_path_factory.mktemp("reads") / "r.csv"
    path.write_text("a,b,c\n" + "".join(f"{i},{i * 2},x{i}\n" for i in range(6)))
    expected, ids_by_line, last = [], {}, 0
    for nrows, usecols, dtype in reads:
        options = {"nrows": nrows, "usecols": usecols, "dtype": dtype}
        plain = pd.read_csv(path, **options)  # pandas alone: the truth
        shape = (len(plain), list(map(str, plain.columns)), list(map(str, plain.dtypes)))
        if shape not in expected:
            expected.append(shape)
        df = stp.read_csv(path, source_id="r", **options)
        lineage = stp.row_lineage(df)
        for line, row_id in zip(lineage["line"], lineage["row_id"]):
            assert ids_by_line.setdefault(int(line), int(row_id)) == int(row_id)
        last = max(last, int(lineage["line"].max()))
    (record,) = REGISTRY.versions("r")
    assert [(r["n_rows"], r["columns"], r["dtypes"]) for r in record.reads()] == expected
    assert record.max_line == last
    assert Source.from_dict(record.to_dict()) == record


def test_a_file_name_that_is_not_utf8_gets_a_source_id_every_store_keeps(tmp_path):
    """Bytes of a file name that are not UTF-8 (os.fsdecode makes lone surrogates of
    them): the default source_id shows them escaped, the URI percent-encoded, and a run
    of its rows is stored and verified. Before: a bare UnicodeEncodeError."""
    import os

    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.csv")
    with open(raw, "wb") as f:
        f.write(b"a,y\n1,0\n2,1\n3,0\n4,1\n")
    df = stp.read_csv(os.fsdecode(raw))
    lineage = stp.row_lineage(df)
    assert set(lineage["source_id"]) == {"caf\\xe9"}
    assert set(lineage["uri"]) == {tmp_path.as_uri() + "/caf%E9.csv"}
    lines = open(raw, "rb").read().split(b"\n")
    assert [lines[k - 1].split(b",")[0] for k in lineage["line"]] == [b"1", b"2", b"3", b"4"]
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(df[["a"]], df["y"])
    assert store.verify()


@pytest.mark.parametrize("bad", ["lab\udcffa", "lab\x00a"])
def test_a_source_id_no_store_can_keep_is_refused_before_it_is_registered(bad):
    with pytest.raises(ValueError, match="no run or report of its rows could be stored"):
        stp.from_numpy(np.ones((3, 2)), bad)
    with pytest.raises(UnknownSourceError):
        REGISTRY.by_id(bad)
