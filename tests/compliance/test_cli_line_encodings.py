"""`sktraceprop trace` shows a row's file line, decoded as `read_csv` decoded it.

The line `read_csv` names is counted in the decoded text. Before reads recorded their
encoding, `trace` found lines in the bytes: in UTF-16 and UTF-32 the line ends are not
those bytes, and characters hold them ("上" is ``0a 4e`` in UTF-16-LE), so it showed a
fragment of another line; in EBCDIC the line end is another byte, so it showed an empty
line; later it refused every such file. A file's record now names its encoding
(``Source.encoding``) and `trace` decodes the file with it; a record without one (UTF-8,
or written before) keeps the byte rules and their refusals. The truth here is the
file's text, decoded independently, split as `read_csv` counts lines.
"""

import codecs
import gzip
import hashlib
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._cli_lines import _line_text
from sktraceprop._lineage import _io
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY, Source
from sktraceprop.cli import main

# encodings whose line ends are the ASCII bytes: their lines are found in the bytes too
_SHOWN = ("utf-8", "latin-1", "cp1252", "shift_jis")
_ENCODINGS = (*_SHOWN, "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp037", "cp500")
_CHARS = "abé上€海ਊഊĊ"  # (U+0A0A, U+0D0A, U+010A: a 0x0a byte in UTF-16)


def _physical_lines(text):
    """The file's lines as read_csv counts them (universal newlines)."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if text.endswith(("\n", "\r")) else lines


def _encodings(source):
    """The encodings of a record's reads, as `trace` takes them."""
    return [r.get("encoding") for r in source.reads()]


def _fitted(tmp_path, path, **read_args):
    frame = stp.read_csv(path, **read_args)
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(frame[["a"]], frame["y"])
    return store, pipe.lineage_.run_id


def _rows_text(encoding):
    rows = "".join(
        f"k{i}{'上海' if encoding not in ('cp037', 'cp500') else 'xé'},{i},{i % 2}\n"
        for i in range(6)
    )
    return "key,a,y\n" + rows


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp037", "cp500"]
)
def test_trace_shows_the_decoded_line_of_a_file_in_another_encoding(encoding, tmp_path, capsys):
    # before: "(line not shown: the file's bytes hold NUL bytes ...)" (or "... lines,
    # not line 4" for EBCDIC); now the line, decoded as read_csv decoded it
    path = tmp_path / "data.csv"
    text = _rows_text(encoding)
    path.write_bytes(text.encode(encoding))
    store, run_id = _fitted(tmp_path, path, encoding=encoding)
    assert store.load_run(run_id).sources.popitem()[1].encoding == codecs.lookup(encoding).name
    code = main(["trace", str(store.path), "--run", run_id, "--row", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "line 4 of" in out
    want = path.read_bytes().decode(encoding).lstrip("\ufeff").split("\n")[3]
    assert want.startswith("k2") and f"  line 4: {want}\n" in out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "cp037"])
def test_trace_shows_no_line_of_an_encoded_file_that_changed(encoding, tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes(_rows_text(encoding).encode(encoding))
    store, run_id = _fitted(tmp_path, path, encoding=encoding)
    path.write_bytes(_rows_text(encoding).replace("k2", "k9").encode(encoding))
    code = main(["trace", str(store.path), "--run", run_id, "--row", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "line 4 of" in out and "  line 4:" not in out
    assert "the file changed since it was loaded (SHA-256 differs)" in out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "cp037"])
def test_a_record_without_an_encoding_keeps_the_byte_rules(
    encoding, tmp_path, capsys, monkeypatch
):
    # A record written before reads recorded their encoding reads back without one, and
    # `trace` keeps refusing its lines (never a fragment cut from the bytes).
    monkeypatch.setattr(_io, "recorded_encoding", lambda kwargs: None)
    path = tmp_path / "data.csv"
    path.write_bytes(_rows_text(encoding).encode(encoding))
    store, run_id = _fitted(tmp_path, path, encoding=encoding)
    stored = store.load_run(run_id).sources.popitem()[1]
    assert stored.encoding is None and "encoding" not in stored.to_dict()
    code = main(["trace", str(store.path), "--run", run_id, "--row", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "line 4 of" in out and "  line 4:" not in out
    assert "(line not shown: the file's bytes hold" in out
    assert "the record names no encoding" in out


def test_a_utf8_record_and_an_old_record_hash_as_before(tmp_path):
    # UTF-8 (pandas' default) names no encoding: its record, and the hash of a stored
    # record, are what they were; a record's dict without the key reads back as None.
    path = tmp_path / "plain.csv"
    path.write_text("key,a,y\nk0,1,0\n")
    source = REGISTRY.by_code(int(codes_of(stp.row_ids(stp.read_csv(path)))[0]))
    assert source.encoding is None and "encoding" not in source.to_dict()
    assert all("encoding" not in r for r in source.reads())
    again = stp.read_csv(path, source_id="plain", encoding="UTF8")
    assert REGISTRY.by_code(int(codes_of(stp.row_ids(again))[0])) is source
    utf16 = tmp_path / "wide.csv"
    utf16.write_bytes("key,a,y\nk0,1,0\n".encode("utf-16"))
    wide = REGISTRY.by_code(int(codes_of(stp.row_ids(stp.read_csv(utf16, encoding="UTF_16")))[0]))
    assert wide.to_dict()["encoding"] == "utf-16"
    assert Source.from_dict(wide.to_dict()) == wide
    old = {k: v for k, v in wide.to_dict().items() if k != "encoding"}
    assert Source.from_dict(old).encoding is None


def test_bytes_read_with_two_encodings_show_a_line_only_where_both_agree(tmp_path, capsys):
    # The same bytes read as latin-1 and as cp1252 (one source_id, one code): the record
    # lists both reads with their encodings, and a line they decode differently (0x80:
    # a control character in latin-1, the euro sign in cp1252) is not shown.
    path = tmp_path / "two.csv"
    path.write_bytes(b"key,a,y\nk0\xe9,0,0\nk1\x80,1,1\nk2,2,0\nk3,3,1\n")
    latin = stp.read_csv(path, encoding="latin-1")
    euro = stp.read_csv(path, encoding="cp1252")
    source = REGISTRY.by_code(int(codes_of(stp.row_ids(euro))[0]))
    assert _encodings(source) == ["iso8859-1", "cp1252"]
    assert latin["key"].tolist()[1] != euro["key"].tolist()[1]
    shown, why = _line_text(source.uri, 2, source.sha256, _encodings(source))
    assert (shown, why) == ("k0é,0,0", None)
    shown, why = _line_text(source.uri, 3, source.sha256, _encodings(source))
    assert shown is None and "several encodings (iso8859-1, cp1252)" in why
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(euro[["a"]], euro["y"])
    code = main(
        ["trace", str(store.path), "--run", pipe.lineage_.run_id, "--row", "0", "--row", "1"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "  line 2: k0é,0,0\n" in out and "  line 3:" not in out
    assert "which give line 3 differently" in out


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    encoding=st.sampled_from(_ENCODINGS),
    cells=st.lists(st.text(_CHARS, min_size=1, max_size=4), min_size=1, max_size=8),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    final_end=st.booleans(),
    compressed=st.booleans(),
    bom=st.booleans(),
)
@example(
    encoding="utf-16", cells=["上", "b"], end="\n", final_end=True, compressed=False, bom=False
)
@example(encoding="cp037", cells=["a", "b"], end="\n", final_end=True, compressed=True, bom=False)
@example(
    encoding="cp037", cells=["a", "b"], end="\r\n", final_end=True, compressed=False, bom=False
)
@example(
    encoding="utf-16-le", cells=["ਊ", "b"], end="\r", final_end=False, compressed=False, bom=True
)
@example(encoding="utf-8", cells=["é"], end="\n", final_end=True, compressed=False, bom=True)
def test_a_shown_line_is_the_line_read_csv_names(
    tmp_path_factory, encoding, cells, end, final_end, compressed, bom
):
    text = "key,n" + end + end.join(f"k{c},{i}" for i, c in enumerate(cells))
    text += end if final_end else ""
    # (a character the encoding lacks: "a" in its place)
    text = "".join(c if c.encode(encoding, "ignore") else "a" for c in text)
    # a byte-order mark where the encoding does not write one (pandas skips it)
    bom = bom and encoding in ("utf-8", "utf-16-le", "utf-16-be")
    data = (("\ufeff" if bom else "") + text).encode(encoding)
    path = tmp_path_factory.mktemp("enc") / ("data.csv.gz" if compressed else "data.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    frame = stp.read_csv(path, source_id=path.parent.name, encoding=encoding, dtype=str)
    ids = frame.index.get_level_values(-1).to_numpy()
    source = REGISTRY.by_code(int(codes_of(ids)[0]))
    physical = _physical_lines(text)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == source.sha256
    for row, line in zip(frame.itertuples(index=False), lines_of(ids), strict=True):
        # the line read_csv names holds the row (its fields, in the decoded text)
        assert physical[line - 1].split(",") == [str(v) for v in row]
        # shown as recorded: the line itself, decoded
        shown, why = _line_text(source.uri, int(line), source.sha256, _encodings(source))
        assert (shown, why) == (physical[line - 1], None)
        # a record without the encoding (written before): the bytes' line or a refusal
        shown, why = _line_text(source.uri, int(line), source.sha256)
        if why is None:
            # shown: the line's own bytes, decoded as UTF-8 with escapes
            want = physical[line - 1].encode(encoding).decode("utf-8", "backslashreplace")
            assert shown == want
        else:
            assert why.startswith("line not shown: the file's bytes hold")
            assert encoding not in _SHOWN  # where lines are the ASCII bytes: shown
    assert len(frame) == len(cells) and np.all(np.diff(lines_of(ids)) == 1)
