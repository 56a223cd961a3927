"""A column changed before stp.merge / stp.aggregate, found on the rows made from it.

A merge's witness rows were picked by the hash of its own row ids, independently of its
inputs' witness rows (on which a change before the merge is found): past 512 rows the two
samples were disjoint, and a column changed on every row before the merge was counted
as not known on every merged row compared, changed on none. The truth here is pandas'
merge of the raw frames, row by row, and each input's witness rows as its load keeps
them.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._derived_witness import MAX_CHOSEN
from sktraceprop._lineage._ids import codes_of, pack
from sktraceprop._lineage._record import changed_record, changes
from sktraceprop._lineage._witness import (
    N_WITNESS,
    WITNESSES,
    Chosen,
    is_witness,
    stride,
    witness_mask,
)


def _load_ids(frame):
    """The ids of the witness rows kept for the source of ``frame`` (one load)."""
    code = int(codes_of(resolve_row_ids(frame)[:1])[0])
    (load,) = WITNESSES.loads(code, REGISTRY.by_code(code).sha256)
    return load.ids


def _differs(given, loaded):
    given, loaded = np.asarray(given, dtype=float), np.asarray(loaded, dtype=float)
    return ~((given == loaded) | (np.isnan(given) & np.isnan(loaded)))


def _entries(found):
    """Column -> (rows checked, changed, missing filled, not known), of the merge."""
    return {
        e["column"]: (
            e["rows_checked"],
            e["rows_changed"],
            e["missing_filled"],
            e.get("rows_not_known", 0),
        )
        for e in found
        if "through" not in e
    }


def _frames(n, shape, rng):
    """Raw left and right frames of ``n`` rows joined on ``k``."""
    if shape == "one-to-one":
        left = pd.DataFrame({"k": rng.permutation(n), "x": rng.normal(size=n)})
        right = pd.DataFrame({"k": rng.permutation(n), "z": rng.normal(size=n)})
    elif shape == "many-to-one":
        left = pd.DataFrame({"k": rng.integers(0, n // 10, n), "x": rng.normal(size=n)})
        right = pd.DataFrame({"k": np.arange(n // 10), "z": rng.normal(size=n // 10)})
    else:  # one-to-many: the changed side's rows each made several merged rows
        left = pd.DataFrame({"k": np.arange(n // 10), "x": rng.normal(size=n // 10)})
        right = pd.DataFrame({"k": rng.integers(0, n // 10, n), "z": rng.normal(size=n)})
    left["label"] = rng.integers(0, 2, len(left))
    return left, right


@pytest.mark.parametrize(
    "shape, how",
    [("one-to-one", "inner"), ("many-to-one", "left"), ("one-to-many", "inner")],
)
def test_a_column_changed_before_a_100k_row_merge_is_found_changed(shape, how):
    """shift(1) on 30% of the rows of one input, then a merge of 100,000 rows: the fit
    found 0 changed rows and about 390 not known; now every merged row compared is
    known, and the changes counted are the raw frames' (each row made from a witness row
    of the changed input is compared, as many as ``MAX_CHOSEN`` allow)."""
    rng = np.random.default_rng(7)
    left, right = _frames(100_000, shape, rng)
    a, b = stp.from_pandas(left, source_id="a"), stp.from_pandas(right, source_id="b")
    moved = rng.random(len(a)) < 0.3
    a["x"] = a["x"].where(~moved, a["x"].shift(1))
    m = stp.merge(a, b, on="k", how=how)
    truth = pd.merge(left.assign(p=np.arange(len(left))), right, on="k", how=how)
    assert len(truth) == len(m) and np.array_equal(truth["k"], m["k"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression())
        run = pipe.fit(m[["x", "z"]], m["label"]).lineage_
    chosen = np.isin(resolve_row_ids(m), _load_ids(m))
    parent_compared = np.isin(resolve_row_ids(a), _load_ids(a))[truth["p"]]
    differs = _differs(m["x"], truth["x"])
    assert differs.mean() > 0.25  # (the truth: about 30% of the rows changed)
    # every row made from a witness row of the changed input, or the most allowed
    assert chosen[parent_compared].all() or chosen.sum() == MAX_CHOSEN
    assert chosen.sum() >= N_WITNESS and (chosen <= parent_compared).all()
    assert _entries(run.changed_columns) == {
        "x": (int(chosen.sum()), int((chosen & differs).sum()), 0, 0)
    }
    (compared,) = [e["rows"] for e in run.rows_compared if "through" not in e]
    assert compared == int(chosen.sum())


def test_a_part_of_the_merged_rows_holds_its_share_of_the_witness_rows():
    """A filter and a fold of the merged rows: the witness rows among them are compared,
    each known (a look-up of their ids, as the hash test was)."""
    rng = np.random.default_rng(3)
    left, right = _frames(100_000, "one-to-one", rng)
    a, b = stp.from_pandas(left, source_id="a"), stp.from_pandas(right, source_id="b")
    a["x"] = a["x"] + 1.0
    m = stp.merge(a, b, on="k")
    chosen = np.isin(resolve_row_ids(m), _load_ids(m))
    for part in (m["z"].to_numpy() > 0, np.arange(len(m)) % 5 == 0):
        found = _entries(changed_record(changes(m[part][["x", "z"]], resolve_row_ids(m[part]))))
        held = int(chosen[part].sum())
        assert found == {"x": (held, held, 0, 0)}
        share = part.mean() * chosen.sum()  # (binomial: five standard deviations)
        assert abs(held - share) < 5 * np.sqrt(share) and held > 0


def test_a_merge_of_a_merge_changed_before_both_counts_the_rows_it_made():
    """A column changed before a merge whose result is merged again: the second merge
    takes its witness rows from the first's, each known."""
    rng = np.random.default_rng(5)
    left, right = _frames(100_000, "one-to-one", rng)
    third = pd.DataFrame({"k": rng.permutation(100_000), "u": rng.normal(size=100_000)})
    a, b = stp.from_pandas(left, source_id="a"), stp.from_pandas(right, source_id="b")
    c = stp.from_pandas(third, source_id="c")
    a["x"] = a["x"].fillna(0.0) * 2
    m = stp.merge(stp.merge(a, b, on="k"), c, on="k")
    truth = pd.merge(pd.merge(left, right, on="k"), third, on="k")
    found = _entries(changed_record(changes(m[["x", "z", "u"]], resolve_row_ids(m))))
    chosen = np.isin(resolve_row_ids(m), _load_ids(m))
    differs = _differs(m["x"], truth["x"])
    assert chosen.sum() >= N_WITNESS
    assert found == {"x": (int(chosen.sum()), int((chosen & differs).sum()), 0, 0)}


def test_an_aggregate_takes_the_groups_holding_a_row_compared():
    """30% of 100,000 rows changed, then 20,000 group means: of the groups the hash
    picked, 3 held a changed row compared (and about 300 were not known); the aggregate
    now keeps every group holding a row compared, and each holding a changed one is
    counted changed. Truth: the raw rows' groups."""
    rng = np.random.default_rng(0)
    n = 100_000
    raw = pd.DataFrame({"g": rng.integers(0, 20_000, n), "x": rng.normal(size=n)})
    a = stp.from_pandas(raw, source_id="a")
    moved = rng.random(n) < 0.3
    a["x"] = a["x"].where(~moved, 0.0)
    agg = stp.aggregate(a, by="g", mx=("x", "mean"))
    found = _entries(changed_record(changes(agg[["mx"]], resolve_row_ids(agg))))
    group = np.searchsorted(agg["g"].to_numpy(), raw["g"].to_numpy())  # (sorted keys)
    compared = np.isin(resolve_row_ids(a), _load_ids(a))
    chosen = np.isin(resolve_row_ids(agg), _load_ids(agg))
    held = np.bincount(group[compared], minlength=len(agg)) > 0
    changed = np.bincount(group[compared & moved], minlength=len(agg)) > 0
    everyone = np.bincount(group[~compared], minlength=len(agg)) == 0
    assert (chosen == held).all() and held.sum() <= MAX_CHOSEN
    known = chosen & (changed | everyone)
    assert found == {
        "mx": (int(known.sum()), int((chosen & changed).sum()), 0, int((chosen & ~known).sum()))
    }
    assert found["mx"][1] > 100  # (was 3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(300, 2500),
    st.integers(300, 2500),
    st.sampled_from(["unique", "repeated"]),
    st.sampled_from(["unique", "repeated"]),
    st.sampled_from(["inner", "left", "right", "outer"]),
    st.sampled_from(["left", "right", "both"]),
    st.floats(0.05, 1.0),
    st.booleans(),
    st.integers(0, 2**31),
)
@example(501, 655, "unique", "unique", "inner", "right", 0.5, False, 0)  # (every row picked)
@example(501, 655, "repeated", "unique", "left", "right", 0.5, False, 0)
def test_merge_counts_add_up_and_match_the_raw_frames(
    n_left, n_right, left_keys, right_keys, how, changed, fraction, after, seed
):
    """Any merge shape, keys and join, either input or both changed before it (and a
    column changed after it): per column, rows checked + not known are the rows
    compared, the counts are the raw frames' on the rows compared (known where the
    parent each value came from was a witness row of its load), and no column left
    unchanged is named."""
    REGISTRY.clear()
    rng = np.random.default_rng(seed)
    n_keys = max(n_left, n_right)

    def keys(n, kind):
        if kind == "unique":
            return rng.choice(n_keys, n, replace=False)
        return rng.integers(0, max(n_keys // 4, 1), n)

    left = pd.DataFrame({"k": keys(n_left, left_keys), "x": rng.normal(size=n_left)})
    left["y"] = rng.normal(size=n_left)
    right = pd.DataFrame({"k": keys(n_right, right_keys), "z": rng.normal(size=n_right)})
    for frame, column in ((left, "x"), (right, "z")):
        frame.loc[rng.random(len(frame)) < 0.1, column] = np.nan
    a, b = stp.from_pandas(left, source_id="a"), stp.from_pandas(right, source_id="b")
    for frame, column, side in ((a, "x", "left"), (b, "z", "right")):
        if changed in (side, "both"):
            hit = rng.random(len(frame)) < fraction
            frame[column] = frame[column].where(~hit, 99.0)  # (fills gaps too)
    m = stp.merge(a, b, on="k", how=how)
    truth = pd.merge(
        left.assign(lp=np.arange(n_left)), right.assign(rp=np.arange(n_right)), on="k", how=how
    )
    assert len(truth) == len(m)
    X = m[["x", "y", "z"]].copy()
    if after:  # a column changed after the merge only
        X["y"] = X["y"] + 1.0
    ids = resolve_row_ids(m)
    result = changes(X, ids)
    code = int(codes_of(ids[:1])[0])
    chosen = witness_mask(ids, WITNESSES.loads(code, REGISTRY.by_code(code).sha256))
    assert result.rows_compared[code] == int(chosen.sum())
    expected, parent_compared = {}, np.zeros(len(m), dtype=bool)
    not_known = np.zeros(len(m), dtype=bool)
    for column, side, frame, parent in (
        ("x", "left", a, "lp"),
        ("y", "left", a, "lp"),
        ("z", "right", b, "rp"),
    ):
        differs = _differs(X[column], truth[column])
        before = column != "y" and changed in (side, "both")  # changed before the merge
        assert before or (column == "y" and after) or not differs.any()  # (the truth)
        known = np.ones(len(m), dtype=bool)  # (the merge's own values are compared)
        if before:  # known where the parent the value came from was compared, or none
            positions = truth[parent].to_numpy(dtype=float)
            has = ~np.isnan(positions)
            witness = np.isin(resolve_row_ids(frame), _load_ids(frame))
            known[has] = witness[positions[has].astype(np.intp)]
            parent_compared[has] |= known[has]
        gap = np.isnan(truth[column].to_numpy(dtype=float))
        counts = (
            int((chosen & known).sum()),
            int((chosen & known & differs).sum()),
            int((chosen & known & differs & gap).sum()),
            int((chosen & ~known).sum()),
        )
        if counts[1] or counts[3]:
            expected[column] = counts
        not_known |= chosen & ~known
    assert _entries(changed_record(result)) == expected
    for checked, differ, filled, unknown in expected.values():
        assert checked + unknown == result.rows_compared[code] and filled <= differ <= checked
    if stride(len(m)) > 1 and chosen.sum() < MAX_CHOSEN:
        # every row made from a witness row of a changed input is a witness row
        assert chosen[parent_compared].all()
    if changed != "both" and not_known.any() and stride(len(m)) > 1:
        # one input changed: a row not known only where too few rows were made from
        # its witness rows, and the rows the hash picks were added (below 512 rows the
        # hash picks every row of the merge: rows made from a parent not compared are
        # not known however many were made from compared ones, counted above)
        assert parent_compared.sum() < N_WITNESS
        assert is_witness(ids, stride(len(m)))[not_known].all()


def test_chosen_rows_are_found_by_their_ids_alone():
    """:class:`Chosen` against ``np.isin``: ids of the source, of other sources below
    and above, and lines past the rows chosen."""
    rng = np.random.default_rng(1)
    chosen = np.sort(pack(7, rng.choice(np.arange(1, 10**6), 3000, replace=False)))
    ids = np.concatenate(
        [
            pack(7, rng.integers(1, 10**6 + 10, 200_000)),
            pack(6, rng.integers(1, 10**6, 1000)),
            pack(8, rng.integers(1, 10**6, 1000)),
            chosen[::7],
        ]
    )
    rng.shuffle(ids)
    assert np.array_equal(Chosen(chosen).holds(ids), np.isin(ids, chosen))
    assert not Chosen(chosen[:0]).holds(ids).any()
