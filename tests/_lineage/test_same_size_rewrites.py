"""A file rewritten in place with its size kept and its modification time set back
(``cp -p``, ``rsync -t``, ``os.utime``) keeps size, mtime and inode: only the
status-change time says it was written. Each check that trusts a file's metadata must
see such a rewrite. The truth is the file's bytes, changed here."""

import os
import sys
import time
import types
from types import SimpleNamespace

import numpy as np
import pytest

from sktraceprop._lineage import _install_origin
from sktraceprop._lineage._install_origin import installed_identity
from sktraceprop.influence._neural_state import NeuralState, _file_state


def _rewrite_keeping_mtime(path, new_bytes):
    """Write ``new_bytes`` (same length) over the file in place, then set its access and
    modification times back to what they were."""
    before = os.stat(path)
    assert len(new_bytes) == before.st_size
    time.sleep(0.02)  # (past any file system's time step: the ctime moves on)
    with open(path, "r+b") as f:
        f.write(new_bytes)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert open(path, "rb").read() == new_bytes


@pytest.mark.skipif(sys.platform == "win32", reason="st_ctime is the creation time")
def test_a_gradient_store_file_rewritten_with_its_mtime_restored_is_refused(tmp_path):
    path = str(tmp_path / "features.npy")
    np.save(path, np.arange(12, dtype=np.float64).reshape(4, 3))
    F = np.load(path, mmap_mode="r")
    state = NeuralState("trak", [SimpleNamespace(model=None, F=F)], None)
    state.store_files = {F.filename: _file_state(F.filename)}
    state.check_store()  # (unchanged: nothing said)
    data = open(path, "rb").read()
    _rewrite_keeping_mtime(path, data[:-8] + np.float64(99.0).tobytes())
    assert F[-1, -1] == 99.0  # the memmapped features are no longer the fit's
    with pytest.raises(ValueError, match="was written or replaced after"):
        state.check_store()


@pytest.mark.skipif(sys.platform == "win32", reason="st_ctime is the creation time")
def test_installed_identity_sees_a_module_rewritten_with_its_mtime_restored(tmp_path, monkeypatch):
    path = tmp_path / "fpsame.py"
    path.write_text("VALUE = 1\n")
    module = types.ModuleType("fpsame")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, "fpsame", module)
    monkeypatch.setattr(_install_origin, "_IDENTITIES", {})
    first = installed_identity("fpsame")
    assert installed_identity("fpsame") == first
    _rewrite_keeping_mtime(str(path), b"VALUE = 2\n")
    second = installed_identity("fpsame")
    assert second != first
    # the truth: a fresh read of the file, with nothing kept
    monkeypatch.setattr(_install_origin, "_IDENTITIES", {})
    assert installed_identity("fpsame") == second
