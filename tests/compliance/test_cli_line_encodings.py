"""`sktraceprop trace` shows a row's file line only where the file's bytes hold it.

The line `read_csv` names is counted in the decoded text; the encoding is not
recorded, and `trace` finds lines in the bytes. In UTF-16 and UTF-32 the line ends are
not those bytes, and characters hold them ("上" is ``0a 4e`` in UTF-16-LE): `trace`
showed a fragment of another line. In EBCDIC the line end is another byte: it showed an
empty line. The truth here is the decoded text of the file, split as `read_csv` counts
lines.
"""

import gzip
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._cli_lines import _line_text
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.cli import main

# encodings whose line ends are the ASCII bytes: their lines must be shown
_SHOWN = ("utf-8", "latin-1", "cp1252", "shift_jis")
_ENCODINGS = (*_SHOWN, "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp037")
_CHARS = "abé上€海ਊഊĊ"  # (U+0A0A, U+0D0A, U+010A: a 0x0a byte in UTF-16)


def _physical_lines(text):
    """The file's lines as read_csv counts them (universal newlines)."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if text.endswith(("\n", "\r")) else lines


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "cp037"])
def test_trace_shows_no_line_from_the_bytes_of_another_encoding(encoding, tmp_path, capsys):
    path = tmp_path / "data.csv"
    rows = "".join(f"k{i}{'上海' if encoding != 'cp037' else 'x'},{i},{i % 2}\n" for i in range(6))
    path.write_bytes(("key,a,y\n" + rows).encode(encoding))
    frame = stp.read_csv(path, encoding=encoding)
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(frame[["a"]], frame["y"])
    code = main(["trace", str(store.path), "--run", pipe.lineage_.run_id, "--row", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "line 4 of" in out
    # before: "line 4: \x002\x00,..." (a fragment of line 3) or "line 4: " (EBCDIC)
    assert "  line 4:" not in out
    assert "(line not shown: the file's bytes hold" in out


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    encoding=st.sampled_from(_ENCODINGS),
    cells=st.lists(st.text(_CHARS, min_size=1, max_size=4), min_size=1, max_size=8),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    final_end=st.booleans(),
    compressed=st.booleans(),
)
@example(encoding="utf-16", cells=["上", "b"], end="\n", final_end=True, compressed=False)
@example(encoding="cp037", cells=["a", "b"], end="\n", final_end=True, compressed=True)
@example(encoding="cp037", cells=["a", "b"], end="\r\n", final_end=True, compressed=False)
@example(encoding="utf-16-le", cells=["ਊ", "b"], end="\r", final_end=False, compressed=False)
def test_a_shown_line_is_the_line_read_csv_names(
    tmp_path_factory, encoding, cells, end, final_end, compressed
):
    text = "key,n" + end + end.join(f"k{c},{i}" for i, c in enumerate(cells))
    text += end if final_end else ""
    # (a character the encoding lacks: "a" in its place)
    text = "".join(c if c.encode(encoding, "ignore") else "a" for c in text)
    data = text.encode(encoding)
    path = tmp_path_factory.mktemp("enc") / ("data.csv.gz" if compressed else "data.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    frame = stp.read_csv(path, source_id=path.parent.name, encoding=encoding, dtype=str)
    ids = frame.index.get_level_values(-1).to_numpy()
    source = REGISTRY.by_code(int(codes_of(ids)[0]))
    physical = _physical_lines(text)
    for row, line in zip(frame.itertuples(index=False), lines_of(ids), strict=True):
        # the line read_csv names holds the row (its fields, in the decoded text)
        assert physical[line - 1].split(",") == [str(v) for v in row]
        shown, why = _line_text(source.uri, int(line), source.sha256)
        if why is None:
            # shown: the line's own bytes, decoded as UTF-8 with escapes
            want = physical[line - 1].encode(encoding).decode("utf-8", "backslashreplace")
            assert shown == want
        else:
            assert why.startswith("line not shown: the file's bytes hold")
            assert encoding not in _SHOWN  # where lines are the ASCII bytes: shown
    assert len(frame) == len(cells) and np.all(np.diff(lines_of(ids)) == 1)
