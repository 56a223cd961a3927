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
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import records_by_line
from tests._lineage.test_moved_rows import MOVES, _read_flips
from tests._lineage.test_moved_rows import _read as _read_low
from tests.compliance.conftest import DEPLOYER

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


# -- warned verdicts: warned at the merge/aggregate, then noted by every later fit -----


def _people(folder, n=40, seed=0):
    """A file of ``n`` people: unique ``pid``, float ``score`` and ``years``, a 0/1 ``hired``."""
    rng = np.random.default_rng(seed)
    lines = ["pid,age,years,score,hired"]
    for i in range(n):
        lines.append(
            f"{1000 + i},{rng.integers(19, 65)},{rng.uniform(0, 30):.1f},"
            f"{rng.normal(70, 10):.2f},{i % 2}"
        )
    path = folder / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id=path.stem)


def _lines_of(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [int(line) for line in stp.row_lineage(frame)["line"]]


def _added(path, df):
    part = df.iloc[:20].copy()
    part.loc[part.index.max() + 1] = [9999, 99, 2.55, 77.77, 1]
    # truth: the line the added row's id names holds another person
    assert records_by_line(path)[path.stem, _lines_of(part)[-1]]["pid"] != "9999"
    return part, "holds none of the values loaded"


def _cumsum(path, df):
    part = df.copy()
    part["score"] = part["score"].cumsum()
    # truth: each row's score is the running sum of the file's scores up to its line
    truth = records_by_line(path)
    own = np.array([float(truth[path.stem, k]["score"]) for k in _lines_of(part)])
    assert np.allclose(part["score"], np.cumsum(own)) and not np.allclose(part["score"], own)
    return part, "computed over rows (score.cumsum:"


def _shifted(path, df):
    part = df.copy()
    part["score"] = part["score"].shift(-1)
    part = part.iloc[:-1]
    # truth: each row holds the score of the next line, not of its own
    truth = records_by_line(path)
    lines = _lines_of(part)
    assert all(float(truth[path.stem, k + 1]["score"]) == s for k, s in zip(lines, part["score"]))
    return part, "hold the value loaded for another row"


def _low_moved(folder):
    path, df, cols = _read_low(folder, 40, 3, 3, 5)
    out = MOVES["set_axis permuted"](df, np.random.default_rng(0))[cols + ["y"]]
    keys = MOVES["set_axis permuted"](df, np.random.default_rng(0))["key"]
    truth = records_by_line(path)
    wrong = sum(truth[path.stem, k]["key"] != key for k, key in zip(_lines_of(out), keys))
    assert wrong > len(out) // 2  # (truth: most lines named hold other rows' keys)
    return path, df, out, "compared differ from the record"


def _case(folder, name):
    """``(path, frame as loaded, frame changed, key column, words of the warning)``."""
    if name == "rows moved":
        path, df, out, words = _low_moved(folder)
        return path, df, out, "c0", words
    path, df = _people(folder)
    change = {"row added": _added, "computed over rows": _cumsum, "values moved": _shifted}
    out, words = change[name](path, df)
    return path, df, out, "hired", words


CASES = ["row added", "computed over rows", "values moved", "rows moved"]


def _fit_all(frame, store=None):
    numeric = [c for c in frame.columns if c not in ("y", "hired", "pid", "key")]
    target = frame["y"] if "y" in frame.columns else frame["hired"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logged = {} if store is None else {"store": store, "log_predictions": True}
        pipe = stp.make_traced_pipeline(Ridge(), **logged)
        return pipe.fit(frame[numeric], target.astype(float))


def _warned(call, words, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(*args, **kwargs)
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return out, [s for s in said if words in s]


@pytest.mark.parametrize("name", CASES)
def test_a_merges_warned_verdict_is_noted_by_later_fits_and_their_report(tmp_path, name):
    path, _, out, key, words = _case(tmp_path, name)
    right = stp.from_pandas(
        pd.DataFrame({key: sorted(out[key].unique()), "w": 0.5}), source_id="weights"
    )
    merged, said = _warned(stp.merge, words, out, right, on=key, how="left")
    assert len(said) == 1 and "of left" in said[0], said  # (warned at the call, as before)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    pipe = _fit_all(merged, store)
    # (a fit's own check may see it too where the merge kept the changed values: a
    # value moved is another row's loaded value there as well)
    noted = [n for n in pipe.lineage_.notes if words in n and n.startswith("before")]
    assert len(noted) == 1, pipe.lineage_.notes
    assert noted[0].startswith("before sktraceprop.merge made source 'merge:")
    assert noted[0].endswith(said[0]) and path.stem in noted[0]
    # the compliance report shows the run's notes: the verdict reaches it
    pipe.predict(merged[pipe.feature_names_in_].iloc[:3])
    model = compliance_report(pipe, **DEPLOYER).to_dict()["model"]
    assert noted[0] in model["notes"]
    # and row_lineage of the merged rows says it
    _, said = _warned(stp.row_lineage, words, merged)
    said = [s for s in said if s.startswith("sktraceprop.row_lineage: before sktraceprop.")]
    assert len(said) == 1 and noted[0] in said[0]


@pytest.mark.parametrize("name", CASES)
def test_an_aggregates_warned_verdict_is_noted_through_a_later_merge(tmp_path, name):
    path, df, out, key, words = _case(tmp_path, name)
    column = "c1" if key == "c0" else "score"
    groups, said = _warned(stp.aggregate, words, out, by=key, m=(column, "mean"))
    assert len(said) == 1 and "of df" in said[0], said
    loaded = df[[c for c in df.columns if c != column]]
    back, said = _warned(stp.merge, words, loaded, groups, on=key)
    assert said == []  # (the merge's own inputs are as loaded)
    noted = [n for n in _fit_all(back).lineage_.notes if words in n and n.startswith("before")]
    assert len(noted) == 1 and "before sktraceprop.aggregate made source" in noted[0]
    assert path.stem in noted[0]


def test_inputs_as_loaded_leave_no_note(tmp_path):
    _, df = _people(tmp_path)
    right = stp.from_pandas(pd.DataFrame({"hired": [0, 1], "w": 0.5}), source_id="w2")
    merged, said = _warned(stp.merge, "", df, right, on="hired")
    assert said == []
    assert not [n for n in _fit_all(merged).lineage_.notes if "before sktraceprop." in n]
