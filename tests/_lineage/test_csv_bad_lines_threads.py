"""read_csv(on_bad_lines=...) in threads while other threads warn: each read records
only its own parse's warnings. The truth: the raw lines of each thread's file, and the
file and line of each warning the other threads raised (as in tests/test_threads.py,
``sys.setswitchinterval(1e-6)`` makes a race likely)."""

import inspect
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

import sktraceprop as stp
from tests import _noise

_HERE = __file__
READS = 4  # per reading thread


def _write(path, k):
    """Rows keyed ``k * 1000 + line``; lines ``3 + k`` and ``9 + k`` one field too long."""
    lines = ["key,b"]
    for line in range(2, 16):
        extra = ",x" if line in (3 + k, 9 + k) else ""
        lines.append(f"{k * 1000 + line},{line % 3}{extra}")
    path.write_text("\n".join(lines) + "\n")
    return {3 + k, 9 + k}


@pytest.mark.parametrize("mode", ["skip", "warn"])
def test_bad_lines_reads_leave_other_threads_warnings_alone(tmp_path, fast_switching, mode):
    # Before: the read's catch_warnings(record=True) took the warnings other threads
    # raised meanwhile and gave them again from the reading line (or, with the filters
    # restored under another thread's feet, lost them)
    bad = {k: _write(tmp_path / f"t{k}.csv", k) for k in range(3)}
    stop = threading.Event()

    def read(k):
        got = []
        for _ in range(READS):
            df = stp.read_csv(tmp_path / f"t{k}.csv", on_bad_lines=mode)
            got.append(stp.row_lineage(df)["line"].tolist())
            assert df["key"].tolist() == [k * 1000 + line for line in got[-1]]
        return got

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_line = inspect.getsourcelines(read)[1] + 3
        with ThreadPoolExecutor(6) as ex:
            noise = [ex.submit(_noise.noisy, k, 20000, stop) for k in range(3)]
            reads = [ex.submit(read, k) for k in range(3)]
            try:
                lines = [r.result() for r in reads]
            finally:
                stop.set()
            noise = [n.result() for n in noise]
    for k, got in enumerate(lines):
        assert got == [[n for n in range(2, 16) if n not in bad[k]]] * READS
    # every other thread's warning once, at its own line
    noisy = [w for w in caught if str(w.message).startswith("noisy ")]
    assert sorted(str(w.message) for w in noisy) == sorted(m for _, said in noise for m in said)
    assert {(w.filename, w.lineno) for w in noisy} == {(_noise.NOISE_FILE, noise[0][0])}
    # the reads' own: none with "skip"; with "warn", each read's lines, at the read's line
    skipping = [w for w in caught if "Skipping line" in str(w.message)]
    assert all((w.filename, w.lineno) == (_HERE, read_line) for w in skipping)
    found = sorted(int(n) for w in skipping for n in re.findall(r"line (\d+):", str(w.message)))
    expected = [n for k in range(3) for n in bad[k]] * READS if mode == "warn" else []
    assert found == sorted(expected)
    assert len(caught) == len(noisy) + len(skipping)


def test_an_error_filter_does_not_break_a_skip_read(tmp_path):
    # the read asked pandas to warn; a user's "error" filter (pytest -W error) must not
    # turn those warnings, which the caller asked to skip, into an exception
    bad = _write(tmp_path / "e.csv", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = stp.read_csv(tmp_path / "e.csv", on_bad_lines="skip")
    assert stp.row_lineage(df)["line"].tolist() == [n for n in range(2, 16) if n not in bad]


def test_other_parser_warnings_of_a_bad_lines_read_are_the_users(tmp_path):
    # only pandas' "Skipping line" warnings are raised out of the parse: a converter
    # given with a dtype warns (a ParserWarning too) at the user's line (twice at worst:
    # by the read a bad line stopped, and by the read as asked), never lost
    bad = _write(tmp_path / "c.csv", 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = stp.read_csv(
            tmp_path / "c.csv", on_bad_lines="skip", dtype={"b": float}, converters={"b": str}
        )
        line = inspect.currentframe().f_lineno - 3
    assert stp.row_lineage(df)["line"].tolist() == [n for n in range(2, 16) if n not in bad]
    said = [(str(w.message), w.filename, w.lineno) for w in caught]
    assert len(said) >= 1 and all("converter" in m for m, _, _ in said)
    assert {(f, n) for _, f, n in said} == {(_HERE, line)}
