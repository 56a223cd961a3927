"""A loaded column of a large load overwritten with its group's mean warns at fit.

Loads of more than 512 rows keep a sample of witness rows: a group's mean of the loaded
values cannot be recomputed, and ``groupby(g).transform("mean")`` there was left to a
run note ("values differ from what was loaded") while a cumsum, diff, rolling mean or
pct_change warned. The truth is the raw bytes of the file (``_check_against_bytes``: the
column is the group mean of the file's values at the lines ``row_lineage`` names). A
value looked up per group (not within the group's values) and a group sum stay a note.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._over_rows_groups import NEAR, UNDECIDED
from sktraceprop.exceptions import LineageWarning
from tests._lineage import test_over_rows
from tests._lineage.test_over_rows import HEADER, _check_against_bytes, _fit, _records, _write

MEAN = "groupby(g).transform('mean')"
_CHANGES = {
    "mean": lambda d: d.groupby("g")["a"].transform("mean"),
    "median": lambda d: d.groupby("g")["a"].transform("median"),
    "sum": lambda d: d.groupby("g")["a"].transform("sum"),
    "lookup": lambda d: d["g"].map({0: 1e3, 1: -1e3, 2: 2e3, 3: -2e3}).astype(float),
    "scaled": lambda d: d["a"] * 0.3048,
    "loaded": lambda d: d["a"],
}


def _read(path, name):
    return stp.read_csv(path, skiprows=1, comment="#", source_id=name)


def _changed(tmp_path, n, change, seed=0, name="big", groups=None):
    if groups is None:
        path = _write(tmp_path / f"{name}.csv", n, seed=seed)
    else:
        path = _write_groups(tmp_path / f"{name}.csv", n, seed, groups)
    df = _read(path, name)
    df["a"] = _CHANGES[change](df)
    return path, df


def test_a_group_mean_of_a_large_load_warns_and_says_it_was_checked_on_a_sample(tmp_path):
    # (twenty groups: enough, on this file's sample, to tell a mean from a value looked
    # up near it; eight or fewer rarely are: the run's note says it could not tell)
    path, df = _changed(tmp_path, 3000, "mean", seed=5, groups=20)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1, [n[:80] for n in pipe.lineage_.notes]
    message = str(found[0].message)
    assert f"(a.{MEAN}:" in message and "a sample" in message
    assert found[0].filename == test_over_rows.__file__  # (where fit is called)
    assert message in pipe.lineage_.notes
    _check_against_bytes(df, path, MEAN)


def test_a_group_mean_computed_on_part_of_a_large_load_warns(tmp_path):
    path = _write_groups(tmp_path / "part.csv", 3000, seed=5, groups=20)
    df = _read(path, "part").iloc[500:2600].copy()
    df["a"] = df.groupby("g")["a"].transform("mean")
    _, found = _fit(df[["a", "b"]], df["y"])
    assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
    # (the truth: the group mean over these rows of the file's values)
    records = _records(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)  # (row_lineage warns alike)
        lines = stp.row_lineage(df)["line"].to_numpy()
    a = np.array([float(records[k]["a"]) for k in lines])
    g = np.array([records[k]["g"] for k in lines])
    want = np.array([a[g == k].mean() for k in g])
    assert np.allclose(df["a"].to_numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("change", ["sum", "lookup", "scaled", "loaded"])
def test_other_group_values_of_a_large_load_do_not_warn(tmp_path, change):
    _, df = _changed(tmp_path, 3000, change)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    assert not found
    if change in ("sum", "lookup"):  # (still the run's note of a changed column)
        assert any(n.startswith("input column(s) a ") for n in pipe.lineage_.notes)


def _write_groups(path, n, seed=0, groups=8):
    """As ``test_over_rows._write`` (same header, floats ``a`` of three decimals), with
    ``groups`` groups ``g``: a sample of some 400 witness rows tells a group's mean from
    a value looked up per group in eight groups, not always in four (the evidence grows
    with the groups; a group's sample mean is as uncertain with fewer)."""
    rng = np.random.default_rng(seed)
    lines = ["a preamble line", ",".join(HEADER)]
    for i in range(n):
        a = round(float(rng.uniform(1, 50)) * rng.choice([-1, 1]), 3)
        b = round(float(rng.normal()), 3) or 0.5
        lines.append(f'"k, {i}",{int(rng.integers(0, groups))},{a},{b},{i % 2}')
    path.write_text("\n".join(lines) + "\n")
    return path


def _lookup(path, how, seed):
    """A table group -> value unrelated to the column's values, from the file's values
    (``pandas.read_csv`` of its bytes): ``"range"`` uniform within the group's loaded
    range, ``"row"`` a random row's loaded value of the group."""
    raw = pd.read_csv(path, skiprows=1)
    rng = np.random.default_rng(seed)
    out = {}
    for g, a in raw.groupby("g")["a"]:
        a = a.to_numpy()
        out[g] = float(rng.uniform(a.min(), a.max()) if how == "range" else rng.choice(a))
    return out


@settings(deadline=None, max_examples=15)
@given(
    n=st.integers(100, 3000),
    how=st.sampled_from(["range", "row", "mean"]),
    groups=st.integers(2, 8),
    seed=st.integers(0, 2**16),
)
@example(n=3000, how="range", groups=8, seed=0)  # (warned before: within each range)
@example(n=3000, how="row", groups=8, seed=1)
@example(n=300, how="range", groups=4, seed=2)  # (a whole load: recomputed exactly)
def test_a_value_looked_up_per_group_never_warns_a_group_mean_does(
    tmp_path_factory, n, how, groups, seed
):
    # Each group's value lies within the group's loaded values, as a mean's does; on a
    # sample of witness rows only a mean is near every group's sample mean (the chance
    # a value unrelated to the data is so near in all of them: at most ALPHA).
    name = f"l{seed}_{n}_{groups}"
    path = _write_groups(tmp_path_factory.mktemp("lookup") / f"{name}.csv", n, seed, groups)
    df = _read(path, name)
    if how == "mean":
        df["a"] = df.groupby("g")["a"].transform("mean")
    else:
        df["a"] = df["g"].map(_lookup(path, how, seed)).astype(float)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    if how != "mean":
        assert not found, str(found[0].message)
        assert any(n.startswith("input column(s) a ") for n in pipe.lineage_.notes)
    elif n < 512:  # (a whole load: recomputed exactly)
        assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
        _check_against_bytes(df, path, MEAN)
    else:  # (eight groups or fewer: warned where established, else the run's note)
        assert len(found) == 1 or any(UNDECIDED in n for n in pipe.lineage_.notes)


@settings(deadline=None, max_examples=12)
@given(
    n=st.integers(600, 2000),
    change=st.sampled_from(sorted(_CHANGES)),
    seed=st.integers(0, 2**16),
)
@example(n=600, change="mean", seed=0)
@example(n=600, change="lookup", seed=1)
@example(n=600, change="median", seed=2)  # (within a t interval of the mean: a note)
def test_a_large_load_warns_iff_a_statistic_within_each_group(tmp_path_factory, n, change, seed):
    # (eight groups: enough for the sample to establish a mean; a median of values
    # spread evenly about 0 is near it, and warned as "a mean or a median" or noted)
    name = f"g{seed}_{n}"
    path, df = _changed(tmp_path_factory.mktemp("groups"), n, change, seed, name, groups=8)
    pipe, found = _fit(df[["a", "b"]], df["y"])
    if change == "mean" and found:
        assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
        _check_against_bytes(df, path, MEAN)
    elif change == "mean":  # (eight groups: rarely told from a value looked up near it)
        assert any(UNDECIDED in n for n in pipe.lineage_.notes)
    elif change == "median" and found:
        assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
    else:
        assert not found


@settings(deadline=None, max_examples=40)
@given(groups=st.integers(2, 8), k=st.integers(20, 80), seed=st.integers(0, 2**16))
@example(groups=2, k=30, seed=0)
@example(groups=6, k=47, seed=2292)  # (a group's mean 4.56 standard errors off its sample's)
def test_a_group_mean_is_warned_only_where_the_sample_tells_it_from_a_lookup(groups, k, seed):
    # the witness rows' loaded values (a sample of half each group's rows) and the
    # groups' means of all rows: warned, or said undecided, never both; a value
    # unrelated to the data (a random row's, per group) is neither
    from scipy.stats import t as student

    from sktraceprop._lineage._over_rows_groups import MISS, _mean_verdict

    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(groups), k)
    every = rng.uniform(-50, 50, size=(groups, 2 * k))
    loaded = every[:, :k].ravel()
    means = every.mean(axis=1)[codes]
    verdict = _mean_verdict(codes, loaded, means, 50.0, share=0.5)
    if verdict is None:
        # (taken for no mean only where a group's mean lies beyond the interval its
        # sample allows, as a true mean does with chance MISS per group: the documented
        # miss, checked here from the sample's own mean and spread)
        sample = every[:, :k]
        error = sample.std(axis=1, ddof=1) / np.sqrt(k) * np.sqrt(0.5)
        z = (every.mean(axis=1) - sample.mean(axis=1)) / error
        assert np.abs(z).max() > student.ppf(1 - MISS / 2, k - 1)
        return
    sure, unsure = verdict is True, verdict is False
    assert sure != unsure
    if groups == 2 and k <= 40:  # (too little evidence: 2 groups of 40 rows at most)
        assert unsure
    picked = every[np.arange(groups), rng.integers(0, 2 * k, size=groups)][codes]
    assert _mean_verdict(codes, loaded, picked, 50.0, share=0.5) is not True


@settings(deadline=None, max_examples=8)
@given(seed=st.integers(1000, 2**16))
@example(seed=1039)  # (warned before as groupby(g).transform('std'))
def test_a_positive_value_looked_up_per_group_is_no_spread_or_mean(tmp_path_factory, seed):
    # values on [1, 50] per group, where each group's spread (about 29) and, within its
    # values, its mean lie: a lookup near the spread in every group was warned of as a
    # group's standard deviation, one within the values as its mean
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2000, 4000))
    name = f"p{seed}_{n}"
    path = _write_groups(tmp_path_factory.mktemp("spread") / f"{name}.csv", n, seed - 1000, 4)
    df = _read(path, name)
    df["a"] = df["g"].map({g: float(rng.uniform(1, 50)) for g in range(4)}).astype(float)
    _, found = _fit(df[["a", "b"]], df["y"])
    assert not found, str(found[0].message)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_group_mean_the_sample_cannot_tell_is_said_in_the_runs_note(tmp_path, seed):
    # two groups: too few for the witness sample to tell a mean from a value looked up
    # per group; not warned, but the run's note says what it may be and why it cannot tell
    name = f"u{seed}"
    path = _write_groups(tmp_path / f"{name}.csv", 3000, seed, 2)
    df = _read(path, name)
    df["a"] = df.groupby("g")["a"].transform("mean")
    pipe, found = _fit(df[["a", "b"]], df["y"])
    notes = [n for n in pipe.lineage_.notes if "could not tell" in n]
    assert found or notes, [n[:80] for n in pipe.lineage_.notes]
    if not found:
        assert len(notes) == 1 and f"may be a.{MEAN}" in notes[0]
        assert "'u" in notes[0] and "rows compared" in notes[0]
        _check_against_bytes(df, path, MEAN)


def _near_means(path, df, seed):
    """A table group -> a value within ``NEAR`` standard errors (of the load's witness
    sample: the group's spread over the square root of its witness rows, shrunk by the
    share sampled) of the group's mean, from the file's values (``pandas.read_csv`` of
    its bytes), evenly either way."""
    from sktraceprop._lineage._rows import row_ids
    from sktraceprop._lineage._source_tables import source_table
    from sktraceprop._lineage._witness import WITNESSES

    ids = np.asarray(row_ids(df), dtype=np.int64)
    source = next(iter(source_table(ids).values()))
    stride = WITNESSES.loads(source.code, source.sha256)[0].stride
    raw = pd.read_csv(path, skiprows=1)
    rng = np.random.default_rng(seed)
    out = {}
    for g, a in raw.groupby("g")["a"]:
        error = a.std() / np.sqrt(a.size / stride) * np.sqrt(1 - 1 / stride)
        out[g] = float(a.mean() + rng.uniform(-NEAR, NEAR) * error)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("how", ["near", "mean"])
def test_a_value_looked_up_near_each_group_mean_is_not_warned_as_a_mean(tmp_path, how, seed):
    # a lookup within NEAR standard errors of each group's mean (of the file's bytes)
    # lies within the groups' values and their t intervals, and was warned of as "a
    # mean, or a median" (20 groups); told apart from a mean only by the evidence against
    # such values (near_evidence): not warned (a warning: chance ALPHA at most), the
    # run's note says the sample could not tell, or nothing is seen. A true mean of
    # the same file is warned of (checked against the bytes), or said undecided.
    name = f"near{seed}"
    path = _write_groups(tmp_path / f"{name}.csv", 3000, seed, 20)
    df = _read(path, name)
    if how == "near":
        df["a"] = df["g"].map(_near_means(path, df, seed)).astype(float)
    else:
        df["a"] = df.groupby("g")["a"].transform("mean")
    pipe, found = _fit(df[["a", "b"]], df["y"])
    noted = any(UNDECIDED in n for n in pipe.lineage_.notes)
    if how == "near":
        assert not found, str(found[0].message)
        assert any(n.startswith("input column(s) a ") for n in pipe.lineage_.notes)
    else:
        assert found or noted
        if found:
            assert len(found) == 1 and f"(a.{MEAN}:" in str(found[0].message)
            _check_against_bytes(df, path, MEAN)
