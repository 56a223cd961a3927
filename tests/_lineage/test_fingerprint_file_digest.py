"""The SHA-256 of a module's file a function imports when it runs, kept between
fingerprints (a logged predict makes one per call) only while no edit can have gone
unseen (``_fingerprint_imports.file_digest``). The slow truth: the SHA-256 of the file's
bytes as read now."""

import builtins
import hashlib
import os
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

from sktraceprop._lineage import _fingerprint_cache, _fingerprint_imports
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop._lineage._fingerprint_imports import file_digest

#: A margin the tests wait out (the library's is 2 s, beyond any file system's step).
_MARGIN_S = 0.2


@pytest.fixture
def reads(monkeypatch):
    """Counts the files ``_fingerprint_imports`` opens, by path."""
    _fingerprint_imports.clear()
    monkeypatch.setattr(_fingerprint_imports, "_MARGIN_NS", int(_MARGIN_S * 1e9))
    opened = []

    def counting_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(_fingerprint_imports, "open", counting_open, raising=False)
    yield opened
    _fingerprint_imports.clear()


def _truth(path):
    with builtins.open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()


def test_a_settled_file_is_read_once(tmp_path, reads):
    path = str(tmp_path / "m.py")
    with builtins.open(path, "w") as f:
        f.write("SCALE = 2\n")
    time.sleep(_MARGIN_S * 1.5)
    assert file_digest(path) == _truth(path)
    assert file_digest(path) == _truth(path)
    assert reads.count(path) == 1


def test_a_file_just_written_is_read_each_time(tmp_path, reads):
    """Its times lie within the margin of the read: an edit in the same time step could
    keep them, so nothing is kept."""
    path = str(tmp_path / "m.py")
    with builtins.open(path, "w") as f:
        f.write("SCALE = 2\n")
    assert file_digest(path) == _truth(path)
    assert file_digest(path) == _truth(path)
    assert reads.count(path) == 2


def test_an_edit_of_the_same_size_with_its_mtime_set_back_is_seen(tmp_path, reads):
    """The case a cache by mtime and size alone would miss: the status-change time,
    which no program sets back, tells it."""
    path = str(tmp_path / "m.py")
    with builtins.open(path, "w") as f:
        f.write("SCALE = 2\n")
    old = os.stat(path)
    time.sleep(_MARGIN_S * 1.5)
    first = file_digest(path)
    with builtins.open(path, "w") as f:
        f.write("SCALE = 3\n")
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    now = os.stat(path)
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (old.st_size, old.st_mtime_ns, old.st_ino)
    assert file_digest(path) == _truth(path) != first


@settings(deadline=None, max_examples=12)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(b"0123456789"), st.booleans(), st.booleans()), max_size=4
    )
)
def test_every_digest_is_the_files_bytes_now(tmp_path_factory, edits):
    """Random same-size rewrites, with or without the old mtime set back, with or
    without a wait beyond the margin: every digest is that of the bytes now."""
    _fingerprint_imports.clear()
    old_margin = _fingerprint_imports._MARGIN_NS
    _fingerprint_imports._MARGIN_NS = int(0.05e9)
    try:
        path = str(tmp_path_factory.mktemp("d") / "m.py")
        with builtins.open(path, "wb") as f:
            f.write(b"V = 0\n")
        time.sleep(0.08)
        assert file_digest(path) == _truth(path)
        for digit, restore, wait in edits:
            old = os.stat(path)
            with builtins.open(path, "wb") as f:
                f.write(b"V = %c\n" % digit)
            if restore:
                os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
            if wait:
                time.sleep(0.08)
            assert file_digest(path) == _truth(path)
            assert file_digest(path) == _truth(path)
    finally:
        _fingerprint_imports._MARGIN_NS = old_margin
        _fingerprint_imports.clear()


def test_a_logged_predicts_fingerprint_reads_a_settled_module_once(tmp_path, reads):
    """A function that imports a user module when it runs: repeated fingerprints read
    its file once, and an edit after that is still seen."""
    tag = f"fpd_{os.getpid()}"
    path = tmp_path / f"{tag}_helpers.py"
    path.write_text("SCALE = 2.0\ndef helper(X):\n    return X * SCALE\n")
    sys.path.insert(0, str(tmp_path))
    try:
        source = f"def f(X):\n    import {tag}_helpers as h\n    return h.helper(X)\n"
        scope = {"__name__": f"{tag}_user"}
        exec(compile(source, "<fpd>", "exec"), scope)
        step = FunctionTransformer(func=scope["f"]).fit(np.ones((2, 2)))
        time.sleep(_MARGIN_S * 1.5)
        before = fingerprint(step)
        step.transform(np.ones((2, 2)))
        for _ in range(5):
            assert fingerprint(step) == before
        assert reads.count(str(path)) == 1
        path.write_text("SCALE = 3.0\ndef helper(X):\n    return X * SCALE\n")
        assert fingerprint(step) != before
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(f"{tag}_helpers", None)
        _fingerprint_cache.clear()
