"""What TemporaryPostgres does to SIGTERM's handling in the process that starts it: it
only stops the servers that process started, and SIGTERM then ends the process as it
would have. It raised SystemExit in whatever code ran, so pytest reported the running
test as failed and ran the next ones (one SIGTERM did not end it); the handler a forked
child inherits (multiprocessing's ``terminate()`` sends SIGTERM) stopped the parent's
server and removed its folder; a server stopped by another thread raised ValueError
(``signal.signal`` outside the main thread). Each case runs in a child process, so the
handlers of the test process are not touched; the truth is the server answering (or
``/proc``), the folders on disk and the child's exit status."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sktraceprop.stores._postgres_server import unavailable_reason
from tests.stores._server_child import ROOT, processes_naming, server_child

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None or not Path("/proc").is_dir(),
    reason=str(unavailable_reason()) + " (or no /proc)",
)

_HANDLERS = """
import json, multiprocessing, os, signal, sys, threading, time
import psycopg
from sktraceprop.stores._postgres_server import TemporaryPostgres

def answers(server):
    try:
        psycopg.connect(server.dsn, connect_timeout=30).close()
        return True
    except psycopg.OperationalError:
        return False

def nap():
    time.sleep(120)

seen = {"before": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL}
first, second = TemporaryPostgres().start(), TemporaryPostgres().start()
seen["installed"] = signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
child = multiprocessing.get_context("fork").Process(target=nap)
child.start()
time.sleep(1)
child.terminate()
child.join()
seen["child_exitcode"] = child.exitcode
seen["first_answers"] = answers(first)
seen["first_folder"] = os.path.isdir(first.folder)
first.stop()
folder, errors = second.folder, []
def stop():
    try:
        second.stop()
    except Exception as error:
        errors.append(repr(error))
thread = threading.Thread(target=stop)  # (the last server: the handler would go)
thread.start()
thread.join()
seen["thread_stop_errors"] = errors
seen["thread_stop_removed"] = not os.path.exists(folder)
TemporaryPostgres().start().stop()
seen["default_after"] = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL

def mine(signum, frame):
    pass
signal.signal(signal.SIGTERM, mine)
with TemporaryPostgres():
    seen["caller_kept"] = signal.getsignal(signal.SIGTERM) is mine
seen["caller_after"] = signal.getsignal(signal.SIGTERM) is mine
print(json.dumps(seen))
"""


def test_sigterm_handling_is_only_stopping_this_process_servers(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", _HANDLERS],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {
        "before": True,
        "installed": True,
        # SIGTERM's default, as in a process that started no server
        "child_exitcode": -signal.SIGTERM,
        "first_answers": True,
        "first_folder": True,
        "thread_stop_errors": [],
        "thread_stop_removed": True,
        "default_after": True,
        "caller_kept": True,
        "caller_after": True,
    }


#: pytest running two tests beside a session server: SIGTERM during the first.
_SESSION = """
import __main__, pytest
from sktraceprop.stores._postgres_server import TemporaryPostgres

@pytest.fixture(scope="session")
def server():
    with TemporaryPostgres() as server:
        yield server

def test_first(server):
    __main__.wait()

def test_second():
    open(__file__ + ".ran", "w").close()
"""


def test_sigterm_ends_pytest_with_its_server(tmp_path):
    tests = tmp_path / "test_session.py"
    tests.write_text(_SESSION)
    code = f"""
import pytest
sys.exit(pytest.main([{str(tests)!r}, "-s", "-q", "-p", "no:cacheprovider",
                      "-p", "no:xdist", "-p", "no:randomly", "--rootdir", {str(tmp_path)!r}]))
"""
    with server_child(code, tmp_path / "stderr") as child:
        assert processes_naming(child.server)  # the server is up
        assert child.signal_and_wait(signal.SIGTERM) == -signal.SIGTERM
        assert processes_naming(child.server) == []
        assert not Path(child.server).exists()
        assert not Path(f"{tests}.ran").exists()  # pytest did not run on
