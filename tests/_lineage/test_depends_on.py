"""``depends_on`` against a row-by-row walk of the recorded parents: which rows were
built from removed rows (through merges at any depth, or an aggregate joined back), and
which only through an aggregate. Removed rows may be file lines, merged rows, aggregate
rows or whole sources of any kind."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._depends_on import depends_on
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY

N = 12


def _frames(path, seed):
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    keys = np.arange(N)
    pd.DataFrame({"key": keys, "g": rng.integers(0, 4, N), "x": rng.normal(size=N)}).to_csv(
        path / "a.csv", index=False
    )
    pd.DataFrame({"key": rng.permutation(keys), "z": rng.normal(size=N)}).to_csv(
        path / "b.csv", index=False
    )
    a, b = stp.read_csv(path / "a.csv"), stp.read_csv(path / "b.csv")
    m = stp.merge(a, b, on="key", source_id="m")
    means = stp.aggregate(m, by="g", source_id="means", x_mean=("x", "mean"))
    joined = stp.merge(m, means, on="g", source_id="joined")
    return {"a": a, "b": b, "m": m, "means": means, "joined": joined}


def _truth(row, removed_ids, removed_codes):
    """``(hit, direct)`` of one row, by walking its parents one at a time."""
    if row in removed_ids or int(codes_of(np.array([row]))[0]) in removed_codes:
        return True, True
    source = REGISTRY.by_code(int(codes_of(np.array([row]))[0]))
    if source.kind not in ("merge", "aggregate"):
        return False, False
    parents = source.require_parents()
    i = int(lines_of(np.array([row]))[0]) - 1
    found = [
        _truth(int(p), removed_ids, removed_codes)
        for p in parents.ids[parents.indptr[i] : parents.indptr[i + 1]]
    ]
    hit = any(h for h, _ in found)
    if source.kind == "aggregate":  # a group computed over a removed row: not direct
        return hit, False
    return hit, any(d for _, d in found)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    picks=st.dictionaries(
        st.sampled_from(["a", "b", "m", "means", "joined"]), st.sets(st.integers(0, N - 1))
    ),
    whole=st.sets(st.sampled_from(["a", "b", "m", "means", "joined"]), max_size=2),
)
def test_depends_on_is_the_walk_of_the_recorded_parents(tmp_path_factory, seed, picks, whole):
    frames = _frames(tmp_path_factory.mktemp("d"), seed)
    ids = stp.row_ids(frames["joined"])
    removed_ids = np.array(
        [
            int(stp.row_ids(frames[name])[i])
            for name, rows in picks.items()
            for i in rows
            if i < len(frames[name])
        ],
        dtype=np.int64,
    )
    removed_codes = {int(codes_of(stp.row_ids(frames[name])[:1])[0]) for name in whole}
    hit, via_aggregate = depends_on(ids, REGISTRY.by_code, removed_ids, removed_codes)
    truth = [_truth(int(r), set(removed_ids.tolist()), removed_codes) for r in ids]
    assert hit.tolist() == [h for h, _ in truth]
    assert via_aggregate.tolist() == [h and not d for h, d in truth]
