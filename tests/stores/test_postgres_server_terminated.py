"""SIGTERM (``kill``, a job scheduler's end) to a process running the temporary
PostgreSQL server of the tests and benchmarks stops the server and removes its folder,
as Ctrl-C does: SIGTERM's default ended the process at once, skipping ``__exit__``, and
``pg_ctl`` detaches the server, so it ran on. The process still ends by SIGTERM, as it
would have (no exception raised in the code it was running); ``bench_stores.py``, which
asks for SystemExit, removes its SQLite folder too. The truth is ``/proc`` (no process
whose command line names the server's folder) and the folders on disk."""

import signal
from pathlib import Path

import pytest

from sktraceprop.stores._postgres_server import unavailable_reason
from tests.stores._server_child import ROOT, STARTING, processes_naming, server_child

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None or not Path("/proc").is_dir(),
    reason=str(unavailable_reason()) + " (or no /proc)",
)

_CHILDREN = {
    # the server up, inside the with block
    "running": """
from sktraceprop.stores import _postgres_server as pg
with pg.TemporaryPostgres() as server:
    wait()
""",
    "starting": STARTING,
    # the benchmark, its SQLite folder and its server made, measuring
    "bench_stores": f"""
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import bench_stores
bench_stores.shuffled_frame = wait
bench_stores.main(["--rows", "10"])
""",
}

#: How each child ends: killed by SIGTERM as without the server, or the benchmark's
#: own SystemExit(128 + 15).
_ENDS = {"running": -signal.SIGTERM, "starting": -signal.SIGTERM, "bench_stores": 143}


@pytest.mark.parametrize("child", sorted(_CHILDREN))
def test_sigterm_stops_the_server_and_removes_the_folders(child, tmp_path):
    with server_child(_CHILDREN[child], tmp_path / "stderr") as process:
        assert processes_naming(process.server)  # the server is up
        assert process.signal_and_wait(signal.SIGTERM) == _ENDS[child]
        assert processes_naming(process.server) == []
        assert [f for f in process.folders if Path(f).exists()] == []
        if child == "bench_stores":
            assert any("stp-bench-stores-" in f for f in process.folders)
        else:
            assert "Traceback" not in process.log.read_text()
