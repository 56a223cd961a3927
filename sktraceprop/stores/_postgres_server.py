"""A throwaway local PostgreSQL server, for the tests and benchmarks of PostgresStore.

Runs the PostgreSQL binaries found on this machine (``STP_PG_BINDIR``, the Debian
``/usr/lib/postgresql/<version>/bin``, ``pg_config --bindir`` or ``PATH``): ``initdb``
on a temporary folder (as the ``postgres`` user when run as root, since ``initdb``
refuses root), a server listening on 127.0.0.1 only, on a free port (another one where
a process binds it first: up to five), with its socket in that folder; everything is
removed on :meth:`TemporaryPostgres.stop`, which :meth:`TemporaryPostgres.start` calls
itself when it fails or is interrupted (Ctrl-C while ``pg_ctl`` waits for the server,
seen within a quarter of a second: ``pg_ctl`` detaches the server from the terminal,
so nothing else would stop it). SIGTERM (``kill``, a job scheduler's end) stops the
servers the process started too where SIGTERM has its default handling: the servers are
stopped and their folders removed, then the process ends by SIGTERM as it would have.
Nothing else changes: no exception is raised in the code that was running (pytest, say,
would report it as the running test's error and run on), a handler of the caller's is
left alone (so a caller that wants its own cleanup to run installs one raising
``SystemExit``: the ``with`` block then stops the server), the default is put back when
the last server stops, and a process forked from this one (``multiprocessing``, whose
``terminate()`` sends SIGTERM) never stops its parent's servers.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


def find_bindir():
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    candidates = []
    if os.environ.get("STP_PG_BINDIR"):
        candidates.append(os.environ["STP_PG_BINDIR"])

    def version(path):
        try:
            return int(Path(path).parent.name)
        except ValueError:
            return 0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            candidates.append(out.stdout.strip())
        except OSError:
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for folder in candidates:
        if folder and all(Path(folder, tool).is_file() for tool in ("initdb", "pg_ctl")):
            return folder
    return None


def unavailable_reason():
    """Why a temporary server cannot run here (None when it can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (pip install 'sktraceprop[postgres]')"
    if find_bindir() is None:
        return (
            "no PostgreSQL server binaries (initdb, pg_ctl) found: install postgresql "
            "(Debian: apt-get install postgresql-15) or set STP_PG_BINDIR"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run initdb as"
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Ports tried: the one chosen is free when chosen, and another process (a test server
#: started beside this one) can bind it before the server does.
_PORT_TRIES = 5


class _PortTaken(RuntimeError):
    """The server could not listen on its port: another process had bound it."""


class TemporaryPostgres:
    """A PostgreSQL server in a temporary folder; a context manager.

    Parameters
    ----------
    fsync : bool, default=False
        Whether the server flushes to disk (off for tests; on to time like production).
    """

    def __init__(self, fsync=False):
        self.fsync = fsync
        self.bindir = None
        self.folder = None
        self.port = None
        self._launched = False  # pg_ctl start was run: a server may be up
        self._owner = None  # the process that started it (a forked child did not)

    @property
    def dsn(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args, check=True):
        user = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(Path(self.bindir, args[0])), *args[1:]],
            capture_output=True,
            text=True,
            check=check,
            cwd=self.folder,
            **user,
        )

    def start(self):
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        self.bindir = find_bindir()
        self._owner = os.getpid()
        _stopped_on_sigterm(self)
        self.folder = tempfile.mkdtemp(prefix="stp-pg-")
        self._launched = False
        try:
            return self._start()
        except BaseException:
            # (a KeyboardInterrupt too: __exit__ is not called when __enter__ raises)
            self.stop()
            raise

    def _start(self):
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        data = os.path.join(self.folder, "data")
        init = self._run(
            "initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        taken = []
        for _ in range(_PORT_TRIES):
            self.port = _free_port()
            try:
                self._ctl_start()
                return self
            except _PortTaken:
                taken.append(self.port)
                self._launched = False  # (the server exited: no pid file to wait for)
        raise RuntimeError(
            f"PostgreSQL did not start: each of the {_PORT_TRIES} free ports chosen "
            f"({', '.join(map(str, taken))}) was bound by another process before the "
            "server could listen on it"
        )

    def _ctl_start(self):
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=100"
        )
        log = Path(self.folder, "server.log")
        seen = log.stat().st_size if log.exists() else 0
        self._launched = True
        out = self._run(
            "pg_ctl",
            "-D",
            os.path.join(self.folder, "data"),
            "-o",
            options,
            "-l",
            os.path.join(self.folder, "server.log"),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if out.returncode != 0:
            # (this start's lines only: the log holds earlier tries' too)
            detail = log.read_bytes()[seen:].decode(errors="replace") if log.exists() else ""
            detail = detail[-2000:] or out.stderr
            if "Address already in use" in detail:
                raise _PortTaken(f"PostgreSQL did not start on port {self.port}: {detail}")
            raise RuntimeError(f"PostgreSQL did not start: {detail}")

    def version(self):
        """The server's version, as ``postgres --version`` prints it."""
        return self._run("postgres", "--version").stdout.strip()

    def stop_server(self):
        """Stop the server (fast shutdown: sessions are cut), keeping its data."""
        self._run("pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "fast", "-w", "stop")

    def start_server(self):
        """Start a server stopped by :meth:`stop_server`, on the same port."""
        self._ctl_start()

    def restart(self):
        self.stop_server()
        self.start_server()

    def stop(self):
        """Stop the server and remove its folder; Ctrl-C is ignored meanwhile (here and
        in ``pg_ctl``), and SIGTERM held until it is done, so neither can leave the
        server running."""
        if self.folder is None:
            _LIVE.discard(self)
            return
        with _sigint_ignored():
            data = os.path.join(self.folder, "data")
            pid_file = os.path.join(data, "postmaster.pid")
            # a start interrupted while pg_ctl waited: the server may not have written
            # its pid file yet, and runs on once it has
            deadline = time.monotonic() + (10 if self._launched else 0)
            while not os.path.exists(pid_file) and time.monotonic() < deadline:
                time.sleep(0.05)
            if os.path.exists(pid_file):
                self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", check=False)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        _LIVE.discard(self)
        # (signal.signal raises ValueError outside the main thread: a server stopped by
        # another thread leaves the handler, which is then SIGTERM's default in effect)
        if (
            not _LIVE
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is _on_sigterm
        ):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


#: The servers of this process started and not yet stopped (SIGTERM stops them).
_LIVE = set()


def _stopped_on_sigterm(server):
    """Have SIGTERM stop ``server`` (and every other one this process started) first.

    Installed only in the main thread, and only where SIGTERM has its default handling
    (which ends the process at once, skipping ``finally`` and ``__exit__``: the server,
    detached by ``pg_ctl``, ran on and its folder stayed); a handler of the caller's is
    left as it is.
    """
    _LIVE.add(server)
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame):
    # The default back first: a second SIGTERM ends the process at once, and the one
    # re-sent below ends it as SIGTERM would have (killed by the signal, exit status
    # 128 + 15 to a shell). Not SystemExit: it was raised in whatever code ran, and
    # pytest, catching it as that test's error, ran on. Only the servers this process
    # started: a forked child inherits this handler and _LIVE, and its terminate()
    # stopped the parent's server and removed its folder.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for server in list(_LIVE):
        if server._owner == os.getpid():
            server.stop()
    os.kill(os.getpid(), signum)


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored inside, SIGTERM held until the end (in the main thread; children
    inherit the ignored SIGINT): a stop under way is not cut short, leaving the server
    running, and a SIGTERM meanwhile is not lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda signum, _: held.append(signum)),
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held:
            os.kill(os.getpid(), signal.SIGTERM)
