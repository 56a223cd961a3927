"""The source registry read while another thread reads files.

Before: ``all_columns`` and ``sources_with_columns`` iterated the registry's dict
without its lock, so a traced fit in one thread (which asks them whether its untraced
data resembles a loaded source) raised ``RuntimeError: dictionary changed size during
iteration`` while another thread read a file (seen once in CI in
tests/test_threads.py; this loop raised it on the old code).
"""

import threading

import pandas as pd

import sktraceprop as stp
from sktraceprop._lineage._source import REGISTRY


def test_the_registry_is_read_whole_while_sources_are_registered():
    errors, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                REGISTRY.all_columns()
                REGISTRY.sources_with_columns(["a"])
            except RuntimeError as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(400):
            stp.from_pandas(pd.DataFrame({"a": [i, i + 1], f"c{i}": [0.0, 1.0]}), f"race{i}")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert {"a", "c0", "c399"} <= REGISTRY.all_columns()
