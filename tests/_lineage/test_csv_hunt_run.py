"""The timed hunt (:mod:`tests._lineage._csv_hunt_run`): a file whose read hangs is
reported with its file, and the hunt goes on to the next one in a new worker; a worker
that dies is reported too. (pandas 2.2's pyarrow engine hung, in pandas itself, on one
drawn file and stopped a whole hunt.)"""

import os
import time

from tests._lineage._csv_hunt_run import TimedHunt, run


def _hunt(tmp_path, name, data, options, sep):
    """A stand-in for ``hunt_one``: hangs on a file named "hang", dies on "die", takes
    7 s on "slow" the first time in a worker."""
    if name == "hang":
        time.sleep(3600)  # (as a read stuck in native code: nothing in-process stops it)
    if name == "slow" and not (tmp_path.parent / "slow").exists():
        (tmp_path.parent / "slow").touch()  # (slow the first time in a worker only)
        time.sleep(7)
    if name == "die":
        os._exit(3)
    (tmp_path / name).write_bytes(data)
    return f"read {(tmp_path / name).read_bytes().decode()} pid {os.getpid()}"


def test_a_hanging_read_is_reported_and_the_hunt_goes_on():
    with TimedHunt(limit=5, hunt=_hunt, retry=2) as timed:
        first = timed(("a.csv", b"1", {}, ","))
        start = time.perf_counter()
        hung = timed(("hang", b"", {}, ","))
        waited = time.perf_counter() - start
        after = timed(("b.csv", b"2", {}, ","))
        died = timed(("die", b"", {}, ","))
        last = timed(("c.csv", b"3", {}, ","))
        slow = timed(("slow", b"4", {}, ","))
    assert first.startswith("read 1 pid ")
    assert hung.startswith("TIMEOUT: no outcome in 5 s, nor in 10 s in a new worker")
    assert 15 <= waited < 120
    assert after.startswith("read 2 pid ")
    assert after.split()[-1] != first.split()[-1]  # (a new worker)
    assert died == "WORKER DIED: exit code 3"
    assert last.startswith("read 3 pid ")
    assert slow.startswith("read 4 pid ") and slow.endswith(" (slow)")


def test_a_short_hunt_counts_every_file():
    counts, alarms = run(n_files=5, seed_value=1, limit=60)
    assert sum(counts.values()) == 5
    assert not alarms, alarms


def _where(tmp_path, name, data, options, sep):
    """A stand-in for ``hunt_one``: says the folder its worker reads files in; hangs on a
    file named "hang", dies on "die"."""
    (tmp_path / name).write_bytes(data)
    if name == "hang":
        time.sleep(3600)
    if name == "die":
        os._exit(3)
    return str(tmp_path.parent)


def test_a_killed_or_dead_worker_leaves_no_folder_behind():
    # (the worker's temporary folder was its own, removed as it ended: a worker killed
    # on a timeout, or dead, left it and the files in it behind)
    with TimedHunt(limit=2, hunt=_where, retry=1) as timed:
        first = timed(("a.csv", b"1", {}, ","))
        assert os.path.isdir(first)
        assert timed(("hang", b"", {}, ",")).startswith("TIMEOUT")
        assert not os.path.exists(first)  # (killed on the first try)
        second = timed(("b.csv", b"2", {}, ","))
        assert second != first and os.path.isdir(second)
        assert timed(("die", b"", {}, ",")) == "WORKER DIED: exit code 3"
        assert not os.path.exists(second)
        last = timed(("c.csv", b"3", {}, ","))
    assert not os.path.exists(last)  # (ended by close)
