"""The process-wide caches of loaded values stay consistent when threads share them.

``_content`` keeps every loaded value (to name a loaded row in untraced data) and
``_renamed`` an index of each source's values (to identify renamed columns), both kept
until the loads kept change. Threads reading files while others fit change the loads
under them. The caches were read and written one key at a time: a thread could take the
values of one version with the positions of another (a loaded row named by the wrong
positions, or an IndexError in ``fit``), or find its entry cleared between writing and
reading it (a KeyError in ``fit``). The truth is the loads themselves: each answer must
be what the loads the thread was given hold.

The window between two reads of a dict is a few bytecodes; the caches are replaced by a
dict that sleeps on every read, which makes the race likely (it failed on every run
before the fix) without changing what the code does.
"""

import pickle
import struct
import threading
import time

import numpy as np
import pandas as pd

import sktraceprop as stp
from sktraceprop._lineage import _content, _renamed
from sktraceprop._lineage._record import source_table
from sktraceprop._lineage._witness import WITNESSES


class _SlowDict(dict):
    """A dict whose reads give other threads time to run."""

    def __getitem__(self, key):
        time.sleep(0.0005)
        return super().__getitem__(key)


def _loader(tmp_path, stop, n_files=25):
    """Read new files one after the other (each a new load: the cache's key changes),
    and forget a row of each (the caches are emptied)."""

    def run():
        try:
            for i in range(n_files):
                path = tmp_path / f"other{i}.csv"
                frame = pd.DataFrame(
                    {"u": np.arange(30) * 1.25 + 1000 * i, "v": np.arange(30) + 0.5}
                )
                frame.to_csv(path, index=False)
                other = stp.read_csv(path, source_id=f"other{i}")
                WITNESSES.forget(stp.row_ids(other)[:1])
        finally:
            stop.set()

    return threading.Thread(target=run)


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_loaded_values_and_their_positions_come_from_one_version(
    tmp_path, monkeypatch, fast_switching
):
    monkeypatch.setattr(_content, "_CACHE", _SlowDict(_content._CACHE))
    stop, errors, checked = threading.Event(), [], [0]

    def reader():
        try:
            while not stop.is_set():
                values, where, loads, _ = _content._witness_values()
                for value, (at, k) in zip(values[::7], where[::7]):
                    held = [
                        np.float32(c.values[k])
                        for c in loads[at][1].columns.values()
                        if c.numeric and not c.missing[k]
                    ]
                    assert value in held, (value, held)
                checked[0] += 1
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))
            stop.set()

    _run([_loader(tmp_path, stop)] + [threading.Thread(target=reader) for _ in range(3)])
    assert not errors, errors[:3]
    assert checked[0] > 0


def test_the_renamed_columns_index_is_that_of_the_loads_asked_about(
    tmp_path, monkeypatch, fast_switching
):
    path = tmp_path / "mine.csv"
    rng = np.random.default_rng(5)
    pd.DataFrame({"a": rng.normal(size=60).round(6), "b": rng.normal(size=60).round(6)}).to_csv(
        path, index=False
    )
    df = stp.read_csv(path, source_id="mine")
    X = df.rename(columns={"a": "A", "b": "B"})
    ids = stp.row_ids(X)
    sources = source_table(ids)
    monkeypatch.setattr(_renamed, "_CACHE", _SlowDict(_renamed._CACHE))
    stop, errors, checked = threading.Event(), [], [0]

    def fitter():
        try:
            while not stop.is_set():
                found = _renamed.loaded_names(X, ids, sources)
                assert found.by_code == {int(c): {"A": "a", "B": "b"} for c in sources}
                checked[0] += 1
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))
            stop.set()

    _run([_loader(tmp_path, stop)] + [threading.Thread(target=fitter) for _ in range(3)])
    assert not errors, errors[:3]
    assert checked[0] > 0


def test_the_loaded_values_kept_forget_removed_rows(tmp_path):
    # the cache of loaded values (untraced data holding a loaded row) kept the values
    # of rows forgotten (an unlearner's, an erasure's) until the next untraced fit
    base = 777_000.25
    path = tmp_path / "marked.csv"
    pd.DataFrame({"dose": base + np.arange(20), "w": np.arange(20) * 1.5 + 0.25}).to_csv(
        path, index=False
    )
    df = stp.read_csv(path, source_id="marked")
    values = _content._witness_values()[0]
    assert np.isin(np.float32(base + np.arange(20)), values).any()
    WITNESSES.forget(stp.row_ids(df))
    kept = pickle.dumps(_content._CACHE)
    assert not any(struct.pack("<f", np.float32(base + i)) in kept for i in range(20))
    values = _content._witness_values()[0]
    assert not np.isin(np.float32(base + np.arange(20)), values).any()
