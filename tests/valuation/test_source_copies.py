"""``by_source()`` says where training rows are copies of one row.

One CSV read twice and concatenated gives 40 training rows of a 20-line file: each copy
is a training row of the model, valued apart. ``by_source()`` said ``n_rows`` 40 for a
file of 20 lines with no word of it. It now says so (a ``LineageWarning``, in the words
of the influence explainer's "copies of" note, and ``attrs["notes"]``) and counts each
row once in ``n_distinct_rows``; the source's ``sum`` is the sum over the copies. The
truth: the file's raw bytes (its lines), and Shapley values enumerated over every
permutation.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from sktraceprop.exceptions import LineageWarning
from tests.valuation.test_source_sums import _exact_sum, _shapley


def _write(path, n, seed, grid=True):
    rng = np.random.default_rng(seed)
    # (off a grid: no ties between distinct rows, which the exact order would resolve)
    points = rng.integers(0, 4, (n, 2)) if grid else rng.normal(size=(n, 2)).round(6)
    lines = ["x0,x1,label"] + [f"{a},{b},{rng.choice(['cat', 'dog'])}" for a, b in points]
    path.write_bytes(("\n".join(lines) + "\n").encode())
    return path


def _by_source(valuer):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = valuer.by_source()
    return table, [str(w.message) for w in caught if w.category is LineageWarning]


def _valued(X, y, k, seed):
    rng = np.random.default_rng(seed)
    X_val = pd.DataFrame(rng.integers(0, 4, (3, 2)).astype(float), columns=["x0", "x1"])
    y_val = rng.choice(["cat", "dog"], 3)
    valuer = KNNShapleyValuer(k).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ties: the rule is tested elsewhere
        valuer.value(X_val, y_val)
    return valuer, X_val, y_val


def test_a_file_read_twice_is_said_and_counted_once_per_line(tmp_path):
    path = _write(tmp_path / "d.csv", 20, 0, grid=False)
    n_lines = len(path.read_bytes().decode().splitlines()) - 1  # (the header)
    df = pd.concat([stp.read_csv(path), stp.read_csv(path)])
    valuer, _, _ = _valued(df[["x0", "x1"]], df["label"], 3, 1)
    table, said = _by_source(valuer)
    (row,) = table.to_dict("records")
    assert row["n_rows"] == 2 * n_lines and row["n_distinct_rows"] == n_lines == 20
    (message,) = said
    assert message.startswith(
        "by_source: 40 of the 40 training rows are copies of 20 row(s) (one row id given "
        "to the fit more than once"
    )
    assert "at most 2 copies of one" in message and "one file read twice" in message
    assert table.attrs["notes"] == [message]
    # the sum is over the copies: every training row's value, each line twice
    assert row["sum"] == math.fsum(valuer.values_)
    assert row["mean"] == math.fsum(valuer.values_) / 40
    lines = stp.row_lineage(valuer.row_ids_)["line"].to_numpy()
    assert sorted(np.unique(lines)) == list(range(2, n_lines + 2))


@pytest.mark.parametrize("k", [1, 2])
def test_copies_sum_to_shapley_over_the_rows_as_given(tmp_path, k):
    """A 3-line file read twice and another file once: every value is Shapley's over the
    7 training rows (each copy a player), and a source's sum adds its copies'."""
    twice = _write(tmp_path / "twice.csv", 3, 5)
    once = _write(tmp_path / "once.csv", 1, 6)
    df = pd.concat([stp.read_csv(twice), stp.read_csv(once), stp.read_csv(twice)])
    valuer, X_val, y_val = _valued(df[["x0", "x1"]], df["label"], k, k)
    raw = {p.stem: p.read_bytes().decode().splitlines() for p in (twice, once)}
    lines = stp.row_lineage(valuer.row_ids_)
    rows = [raw[s][line - 1].split(",") for s, line in zip(lines["source_id"], lines["line"])]
    X_raw = np.array([[float(a), float(b)] for a, b, _ in rows])
    y_raw = np.array([label for _, _, label in rows])
    np.testing.assert_array_equal(X_raw, df[["x0", "x1"]].to_numpy(float))
    dist = np.sqrt(((X_val.to_numpy()[:, None, :] - X_raw[None]) ** 2).sum(-1))
    shapley = _shapley(dist, y_raw, y_val, k)
    np.testing.assert_allclose(valuer.values_, shapley, rtol=0, atol=1e-12)
    table, said = _by_source(valuer)
    assert len(said) == 1 and "6 of the 7 training rows are copies of 3 row(s)" in said[0]
    by_name = table.set_index("source_id")
    assert by_name.loc["twice", "n_rows"] == 6 and by_name.loc["twice", "n_distinct_rows"] == 3
    assert by_name.loc["once", "n_rows"] == 1 and by_name.loc["once", "n_distinct_rows"] == 1
    for name in ("twice", "once"):
        mine = valuer.values_[(lines["source_id"] == name).to_numpy()]
        assert by_name.loc[name, "sum"] == _exact_sum(mine)
        assert abs(by_name.loc[name, "sum"] - shapley[(lines["source_id"] == name)].sum()) < 1e-12


def test_no_copies_no_word_and_no_column(tmp_path):
    path = _write(tmp_path / "d.csv", 8, 2)
    df = stp.read_csv(path)
    valuer, _, _ = _valued(df[["x0", "x1"]], df["label"], 2, 3)
    table, said = _by_source(valuer)
    assert said == [] and "n_distinct_rows" not in table and "notes" not in table.attrs
    assert table["n_rows"].tolist() == [8]
