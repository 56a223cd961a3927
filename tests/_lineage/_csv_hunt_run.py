"""A long hunt of ``read_csv``'s lines (:mod:`tests._lineage._csv_hunt`), each file read
in a worker process under a time limit: a read that hangs (pandas 2.2's pyarrow engine
did, in pandas itself, on one drawn file) is reported with its file, the worker killed
and a new one started, and the hunt goes on.

A hang in pandas' or pyarrow's native code holds the interpreter, so no signal handler
or thread in the same process could stop it: only another process can.

Run from the repository root (``PYTHONPATH`` naming it)::

    nice -n 19 python -m tests._lineage._csv_hunt_run --files 2000 --seed 7 --limit 30

(Two venvs may run hunts from one tree at once: each numba version caches its kernels
in a folder of its own, ``sktraceprop.utils._numba_cache``.)

It prints a count of each outcome, then every ``BUG``, ``TIMEOUT`` and ``WORKER DIED``
with its file, and exits 1 where there is one.
"""

import argparse
import collections
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests._lineage._csv_hunt import hunt_files, hunt_one

#: Outcomes that name a file to look at (the others are counted).
ALARMS = ("BUG", "TIMEOUT", "WORKER DIED")


def _serve(conn, hunt, tmp):
    """The worker: read each file sent (in a new folder under ``tmp``), send its outcome
    back."""
    conn.send("ready")  # (imported: the time limit counts reads, not the start)
    for k in range(sys.maxsize):
        doc = conn.recv()
        if doc is None:
            return
        where = Path(tmp) / str(k)
        where.mkdir()
        conn.send(hunt(where, *doc))


class TimedHunt:
    """Reads files in a worker process, each under ``limit`` seconds.

    Parameters
    ----------
    limit : float
        Seconds one file may take (pandas' read and sktraceprop's, and the blind reads).
    hunt : callable, default=hunt_one
        ``hunt(tmp_path, name, data, options, sep) -> outcome``, a module-level function
        (it is pickled to the worker).
    retry : float, default=4
        A file not read in ``limit`` is read again under ``retry * limit``.
    """

    def __init__(self, limit, hunt=hunt_one, retry=4):
        self.limit = limit
        self.retry = retry
        self.hunt = hunt
        self.tmp = None  # the folder of the worker's files
        self._context = multiprocessing.get_context("spawn")
        self._worker = None

    def _start(self):
        self._conn, child = self._context.Pipe()
        # (made and removed here: a worker killed on a timeout cleans nothing up)
        self.tmp = tempfile.mkdtemp(prefix="csv_hunt_")
        self._worker = self._context.Process(
            target=_serve, args=(child, self.hunt, self.tmp), daemon=True
        )
        self._worker.start()
        child.close()
        try:
            ready = self._conn.recv()
        except EOFError:
            ready = None
        if ready != "ready":
            # (a script that starts a hunt unguarded by if __name__ == "__main__" is run
            # again by the spawned worker, which then fails before it is ready)
            self._worker.join(5)
            code = self._worker.exitcode
            self._stop()
            raise RuntimeError(f"the hunt's worker did not start (exit code {code})")

    def _stop(self):
        self._worker.kill()
        self._worker.join()
        self._conn.close()
        self._worker = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __call__(self, doc):
        """The outcome of one file ``doc = (name, data, options, sep)``: ``hunt_one``'s,
        or ``"TIMEOUT: ..."`` or ``"WORKER DIED: ..."``.

        A file not read in ``limit`` seconds is read again in a new worker, under
        ``retry`` times the limit: a first read may compile scan kernels (numba, tens of
        seconds on a busy machine; a killed worker writes no cache), which is no hang.
        Its outcome then ends ``" (slow)"``."""
        outcome = self._timed(doc, self.limit)
        if outcome is not None:
            return outcome
        outcome = self._timed(doc, self.limit * self.retry)
        if outcome is not None:
            return outcome + " (slow)"
        return (
            f"TIMEOUT: no outcome in {self.limit:g} s, nor in {self.limit * self.retry:g} s "
            "in a new worker (killed, a new one started)"
        )

    def _timed(self, doc, limit):
        """``doc``'s outcome, or None where none came in ``limit`` seconds (the worker is
        then killed)."""
        if self._worker is None:
            self._start()
        self._conn.send(doc)
        try:
            if self._conn.poll(limit):
                return self._conn.recv()
        except (EOFError, ConnectionError):
            self._worker.join(5)
            code = self._worker.exitcode
            self._stop()
            return f"WORKER DIED: exit code {code}"
        self._stop()
        return None

    def close(self):
        if self._worker is not None:
            self._conn.send(None)
            self._worker.join(5)
            self._stop()  # (kills it only if it is still alive; removes its folder)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(n_files, seed_value, limit, hunt=hunt_one):
    """Hunt ``n_files`` drawn files (hypothesis seed ``seed_value``).

    Returns
    -------
    counts : Counter
        Outcome kind -> files.
    alarms : list of (outcome, doc)
        Every outcome in :data:`ALARMS` with its file.
    """
    counts = collections.Counter()
    alarms = []
    with TimedHunt(limit, hunt) as timed:

        @seed(seed_value)
        @settings(
            max_examples=n_files,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(hunt_files())
        def one(doc):
            outcome = timed(doc)
            kind = outcome.split(" (")[0] if outcome.startswith("read") else outcome[:140]
            counts[kind + " (slow)" * outcome.endswith(" (slow)")] += 1
            if outcome.startswith(ALARMS):
                alarms.append((outcome, doc))

        one()
    return counts, alarms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds per file")
    args = parser.parse_args(argv)
    import pandas as pd

    start = time.perf_counter()
    counts, alarms = run(args.files, args.seed, args.limit)
    print(
        f"pandas {pd.__version__}: {sum(counts.values())} files, seed {args.seed}, "
        f"{time.perf_counter() - start:.0f} s"
    )
    for outcome, n in counts.most_common():
        print(f"{n:6d}  {outcome}")
    for outcome, doc in alarms:
        print(outcome, repr(doc), sep="\n    ")
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
