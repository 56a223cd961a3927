"""Files for the tests of kept digests: a small CSV, a counter of the bytes hashed, and
edits that do and do not change its bytes (one of the same size, its times set back)."""

import hashlib
import os
import time
import warnings

import numpy as np

from sktraceprop.exceptions import ChangedSourceWarning


def write(path, n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    y = (x + rng.normal(scale=0.5, size=n) > 0).astype(int)
    path.write_text("a,y\n" + "".join(f"{p},{t}\n" for p, t in zip(x, y)))
    return path


class Hashed:
    """Counts the bytes ``file_state`` hashes."""

    def __init__(self):
        self.n_bytes = 0

    def sha256(self):
        outer, inner = self, hashlib.sha256()

        class _Counting:
            def update(self, data):
                outer.n_bytes += len(data)
                inner.update(data)

            def hexdigest(self):
                return inner.hexdigest()

        return _Counting()


def truth(path, recorded):
    if not path.exists():
        return "missing"
    return "unchanged" if hashlib.sha256(path.read_bytes()).hexdigest() == recorded else "changed"


def same_size_rewrite(path):
    """Two different digits swapped, the access and modification times set back."""
    before = os.stat(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"\n") + 1
    digits = [k for k in range(start, len(data)) if chr(data[k]).isdigit()]
    i, j = next((i, j) for i in digits for j in digits if data[i] != data[j])
    data[i], data[j] = data[j], data[i]
    with open(path, "r+b") as fh:
        fh.write(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


EDITS = {
    # in place, same size, modification time set back: only the ctime says so
    "rewrite": same_size_rewrite,
    "append": lambda p: p.open("ab").write(b"9.0,1\n"),
    "truncate": lambda p: os.truncate(p, p.stat().st_size - 6),
    # another file of the same bytes put in its place (another inode)
    "restore": lambda p: (
        (p.with_suffix(".new").write_bytes(p.with_suffix(".orig").read_bytes()))
        and os.replace(p.with_suffix(".new"), p)
    ),
    "delete": lambda p: p.unlink(missing_ok=True),
    "nothing": lambda p: None,
}


def states(call):
    """The ``file_state`` values of the frame ``call()`` returns, and whether it warned
    that a source changed."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frame = call()
    said = any(issubclass(w.category, ChangedSourceWarning) for w in record)
    return set(frame["file_state"]), said


def check_each_edit(path, recorded, edits, calls, settle_s):
    """Make each edit of ``edits`` to ``path``, waiting past the ``settle_s`` margin
    before and after it, and check that every call of ``calls`` then says what the file
    holds: the truth from its bytes against ``recorded``, its SHA-256 when read."""
    for edit in edits:
        time.sleep(2 * settle_s)  # (the previous call may keep the digest)
        if edit != "delete" and not path.exists():
            EDITS["restore"](path)
        else:
            EDITS[edit](path)
        time.sleep(2 * settle_s)  # (past the margin: this call may keep it)
        found = truth(path, recorded)
        for call in calls:
            assert states(call) == ({found}, found != "unchanged")
