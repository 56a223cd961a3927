"""An explanation hashes each file once while its status says it has not changed.

``train_rows``, ``top`` and ``trace`` hashed every file at each access (a second per
gigabyte each time). Now the digest is kept with the open file's status (device, inode,
size, modification and status-change times) and the file hashed again when any differs;
kept for the process, with ``row_lineage``'s (each explanation kept its own, so every
explanation and ``row_lineage`` hashed the file again). Truth: the SHA-256 of the file's
bytes at each access against the one recorded at read.
"""

import copy
import hashlib
import pickle
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop._lineage import _file_digests, _file_state
from tests._file_edits import EDITS as _EDITS
from tests._file_edits import Hashed as _Hashed
from tests._file_edits import check_each_edit
from tests._file_edits import states as _states
from tests._file_edits import write as _write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nothing is kept on Windows")

_SETTLE_S = 0.05  # (the margin, shortened for the test: edits are waited past it)


def _explanation(path):
    X = stp.read_csv(path, source_id=path.parent.name)  # (one source per folder)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X[["a"]], X["y"])
    return explainer.explain(X[["a"]].iloc[:2], X["y"].iloc[:2], top_k=3)


@pytest.fixture
def hashed(monkeypatch):
    counter = _Hashed()
    monkeypatch.setattr(_file_state, "hashlib", counter)
    _file_digests.PROCESS_DIGESTS.clear()  # (other tests' paths: not this test's file)
    return counter


def test_a_settled_file_is_hashed_once_per_process(tmp_path, hashed, monkeypatch):
    monkeypatch.setattr(_file_digests, "SETTLED_NS", int(_SETTLE_S * 1e9))
    path = _write(tmp_path / "a.csv")
    explanation = _explanation(path)
    time.sleep(2 * _SETTLE_S)
    size = path.stat().st_size
    for _ in range(3):
        assert _states(lambda: explanation.train_rows) == ({"unchanged"}, False)
        assert _states(lambda: explanation.top(2)) == ({"unchanged"}, False)
        assert hashed.n_bytes == size  # (before: size more at every access)
    # a copy, another explanation of the file, and row_lineage and trace of its rows
    # share the process's digest (before: each explanation hashed it once more, and
    # row_lineage once more)
    X = stp.read_csv(path, source_id=path.parent.name)
    model = stp.TracedEstimator(LogisticRegression()).fit(X[["a"]], X["y"])
    calls = [
        lambda: pickle.loads(pickle.dumps(explanation)).train_rows,
        lambda: copy.deepcopy(explanation).top(1),
        lambda: _explanation(path).train_rows,
        lambda: stp.row_lineage(X.iloc[:3]),
        lambda: model.trace([0, 1]),
    ]
    for call in calls:
        assert _states(call) == ({"unchanged"}, False)
    assert hashed.n_bytes == size


def test_a_file_written_just_before_is_hashed_at_every_access(tmp_path, hashed):
    # an edit within one timestamp tick of it would leave its status as it is
    path = _write(tmp_path / "a.csv")
    explanation = _explanation(path)
    size = path.stat().st_size
    for k in range(1, 4):
        assert _states(lambda: explanation.train_rows) == ({"unchanged"}, False)
        assert hashed.n_bytes == k * size


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
    check_each_edit(
        path,
        recorded,
        edits,
        (lambda: explanation.train_rows, lambda: explanation.top(1)),
        _SETTLE_S,
    )
