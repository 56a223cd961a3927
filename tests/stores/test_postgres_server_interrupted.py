"""The temporary PostgreSQL server of the tests and benchmarks (``bench_stores.py`` among
them) is stopped and its folder removed when its process is interrupted (SIGINT, as
Ctrl-C) while ``start()`` waits for ``pg_ctl``: ``__exit__`` is not called when
``__enter__`` raises, and ``pg_ctl`` detaches the server from the terminal, so it ran on.
The truth is ``/proc``: no process left whose command line names the server's folder."""

import signal
from pathlib import Path

import pytest

from sktraceprop.stores._postgres_server import unavailable_reason
from tests.stores._server_child import STARTING, processes_naming, server_child

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None or not Path("/proc").is_dir(),
    reason=str(unavailable_reason()) + " (or no /proc)",
)


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "background"])
def test_an_interrupted_start_leaves_no_server_running(tmp_path, sigint_ignored):
    # (background: the test runner ignored SIGINT and its children inherited it)
    with server_child(STARTING, tmp_path / "stderr", sigint_ignored) as child:
        assert processes_naming(child.server)  # the server is up
        assert child.signal_and_wait(signal.SIGINT) != 0
        assert processes_naming(child.server) == []
        assert [f for f in child.folders if Path(f).exists()] == []
        assert "KeyboardInterrupt" in child.log.read_text()
