"""SIGTERM (``kill``, a job scheduler's end) to a process running the temporary
PostgreSQL server of the tests and benchmarks stops the server and removes its folder,
as Ctrl-C does: SIGTERM's default ended the process at once, skipping ``__exit__``, and
``pg_ctl`` detaches the server, so it ran on. The process still ends by SIGTERM, as it
would have (no exception raised in the code it was running); ``bench_stores.py`` and
``bench_store_appends.py``, which ask for SystemExit, remove their SQLite folders too.
The truth is ``/proc`` (no process whose command line names the server's folder) and
the folders on disk."""

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
    # the same for bench_store_appends (its smallest size), which left both behind
    "bench_store_appends": f"""
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import bench_store_appends
bench_store_appends.per_append_ms = wait
bench_store_appends.main(["--appends", "1", "--warm", "0", "--rounds", "1"])
""",
}

#: How each child ends: killed by SIGTERM as without the server, or the benchmark's
#: own SystemExit(128 + 15).
_ENDS = {
    "running": -signal.SIGTERM,
    "starting": -signal.SIGTERM,
    "bench_stores": 143,
    "bench_store_appends": 143,
}
_BENCH_FOLDERS = {"bench_stores": "stp-bench-stores-", "bench_store_appends": "stp-bench-appends-"}


@pytest.mark.parametrize("child", sorted(_CHILDREN))
def test_sigterm_stops_the_server_and_removes_the_folders(child, tmp_path):
    with server_child(_CHILDREN[child], tmp_path / "stderr") as process:
        assert processes_naming(process.server)  # the server is up
        assert process.signal_and_wait(signal.SIGTERM) == _ENDS[child]
        assert processes_naming(process.server) == []
        assert [f for f in process.folders if Path(f).exists()] == []
        if child in _BENCH_FOLDERS:
            assert any(_BENCH_FOLDERS[child] in f for f in process.folders)
        else:
            assert "Traceback" not in process.log.read_text()


def test_bench_store_appends_removes_its_sqlite_folder(tmp_path, monkeypatch):
    # run to its end at its smallest size (results not written): it left the folder
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_store_appends

    written = []
    monkeypatch.setattr(bench_store_appends, "write_results", lambda *a: written.append(a))
    bench_store_appends.main(
        ["--appends", "1", "--warm", "0", "--rounds", "1", "--folder", str(tmp_path)]
    )
    assert len(written[0][1]["cases"]) == 5
    assert list(tmp_path.iterdir()) == []
