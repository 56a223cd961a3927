"""A column with gaps (empty fields in the file) whose witness rows sit partly on those
gaps, computed over rows after a random subset in the subset's order: warned where the
witness rows that hold a value decide it (each operation tried here now is), else the
run's note says the column could not be checked. It was silent: one witness row with a
missing loaded value made the checks in the data's order skip the whole column, and
nothing said so.

The truth is the file's bytes: the column is the operation applied to the file's values
at the lines ``row_lineage`` names, in the data's order.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage._over_rows_unchecked import earlier_known, over_rows_unchecked_note
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_over_rows import OPS, _fit, _records
from tests._lineage.test_over_rows_sampled import _load
from tests._lineage.test_over_rows_subset import _changed, _named, _subset
from tests._lineage.test_witness_runs_memory import _frame

#: Those the witness rows with a value decide (pandas skips the gaps: the running value
#: continues from the nearest earlier row holding one), where the gaps stay empty or
#: are filled since with one value (the witness rows with no loaded value hold it: the
#: rows holding it are gaps again; noted as unchecked before).
DECIDED = ["cumsum", "cummax", "cummin"]
#: Those decided filled or not: a narrow window is recomputed from the loaded values
#: kept (witness rows and runs' lines) wherever a row's window holds only such lines
#: (``_over_rows_known``; noted as unchecked before, which they were).
WINDOWED = ["diff", "rolling(3).mean()", "rolling(3).std()", "rolling(3).var()"]
#: Those decided filled or not from every line kept, the gaps before each read from the
#: column, where pandas carries the mean over them (``_over_rows_gaps``; noted as
#: unchecked before: test_over_rows_gaps.py).
GAPS = ["expanding().mean()", "ewm(alpha=0.181818).mean()"]
GAPS += ["ewm(alpha=0.3, adjust=False).mean()"]
TRIED = [*DECIDED, *WINDOWED, *GAPS]


def _truth(X, path, op):
    """Column a of ``X`` is ``op`` of the file's a at the lines row_lineage names, in
    ``X``'s order (NaN where the file's field is empty)."""
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        lines = stp.row_lineage(X)["line"].to_numpy()
    own = pd.DataFrame({"a": [float(records[k]["a"] or "nan") for k in lines]})
    assert np.isnan(own["a"]).sum() > 100  # (gaps at every ninth line)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        expected = OPS[op](own).to_numpy()
    now = X["a"].to_numpy()
    filled = np.isnan(expected) & ~np.isnan(now)
    assert np.allclose(now[~filled], expected[~filled], rtol=1e-12, equal_nan=True)
    assert (now[filled] == 0).all()


@pytest.mark.parametrize("fill", [False, True])
@pytest.mark.parametrize("op", TRIED)
def test_a_subset_with_gaps_computed_in_its_order_warns_or_says_unchecked(tmp_path, op, fill):
    path, df = _load(tmp_path, 3000, 7, f"gaps{fill}", gaps=True)
    X = _subset(df, "sample", sort=False, seed=7)
    X["a"] = _changed(X, op)
    X = X.fillna(0.0) if fill else X
    _truth(X, path, op)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    unchecked = [m for m in pipe.lineage_.notes if "could not be checked for an op" in m]
    assert len(found) == 1 and _named(op) in str(found[0].message)
    assert not unchecked


def test_a_row_by_row_change_of_a_column_without_gaps_is_not_unchecked(tmp_path):
    # (the control: no witness row with a missing loaded value, runs not capped to few)
    _, df = _load(tmp_path, 3000, 8, "plain")
    df["a"] = df["a"] * 2.5
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert not found
    assert not [m for m in pipe.lineage_.notes if "could not be checked" in m]


def test_earlier_known_is_the_nearest_earlier_value():
    values = np.array([np.nan, 1.0, np.nan, np.nan, 4.0, 5.0, np.nan, 7.0])
    rows = np.array([1, 2, 4, 5, 7])
    # brute force: walk back from each row's predecessor
    expected = []
    for r in rows.tolist():
        back = [values[k] for k in range(r - 1, -1, -1) if not np.isnan(values[k])]
        expected.append(back[0] if back else np.nan)
    assert np.array_equal(earlier_known(values, rows), expected, equal_nan=True)


def test_the_note_names_both_reasons():
    note = over_rows_unchecked_note([("a", "src", 10, 3, 5, 40)])
    assert "3 of the 10 witness rows that differ had no loaded value" in note
    assert "5 of its rows hold no value now" in note
    assert "40 witness rows keep no lines around them" in note
    assert "no evidence that each row's value was computed from that row alone" in note


def test_a_whole_load_with_gaps_is_checked_on_every_row_and_not_said_unchecked(tmp_path):
    # (under 512 rows every row is a witness: each operation is computed as pandas does)
    _, df = _load(tmp_path, 300, 9, "whole", gaps=True)
    df["a"] = df["a"].fillna(0.0) * 2.5
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert not found
    assert not [m for m in pipe.lineage_.notes if "could not be checked" in m]


def test_a_load_whose_runs_the_memory_cap_left_few_says_so():
    # (600 rows of 1,000 numeric columns: the runs kept hold at most 150 lines, a few
    # runs; a subset then leaves too few to find an operation in the file's order, and
    # the note says why. A narrow load keeps its runs: test_witness_runs_memory.py)
    df = _frame(600, 1000, "capped")
    X = df[["c0", "c1"]].copy()
    X["c0"] = X["c0"] * 2.5
    pipe, found = _fit(X, (df["c2"] > 0).astype(float))
    assert not found
    (note,) = [m for m in pipe.lineage_.notes if "could not be checked" in m]
    assert "witness rows keep no lines around them (the cap on the memory" in note


@pytest.mark.parametrize(
    ("change", "warns"),
    [
        (lambda a: a.cummax().fillna(-1.0), True),  # (a fill other than 0)
        (lambda a: a.fillna(-1.0), False),  # (the controls: no operation over rows)
        (lambda a: (a * 2.5).fillna(0.0), False),
        (lambda a: a.fillna(0.0).cumsum() * 0 + 7.0, False),
    ],
)
def test_gaps_filled_with_one_value_are_gaps_again_only_for_a_running_op(tmp_path, change, warns):
    _, df = _load(tmp_path, 3000, 16, f"fillone{tmp_path.name}", gaps=True)
    X = _subset(df, "sample", sort=False, seed=16)
    X["a"] = change(X["a"])
    pipe, found = _fit(X[["a", "b"]], X["y"])
    assert bool(found) == warns, [m[:200] for m in pipe.lineage_.notes]
    if warns:
        assert "(a.cummax:" in str(found[0].message)
