"""A row holding none of the values loaded for the line its id names is said so.

pandas' idiom for adding a row, ``df.loc[df.index.max() + 1] = values``, labels it with
the next row id: the next line of the file, often a row of the test split. The row's
lineage then names a real record it does not hold; the fit warns and notes it. The raw
file is read back to show which line was named and that the row does not hold it.
"""

import csv
import io
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import sktraceprop as stp
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exceptions import LineageWarning

FEATURES = ["pid", "age", "years", "score"]


def _write(path, n, seed=0):
    """A hiring file whose ``pid`` is unique; quoted multi-line notes every 7th row."""
    rng = np.random.default_rng(seed)
    lines = ["pid,age,years,score,note,hired"]
    for i in range(n):
        note = '"two\nlines"' if i % 7 == 3 else "plain"
        lines.append(
            f"{1000 + i},{rng.integers(19, 65)},{rng.uniform(0, 30):.1f},"
            f"{rng.normal(70, 10):.2f},{note},{i % 2}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _record_at(path, line):
    """The fields of the record starting on physical ``line`` (1-based), from the bytes."""
    text = path.read_text().splitlines(keepends=True)
    return next(csv.reader(io.StringIO("".join(text[line - 1 :]))))


def _fit(X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression(max_iter=1000))
        pipe.fit(X, y)
    found = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return pipe, found


def test_row_added_with_next_id_names_a_test_row_and_warns(tmp_path):
    path = _write(tmp_path / "hiring.csv", 60)
    df = stp.read_csv(path, source_id="hiring")
    train, test = train_test_split(df, random_state=0)
    train = train.copy()
    new = train.index.max() + 1
    assert new in test.index  # the id pandas gives names a row the model does not see
    train.loc[new] = [9999, 41, 2.5, 77.7, "added", 1]
    line = int(stp.row_lineage(train)["line"].iloc[-1])
    assert _record_at(path, line)[0] != "9999"  # lineage names a line it does not hold
    pipe, found = _fit(train[FEATURES], train["hired"])
    assert len(found) == 1
    assert found[0].startswith(f"row {len(train) - 1} of X holds none of the values loaded ")
    assert f"hiring line {line}, which its row id names" in found[0]
    assert "pid, age, years, score" in found[0] and "df.index.max() + 1" in found[0]
    assert found[0] in pipe.lineage_.notes
    assert int(pipe.trace([len(train) - 1])["line"].iloc[0]) == line  # (named, and said)


def test_rows_overwritten_whole_from_others_warn(tmp_path):
    df = stp.read_csv(_write(tmp_path / "hiring.csv", 40), source_id="hiring")
    copied = df.copy()
    copied.iloc[0:3] = df.iloc[10:13].to_numpy()  # (its own rows still hold those values)
    _, found = _fit(copied[FEATURES], copied["hired"])
    assert len(found) == 1
    assert found[0].startswith("row 0 of X (and 2 more of the 40 rows compared) holds none")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d,  # as loaded
        lambda d: d.assign(score=d["score"] * 10, age=d["age"] + 1),  # columns wholesale
        lambda d: d.assign(score=d["score"].shift()),  # one column moved
        lambda d: d.where(d["score"] < 65),  # blanked rows (missing now: no evidence)
        lambda d: d.sample(frac=1.0, random_state=0),  # rows moved with their ids
    ],
    ids=["loaded", "wholesale", "shifted", "blanked", "shuffled"],
)
def test_rows_keeping_their_values_do_not_warn(tmp_path, change):
    df = stp.read_csv(_write(tmp_path / "hiring.csv", 40), source_id="hiring")
    X = change(df)
    _, found = _fit(X[FEATURES], df["hired"].loc[X.index])
    assert not [f for f in found if "holds none of the values" in f]


@settings(deadline=None, max_examples=15)
@given(
    n=st.integers(8, 40),
    picked=st.sets(st.integers(0, 39), min_size=0, max_size=3),
    columns=st.integers(2, 4),
)
@example(n=8, picked={7}, columns=2)
@example(n=20, picked=set(), columns=4)
def test_warns_for_exactly_the_rows_given_new_values(tmp_path_factory, n, picked, columns):
    REGISTRY.clear()  # (each example reads its own file: one registry per example)
    path = _write(tmp_path_factory.mktemp("hiring") / "hiring.csv", n, seed=n)
    df = stp.read_csv(path, source_id="hiring")
    picked = sorted(p for p in picked if p < n)
    X = df[FEATURES].copy()
    for k, p in enumerate(picked):  # values no record holds, in the first `columns`
        X.iloc[p, :columns] = [-(k + 1) * 1000 - j for j in range(columns)]
    _, found = _fit(X, df["hired"])
    said = [f for f in found if "holds none of the values" in f]
    kept = FEATURES[columns:]
    if not picked or kept:  # a row keeping one loaded value is not said replaced
        assert not said
        return
    assert len(said) == 1
    first = _record_at(path, int(stp.row_lineage(df.iloc[[picked[0]]])["line"].iloc[0]))
    assert first[0] == str(1000 + picked[0])  # the line named is the row's own, by bytes
    more = f" (and {len(picked) - 1} more of the {n} rows compared)" if len(picked) > 1 else ""
    assert said[0].startswith(f"row {picked[0]} of X{more} holds none")


def test_merge_and_aggregate_of_an_added_row_warn(tmp_path):
    path = _write(tmp_path / "hiring.csv", 30)
    df = stp.read_csv(path, source_id="hiring")
    (tmp_path / "teams.csv").write_text("hired,team\n0,red\n1,blue\n")
    teams = stp.read_csv(tmp_path / "teams.csv", source_id="teams")
    part = df.iloc[:20].copy()
    part.loc[part.index.max() + 1] = [9999, 99, 2.55, 77.77, "added", 1]
    line = int(stp.row_lineage(part)["line"].iloc[-1])
    assert _record_at(path, line)[0] == "1020"  # the parent a merge would record
    with pytest.warns(LineageWarning, match=f"row 20 of df holds none .* hiring line {line}"):
        stp.aggregate(part, by="hired", mean=("score", "mean"))
    with pytest.warns(LineageWarning, match=f"row 20 of left holds none .* hiring line {line}"):
        merged = stp.merge(part, teams, on="hired")
    parents = stp.row_lineage(merged)
    assert line in parents.loc[parents["source_id"] == "hiring", "line"].tolist()
