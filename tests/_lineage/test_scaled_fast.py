"""The faster search for scaled columns finds what the search before it found.

The truth is the search as it was (``_scaled_reference.py``, NumPy only): on random
frames loaded from files, scaled by each affine scaler, subsets of rows in any order
and subsets of columns, and unrelated arrays, the search gives the same columns, loaded
columns and scalings, and a traced fit warns wherever the search before it made the fit
warn (the warning's text the same), also when the same array is given again (the
answer is remembered per content) and after the loads kept change.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import _scaled, _scaled_fit, _untraced
from sktraceprop.exceptions import LineageWarning
from tests._lineage._scaled_reference import _fit as reference_fit
from tests._lineage._scaled_reference import find_scaled as reference_find

SCALERS = [StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler]


def _key(found):
    return [(f.position, f.source_id, f.column, f.a, f.b) for f in found]


def _write(tmp_path, seed, rows, columns):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, columns)) * rng.uniform(0.5, 50, columns)
    data += rng.uniform(-100, 100, columns)
    data = data.round(rng.integers(1, 5))
    path = tmp_path / f"f{seed}_{rows}_{columns}.csv"
    header = ",".join(f"c{j}" for j in range(columns))
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.6g")
    return path


def _old_warnings(X):
    """The warnings of the checks before (the reference search in their place)."""
    from sktraceprop._lineage import _untraced as u

    real = _scaled.find_scaled
    _scaled.find_scaled = reference_find
    try:
        return u._search(X)
    finally:
        _scaled.find_scaled = real


def _fit_warnings(X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(LogisticRegression(max_iter=20)).fit(X, y)
    return [
        str(w.message)
        for w in caught
        if issubclass(w.category, LineageWarning) and "row ids" in str(w.message)
    ]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    rows=st.sampled_from([40, 130, 600, 1500]),
    columns=st.integers(2, 6),
    scaler=st.sampled_from([*SCALERS, None]),
    share=st.floats(0.05, 1.0),
    kept=st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True),
    unrelated=st.booleans(),
)
@example(seed=1, rows=600, columns=4, scaler=StandardScaler, share=1.0, kept=[0, 1, 2, 3],
         unrelated=False)  # fmt: skip
def test_search_and_warnings_equal_the_search_before(
    tmp_path, seed, rows, columns, scaler, share, kept, unrelated
):
    path = _write(tmp_path, seed, rows, columns)
    df = stp.read_csv(path)
    rng = np.random.default_rng(seed)
    values = df.to_numpy(dtype=np.float64)
    if unrelated:
        values = rng.normal(size=values.shape)
    Z = scaler().fit_transform(values) if scaler is not None else values
    rows_taken = rng.permutation(len(Z))[: max(2, int(share * len(Z)))]
    X = Z[rows_taken][:, [k for k in kept if k < columns] or [0]]
    if X.shape[1] < 2:
        X = Z[rows_taken]
    assert _key(_scaled.find_scaled(X)) == _key(reference_find(X))
    old = _old_warnings(X)
    y = np.arange(len(X)) % 2
    new = _fit_warnings(X, y)
    assert new[: len(old)] == old
    # again: remembered, the same warning
    assert _fit_warnings(X.copy(), y)[: len(old)] == old


@settings(max_examples=100, deadline=None)
@given(
    xs=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=16, max_size=200, unique=True),
    cs=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=16, max_size=200, unique=True),
    a=st.floats(1e-6, 1e6),
    b=st.floats(-1e6, 1e6),
    mapped=st.integers(0, 40),
    eps=st.sampled_from([_scaled_fit.EPS, float(np.finfo(np.float32).eps)]),
)
def test_fit_equals_the_fit_before(xs, cs, a, b, mapped, eps):
    """The kernel's scores, hence the scaling chosen, are those of the NumPy code:
    unrelated values, and values holding some loaded ones scaled."""
    cs = np.unique(np.asarray(cs))
    xs = np.asarray(xs)
    xs = np.unique(np.concatenate([xs, a * cs[:mapped] + b]))
    with np.errstate(all="ignore"):
        assert _scaled_fit._fit(xs, cs, eps) == reference_fit(xs, cs, eps)


def test_a_scaled_array_is_found_and_the_answer_is_remembered(tmp_path, monkeypatch):
    """The same content again is answered without a search, with the same warning; a
    new load (another state of the loads kept) searches again."""
    df = stp.read_csv(_write(tmp_path, 7, 300, 4))
    X = StandardScaler().fit_transform(df)[::-1]
    searched = []
    real = _scaled.find_scaled
    monkeypatch.setattr(_scaled, "find_scaled", lambda *a: searched.append(1) or real(*a))
    y = np.arange(len(X)) % 2
    [first] = _fit_warnings(X, y)
    assert "StandardScaler" in first and searched == [1]
    assert _fit_warnings(X.copy(), y) == [first] and searched == [1]
    stp.read_csv(_write(tmp_path, 8, 50, 3))  # another load: the loads kept changed
    assert _fit_warnings(X, y) == [first] and searched == [1, 1]


def test_forgotten_rows_drop_what_was_remembered(tmp_path):
    stp.read_csv(_write(tmp_path, 9, 100, 3))
    _fit_warnings(np.random.default_rng(0).normal(size=(100, 3)), np.arange(100) % 2)
    assert _untraced._FOUND
    from sktraceprop._lineage._witness import WITNESSES

    for follower in WITNESSES._followers:
        if isinstance(follower, _untraced._Forget):
            follower.forget(np.zeros(0, np.int64))
    assert not _untraced._FOUND


@pytest.mark.parametrize("scaler", SCALERS, ids=lambda s: s.__name__)
def test_grid_search_folds_warn_as_before(tmp_path, scaler):
    """Every fold of a search warns as a fit on it alone did before (the folds repeat
    once per candidate: remembered)."""
    from sklearn.model_selection import GridSearchCV

    df = stp.read_csv(_write(tmp_path, 3, 400, 3))
    X = scaler().fit_transform(df)
    y = (np.arange(len(X)) % 3 == 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GridSearchCV(
            stp.make_traced_pipeline(LogisticRegression(max_iter=20)),
            {"logisticregression__C": [0.1, 1.0, 10.0]},
            cv=3,
        ).fit(X, y)
    got = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    from sklearn.model_selection import StratifiedKFold

    expected = []
    for train, _ in StratifiedKFold(3).split(X, y):
        expected += _old_warnings(X[train])
    expected = expected * 3 + _old_warnings(X)
    assert sorted(got) == sorted(expected) and len(expected) == 10
