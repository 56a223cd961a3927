"""An explanation hashes each file once while its status says it has not changed.

``train_rows``, ``top`` and ``trace`` hashed every file at each access (a second per
gigabyte each time). Now the digest is kept with the open file's status (device, inode,
size, modification and status-change times) and the file hashed again when any differs.
Truth: the SHA-256 of the file's bytes at each access against the one recorded at read.
"""

import copy
import hashlib
import os
import pickle
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop._lineage import _file_digests, _file_state
from sktraceprop.exceptions import ChangedSourceWarning

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nothing is kept on Windows")

_SETTLE_S = 0.05  # (the margin, shortened for the test: edits are waited past it)


def _write(path, n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    y = (x + rng.normal(scale=0.5, size=n) > 0).astype(int)
    path.write_text("a,y\n" + "".join(f"{p},{t}\n" for p, t in zip(x, y)))
    return path


def _explanation(path):
    X = stp.read_csv(path, source_id=path.parent.name)  # (one source per folder)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X[["a"]], X["y"])
    return explainer.explain(X[["a"]].iloc[:2], X["y"].iloc[:2], top_k=3)


class _Hashed:
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


@pytest.fixture
def hashed(monkeypatch):
    counter = _Hashed()
    monkeypatch.setattr(_file_state, "hashlib", counter)
    return counter


def _states(call):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frame = call()
    said = any(issubclass(w.category, ChangedSourceWarning) for w in record)
    return set(frame["file_state"]), said


def _truth(path, recorded):
    if not path.exists():
        return "missing"
    return "unchanged" if hashlib.sha256(path.read_bytes()).hexdigest() == recorded else "changed"


def _same_size_rewrite(path):
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


def test_a_settled_file_is_hashed_once_per_explanation(tmp_path, hashed, monkeypatch):
    monkeypatch.setattr(_file_digests, "SETTLED_NS", int(_SETTLE_S * 1e9))
    path = _write(tmp_path / "a.csv")
    explanation = _explanation(path)
    time.sleep(2 * _SETTLE_S)
    size = path.stat().st_size
    for _ in range(3):
        assert _states(lambda: explanation.train_rows) == ({"unchanged"}, False)
        assert _states(lambda: explanation.top(2)) == ({"unchanged"}, False)
        assert hashed.n_bytes == size  # (before: size more at every access)
    # a copy (pickled, another machine's inodes) starts afresh
    for other in (pickle.loads(pickle.dumps(explanation)), copy.deepcopy(explanation)):
        assert _states(lambda e=other: e.train_rows) == ({"unchanged"}, False)
    assert hashed.n_bytes == 3 * size


def test_a_file_written_just_before_is_hashed_at_every_access(tmp_path, hashed):
    # an edit within one timestamp tick of it would leave its status as it is
    path = _write(tmp_path / "a.csv")
    explanation = _explanation(path)
    size = path.stat().st_size
    for k in range(1, 4):
        assert _states(lambda: explanation.train_rows) == ({"unchanged"}, False)
        assert hashed.n_bytes == k * size


_EDITS = {
    # in place, same size, modification time set back: only the ctime says so
    "rewrite": _same_size_rewrite,
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


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.sampled_from(sorted(_EDITS)), min_size=1, max_size=6))
def test_each_access_says_what_the_file_holds_then(tmp_path_factory, monkeypatch, edits):
    monkeypatch.setattr(_file_digests, "SETTLED_NS", int(_SETTLE_S * 1e9))
    folder = tmp_path_factory.mktemp("digests")
    path = _write(folder / "a.csv")
    path.with_suffix(".orig").write_bytes(path.read_bytes())
    recorded = hashlib.sha256(path.read_bytes()).hexdigest()
    explanation = _explanation(path)
    for edit in edits:
        time.sleep(2 * _SETTLE_S)  # (the previous access may keep the digest)
        if edit != "delete" and not path.exists():
            _EDITS["restore"](path)
        else:
            _EDITS[edit](path)
        time.sleep(2 * _SETTLE_S)  # (past the margin: this access may keep it)
        truth = _truth(path, recorded)
        for call in (lambda: explanation.train_rows, lambda: explanation.top(1)):
            assert _states(call) == ({truth}, truth != "unchanged")
