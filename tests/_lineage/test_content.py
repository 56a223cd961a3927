"""Untraced data copied from traced rows (ids dropped) is named by a LineageWarning.

The truth is the raw file: the warning names a line whose record holds the values of
the row of X it names.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning


def _read(tmp_path, n=600):
    rng = np.random.default_rng(n)
    lines = ["key,a,b,n,y"]
    for i in range(n):
        if i % 7 == 0:
            lines.append("# c")
        lines.append(f"k{i},{rng.normal():.5f},{rng.normal():.5f},{i % 3},{i % 2}")
    path = tmp_path / "copied.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id="copied", comment="#")


def _lineage_warnings(X, y):
    from sktraceprop.projection import _warmup

    # catch_warnings is process-wide: the kernels' warm-up thread, compiling with numba
    # in a fresh install (CI's oldest-versions run), restored the filters mid-fit once
    if _warmup.thread is not None:
        _warmup.thread.join()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]


@pytest.mark.parametrize(
    "copy",
    [
        lambda df: df[["a", "b"]].to_numpy(),
        lambda df: pd.DataFrame(df[["a", "b", "n"]].values, columns=["f0", "f1", "f2"]),
        lambda df: df[["b", "a"]].sample(frac=0.5, random_state=0).to_numpy(),
        lambda df: np.vstack([df[["a", "b"]].to_numpy()[::-1], np.zeros((5, 2))]),
    ],
)
def test_data_copied_from_traced_rows_is_named(tmp_path, copy):
    path, df = _read(tmp_path)
    X = copy(df)
    y = np.arange(len(X)) % 2
    [message] = _lineage_warnings(X, y)
    row, line = map(
        int,
        re.search(
            r"row (\d+) of X holds \d+ of the values loaded for "
            r"copied line (\d+)",
            message,
        ).groups(),
    )
    record = path.read_text().split("\n")[line - 1].split(",")
    values = np.asarray(X)[row].astype(float)
    assert {float(record[1]), float(record[2])} <= set(values.tolist())
    assert "sample_id=" in message


def test_unrelated_data_is_not_named_and_scaled_data_is_named_scaled(tmp_path):
    path, df = _read(tmp_path)
    rng = np.random.default_rng(1)
    y = np.arange(len(df)) % 2
    assert _lineage_warnings(rng.normal(size=(len(df), 2)), y) == []
    # scaled outside the library: named too, as scaled (see test_scaled.py), once
    # nothing named such data (the lines of its rows silently unknown)
    scaled = (df[["a", "b"]] - df[["a", "b"]].mean()).to_numpy() * 3
    [message] = _lineage_warnings(scaled, y)
    row, line = map(int, re.search(r"row (\d+) of X holds .* copied line (\d+)", message).groups())
    record = path.read_text().split("\n")[line - 1].split(",")
    mean = df[["a", "b"]].mean().to_numpy()
    expected = (np.array([float(record[1]), float(record[2])]) - mean) * 3
    np.testing.assert_allclose(scaled[row], expected, rtol=0, atol=1e-12)
    assert "column 0 (a of copied), column 1 (b of copied)" in message
    # one value of a row is not a row (a single column copied next to new ones)
    one = np.column_stack([df["a"].to_numpy(), rng.normal(size=len(df))])
    assert _lineage_warnings(one, y) == []


def test_plain_merge_of_one_hot_rows_is_named(tmp_path):
    # pd.get_dummies drops the frame's traced marker (attrs); a plain merge then drops
    # the ids: 4 of 16 columns keep a source's name (no name warning), and each row holds
    # a whole loaded row among more columns than that row has (no content warning before)
    rng = np.random.default_rng(0)
    patients, labs = tmp_path / "patients.csv", tmp_path / "labs.csv"
    patients.write_text(
        "pid,ward,age,bp,label\n"
        + "".join(
            f"{i},{'ABCDEFGHIJ'[i % 10]},{rng.normal(50, 9):.2f},{rng.normal(120, 15):.1f},"
            f"{i % 2}\n"
            for i in range(40)
        )
    )
    labs.write_text(
        "pid,lab1,lab2\n"
        + "".join(f"{i},{rng.normal():.4f},{rng.normal():.4f}\n" for i in range(40))
    )
    a = pd.get_dummies(stp.read_csv(patients), columns=["ward"], dtype=float)
    df = a.merge(stp.read_csv(labs), on="pid", suffixes=("", "_lab"))
    assert isinstance(df.index, pd.RangeIndex) and not df.attrs
    X = df.drop(columns=["label"])
    [message] = _lineage_warnings(X, df["label"])
    row, source, line = re.search(
        r"row (\d+) of X holds \d+ of the values loaded for (\w+) line (\d+)", message
    ).groups()
    # the named line of the named file holds the row's values
    record = (tmp_path / f"{source}.csv").read_text().split("\n")[int(line) - 1].split(",")
    held = set(X.iloc[int(row)].to_numpy(dtype=float).tolist())
    numbers = [float(v) for v in record if v.replace(".", "").replace("-", "").isdigit()]
    assert len(numbers) >= 3 and sum(v in held for v in numbers) >= 3


def test_plain_many_to_many_merge_is_named(tmp_path):
    # Every value of a many-to-many merge repeats (a visit once per lab of the patient):
    # the content check looked only for values the data holds once; group statistics
    # joined on before drop the attrs marker and outnumber the sources' column names
    rng = np.random.default_rng(3)
    visits, labs = tmp_path / "visits.csv", tmp_path / "labs.csv"
    visits.write_text(
        "pid,age,bp,y\n"
        + "".join(
            f"{i // 2},{rng.normal(50, 9):.2f},{rng.normal(120, 15):.1f},{i % 2}\n"
            for i in range(30)
        )
    )
    labs.write_text(
        "pid,lab1,lab2\n"
        + "".join(f"{i // 3},{rng.normal():.4f},{rng.normal():.4f}\n" for i in range(45))
    )
    a = stp.read_csv(visits)
    stats = a.groupby("pid")[["age", "bp"]].agg(["mean", "min", "max", "std"])
    a = a.join(stats.set_axis([f"{c}_{s}" for c, s in stats.columns], axis=1), on="pid")
    df = a.merge(stp.read_csv(labs), on="pid", suffixes=("", "_lab"))
    assert len(df) == 90 and not df.attrs
    X = df.drop(columns=["y"])
    [message] = _lineage_warnings(X, df["y"])
    row, source, line = re.search(
        r"row (\d+) of X holds \d+ of the values loaded for (\w+) line (\d+)", message
    ).groups()
    record = (tmp_path / f"{source}.csv").read_text().split("\n")[int(line) - 1].split(",")
    held = set(X.iloc[int(row)].to_numpy(dtype=float).tolist())
    assert sum(float(v) in held for v in record) >= 3
