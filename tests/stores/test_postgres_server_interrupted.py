"""The temporary PostgreSQL server of the tests and benchmarks (``bench_stores.py`` among
them) is stopped and its folder removed when its process is interrupted (SIGINT, as
Ctrl-C) while ``start()`` waits for ``pg_ctl``: ``__exit__`` is not called when
``__enter__`` raises, and ``pg_ctl`` detaches the server from the terminal, so it ran on.
The truth is ``/proc``: no process left whose command line names the server's folder."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sktraceprop.stores._postgres_server import unavailable_reason

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None or not Path("/proc").is_dir(),
    reason=str(unavailable_reason()) + " (or no /proc)",
)

#: Runs the server helper; the window where Ctrl-C left the server running (started by
#: pg_ctl, start() not yet returned) held open until the parent interrupts it.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from sktraceprop.stores import _postgres_server as pg

    started = pg.TemporaryPostgres._ctl_start

    def ctl_start(self):
        started(self)
        print(self.folder, flush=True)
        time.sleep(120)

    pg.TemporaryPostgres._ctl_start = ctl_start
    with pg.TemporaryPostgres() as server:
        time.sleep(120)
    """
)


def _processes_naming(folder):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if folder.encode() in line:
                found.append(int(entry.name))
    return found


def test_an_interrupted_start_leaves_no_server_running(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        folder = child.stdout.readline().strip()
        assert folder and _processes_naming(folder)  # the server is up
        child.send_signal(signal.SIGINT)
        assert child.wait(60) != 0
        left = _processes_naming(folder)
        assert left == [] and not Path(folder).exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in _processes_naming(folder) if "folder" in locals() and folder else []:
            os.kill(pid, signal.SIGKILL)  # (only the server this test started)
