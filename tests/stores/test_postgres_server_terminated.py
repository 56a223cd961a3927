"""SIGTERM (``kill``, a job scheduler's end) to a process running the temporary
PostgreSQL server of the tests and benchmarks stops the server and removes its folder,
as Ctrl-C does: SIGTERM's default ended the process at once, skipping ``__exit__``, and
``pg_ctl`` detaches the server, so it ran on. ``bench_stores.py`` removes its SQLite
folder too. The truth is ``/proc`` (no process whose command line names the server's
folder) and the folders on disk."""

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

ROOT = Path(__file__).resolve().parents[2]

#: Prints each temporary folder made, then "ready" where the parent is to send SIGTERM.
_PRINT_FOLDERS = """
import sys, tempfile, time
made = tempfile.mkdtemp
def mkdtemp(*args, **kwargs):
    path = made(*args, **kwargs)
    print(path, flush=True)
    return path
tempfile.mkdtemp = mkdtemp
def wait(*args, **kwargs):
    print("ready", flush=True)
    time.sleep(120)
"""

_CHILDREN = {
    # the server up, inside the with block
    "running": """
from sktraceprop.stores import _postgres_server as pg
with pg.TemporaryPostgres() as server:
    wait()
""",
    # pg_ctl has started the server, start() has not returned
    "starting": """
from sktraceprop.stores import _postgres_server as pg
started = pg.TemporaryPostgres._ctl_start
def ctl_start(self):
    started(self)
    wait()
pg.TemporaryPostgres._ctl_start = ctl_start
with pg.TemporaryPostgres() as server:
    pass
""",
    # the benchmark, its SQLite folder and its server made, measuring
    "bench_stores": f"""
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import bench_stores
bench_stores.shuffled_frame = wait
bench_stores.main(["--rows", "10"])
""",
}


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


@pytest.mark.parametrize("child", sorted(_CHILDREN))
def test_sigterm_stops_the_server_and_removes_the_folders(child):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    code = textwrap.dedent(_PRINT_FOLDERS) + textwrap.dedent(_CHILDREN[child])
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    folders = []
    try:
        for line in process.stdout:
            if line.strip() == "ready":
                break
            folders.append(line.strip())
        (server,) = [f for f in folders if "stp-pg-" in f]
        assert _processes_naming(server)  # the server is up
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 128 + signal.SIGTERM
        assert _processes_naming(server) == []
        assert [f for f in folders if Path(f).exists()] == []
        if child == "bench_stores":
            assert any("stp-bench-stores-" in f for f in folders)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for folder in folders:
            for pid in _processes_naming(folder) if "stp-pg-" in folder else ():
                os.kill(pid, signal.SIGKILL)  # (only the server this test started)
