"""Each in-place write gets its own epoch, also when threads write at once.

A traced array knows it is stale when its memory was written after it was made: the
write's epoch is later than the array's. ``_EPOCH[0] += 1`` in two threads at once gave
both writes one epoch (a probe: 160,000 writes from 8 threads, 18 epochs given twice):
an array made between the two took that epoch and did not see the second write as later,
and kept naming the rows its memory no longer holds. The truth: the epochs given are as
many as the writes.
"""

import sys
import threading

import numpy as np

from sktraceprop.arrays import _state


def test_writes_in_threads_get_distinct_epochs():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        arrays = [np.zeros(3) for _ in range(8)]
        given = [[] for _ in arrays]

        def write(i):
            for _ in range(10_000):
                given[i].append(_state.note_write(arrays[i]))

        threads = [threading.Thread(target=write, args=(i,)) for i in range(len(arrays))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(before)
    epochs = [e for g in given for e in g]
    assert len(set(epochs)) == len(epochs)
    # each thread's own writes are later one after the other, and the last is current
    assert all(np.all(np.diff(g) > 0) for g in given)
    assert max(epochs) == _state.epoch()
