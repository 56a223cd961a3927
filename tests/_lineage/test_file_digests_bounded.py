"""The digests the process keeps are bounded: the paths used last, never a stale one.

``PROCESS_DIGESTS`` kept one entry per path for the process's life: a long-running
process tracing many files grew without bound
(``benchmarks/bench_file_digests_memory.py``). Now it keeps
the ``MAX_KEPT`` paths used last (and at most ``MAX_PATH_CHARS`` characters of paths).
Truth: a least-recently-used list of paths written here, and the SHA-256 of each
file's bytes at each access.
"""

import hashlib
import sys
import threading
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage import _file_digests, _file_state
from sktraceprop._lineage._file_digests import MAX_KEPT, FileDigests
from tests._file_edits import Hashed as _Hashed
from tests._file_edits import write as _write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nothing is kept on Windows")


@pytest.fixture
def settled(monkeypatch):
    # (every file counts as settled: the edits here change its size, which the status
    # holds whatever the clock's tick)
    monkeypatch.setattr(_file_digests, "SETTLED_NS", -(10**15))


def _keep_many(digests, fh, paths):
    sha = hashlib.sha256(fh.read()).hexdigest()
    for path in paths:
        known, status = digests.kept(path, fh)
        assert known is None
        digests.keep(path, fh, status, sha)
    return sha


def test_the_process_keeps_the_paths_used_last(tmp_path, settled):
    path = _write(tmp_path / "a.csv")
    digests = _file_digests.PROCESS_DIGESTS
    digests.clear()
    names = [f"file:///data/part-{k:06d}.csv" for k in range(2 * MAX_KEPT)]
    with open(path, "rb") as fh:
        sha = _keep_many(digests, fh, names)
        assert len(digests) == MAX_KEPT  # (before: 2 * MAX_KEPT, one per path ever)
        assert [digests.kept(n, fh)[0] for n in names[:MAX_KEPT]] == [None] * MAX_KEPT
        assert [digests.kept(n, fh)[0] for n in names[MAX_KEPT:]] == [sha] * MAX_KEPT
    digests.clear()


def test_what_is_kept_does_not_grow_with_the_paths(tmp_path, settled):
    path = _write(tmp_path / "a.csv")
    digests = FileDigests(max_kept=100)
    with open(path, "rb") as fh:
        fh.read()
        tracemalloc.start()
        try:
            _keep_many(digests, fh, [f"file:///a/{k:06d}.csv" for k in range(100)])
            fh.seek(0)
            first = tracemalloc.get_traced_memory()[0]
            _keep_many(digests, fh, [f"file:///b/{k:06d}.csv" for k in range(20_000)])
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    assert len(digests) == 100
    assert after - first < 20_000  # (one entry a path: some 6 MB)


def test_the_paths_characters_are_bounded(tmp_path, settled):
    path = _write(tmp_path / "a.csv")
    digests = FileDigests(max_path_chars=1000)
    long = [f"file:///{'d' * 300}/{k}.csv" for k in range(10)]
    with open(path, "rb") as fh:
        sha = _keep_many(digests, fh, long + ["file:///" + "x" * 2000])
        assert len(digests) == 3  # (the three last that fit; the longest kept nowhere)
        assert [digests.kept(n, fh)[0] for n in long[-3:]] == [sha] * 3


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["read", "append"]), st.integers(0, 4)), min_size=1, max_size=30
    ),
    max_kept=st.integers(1, 3),
)
def test_each_read_says_what_the_file_holds_and_hashes_what_was_dropped(
    tmp_path_factory, monkeypatch, settled, steps, max_kept
):
    counter = _Hashed()
    monkeypatch.setattr(_file_state, "hashlib", counter)
    folder = tmp_path_factory.mktemp("bounded")
    paths = [_write(folder / f"{k}.csv", seed=k) for k in range(5)]
    recorded = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    digests = FileDigests(max_kept=max_kept)
    lru, version, kept_version = [], [0] * 5, {}  # (the truth: paths used last at the end)
    for what, k in steps:
        path = paths[k]
        if what == "append":
            with open(path, "ab") as fh:
                fh.write(b"0.5,1\n")
            version[k] += 1
            continue
        before = counter.n_bytes
        state = _file_state.file_now(path.as_uri(), recorded[k], digests=digests)[0]
        truth = hashlib.sha256(path.read_bytes()).hexdigest() == recorded[k]
        assert state == ("unchanged" if truth else "changed")
        hit = k in lru and kept_version[k] == version[k]
        assert counter.n_bytes - before == (0 if hit else path.stat().st_size)
        if k in lru:
            lru.remove(k)
        lru.append(k)
        kept_version[k] = version[k]
        del lru[:-max_kept]
        assert len(digests) == len(lru)


def _share(digests, path, sha, n_threads=4, n_calls=30_000):
    """Lookups and keeps of 5 names by ``n_threads`` threads at once; the digests
    handed out that are not ``sha``."""
    wrong = []

    def work(k):
        with open(path, "rb") as fh:
            for i in range(n_calls):
                name = f"p{(7 * i + k) % 5}"
                known, status = digests.kept(name, fh)
                if known is None:
                    digests.keep(name, fh, status, sha)
                elif known != sha:
                    wrong.append(known)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wrong


def test_threads_sharing_the_digests_keep_them_whole(tmp_path, settled):
    # explanations, row_lineage and trace in several threads share the process's
    # digests: a lookup, a keep and an eviction are no single dict operation
    path = _write(tmp_path / "a.csv")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # (threads switch often: the races show)
    try:
        for _ in range(3):  # (without the lock, 3 of 4 single rounds failed here)
            digests = FileDigests(max_kept=2)
            assert _share(digests, path, sha) == []
            assert len(digests) <= 2
            # the characters counted are those of the paths kept (without the lock:
            # 6 to 10 counted for 4 kept, the bound then drifting)
            assert digests._chars == sum(map(len, digests._kept))
    finally:
        sys.setswitchinterval(interval)
