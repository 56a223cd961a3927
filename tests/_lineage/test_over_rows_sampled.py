"""In a load of more than 512 rows (its witness rows a sample), a loaded column
overwritten with a moving sum, a centred moving mean, a running sum per group, a group's
standard deviation (checked on the sample, statistically) or an exponentially weighted
mean warns as in a small load, and a column changed row by row
(scaled, clipped, recoded, gaps filled with a constant) does not.

These were left to the run's note of a changed column: a row's value there comes from
other lines too, and unlearning one of them leaves what it gave the others. The truth is
the raw bytes of the file (``_check_against_bytes``: the column is the operation named
applied to the file's values, in its order, at the lines ``row_lineage`` names).
"""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from tests._lineage.test_over_rows import OPS, _check_against_bytes, _fit, _write

NEW = [
    "rolling(3).sum()",
    "rolling(4, center=True).mean()",
    "groupby(g).cumsum()",
    "groupby(g).transform('std')",
    "ewm(alpha=0.181818).mean()",
    "ewm(alpha=0.3, adjust=False).mean()",
]
#: Changes computed from each row's own values (and constants): no warning.
ROW_BY_ROW = {
    "scaled": lambda d: d["a"] * 0.3048,
    "clipped": lambda d: d["a"].clip(-10, 10),
    "recoded": lambda d: (d["a"] > 0).astype(float),
    "rounded": lambda d: d["a"].round(),
    "filled": lambda d: d["a"].fillna(-1.0),
    "affine": lambda d: d["a"] * 1.8 + 32,
}


def _with_gaps(path, every=9):
    """``path`` with the field ``a`` emptied on every ``every``-th record."""
    out, k = [], 0
    for line in path.read_text().splitlines():
        match = re.match(r'^("k, \d+",\d+,)([^,]*)(,.*)$', line)
        if match:
            k += 1
            if k % every == 0:
                line = match.group(1) + match.group(3)
        out.append(line)
    path.write_text("\n".join(out) + "\n")
    return path


def _load(tmp_path, n, seed, name, gaps=False):
    path = _write(tmp_path / f"{name}.csv", n, seed=seed)
    if gaps:
        _with_gaps(path)
    return path, stp.read_csv(path, skiprows=1, comment="#", source_id=name)


@settings(deadline=None, max_examples=14)
@given(
    n=st.integers(600, 4000),
    change=st.sampled_from([*NEW, *ROW_BY_ROW]),
    seed=st.integers(0, 2**16),
    drop=st.booleans(),
)
@example(n=3000, change="rolling(3).sum()", seed=0, drop=False)
@example(n=3000, change="rolling(4, center=True).mean()", seed=1, drop=True)
@example(n=3000, change="ewm(alpha=0.181818).mean()", seed=2, drop=False)
@example(n=600, change="ewm(alpha=0.3, adjust=False).mean()", seed=3, drop=True)
@example(n=2000, change="groupby(g).cumsum()", seed=9, drop=False)
@example(n=600, change="groupby(g).transform('std')", seed=10, drop=False)
@example(n=3000, change="clipped", seed=4, drop=False)
@example(n=3000, change="recoded", seed=5, drop=False)
@example(n=3000, change="filled", seed=6, drop=False)
def test_a_large_load_warns_iff_computed_over_rows(tmp_path_factory, n, change, seed, drop):
    name = f"s{seed}_{n}"
    folder = tmp_path_factory.mktemp("sampled")
    path, df = _load(folder, n, seed, name, gaps=change == "filled")
    df["a"] = (OPS if change in OPS else ROW_BY_ROW)[change](df)
    # (the rows a window leaves empty, dropped or filled)
    X = df.dropna() if drop else df.fillna(0.0)
    pipe, found = _fit(X[["a", "b"]], X["y"])
    if change in OPS:
        assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
        assert f"(a.{change}:" in str(found[0].message)
        _check_against_bytes(X, path, change)
    else:
        assert not found, str(found[0].message)
        # (still the run's note of a changed column)
        assert any(m.startswith("input column(s) a ") for m in pipe.lineage_.notes)


def test_a_moving_sum_of_shuffled_rows_warns_in_the_files_order(tmp_path):
    # (computed on the load, then its rows shuffled: checked in the ids' order)
    path, df = _load(tmp_path, 3000, 7, "shuffled")
    op = "rolling(3).sum()"
    df["a"] = OPS[op](df)
    X = df.dropna().sample(frac=1.0, random_state=0)
    _, found = _fit(X[["a", "b"]], X["y"])
    assert len(found) == 1 and f"(a.{op}:" in str(found[0].message)
    _check_against_bytes(X, path, op)


def test_an_ewm_computed_after_a_filter_warns(tmp_path):
    # (run over the rows kept: the data's order, positions counted from its first row)
    path, df = _load(tmp_path, 3000, 8, "filtered")
    df = df[df["b"] > -0.5].copy()
    df["a"] = df["a"].ewm(halflife=30).mean()
    _, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1 and "(a.ewm(alpha=0.02284).mean():" in str(found[0].message)


@pytest.mark.parametrize(
    "change",
    [lambda a: a + 1, lambda a: a * 2, lambda a: a % 3, lambda a: (a > 4).astype(int)],
    ids=["plus-one", "doubled", "mod-3", "recoded"],
)
def test_whole_numbers_changed_row_by_row_do_not_warn(tmp_path, change):
    # Values 0 to 9 in four groups: a witness row's value less its loaded one is the
    # value of many rows before it (a running sum per group found by chance), so a
    # match must be the only one.
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {"g": rng.integers(0, 4, n), "a": rng.integers(0, 10, n), "b": rng.normal(size=n)}
    )
    frame.assign(y=np.arange(n) % 2).to_csv(tmp_path / "ints.csv", index=False)
    df = stp.read_csv(tmp_path / "ints.csv")
    df["a"] = change(df["a"])
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert not found, str(found[0].message)
    assert any(m.startswith("input column(s) a ") for m in pipe.lineage_.notes)


def test_a_group_std_of_a_large_load_is_named_and_said_checked_on_a_sample(tmp_path):
    # (its values span more than its spread: within them, it was named a group mean)
    op = "groupby(g).transform('std')"
    path, df = _load(tmp_path, 3000, 11, "spread")
    df["a"] = OPS[op](df)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1, [m[:90] for m in pipe.lineage_.notes]
    message = str(found[0].message)
    assert f"(a.{op}:" in message and "a sample" in message and "spread" in message
    _check_against_bytes(df, path, op)
