"""The lines kept around witness rows (:mod:`sktraceprop._lineage._witness_runs`) are
kept once each, and at most one in ``SHARE`` of the load's rows: a small wide load
(600 rows, 1,000 columns) kept about three times the frame in its runs before. A long
narrow load (300,000 rows, 10 columns) keeps every run, as before.

The truth is the frame: each run's values are its rows around the witness row.
"""

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._witness import WITNESSES
from sktraceprop._lineage._witness_loads import is_witness
from sktraceprop._lineage._witness_runs import AFTER, BEFORE, RUN_EVERY, SHARE, VALUES, Runs


def _load_of(df):
    code = int(codes_of(df.index.get_level_values(-1).to_numpy()[:1])[0])
    (load,) = [w for c, w in WITNESSES.every_load()[1] if c == code]
    return load


def _frame(n, m, name):
    rng = np.random.default_rng(n + m)
    values = rng.normal(size=(n, m))
    values[rng.random((n, m)) < 0.05] = np.nan
    return stp.from_pandas(
        pd.DataFrame(values, columns=[f"c{j}" for j in range(m)]), source_id=name
    )


def _check_against_frame(df, runs):
    ids = df.index.get_level_values(-1).to_numpy()
    values = df.to_numpy()
    for k in range(runs.ids.size):
        p = int(runs.start[k])
        assert ids[p] == runs.ids[k]
        lo, hi = max(0, p - BEFORE), min(len(df), p + AFTER + 1)
        for j in (0, df.shape[1] // 2, df.shape[1] - 1):
            near, gaps = runs.values[f"c{j}"]
            assert np.array_equal(
                near[k, lo - p + BEFORE : hi - p + BEFORE], values[lo:hi, j], equal_nan=True
            )
            assert np.isnan(near[k, : lo - p + BEFORE]).all()
            assert np.isnan(near[k, hi - p + BEFORE :]).all()
            assert gaps[k] == np.isnan(values[:p, j]).sum()
        assert np.array_equal(runs.around[k, lo - p + BEFORE : hi - p + BEFORE], ids[lo:hi])


def test_a_small_wide_load_keeps_at_most_a_share_of_its_frame_in_runs():
    df = _frame(600, 1000, "wide")
    runs = _load_of(df).runs
    frame_bytes = df.to_numpy().nbytes  # 4,800,000
    # (before: 13,333,616 bytes, each run's 44 lines per column, overlapping)
    assert runs.nbytes <= frame_bytes / 4 + 50_000  # (SHARE; ids, counts of gaps)
    values_bytes = sum(v.nbytes for v, _ in runs.kept.values())
    assert values_bytes <= frame_bytes / 4
    assert runs.ids.size >= 3 and getattr(runs, "left_out", 0) > 0
    # each line once: as many values per column as distinct lines the runs hold
    assert runs.line_ids.size == np.unique(runs.around[runs.around >= 0]).size
    _check_against_frame(df, runs)


def test_a_long_narrow_load_keeps_every_run():
    df = _frame(300_000, 10, "narrow")
    runs = _load_of(df).runs
    assert runs.left_out == 0 and runs.ids.size >= 16
    assert runs.nbytes <= 200_000  # (measured: 149,184; before, 142,848)
    _check_against_frame(df, runs)


@pytest.mark.parametrize("n", [600, 3000])
def test_a_narrow_load_of_a_few_thousand_rows_keeps_every_run(n):
    # (one line in SHARE of the rows left a 3,000-row load about a third of its runs:
    # too few for a subset of a quarter of its rows to be checked in the file's order)
    df = _frame(n, 4, f"few{n}")
    load = _load_of(df)
    runs = load.runs
    ids = df.index.get_level_values(-1).to_numpy()
    hashed = load.ids[is_witness(load.ids, load.stride * RUN_EVERY)]
    assert runs.left_out == 0 and np.array_equal(runs.ids, np.sort(hashed))
    assert runs.line_ids.size > n // SHARE  # (more than the share alone allowed)
    values_bytes = sum(v.nbytes for v, _ in runs.kept.values())
    assert values_bytes <= 8 * VALUES
    assert np.isin(runs.line_ids, ids).all()
    _check_against_frame(df, runs)


def test_the_wide_load_stays_within_its_memory_bound():
    # (the floor on the values kept is the narrow load's: a wide one keeps its share)
    df = _frame(600, 1000, "bound")
    load = _load_of(df)
    held = load.runs.nbytes + sum(
        c.values.nbytes + c.missing.nbytes for c in load.columns.values()
    )
    assert held <= 5_000_000
    assert load.runs.line_ids.size <= max(600 // SHARE, VALUES // 1000)


@pytest.mark.parametrize("n", [600, 5000])
def test_runs_taken_keep_their_lines_and_forget_the_rest(n):
    df = _frame(n, 3, f"taken{n}")
    runs = _load_of(df).runs
    keep = np.arange(0, runs.ids.size, 2)
    part = runs.taking(keep)
    assert isinstance(part, Runs) and np.array_equal(part.around, runs.around[keep])
    for name, (near, gaps) in runs.values.items():
        assert np.array_equal(part.values[name][0], near[keep], equal_nan=True)
        assert np.array_equal(part.values[name][1], gaps[keep])
    # (a line no kept run holds is not kept)
    assert part.line_ids.size == np.unique(part.around[part.around >= 0]).size
