"""Rows moved under other rows' ids in columns of few distinct values, against the bytes.

Columns of codes, counts or categories hold no value that names one record, so a row
holding another row's record is not refused (:mod:`sktraceprop._lineage._misplaced`).
After ``set_axis``, ``df.index = ...``, ``shift()`` or a frame rebuilt from
``to_numpy()`` under the old index, every row named a line whose record it does not hold,
with no warning. The truth is the raw file (``keys_by_line``): a fit must name, for every
row, the line holding its key, or warn that the rows were moved. Operations that keep
each row with its id (sorts, samples, recodings, row-wise computations) must not warn.
"""

import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop._lineage._moved_flips import flipped_apart
from sktraceprop.exceptions import LineageError, LineageWarning
from tests._lineage._raw_files import keys_by_line, records_by_line


def _overwritten(d):
    out, k = d.copy(), len(d) // 4
    out.iloc[:k] = d.iloc[k : 2 * k].to_numpy()
    return out


MOVES = {
    "set_axis permuted": lambda d, r: d.set_axis(d.index[r.permutation(len(d))]),
    "whole frame shifted": lambda d, r: d.shift(1).iloc[1:],
    "index from a sorted copy": lambda d, r: d.set_axis(d.sort_values("c0").index),
    "rebuilt from to_numpy, rows permuted": lambda d, r: pd.DataFrame(
        d.to_numpy()[r.permutation(len(d))], index=d.index, columns=d.columns
    ).astype(d.dtypes.to_dict()),
    "a quarter of the rows overwritten from others": lambda d, r: _overwritten(d),
    # (each loaded value then comes with other values: the spread is a resample's)
    "shifted, then resampled": lambda d, r: (
        d.shift(1).iloc[1:].sample(frac=1.2, replace=True, random_state=int(r.integers(99)))
    ),
    # (the rows then hold no record whole: but for one column)
    "set_axis permuted, then a code flipped": lambda d, r: d.set_axis(
        d.index[r.permutation(len(d))]
    ).pipe(lambda x: x.assign(c0=3 - x["c0"])),
}

KEPT = {
    "sorted": lambda d, r: d.sort_values(["c0", "c1"]),
    "sampled": lambda d, r: d.sample(frac=0.7, random_state=0),
    "sampled with replacement": lambda d, r: d.sample(frac=1.5, replace=True, random_state=1),
    "masked": lambda d, r: d[d["c0"] > 0],
    "bits flipped": lambda d, r: d.assign(c0=d["c0"].max() - d["c0"], c1=d["c1"].max() - d["c1"]),
    "codes plus one": lambda d, r: d.assign(c0=d["c0"] + 1, c1=d["c1"] + 1),
    "capped": lambda d, r: d.assign(c0=d["c0"].clip(upper=1), c1=d["c1"].clip(upper=1)),
    "columns swapped": lambda d, r: d.assign(c0=d["c1"], c1=d["c0"]),
    "row-wise differences": lambda d, r: d.assign(
        c0=(d["c0"] - d["c1"]).abs(), c1=(d["c1"] - d["c2"]).abs()
    ),
    "row-wise sums modulo": lambda d, r: d.assign(
        c0=(d["c0"] + d["c1"]) % 3, c1=(d["c1"] + d["c2"]) % 3
    ),
    "one column lagged": lambda d, r: d.assign(c0=d["c0"].shift(1).fillna(0)),
}


def _read(folder, n, card, n_cols, seed):
    rng = np.random.default_rng(seed)
    cols = [f"c{j}" for j in range(n_cols)]
    lines = ["key," + ",".join(cols) + ",y"]
    for i in range(n):
        if rng.random() < 0.1:
            lines.append("# a comment, with a comma")
        values = ",".join(str(v) for v in rng.integers(card, size=n_cols))
        lines.append(f"r{i},{values},{i % 2}")
    path = folder / f"low_{seed}_{n}_{card}_{n_cols}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id=path.stem, comment="#"), cols


def _fit(out, cols):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(Ridge()).fit(out[cols], out["y"].astype(float))
    moved = [
        str(w.message)
        for w in caught
        if issubclass(w.category, LineageWarning) and "differ from the record" in str(w.message)
    ]
    return pipe, moved


def _wrong_rows(path, out, pipe):
    truth = keys_by_line(path)
    rows = pipe.lineage_.rows()
    assert rows["train_index"].tolist() == list(range(len(out)))
    return sum(truth[path.stem, int(line)] != key for line, key in zip(rows["line"], out["key"]))


_REPLACED = re.compile(
    r"row (\d+) of X (?:\([^)]*\) )?holds none of the values loaded for \S+ line (\d+)"
)


def _replaced_warned(pipe):
    """The run's notes warning of rows holding none of their record's values."""
    return [n for n in pipe.lineage_.notes if _REPLACED.search(n)]


_SHAPES = st.sampled_from([(40, 3, 3), (60, 5, 3), (100, 4, 4), (100, 10, 3), (30, 2, 6)])


@settings(deadline=None, max_examples=12, suppress_health_check=list(HealthCheck))
@given(move=st.sampled_from(sorted(MOVES)), shape=_SHAPES, seed=st.integers(0, 2**16))
@example(move="set_axis permuted", shape=(40, 3, 3), seed=0)
@example(move="whole frame shifted", shape=(100, 10, 3), seed=1)
@example(move="rebuilt from to_numpy, rows permuted", shape=(30, 2, 6), seed=0)
@example(move="shifted, then resampled", shape=(40, 3, 3), seed=3)
@example(move="a quarter of the rows overwritten from others", shape=(100, 4, 4), seed=0)
@example(move="a quarter of the rows overwritten from others", shape=(30, 2, 6), seed=1)
@example(move="set_axis permuted, then a code flipped", shape=(60, 5, 3), seed=2)
def test_rows_moved_in_columns_of_few_values_are_warned_of(tmp_path_factory, move, shape, seed):
    path, df, cols = _read(tmp_path_factory.mktemp("moved"), *shape, seed)
    out = MOVES[move](df, np.random.default_rng(seed))
    try:
        pipe, moved = _fit(out, cols)
    except LineageError as e:  # (refused: also right)
        assert "holds the values loaded for" in str(e)
        return
    wrong = _wrong_rows(path, out, pipe)
    # the lines named are wrong (the truth: the raw bytes), and the fit said so
    assert wrong >= len(out) // 5
    if not moved and "overwritten" in move:
        # (rows overwritten whole from others may be warned of as holding none of their
        # own record's values instead: the row named holds no value of its line's)
        replaced = _replaced_warned(pipe)
        assert replaced, "rows under other rows' ids, with no warning"
        position, line = (int(g) for g in _REPLACED.search(replaced[0]).groups())
        assert int(pipe.lineage_.rows()["line"].iloc[position]) == line
        assert keys_by_line(path)[path.stem, line] != out["key"].iloc[position]
        return
    assert moved, "rows under other rows' ids, with no warning"
    assert any(moved[0] in note for note in pipe.lineage_.notes)
    # the example row named: its line's record (raw bytes) is not the row's key
    position = int(re.search(r"row (\d+) does not hold", moved[0]).group(1))
    assert f"line {pipe.lineage_.rows()['line'].iloc[position]}" in moved[0]
    assert (
        keys_by_line(path)[path.stem, int(pipe.lineage_.rows()["line"].iloc[position])]
        != (out["key"].iloc[position])
    )


@pytest.mark.parametrize("name", sorted(KEPT))
@pytest.mark.parametrize("shape", [(40, 3, 3), (100, 10, 3), (900, 4, 3), (30, 2, 6)])
def test_rows_kept_with_their_ids_are_not_warned_of(tmp_path, name, shape):
    path, df, cols = _read(tmp_path, *shape, 7)
    out = KEPT[name](df, np.random.default_rng(7))
    pipe, moved = _fit(out, cols)
    assert not moved, moved
    assert _wrong_rows(path, out, pipe) == 0


def test_row_lineage_merge_and_aggregate_warn_of_rows_moved(tmp_path):
    path, df, cols = _read(tmp_path, 40, 3, 3, 5)
    out = MOVES["set_axis permuted"](df, np.random.default_rng(0))[cols + ["y"]]
    right = df[["c0"]].drop_duplicates().assign(z=1.0)
    for name, call in [
        ("X", lambda: stp.row_lineage(out)),
        ("left", lambda: stp.merge(out, right, on="c0")),
        ("df", lambda: stp.aggregate(out, by="y", m=("c0", "mean"))),
    ]:
        with pytest.warns(LineageWarning, match=f"rows of {name} compared differ from the rec"):
            call()
    # the truth: the lines the ids name do not hold these rows' keys
    truth = keys_by_line(path)
    lines = stp.row_lineage(out)["line"]
    keys = MOVES["set_axis permuted"](df, np.random.default_rng(0))["key"]
    assert sum(truth[path.stem, int(n)] != k for n, k in zip(lines, keys)) > len(out) // 2


def test_rows_moved_across_two_files_are_warned_of(tmp_path):
    # a row of one file under the id of the other: it holds a record of the other source
    (a, da, cols), (b, db, _) = (_read(tmp_path, 40, 5, 3, s) for s in (11, 12))
    both = pd.concat([da, db])
    out = both.set_axis(both.index[np.random.default_rng(0).permutation(len(both))])
    pipe, moved = _fit(out, cols)
    truth = {**keys_by_line(a), **keys_by_line(b)}
    rows = pipe.lineage_.rows()
    wrong = sum(
        truth[s, int(n)] != k for s, n, k in zip(rows["source_id"], rows["line"], out["key"])
    )
    assert wrong > len(out) // 2 and moved


def _wrong_values(path, out, cols, pipe):
    """Rows whose values in ``cols`` are not those of the line their lineage names."""
    truth = records_by_line(path)
    rows = pipe.lineage_.rows()
    return sum(
        [truth[path.stem, int(line)][c] for c in cols] != [str(v) for v in values]
        for line, values in zip(rows["line"], out[cols].itertuples(index=False))
    )


TWO_COLUMN_MOVES = [
    "set_axis permuted",
    "whole frame shifted",
    "rebuilt from to_numpy, rows permuted",
]


@pytest.mark.parametrize("move", TWO_COLUMN_MOVES)
@pytest.mark.parametrize("shape", [(40, 2, 2), (100, 2, 2), (200, 2, 2), (60, 2, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_rows_moved_in_two_columns_of_two_values_are_warned_of(tmp_path, move, shape, seed):
    # In two columns of two values, a moved row differing in both has each flipped: per
    # column, on such rows, a function (a recoding); only every row compared shows that
    # a loaded record now stands beside three records or four (no function of it).
    path, df, cols = _read(tmp_path, *shape, seed)
    out = MOVES[move](df, np.random.default_rng(seed))
    pipe, moved = _fit(out, cols)
    # the truth: most rows do not hold the values of the line their lineage names
    assert _wrong_values(path, out, cols, pipe) > len(out) // 2
    assert moved, "rows under other rows' ids, with no warning"


TWO_COLUMN_KEPT = {
    **{name: KEPT[name] for name in ["sorted", "sampled", "masked", "bits flipped"]},
    **{name: KEPT[name] for name in ["codes plus one", "capped", "columns swapped"]},
    "one column lagged": KEPT["one column lagged"],
    # (a recoding of some rows, by a condition: each loaded record beside two records)
    "bits flipped where y": lambda d, r: d.assign(
        c0=d["c0"].where(d["y"] == 0, 1 - d["c0"]), c1=d["c1"].where(d["y"] == 0, 1 - d["c1"])
    ),
    "exclusive or": lambda d, r: d.assign(c0=d["c0"] ^ d["c1"], c1=d["c1"] ^ (1 - d["c0"])),
}


@pytest.mark.parametrize("name", sorted(TWO_COLUMN_KEPT))
@pytest.mark.parametrize("shape", [(40, 2, 2), (200, 2, 2)])
def test_rows_kept_in_two_columns_of_two_values_are_not_warned_of(tmp_path, name, shape):
    path, df, cols = _read(tmp_path, *shape, 7)
    out = TWO_COLUMN_KEPT[name](df, np.random.default_rng(7))
    pipe, moved = _fit(out, cols)
    assert not moved, moved
    assert _wrong_rows(path, out, pipe) == 0


def test_periodic_rows_shifted_by_their_period_keep_right_lineage(tmp_path):
    # Rows repeating with period 4 (in the columns fitted and the label), shifted by 4:
    # each row holds the values of the row 4 before it, which equal its own record's.
    # Not warned, and rightly: the line each row's lineage names holds (raw bytes)
    # exactly the values fitted, so retraining without a line leaves what it would.
    lines = ["key,c0,c1,c2,y"] + [
        f"r{i},{i % 4 // 2},{i % 2},{(i % 4) % 3},{i % 2}" for i in range(80)
    ]
    path = tmp_path / "periodic.csv"
    path.write_text("\n".join(lines) + "\n")
    df = stp.read_csv(path, source_id="periodic")
    out = df.shift(4).iloc[4:].astype(df.dtypes.to_dict())
    pipe, moved = _fit(out, ["c0", "c1", "c2"])
    assert not moved
    assert _wrong_values(path, out, ["c0", "c1", "c2", "y"], pipe) == 0
    assert _wrong_rows(path, out, pipe) == len(out)  # (the keys, not fitted, moved)


_RECORDS = [(0, 0), (0, 1), (1, 0), (1, 1)]


@settings(deadline=None, max_examples=20, suppress_health_check=list(HealthCheck))
@given(
    table=st.lists(st.sampled_from(_RECORDS), min_size=4, max_size=4),
    where_y=st.booleans(),
    n=st.sampled_from([40, 200]),
)
@example(table=[(1, 1), (1, 0), (0, 1), (0, 0)], where_y=False, n=40)  # bits flipped
@example(table=[(1, 1), (1, 0), (0, 1), (0, 0)], where_y=True, n=200)  # some rows only
@example(table=[(0, 1), (1, 1), (1, 0), (0, 0)], where_y=True, n=200)
def test_any_recoding_of_two_columns_of_two_values_is_not_warned_of(
    tmp_path_factory, table, where_y, n
):
    # a function of each row's record (on every row, or on the rows of one label): each
    # loaded record beside one or two records now, never three
    path, df, cols = _read(tmp_path_factory.mktemp("recoded"), n, 2, 2, 5)
    old = list(zip(df["c0"], df["c1"]))
    new = [table[_RECORDS.index(r)] for r in old]
    if where_y:
        new = [m if y == 1 else r for r, m, y in zip(old, new, df["y"])]
    out = df.assign(c0=[r[0] for r in new], c1=[r[1] for r in new])
    pipe, moved = _fit(out, cols)
    assert not moved, moved
    assert _wrong_rows(path, out, pipe) == 0


def _read_flips(folder, n, q, seed):
    """Columns ``c0``, ``c1`` of two values (``1`` with chance ``q``) beside ``x`` and
    ``z`` uniform on ``[0, 1)``, columns outside the data fitted."""
    rng = np.random.default_rng(seed)
    lines = ["key,c0,c1,x,z,y"]
    for i in range(n):
        c0, c1 = (int(v) for v in rng.random(2) < q)
        lines.append(f"r{i},{c0},{c1},{rng.random():.4f},{rng.random():.4f},{i % 2}")
    path = folder / f"flips_{seed}_{n}_{q:.3f}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id=path.stem)


# (up to 0.38: columns each flipped on two rows in five of 500 are still warned of now
# and then, the data's own limit: test_moved_flips counts how often)
_RATES = st.one_of(st.floats(0.36, 0.38), st.floats(0.7, 0.95))


@settings(deadline=None, max_examples=15, suppress_health_check=list(HealthCheck))
@given(n=st.sampled_from([500, 800]), p0=_RATES, p1=_RATES, seed=st.integers(0, 2**16))
@example(n=500, p0=0.38, p1=0.38, seed=0)  # (warned before: "known false warning")
@example(n=500, p0=0.8, p1=0.9, seed=1)
@example(n=800, p0=0.36, p1=0.75, seed=2)
# (warned of before: each column's score short of Z, both together beyond; test_moved_flips)
@example(n=500, p0=0.390625, p1=0.375, seed=1906)
def test_two_columns_flipped_each_on_its_own_condition_are_not_warned_of(
    tmp_path_factory, n, p0, p1, seed
):
    # c0 flipped where x < p0, c1 where z < p1 (x, z outside the data): rows differing
    # in both are a tenth or more, each loaded record beside four records now (as after
    # a move), but which rows are flipped does not follow the loaded values, and the
    # values now follow the loaded ones: flips, not a move.
    path, df = _read_flips(tmp_path_factory.mktemp("flips"), n, 0.5, seed)
    out = df.assign(
        c0=df["c0"].where(df["x"] >= p0, 1 - df["c0"]),
        c1=df["c1"].where(df["z"] >= p1, 1 - df["c1"]),
    )
    assume(((out["c0"] != df["c0"]) & (out["c1"] != df["c1"])).mean() >= 0.1)
    pipe, moved = _fit(out, ["c0", "c1"])
    assert not moved, moved
    assert _wrong_rows(path, out, pipe) == 0  # (the truth: each row's own line)


@pytest.mark.parametrize("move", TWO_COLUMN_MOVES)
@pytest.mark.parametrize("q", [0.3, 0.5, 0.7])
def test_rows_moved_in_two_columns_of_two_values_still_warn(tmp_path, move, q):
    # a move gives each row a record drawn apart from its own: which rows are flipped
    # follows the loaded values (unless spread evenly), and where it does not, the
    # values now do not follow the loaded ones: not taken for flips
    path, df = _read_flips(tmp_path, 300, q, 3)
    out = MOVES[move](df, np.random.default_rng(3)).astype(df.dtypes.to_dict())
    pipe, moved = _fit(out, ["c0", "c1"])
    assert _wrong_values(path, out, ["c0", "c1"], pipe) > len(out) // 4
    assert moved, "rows under other rows' ids, with no warning"


def test_a_move_of_two_columns_of_two_values_is_rarely_taken_for_flips():
    # the records now of a permutation of the rows: flipped_apart excuses it only where
    # the values now correlate with the loaded ones by chance beyond Z (about 6e-5 per
    # column; hypothesis found n=154, q=0.5, seed=1635). Over 2,000 fixed draws the
    # expected count is about 0.25: a bound of 3 fails only if the chance is far above
    # Z's. (A fit does not rest on flipped_apart alone: the counts kept, _moved_counts.)
    draws = np.random.default_rng(20261207)
    excused = []
    for _ in range(2000):
        n, q, seed = (
            int(draws.integers(40, 601)),
            draws.uniform(0.3, 0.7),
            int(draws.integers(0, 2**16)),
        )
        rng = np.random.default_rng(seed)
        was = [list(rng.random(n) < q) for _ in range(2)]
        order = rng.permutation(n)
        now = [[w[i] for i in order] for w in was]
        if flipped_apart(was, now):
            excused.append((n, q, seed))
    assert len(excused) <= 3, excused
    rng = np.random.default_rng(1635)  # the case hypothesis found: excused, by chance
    was = [list(rng.random(154) < 0.5) for _ in range(2)]
    order = rng.permutation(154)
    assert flipped_apart(was, [[w[i] for i in order] for w in was])


@pytest.mark.parametrize("seed", range(10))
def test_a_permutation_of_two_uneven_columns_of_two_values_is_warned_of(tmp_path, seed):
    # set_axis with a permutation of 100 rows, 1 with chance 0.375: seeds 1 and 4 were
    # not warned (the few rows differing in both columns held one value more often);
    # each column keeps its counts exactly, which flips do with chance below ALPHA here
    path, df = _read_flips(tmp_path, 100, 0.375, seed)
    out = MOVES["set_axis permuted"](df, np.random.default_rng(seed)).astype(df.dtypes.to_dict())
    pipe, moved = _fit(out, ["c0", "c1"])
    assert _wrong_values(path, out, ["c0", "c1"], pipe) > len(out) // 2
    assert moved, "rows under other rows' ids, with no warning"


@settings(deadline=None, max_examples=25, suppress_health_check=list(HealthCheck))
@given(n=st.integers(40, 200), q=st.floats(0.3, 0.7), seed=st.integers(0, 2**16))
@example(n=60, q=0.5, seed=0)
@example(n=100, q=0.375, seed=1)
@example(n=134, q=0.3125, seed=0)  # (12 rows differ in both: under a tenth, counts kept)
@example(n=40, q=0.5, seed=2036)  # (2 rows differ in both: under MIN_ROWS, was silent)
def test_a_permutation_of_two_columns_of_two_values_is_warned_of_or_said_undecided(
    tmp_path_factory, n, q, seed
):
    # never silent: a warning, or the run's note that the rows could not tell a move
    # from flips (values spread about evenly over the two, few rows)
    from sktraceprop._lineage._moved_counts import UNDECIDED

    path, df = _read_flips(tmp_path_factory.mktemp("perm"), n, q, seed)
    out = MOVES["set_axis permuted"](df, np.random.default_rng(seed)).astype(df.dtypes.to_dict())
    pipe, moved = _fit(out, ["c0", "c1"])
    wrong = _wrong_values(path, out, ["c0", "c1"], pipe)
    noted = any(UNDECIDED in note for note in pipe.lineage_.notes)
    assert moved or noted or wrong == 0, (wrong, pipe.lineage_.notes)
    assert not (moved and noted)


def _brute_kept(loaded, m):
    """The share of the sets of ``m`` rows that, flipped, keep the counts of ``loaded``
    (0/1), and one such set (None where none does): every set counted."""
    sets = list(itertools.combinations(range(len(loaded)), m))
    kept = [s for s in sets if 2 * sum(loaded[i] for i in s) == m]
    return len(kept) / len(sets), (kept[0] if kept else None)


@given(
    loaded=st.lists(st.booleans(), min_size=2, max_size=12),
    m=st.integers(1, 12),
)
@example(loaded=[True, False, False, True, False], m=2)
@example(loaded=[True, False, False, False, False, False], m=2)
def test_kept_chance_is_the_share_of_flipped_row_sets_keeping_the_counts(loaded, m):
    # one column loaded with both values, m of its rows flipped: kept_chance is, where
    # the counts are kept, the share of all sets of m rows that keep them (brute force)
    from sktraceprop._lineage._moved_counts import kept_chance

    assume(0 < sum(loaded) < len(loaded) and m <= len(loaded))
    truth, kept = _brute_kept(loaded, m)
    if kept is None:
        assert truth == 0
        return
    now = [v != (i in kept) for i, v in enumerate(loaded)]
    assert kept_chance([loaded], [now]) == pytest.approx(truth, rel=1e-9)
    # and columns apart multiply
    assert kept_chance([loaded, loaded[::-1]], [now, now[::-1]]) == pytest.approx(truth**2)


def test_columns_flipped_apart_keep_their_counts_below_alpha_rarely():
    # the false-alarm rate: 1,000 seeds of two columns of two values flipped each on a
    # condition of its own (independent of each other and of the loaded values), 10-40
    # rows (where counts are kept by chance most often), 1 with chance 0.2-0.8, flipped
    # with chance 0.1-0.9: kept_chance <= ALPHA with chance ALPHA at most (1 expected
    # in 1,000; 5 or more: chance 0.4%). Measured: 9 seeds keep both counts, none below.
    from sktraceprop._lineage._moved_counts import ALPHA, kept_chance

    alarms = kept = 0
    for seed in range(1000):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(10, 41))
        was = [list(rng.random(n) < rng.uniform(0.2, 0.8)) for _ in range(2)]
        now = [[v != f for v, f in zip(w, rng.random(n) < rng.uniform(0.1, 0.9))] for w in was]
        chance = kept_chance(was, now)
        kept += chance is not None
        alarms += chance is not None and chance <= ALPHA
    assert kept >= 5  # (the test reaches the chance)
    assert alarms <= 4, (alarms, kept)


@pytest.mark.parametrize("n", [20, 60, 100, 400])
@pytest.mark.parametrize("ones", [0.2, 0.375, 0.5])
@pytest.mark.parametrize("flip", [0.1, 0.5, 0.9])
def test_flips_keep_the_counts_below_alpha_with_chance_alpha_at_most(n, ones, flip):
    # exactly, for one column: the chance over the rows flipped (m ~ Binomial(n, flip),
    # then any m rows alike) that the counts are kept and kept_chance <= ALPHA is
    # sum over m of P(m) * P(kept | m) where P(kept | m) <= ALPHA, the hypergeometric
    # P(kept | m) from scipy.stats (not kept_chance), kept_chance from m rows flipped
    from scipy.stats import binom, hypergeom

    from sktraceprop._lineage._moved_counts import ALPHA, kept_chance

    n1 = int(round(ones * n))
    loaded = [i < n1 for i in range(n)]
    total = 0.0
    for m in range(2, n + 1, 2):
        if m // 2 > n1 or m // 2 > n - n1:
            continue
        now = [v != (i < m // 2 or n1 <= i < n1 + m // 2) for i, v in enumerate(loaded)]
        chance = kept_chance([loaded], [now])
        exact = hypergeom.pmf(m // 2, n, n1, m)
        assert chance == pytest.approx(exact, rel=1e-6)
        if chance <= ALPHA:
            total += binom.pmf(m, n, flip) * exact
    assert total <= ALPHA


def test_a_permutation_keeps_the_counts_below_alpha_where_values_are_uneven():
    # the other side: rows moved among themselves keep the counts always, and where the
    # values are spread unevenly (1 with chance 0.375) flips would rarely keep them so
    # (178 of 200 seeds below ALPHA with 100 rows; the rest: the run's note, or the
    # rows differing in both columns, :mod:`._moved_rows`)
    from sktraceprop._lineage._moved_counts import ALPHA, kept_chance

    below = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        was = [list(rng.random(100) < 0.375) for _ in range(2)]
        order = rng.permutation(100)
        chance = kept_chance(was, [[w[i] for i in order] for w in was])
        assert chance is not None
        below += chance <= ALPHA
    assert below >= 170, below
