"""The witness rows of the data given to one traced fit or transform, taken once
(``sktraceprop._lineage._witness_view``).

The truths: a comparison made afresh, cell by cell, with ``_equal`` (what each question
computed on its own before the view); a view asked again after its candidate changed
(a load that dropped rows, a step that kept more output) answers as a new view would.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._record import source_table
from sktraceprop._lineage._row_sets import contains
from sktraceprop._lineage._upstream_outputs import OUTPUTS
from sktraceprop._lineage._witness import WITNESSES, _Column, _equal
from sktraceprop._lineage._witness_view import WitnessView, taken_once, witness_view


class _Candidate:
    """What a view compares with: sorted ids and columns (as a load or a kept output)."""

    def __init__(self, ids, columns):
        self.ids, self.columns = ids, columns


def _fresh(view, candidate):
    """``(agree, compared)`` made cell by cell with ``_equal``: the truth."""
    shape = (view.ids.size, len(view.names))
    agree, compared = np.zeros(shape, bool), np.zeros(shape, bool)
    for i, wid in enumerate(view.ids):
        p = np.searchsorted(candidate.ids, wid)
        if p == candidate.ids.size or candidate.ids[p] != wid:
            continue
        for j, name in enumerate(view.names):
            theirs = candidate.columns.get(name)
            if theirs is not None:
                compared[i, j] = True
                agree[i, j] = _equal(view.columns[name].take([i]), theirs.take([p]))[0]
    return agree, compared


_VALUES = st.sampled_from([0.0, -0.0, 1 / 3, 0.1, 1e40, np.inf, np.nan, 2.5, -7.0])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_cells_are_those_compared_one_by_one(data):
    n = data.draw(st.integers(0, 10), label="rows")
    k = data.draw(st.integers(1, 4), label="columns")
    frame = {}
    for j in range(k):
        values = np.array(data.draw(st.lists(_VALUES, min_size=n, max_size=n)), float)
        kind = data.draw(st.sampled_from(["float64", "float32", "object"]))
        with np.errstate(over="ignore"):  # (1e40 as float32: inf)
            frame[f"c{j}"] = values.astype(np.float32) if kind == "float32" else values
        if kind == "object":
            frame[f"c{j}"] = np.array([None if np.isnan(v) else v for v in values], object)
    X = pd.DataFrame(frame)
    ids = np.arange(100, 100 + n, dtype=np.int64)
    hit = np.flatnonzero(np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n))))
    view = WitnessView(X, ids, hit.astype(np.intp))
    theirs_ids = np.array(
        sorted(data.draw(st.sets(st.integers(95, 115), max_size=12))), dtype=np.int64
    )
    m = theirs_ids.size
    columns = {}
    for j in range(k + 1):  # (c{k}: a column the data does not have)
        if data.draw(st.booleans()):
            continue
        values = np.array(data.draw(st.lists(_VALUES, min_size=m, max_size=m)), float)
        missing = np.isnan(values) | np.array(
            data.draw(st.lists(st.booleans(), min_size=m, max_size=m)), bool
        )
        numeric = data.draw(st.booleans())
        bits = data.draw(st.sampled_from([64, 32, 16])) if numeric else 64
        columns[f"c{j}"] = _Column(
            values if numeric else values.astype(object), missing, numeric, bits
        )
    candidate = _Candidate(theirs_ids, columns)
    agree, compared = view.cells(candidate)
    want_agree, want_compared = _fresh(view, candidate)
    np.testing.assert_array_equal(compared, want_compared)
    np.testing.assert_array_equal(agree, want_agree)
    for name in view.names:  # and column by column
        found = view.equal(candidate, name)
        if name not in columns:
            assert found is None
            continue
        at, eq = found
        j = view.at[name]
        np.testing.assert_array_equal(at, np.flatnonzero(want_compared[:, j]))
        np.testing.assert_array_equal(eq, want_agree[at, j])


def _view_and_candidate():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [5.0, 6.0, 7.0, 8.0]})
    ids = np.arange(1, 5, dtype=np.int64)
    view = WitnessView(X, ids, np.arange(4))
    values = np.array([1.0, 2.0, 3.0, 4.0])
    candidate = _Candidate(ids.copy(), {"a": _Column(values, np.zeros(4, bool), True, 64)})
    return view, candidate


def test_a_candidate_that_dropped_rows_is_compared_again():
    # what _Witnesses.forget does to a load: new ids, new columns, the same object
    view, candidate = _view_and_candidate()
    assert view.cells(candidate)[1][:, 0].tolist() == [True] * 4
    assert view.equal(candidate, "a")[0].tolist() == [0, 1, 2, 3]
    keep = np.array([0, 2])
    candidate.ids = candidate.ids[keep]
    candidate.columns = {k: c.take(keep) for k, c in candidate.columns.items()}
    assert view.positions(candidate).tolist() == [0, -1, 1, -1]
    assert view.equal(candidate, "a")[0].tolist() == [0, 2]
    assert view.cells(candidate)[1][:, 0].tolist() == [True, False, True, False]


def test_a_candidate_whose_column_changed_is_compared_again():
    # (no code changes a column in place; one replaced under the same name is seen)
    view, candidate = _view_and_candidate()
    assert view.cells(candidate)[0][:, 0].tolist() == [True] * 4
    assert view.equal(candidate, "a")[1].tolist() == [True] * 4
    other = np.array([1.0, 0.0, 3.0, 0.0])
    candidate.columns = {"a": _Column(other, np.zeros(4, bool), True, 64)}
    assert view.equal(candidate, "a")[1].tolist() == [True, False, True, False]
    assert view.cells(candidate)[0][:, 0].tolist() == [True, False, True, False]


def test_what_a_view_hands_out_cannot_be_written():
    view, candidate = _view_and_candidate()
    for array in (*view.cells(candidate), *view.equal(candidate, "a"), view.positions(candidate)):
        assert not array.flags.writeable


def _loaded(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return stp.from_numpy(rng.normal(size=(n, 3)), f"view_{seed}")


def test_a_view_is_taken_once_per_block_and_afresh_outside():
    X = _loaded()
    ids = stp.row_ids(X)
    sources = source_table(ids)
    assert witness_view(X, ids, sources) is not witness_view(X, ids, sources)
    with taken_once():
        view = witness_view(X, ids, sources)
        assert view is witness_view(X, ids, sources)
        assert witness_view(X, ids.copy(), sources) is not view  # other ids: its own
        with taken_once():  # a block inside another starts empty
            assert witness_view(X, ids, sources) is not view
        assert witness_view(X, ids, sources) is view
    assert witness_view(X, ids, sources) is not view


def test_a_view_keeps_the_values_given_when_first_asked():
    # the record is of the data given: a step with copy=False may write into X later
    X = _loaded()
    ids = stp.row_ids(X)
    sources = source_table(ids)
    code = int(codes_of(ids[:1])[0])
    (load,) = WITNESSES.loads(code, sources[code].sha256)
    with taken_once():
        view = witness_view(X, ids, sources)
        X.iloc[:, 0] = 0.0
        assert witness_view(X, ids, sources) is view
        assert view.cells(load)[0].all()
    assert not witness_view(X, ids, sources).cells(load)[0][:, 0].all()


def test_a_load_added_in_the_block_gives_other_witness_rows():
    X = _loaded(n=2000)
    ids = stp.row_ids(X)
    sources = source_table(ids)
    with taken_once():
        before = witness_view(X, ids, sources)
        # read again with other values: a second load of the source, another stride
        changed = X.iloc[:300].copy()
        changed.iloc[:, 1] += 1.0
        code = int(codes_of(ids[:1])[0])
        WITNESSES.add(code, sources[code].sha256, changed)
        after = witness_view(X, ids, sources)
    assert after is not before
    assert set(before.ids.tolist()) < set(after.ids.tolist())


def test_a_step_that_keeps_more_output_is_compared_again():
    X = _loaded(n=2000)
    step = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    step.fit(X)
    fingerprint = step.lineage_.ops[-1].fingerprint
    first = step.transform(X.iloc[:1000])
    ids = stp.row_ids(first)
    sources = source_table(ids)
    with taken_once():
        view = witness_view(first, ids, sources)
        kept = OUTPUTS.get(fingerprint)
        held = view.cells(kept)[1].any(axis=1).sum()
        assert held == view.ids.size  # every witness row of its output is kept
        step.transform(X.iloc[1000:])  # keeps more: a new _Kept
        assert OUTPUTS.get(fingerprint) is not kept
        assert view.cells(OUTPUTS.get(fingerprint))[1].any(axis=1).sum() == held


def test_rows_a_step_writes_into_during_the_fit_are_compared_as_given():
    # A scaler per half of a file, the halves concatenated, then a pipeline whose
    # SimpleImputer(copy=False) fills the NaNs of the frame it is given, in place.
    # Which rows each scaler transformed is decided on the values given to the fit
    # (its outputs, NaN kept), not on those the imputer left: before, the rows it
    # filled held values no step made, and each scaler was listed for every row.
    rng = np.random.default_rng(3)
    values = rng.normal(size=(600, 3))
    values[::5, 0] = np.nan
    X = stp.from_numpy(values, "filled_in_place")
    parts, steps = [], []
    for part in (X.iloc[:300], X.iloc[300:]):
        step = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(step.fit_transform(part))
        steps.append(step)
    Z = pd.concat(parts)
    y = (np.nan_to_num(values[:, 1]) > 0).astype(int)
    pipe = stp.make_traced_pipeline(SimpleImputer(copy=False), LogisticRegression()).fit(Z, y)
    assert not Z.isna().any().any()  # the imputer did write into the frame given
    run = pipe.lineage_
    upstream = {op.fingerprint: op for op in run.ops if op.sources is not None}
    assert set(upstream) == {s.lineage_.ops[-1].fingerprint for s in steps}
    every = stp.row_ids(Z)
    for step, part in zip(steps, parts):
        op = upstream[step.lineage_.ops[-1].fingerprint]
        assert op.rows is not None  # listed for its own half only
        np.testing.assert_array_equal(contains(op.rows, every), np.isin(every, stp.row_ids(part)))
    assert not any("listed for every row" in note for note in run.notes)


def test_a_fit_hashes_its_row_ids_once(monkeypatch):
    # Its witness view and the search for renamed columns both ask which rows are
    # witness rows: one hash of the million ids in a fit, not one per question.
    from sktraceprop._lineage import _witness_loads

    X = _loaded(n=3000, seed=7)
    y = (X.iloc[:, 0] > 0).astype(int)
    n = len(X)
    hashed = []
    real = _witness_loads.is_witness

    def counted(ids, every):
        if len(ids) == n:
            hashed.append(every)
        return real(ids, every)

    monkeypatch.setattr(_witness_loads, "is_witness", counted)
    stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert hashed == [_witness_loads.stride(n)]  # (the load's stride: its witness rows)


def test_witness_answers_are_shared_per_ids_object_within_a_block():
    from sktraceprop._lineage._witness_view import tested_for

    ids = stp.row_ids(_loaded())
    assert tested_for(ids) is not tested_for(ids)  # outside a block: fresh
    with taken_once():
        answers = tested_for(ids)
        assert tested_for(ids) is answers
        assert tested_for(ids.copy()) is not answers  # other ids: their own
        answers[4] = np.zeros(len(ids), dtype=bool)
        assert not answers[4].flags.writeable  # shared: no question may write into it
        with taken_once():
            assert tested_for(ids) is not answers
    assert tested_for(ids) is not answers


def test_renamed_columns_are_found_as_without_shared_answers():
    # the truth: loaded_names outside a fit's block, every answer computed afresh
    from sktraceprop._lineage._renamed import loaded_names

    X = _loaded(n=2000, seed=8).rename(columns={"x0": "renamed"})
    ids = stp.row_ids(X)
    sources = source_table(ids)
    fresh = loaded_names(X, ids, sources)
    with taken_once():
        witness_view(X, ids, sources)  # (its answers first, then the search's)
        shared = loaded_names(X, ids, sources)
    assert fresh.by_code == shared.by_code != {}
    assert fresh.rows == shared.rows
