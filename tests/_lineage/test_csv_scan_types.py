"""The line scan hands its numba kernels one type of array, whatever the chunk.

numba compiles a kernel once per combination of argument types, and a read-only array
is a type of its own. The last, short chunk of a file used to come as ``bytes`` (a
read-only array): a process's first ``read_csv`` of a file longer than one chunk
compiled every scan kernel twice (found as ``read_csv(usecols=...)`` taking 21 s on a
128 MB file, where pandas took 1 s: the compile, not the read). A spy on the kernels
records every array they are given; each must be writable, for every way a chunk comes
(full, last and short, the only one, re-encoded, decompressed, shorter than a BOM). The
lines read must still be where each record was written.
"""

import gzip

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop._lineage import _csv_count, _csv_kernel, _csv_plain, _csv_quoted, _csv_stream
from tests._lineage._raw_files import keys_by_line

_KERNELS = (
    (_csv_kernel, "scan_chunk"),
    (_csv_kernel, "count_line_ends"),
    (_csv_count, "count_run"),
    (_csv_plain, "scan_plain"),
    (_csv_quoted, "quote_masks"),
)


@pytest.fixture
def kernel_arrays(monkeypatch):
    """``(kernel name, writable)`` for every array argument the scan gives a kernel."""
    seen = []
    for module, name in _KERNELS:
        kernel = getattr(module, name)

        def spy(*args, _kernel=kernel, _name=name):
            seen.extend((_name, a.flags.writeable) for a in args if isinstance(a, np.ndarray))
            return _kernel(*args)

        monkeypatch.setattr(module, name, spy)
    return seen


def _rows(n, text=False):
    body = "".join(
        f'{i},{i * 0.5},"t {i}, ""q""\nnext"\n' if text else f"{i},{i * 0.5},{i % 7}\n"
        for i in range(n)
    )
    return "key,x,c\n" + body


@pytest.mark.parametrize(
    ("name", "text", "chunk", "kwargs"),
    [
        ("several chunks, a short last one", False, 64, {}),
        ("quoted, several chunks", True, 64, {}),
        ("usecols by name", False, 64, {"usecols": ["key", "c"]}),
        ("usecols by position", False, 64, {"usecols": [0, 2]}),
        ("usecols callable", True, 64, {"usecols": lambda c: c != "x"}),
        ("one chunk", False, 1 << 22, {}),
        ("a first chunk shorter than a BOM", False, 2, {}),
        ("re-encoded (utf-16)", False, 64, {"encoding": "utf-16"}),
        ("decompressed (gzip)", True, 64, {}),
        ("crlf line ends", False, 64, {}),
    ],
)
def test_scan_kernels_get_writable_arrays_only(
    tmp_path, monkeypatch, kernel_arrays, name, text, chunk, kwargs
):
    content = _rows(40, text)
    path = tmp_path / "rows.csv"
    if "crlf" in name:
        path.write_bytes(content.replace("\n", "\r\n").encode())
    elif "gzip" in name:
        path = tmp_path / "rows.csv.gz"
        path.write_bytes(gzip.compress(content.encode()))
    else:
        path.write_bytes(content.encode(kwargs.get("encoding", "utf-8")))
    monkeypatch.setattr(_csv_stream, "CHUNK", chunk)
    df = stp.read_csv(path, **kwargs)
    assert kernel_arrays, "the scan called none of the spied kernels"
    read_only = sorted({k for k, writable in kernel_arrays if not writable})
    assert not read_only, f"{name}: read-only arrays given to {read_only}"
    # (the independent truth: where each record was written)
    if "crlf" in name or "gzip" in name or "encoding" in kwargs:
        return
    truth = keys_by_line(path)
    lineage = stp.row_lineage(df)
    keys = [truth[path.stem, int(line)] for line in lineage["line"]]
    assert keys == [str(i) for i in range(40)]
