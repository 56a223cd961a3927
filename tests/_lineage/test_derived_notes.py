"""What the checks of a merge's or aggregate's inputs could not tell reaches the user.

A fit says in its run's notes that its rows could not be told from a move
(:data:`sktraceprop._lineage._moved_counts.UNDECIDED`). :func:`sktraceprop.merge`,
:func:`sktraceprop.aggregate` and :func:`sktraceprop.row_lineage` run the same checks
but have no run: the verdict was dropped, and a fit of the merged rows noted nothing.
The truth: the rows given were moved (``set_axis`` with a permutation), so the lines
their lineage names do not hold them (counted against the raw file).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop._lineage._moved_counts import UNDECIDED
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import records_by_line
from tests._lineage.test_moved_rows import MOVES, _read_flips

# 60 rows, c0 and c1 of two values spread evenly, set_axis with a permutation: each
# column keeps its counts, as flips keep them by chance as often (undecided)
N, Q, SEED = 60, 0.5, 9


@pytest.fixture
def moved(tmp_path):
    path, df = _read_flips(tmp_path, N, Q, SEED)
    out = MOVES["set_axis permuted"](df, np.random.default_rng(SEED)).astype(df.dtypes.to_dict())
    return path, df, out[["c0", "c1"]]


def _caught(call, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(*args, **kwargs)
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return out, [s for s in said if UNDECIDED in s]


def _named(text, path):
    # the note names the source (its id, in the row id described) and the columns
    return path.stem in text and "c0, c1" in text


def _wrong(path, frame):
    """Rows of the moved frame whose values are not those of the line their id names."""
    truth = records_by_line(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = stp.row_lineage(frame)
    return sum(
        [truth[path.stem, int(line)][c] for c in ("c0", "c1")] != [str(a), str(b)]
        for line, a, b in zip(rows["line"], frame["c0"], frame["c1"])
    )


def _weights():
    frame = pd.DataFrame({"c0": [0, 1], "w": [0.5, 2.0]})
    return stp.from_pandas(frame, source_id="weights")


def test_a_merge_of_rows_that_may_have_moved_says_so_and_its_fits_note_it(moved):
    path, _, out = moved
    merged, said = _caught(stp.merge, out, _weights(), on="c0", how="left")
    assert len(said) == 1 and said[0].startswith("sktraceprop.merge: "), said
    assert _named(said[0], path) and "rows of left" in said[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(Ridge()).fit(merged[["c0", "w"]], merged["c1"])
    noted = [n for n in pipe.lineage_.notes if UNDECIDED in n]
    assert len(noted) == 1, pipe.lineage_.notes
    assert _named(noted[0], path) and "before sktraceprop.merge made source" in noted[0]


def test_an_aggregate_of_rows_that_may_have_moved_says_so_through_a_later_merge(moved):
    # aggregated, then merged back onto the rows as loaded: the fit's rows come from the
    # aggregate through the merge, and its note is of the aggregate's input
    path, df, out = moved
    groups, said = _caught(stp.aggregate, out, by="c0", agg={"c1": "mean"})
    assert len(said) == 1 and said[0].startswith("sktraceprop.aggregate: "), said
    assert _named(said[0], path) and "rows of df" in said[0]
    back, said = _caught(stp.merge, df[["c0", "x"]], groups, on="c0")
    assert said == []  # (the merge's own inputs are as loaded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(Ridge()).fit(back[["x", "c1"]], back["c0"])
    noted = [n for n in pipe.lineage_.notes if UNDECIDED in n]
    assert len(noted) == 1, pipe.lineage_.notes
    assert _named(noted[0], path) and "before sktraceprop.aggregate made source" in noted[0]


def test_row_lineage_of_rows_that_may_have_moved_says_so(moved):
    path, df, out = moved
    assert _wrong(path, out) > N // 4  # (the truth: most lines named do not hold them)
    _, said = _caught(stp.row_lineage, out)
    assert len(said) == 1 and said[0].startswith("sktraceprop.row_lineage: "), said
    assert _named(said[0], path)
    # and of rows merged from them: the merge's note, with the lines of its parents
    merged, _ = _caught(stp.merge, out, _weights(), on="c0")
    _, said = _caught(stp.row_lineage, merged)
    assert len(said) == 1 and "before sktraceprop.merge made source" in said[0], said
    # rows as loaded say nothing
    _, said = _caught(stp.row_lineage, df[["c0", "c1"]])
    assert said == []
