"""Two writers killed with SIGKILL at random moments, round after round.

Each child fits traced models (a run), logs a prediction, erases the rows of the
source and the prediction, and appends events of its own, writing to a side file
(flushed and synced) what each call returned: that file is the truth. After every
round the store must reopen, verify, hold every run and event the side files name,
in order, with nothing half carried out and one linear chain. (Deterministic kill
points inside each write are in ``test_store_crashes.py``.)
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import sktraceprop as stp
from tests.stores._store_helpers import new_schema
from tests.stores.test_store_crashes import _erasures_carried_out

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CHILD = textwrap.dedent(
    """
    import os, sys, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    import sktraceprop as stp
    kind, where, schema, side, tag = sys.argv[1:6]
    if kind == "sqlite":
        store = stp.stores.SQLiteStore(where)
    else:
        store = stp.stores.PostgresStore(where, schema=schema)
    log = open(side, "a")
    def note(line):
        log.write(line + "\\n"); log.flush(); os.fsync(log.fileno())
    n = sum(1 for e in store.events(kind="mine") if e["payload"]["tag"] == tag)
    print("ready", flush=True)
    while True:
        X = stp.from_numpy(np.random.default_rng(n).normal(size=(20, 3)), f"{tag}{n}")
        y = (X["x0"] > 0).astype(int)
        model = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(), store=store, log_predictions=True
        ).fit(X, y)
        note(f"run {model.lineage_.run_id}")
        model.predict(X.iloc[:2])
        store.erase_rows(source_id=f"{tag}{n}", reason="asked")
        store.erase_predictions(X.iloc[:2], reason="asked")
        store.append_event("mine", {"tag": tag, "n": n})
        note(f"event {n}")
        n += 1
    """
)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_writers_killed_at_random_moments_lose_and_half_write_nothing(kind, tmp_path, request):
    if kind == "sqlite":
        where, schema = str(tmp_path / "store.db"), "-"

        def reopen():
            return stp.stores.SQLiteStore(where)
    else:
        where, schema = request.getfixturevalue("pg_dsn"), new_schema()

        def reopen():
            return stp.stores.PostgresStore(where, schema=schema)

    reopen()
    rng = random.Random(0)
    sides = {tag: tmp_path / f"side-{tag}" for tag in "ab"}
    for side in sides.values():
        side.touch()
    for rounds in range(1, 5):
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, kind, where, schema, str(side), tag],
                stdout=subprocess.PIPE,
                text=True,
            )
            for tag, side in sides.items()
        ]
        for child in children:
            assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.3, 2.5))
        for child in children:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            child.stdout.close()
        store = reopen()
        assert store.verify() is True
        events = store.events(include_store_events=True)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
        assert _erasures_carried_out(store) == {}
        runs = set(store.list_runs()["run_id"])
        for tag, side in sides.items():
            noted = side.read_text().split("\n")
            assert {line[4:] for line in noted if line.startswith("run ")} <= runs
            said = [int(line[6:]) for line in noted if line.startswith("event ")]
            mine = [
                e["payload"]["n"]
                for e in events
                if e["kind"] == "mine" and e["payload"]["tag"] == tag
            ]
            # in order, none twice, none missing; each kill may leave one event
            # stored but not yet noted
            assert mine == list(range(len(mine)))
            assert said == sorted(set(said)) and set(said) <= set(mine)
            assert len(mine) - len(said) <= rounds
