"""A file rewritten in place with its modification time restored, during a read.

``cp -p`` or ``rsync -t`` of an equal-size version onto the file (or ``os.utime``)
keeps its size, inode and ``st_mtime_ns``: before, pandas' later chunks of a
``chunksize`` read held the new bytes' values under the row ids, hash and lines of the
bytes scanned, silently. The change time cannot be set back.
"""

import os
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._csv_stream import check_stable
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError


def _rewrite_keeping_mtime(path, text):
    """Write ``text`` over ``path`` in place and restore its times (as ``cp -p``)."""
    st_before = os.stat(path)
    time.sleep(0.02)  # (past the coarse clock tick of the file's last change)
    with open(path, "r+", newline="") as fh:
        fh.write(text)
    os.utime(path, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))


def test_a_chunk_read_after_an_in_place_rewrite_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    n = 60_000  # more than pandas' read buffer: later chunks read the file again
    old = "a,b\n" + "".join(f"{i:07d},v{i:07d}\n" for i in range(n))
    path.write_text(old, newline="")
    k = n - 10
    new = old.replace(f"{k:07d},v{k:07d}", f"{k:07d},X{k:07d}")
    assert len(new) == len(old) and new != old
    reader = stp.read_csv(path, chunksize=1000, source_id="in_place")
    first = next(reader)
    assert lines_of(first.index.to_numpy())[0] == 2
    _rewrite_keeping_mtime(path, new)
    handed = []
    with pytest.raises(LineageError, match="changed while it was being read"):
        for chunk in reader:
            handed.append(chunk)
    # nothing from the new bytes was handed out under the scanned bytes' ids
    assert all(not chunk["b"].str.startswith("X").any() for chunk in handed)


@settings(deadline=None, max_examples=15)
@given(
    rows=st.lists(st.integers(0, 999), min_size=1, max_size=6),
    at=st.integers(0, 10_000),
    byte=st.sampled_from("0123456789xZ\n,"),
)
@example(rows=[1, 2], at=4, byte="9")
def test_check_stable_sees_an_in_place_rewrite_with_mtime_restored(
    tmp_path_factory, rows, at, byte
):
    path = tmp_path_factory.mktemp("stable") / "data.csv"
    text = "a\n" + "".join(f"{r}\n" for r in rows)
    path.write_text(text, newline="")
    before = os.stat(path)
    at %= len(text)
    _rewrite_keeping_mtime(path, text[:at] + byte + text[at + 1 :])
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    with pytest.raises(LineageError, match="changed while it was being read"):
        check_stable(before, after, after.st_size, path)
