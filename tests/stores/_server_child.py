"""A child Python process running the temporary PostgreSQL server, for the tests that
signal it (test_postgres_server_interrupted, test_postgres_server_terminated).

The child prints each temporary folder it makes, then "ready" where the test is to
signal it (its ``wait()``), and sleeps. The truth is ``/proc`` (no process whose command
line names the server's folder) and the folders on disk. A child that does not end in
time is asked for its Python stack (faulthandler, SIGUSR1) and the failure shows it with
the child's stderr and the processes naming its folders, so a timeout says where it was.
"""

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Before every child's own code: folders printed as made, ``wait()`` prints "ready".
#: SIGINT and SIGTERM get Python's usual handling whatever the test runner passed on: a
#: runner started in the background without job control (``make test &``, ``nohup``)
#: ignores SIGINT, children inherit that, and Python then installs no KeyboardInterrupt:
#: the child slept through the test's Ctrl-C. And ``wait()`` sleeps in short steps:
#: ``time.sleep(120)`` does not look for a signal handled before it began (one arriving
#: between the "ready" line and the sleep), and slept on; 1 such lost SIGINT in 400
#: children on the loaded 2-core machine, 0 in 400 with short steps.
_PRELUDE = """
import faulthandler, signal, sys, tempfile, time
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
faulthandler.register(signal.SIGUSR1, all_threads=True)
made = tempfile.mkdtemp
def mkdtemp(*args, **kwargs):
    path = made(*args, **kwargs)
    print(path, flush=True)
    return path
tempfile.mkdtemp = mkdtemp
def wait(*args, **kwargs):
    print("ready", flush=True)
    for _ in range(2400):
        time.sleep(0.05)
"""

#: pg_ctl has started the server, start() has not returned: the window where Ctrl-C
#: and SIGTERM left the server running (pg_ctl detaches it; __exit__ is not called
#: when __enter__ raises).
STARTING = """
from sktraceprop.stores import _postgres_server as pg
started = pg.TemporaryPostgres._ctl_start
def ctl_start(self):
    started(self)
    wait()
pg.TemporaryPostgres._ctl_start = ctl_start
with pg.TemporaryPostgres() as server:
    pass
"""

#: Generous: under a loaded ``pytest -n 2`` the child's imports, initdb and pg_ctl's
#: start took minutes; the timeout is there so a hang fails with its evidence.
READY_S = 600


def processes_naming(folder):
    """The ids of the processes whose command line names ``folder``."""
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


class ServerChild:
    """The running child: ``folders`` it made, ``server`` (the PostgreSQL one)."""

    def __init__(self, process, log):
        self.process = process
        self.log = log
        self.folders = []
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def wait_ready(self):
        deadline = time.monotonic() + READY_S
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                self.fail(f"printed no 'ready' in {READY_S} s")
            if line is None:
                self.process.wait()
                self.fail(f"ended with {self.process.returncode} before 'ready'")
            if line == "ready":
                return
            self.folders.append(line)

    @property
    def server(self):
        (folder,) = [f for f in self.folders if "stp-pg-" in f]
        return folder

    def signal_and_wait(self, signum, timeout=60):
        """Send ``signum``; the child's return code once it has ended."""
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.process.send_signal(signal.SIGUSR1)  # (its stack, to stderr)
        time.sleep(2)
        self.fail(f"had not ended {timeout} s after signal {signum}")

    def fail(self, what):
        processes = {f: processes_naming(f) for f in self.folders}
        logs = [Path(f, "server.log") for f in self.folders if "stp-pg-" in f]
        # (the server's log says whether a stop reached it: "immediate shutdown request")
        server_log = "".join(log.read_text()[-1500:] for log in logs if log.exists())
        pytest.fail(
            f"the child {what}; processes naming its folders: {processes}; "
            f"its stderr:\n{self.log.read_text()}\nthe server's log:\n{server_log}",
            pytrace=False,
        )


@contextlib.contextmanager
def server_child(code, log, sigint_ignored=False):
    """Run ``code`` in a child (``wait()`` defined) until it printed "ready"; on exit,
    kill it and any server of its folders still running (only the test's own), and
    remove the server's folder.
    ``sigint_ignored``: started as by a runner in the background, SIGINT ignored."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    command = [sys.executable, "-c", textwrap.dedent(_PRELUDE) + textwrap.dedent(code)]
    if sigint_ignored:
        command = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=ROOT,
        )
    child = ServerChild(process, Path(log))
    try:
        child.wait_ready()
        yield child
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for folder in child.folders:
            if "stp-pg-" in folder:
                for pid in processes_naming(folder):
                    os.kill(pid, signal.SIGKILL)
                shutil.rmtree(folder, ignore_errors=True)  # (a failed test's, killed)
