"""row_lineage and trace hash each file once per process while its status says it has
not changed.

They hashed every file at every call: a loop of row_lineage calls on rows of one large
file read all of it each time. Now the digest is kept for the process with the open
file's status (device, inode, size, modification and status-change times), as an
Explanation keeps its own, and the file hashed again when any differs. Truth: the
SHA-256 of the file's bytes at each call against the one recorded at read.
"""

import hashlib
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import _file_digests, _file_state
from tests._file_edits import EDITS as _EDITS
from tests._file_edits import Hashed as _Hashed
from tests._file_edits import check_each_edit
from tests._file_edits import states as _states
from tests._file_edits import write as _write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nothing is kept on Windows")

_SETTLE_S = 0.05  # (the margin, shortened for the test: edits are waited past it)


@pytest.fixture
def hashed(monkeypatch):
    counter = _Hashed()
    monkeypatch.setattr(_file_state, "hashlib", counter)
    # (digests kept by other tests' calls: a path of theirs is not this test's file)
    _file_digests.PROCESS_DIGESTS.clear()
    return counter


def _calls(path):
    """row_lineage of a frame, of row ids, and a traced fit's trace, on ``path``'s rows."""
    X = stp.read_csv(path, source_id=path.parent.name)
    est = stp.TracedEstimator(LogisticRegression()).fit(X[["a"]], X["y"])
    ids = stp.row_ids(X)[:3]
    return [
        lambda: stp.row_lineage(X.iloc[:4]),
        lambda: stp.row_lineage(ids),
        lambda: est.trace(np.arange(3)),
    ]


def test_a_settled_file_is_hashed_once_for_many_calls(tmp_path, hashed, monkeypatch):
    monkeypatch.setattr(_file_digests, "SETTLED_NS", int(_SETTLE_S * 1e9))
    path = _write(tmp_path / "a.csv")
    calls = _calls(path)
    time.sleep(2 * _SETTLE_S)
    size = path.stat().st_size
    for _ in range(4):
        for call in calls:
            assert _states(call) == ({"unchanged"}, False)
            assert hashed.n_bytes == size  # (before: size more at every call)


def test_a_file_written_just_before_is_hashed_at_every_call(tmp_path, hashed):
    # an edit within one timestamp tick of it would leave its status as it is
    path = _write(tmp_path / "a.csv")
    calls = _calls(path)
    size = path.stat().st_size
    for k, call in enumerate(calls * 2, 1):
        assert _states(call) == ({"unchanged"}, False)
        assert hashed.n_bytes == k * size


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.sampled_from(sorted(_EDITS)), min_size=1, max_size=6))
def test_each_call_says_what_the_file_holds_then(tmp_path_factory, monkeypatch, edits):
    monkeypatch.setattr(_file_digests, "SETTLED_NS", int(_SETTLE_S * 1e9))
    folder = tmp_path_factory.mktemp("digests")
    path = _write(folder / "a.csv")
    path.with_suffix(".orig").write_bytes(path.read_bytes())
    recorded = hashlib.sha256(path.read_bytes()).hexdigest()
    calls = _calls(path)
    check_each_edit(path, recorded, edits, calls, _SETTLE_S)
