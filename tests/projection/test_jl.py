import bisect
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.random_projection import SparseRandomProjection, johnson_lindenstrauss_min_dim
from sklearn.utils.estimator_checks import parametrize_with_checks

import sktraceprop as stp
from sktraceprop.projection import JLProjector

# An independent, slow, pure-Python statement of the generator (see _kernels.py): the
# kernels must reproduce it exactly. Gaps are found by bisection in the table, no log.
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def reference_matrix(seed, n_components, n_features, density):
    """Dense ``R`` (n_components, n_features) from the hash, entry by entry."""
    q = [1.0]
    for _ in range(n_components):
        q.append(q[-1] * (1.0 - density))
    neg_q = [-v for v in q]  # increasing, for bisect
    scale = np.sqrt(1 / density) / np.sqrt(n_components)
    R = np.zeros((n_components, n_features))
    for j in range(n_features):
        key = _mix64((seed + (j + 1) * _GOLDEN) & _MASK)
        t = pos = 0
        while True:
            t += 1
            h = _mix64((key + t * _GOLDEN) & _MASK)
            u = ((h >> 11) + 1) / 2.0**53
            limit = n_components - pos
            # largest g <= limit with u <= q[g]
            gap = bisect.bisect_right(neg_q, -u, 1, limit + 1) - 1
            if gap >= limit:
                break
            pos += gap
            R[pos, j] = -scale if h & 1 else scale
            pos += 1
    return R


@parametrize_with_checks([JLProjector(n_components=8, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("density", ["auto", 0.1, 0.5, 1.0])
def test_matches_dense_reference(density):
    rng = np.random.default_rng(0)
    n_features, n_components = 37, 53
    X = rng.normal(size=(11, n_features))
    proj = JLProjector(n_components, density=density, random_state=3).fit(X)
    d = 1 / np.sqrt(n_features) if density == "auto" else density
    R = reference_matrix(proj.seed_, n_components, n_features, d)
    assert np.array_equal(proj.transform(np.eye(n_features)).T, R)
    np.testing.assert_allclose(proj.transform(X), X @ R.T, rtol=1e-12, atol=1e-12)
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(
        proj.transform(X32), X32 @ R.T.astype(np.float32), rtol=1e-5, atol=1e-5
    )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 75),
    p=st.integers(1, 1300),
    k=st.integers(1, 40),
    dtype=st.sampled_from([np.float32, np.float64]),
    order=st.sampled_from("CF"),
    zeros=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
    scatter=st.booleans(),
)
def test_projection_equals_dense_truth(n, p, k, dtype, order, zeros, seed, scatter):
    # shapes across several row blocks (32 rows; 16 float32 / 8 float64 for the scatter
    # kernel), feature tiles (1024 float32, 512 float64 features; 256 for the scatter
    # kernel) and SIMD squares (8 float32, 4 float64), partial ones included; both dense
    # kernels, forced by the threshold; the truth is X @ R.T with R from the pure-Python
    # generator, in float64
    from sktraceprop.projection import _jl

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[rng.random(X.shape) < zeros] = 0
    X = np.asarray(X.astype(dtype), order=order)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_jl, "_SCATTER_BELOW", np.inf if scatter else 0)
        proj = JLProjector(k, random_state=seed).fit(X)
        R = reference_matrix(proj.seed_, k, p, proj.density_)
        Z = proj.transform(X)
        assert Z.dtype == dtype and Z.shape == (n, k)
        truth = X.astype(np.float64) @ R.T
        # recursive summation: at most (terms - 1) roundings of the running sum
        terms = max(int((R != 0).sum(axis=1).max()), 1)
        bound = np.abs(X.astype(np.float64)) @ np.abs(R.T) * (terms * np.finfo(dtype).eps)
        assert np.all(np.abs(Z - truth) <= bound + np.finfo(dtype).tiny)
        assert np.array_equal(proj.fit_transform(X), Z)
        assert np.array_equal(proj.set_params(n_jobs=2).transform(X), Z)
        assert np.array_equal(proj.transform(sp.csr_matrix(X)), Z)
        if n > 1:  # any row blocking: the same values
            halves = [proj.transform(X[: n // 2]), proj.transform(X[n // 2 :])]
            assert np.array_equal(np.vstack(halves), Z)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_choice_depends_on_shape_only(dtype):
    # a low density (as "auto" gives for 1e5 features and more): the scatter kernel,
    # whatever the rows; its sums are in plain increasing feature order, so dense
    # equals sparse bitwise
    from sktraceprop.projection import _jl

    rng = np.random.default_rng(0)
    X = rng.normal(size=(21, 3000)).astype(dtype)
    X[rng.random(X.shape) < 0.5] = 0
    proj = JLProjector(300, density=0.002, random_state=0).fit(X)
    assert 1024 * proj.density_ < _jl._SCATTER_BELOW
    Z = proj.transform(X)
    assert np.array_equal(proj.transform(sp.csr_matrix(X)), Z)
    assert np.array_equal(np.vstack([proj.transform(X[:5]), proj.transform(X[5:])]), Z)
    R = reference_matrix(proj.seed_, 300, 3000, proj.density_)
    truth = X.astype(np.float64) @ R.T
    np.testing.assert_allclose(Z, truth, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 70),
    p=st.integers(1, 1200),
    dtype=st.sampled_from([np.float32, np.float64]),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
    where=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)),
    scatter=st.booleans(),
)
def test_non_finite_anywhere_is_refused(n, p, dtype, bad, where, scatter):
    from sktraceprop.projection import _jl

    X = np.random.default_rng(0).normal(size=(n, p)).astype(dtype)
    proj = JLProjector(16, random_state=0).fit(X)
    X[int(where[0] * n), int(where[1] * p)] = bad
    match = "NaN" if np.isnan(bad) else "infinity"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_jl, "_SCATTER_BELOW", np.inf if scatter else 0)
        for method in (proj.transform, JLProjector(16, random_state=0).fit_transform):
            with pytest.raises(ValueError, match=match):
                method(X)
        with pytest.raises(ValueError, match=match):
            method(sp.csr_matrix(X))


def test_golden_values_pin_the_generator():
    # Same seed, same matrix on every machine: pin a few positions of the spec.
    R = reference_matrix(12345, 8, 3, 0.5)
    proj = JLProjector(8, density=0.5).fit(np.zeros((1, 3)))
    proj.seed_ = 12345
    assert np.array_equal(proj.transform(np.eye(3)).T, R)
    signs = np.sign(R).astype(int).T.tolist()
    assert signs == GOLDEN_SIGNS
    # a seed near 2**63: the 64-bit counter arithmetic wraps around
    proj = JLProjector(64, density=0.1).fit(np.zeros((1, 40)))
    proj.seed_ = 2**63 - 25
    R = reference_matrix(proj.seed_, 64, 40, 0.1)
    assert np.array_equal(proj.transform(np.eye(40)).T, R)
    assert (int(np.flatnonzero(R).sum()), int((R != 0).sum())) == (328461, 256)
    # random_state -> seed_ goes through numpy's stable legacy RandomState stream
    assert JLProjector(random_state=0).fit(np.zeros((1, 2))).seed_ == GOLDEN_SEED_0


GOLDEN_SIGNS = [
    [0, 0, 0, 0, 0, -1, 1, 0],
    [0, -1, -1, 0, 0, -1, 0, -1],
    [1, -1, 1, -1, 0, 0, 0, 0],
]
GOLDEN_SEED_0 = 900450186894289455


def test_entry_distribution_matches_sparse_random_projection():
    n_features, n_components, density = 2000, 500, 0.05
    proj = JLProjector(n_components, density=density, random_state=0)
    R = proj.fit_transform(np.eye(n_features)).T
    scale = np.sqrt(1 / (density * n_components))
    nz = R != 0
    n = R.size
    # values are exactly 0 or +-sqrt(1 / (density * n_components)), as in sklearn
    srp = SparseRandomProjection(n_components, density=density, random_state=0)
    srp.fit(np.eye(n_features))
    assert np.allclose(np.unique(np.abs(srp.components_.data)), scale)
    np.testing.assert_allclose(np.unique(np.abs(R[nz])), scale, rtol=1e-15)
    # marginal frequencies: 5-sigma bands around the formula
    assert abs(nz.mean() - density) < 5 * np.sqrt(density * (1 - density) / n)
    n_nz = nz.sum()
    assert abs((R[nz] > 0).mean() - 0.5) < 5 * np.sqrt(0.25 / n_nz)
    # nonzeros per feature and per component are binomial
    assert _binomial_pvalue(nz.sum(axis=0), n_components, density) > 1e-4
    assert _binomial_pvalue(nz.sum(axis=1), n_features, density) > 1e-4
    # neighbouring entries of a column are independent (geometric gaps, no memory)
    both = (nz[1:] & nz[:-1]).mean()
    assert abs(both - density**2) < 5 * np.sqrt(density**2 / (n - n_features))
    sign = np.sign(R)
    pair = sign[1:] * sign[:-1]
    assert abs(pair[pair != 0].mean()) < 5 / np.sqrt((pair != 0).sum())


def _binomial_pvalue(counts, trials, p):
    """Chi-square p-value of ``counts`` against Binomial(trials, p), in decile bins."""
    edges = np.unique(stats.binom.ppf(np.linspace(0, 1, 11)[1:-1], trials, p))
    cdf = np.concatenate([[0.0], stats.binom.cdf(edges, trials, p), [1.0]])
    bins = np.searchsorted(edges, counts, side="left")
    observed = np.bincount(bins, minlength=edges.size + 1)
    expected = np.diff(cdf) * counts.size
    return stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue


def test_density_auto_as_sklearn():
    X = np.zeros((2, 400))
    ours = JLProjector(16, random_state=0).fit(X)
    theirs = SparseRandomProjection(16, random_state=0).fit(X)
    assert ours.density_ == theirs.density_ == 1 / 20


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_johnson_lindenstrauss_bound(seed):
    rng = np.random.default_rng(seed)
    n_samples, n_features, eps = 60, 3000, 0.3
    n_components = johnson_lindenstrauss_min_dim(n_samples, eps=eps)
    X = rng.normal(size=(n_samples, n_features))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Z = JLProjector(n_components, random_state=seed).fit_transform(X)
    i, j = np.triu_indices(n_samples, k=1)
    dist = ((X[i] - X[j]) ** 2).sum(axis=1)
    dist_z = ((Z[i] - Z[j]) ** 2).sum(axis=1)
    assert np.all(np.abs(dist_z / dist - 1) < eps)
    norms = (Z**2).sum(axis=1)
    assert np.all(np.abs(norms - 1) < eps)
    inner, inner_z = (X[i] * X[j]).sum(axis=1), (Z[i] * Z[j]).sum(axis=1)
    assert np.all(np.abs(inner_z - inner) < eps)


def test_norm_ratio_mean_and_variance():
    # ||Rx||^2 / ||x||^2 has mean 1 and variance (2 + (1/s - 3) sum x^4 / ||x||^4) / k
    rng = np.random.default_rng(1)
    n, n_features, n_components = 800, 2500, 200
    X = rng.normal(size=(n, n_features))
    Z = JLProjector(n_components, random_state=0).fit_transform(X)
    ratio = (Z**2).sum(axis=1) / (X**2).sum(axis=1)
    s = 1 / np.sqrt(n_features)
    kurt = ((X**4).sum(axis=1) / (X**2).sum(axis=1) ** 2).mean()
    var = (2 + (1 / s - 3) * kurt) / n_components
    assert abs(ratio.mean() - 1) < 5 * np.sqrt(var / n)
    assert abs(ratio.var() / var - 1) < 0.2


def test_row_blocks_and_threads_are_bitwise_identical():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(301, 700)).astype(np.float32)
    X[:, rng.random(700) < 0.3] = 0
    proj = JLProjector(300, random_state=7, n_jobs=1).fit(X)
    full = proj.transform(X)
    for a, b in ((0, 1), (5, 6), (3, 150), (120, 301), (0, 301)):
        assert np.array_equal(proj.transform(X[a:b]), full[a:b])
    assert np.array_equal(proj.set_params(n_jobs=2).transform(X), full)
    assert np.array_equal(proj.set_params(n_jobs=-1).transform(X), full)
    chunks = np.vstack([proj.transform(X[i : i + 17]) for i in range(0, 301, 17)])
    assert np.array_equal(chunks, full)


def test_n_jobs_restores_numba_threads():
    import numba

    before = numba.get_num_threads()
    X = np.ones((4, 10))
    JLProjector(8, n_jobs=1, random_state=0).fit(X).transform(X)
    assert numba.get_num_threads() == before


def test_determinism_and_seed():
    X = np.random.default_rng(0).normal(size=(5, 50))
    a = JLProjector(32, random_state=42).fit(X)
    b = clone(a).fit(X[:2])
    assert a.seed_ == b.seed_
    assert np.array_equal(a.transform(X), b.transform(X))
    c = JLProjector(32, random_state=43).fit(X)
    assert not np.allclose(a.transform(X), c.transform(X))
    rng = np.random.RandomState(0)
    d1 = JLProjector(32, random_state=rng).fit(X).seed_
    d2 = JLProjector(32, random_state=rng).fit(X).seed_
    assert d1 != d2


def test_float32_and_float64():
    X = np.random.default_rng(0).normal(size=(20, 300))
    proj = JLProjector(64, random_state=0).fit(X)
    z64 = proj.transform(X)
    z32 = proj.transform(X.astype(np.float32))
    assert z64.dtype == np.float64 and z32.dtype == np.float32
    np.testing.assert_allclose(z32, z64, rtol=1e-4, atol=1e-5)
    assert proj.transform(X.astype(np.int64)).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_input_equals_dense(dtype):
    X = sp.random(80, 500, density=0.05, random_state=0, format="csr", dtype=dtype)
    dense = X.toarray()
    proj = JLProjector(128, random_state=0).fit(X)
    expected = proj.transform(dense)
    for fmt in ("csr", "csc", "coo"):
        out = proj.transform(X.asformat(fmt))
        assert out.dtype == dtype
        assert np.array_equal(out, expected)
    X64 = X.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    assert np.array_equal(proj.transform(X64), expected)
    # duplicates and unsorted indices: summed first
    rows = np.array([0, 0, 0, 1])
    cols = np.array([7, 3, 7, 2])
    vals = np.array([1.0, 2.0, 0.5, -1.0], dtype=dtype)
    X_dup = sp.csr_matrix((vals, cols, np.array([0, 3, 4])), shape=(2, 500))
    dense_dup = np.zeros((2, 500), dtype=dtype)
    np.add.at(dense_dup, (rows, cols), vals)
    np.testing.assert_allclose(proj.transform(X_dup), proj.transform(dense_dup), rtol=1e-6)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_transform_equals_fit_then_transform(fmt, dtype):
    X = sp.random(40, 300, density=0.2, random_state=1, format="csr", dtype=dtype)
    X = X.toarray() if fmt == "dense" else X.asformat(fmt)
    one_pass = JLProjector(96, random_state=3)
    out = one_pass.fit_transform(X)
    two_pass = JLProjector(96, random_state=3).fit(X)
    assert out.dtype == dtype
    assert np.array_equal(out, two_pass.transform(X))
    assert one_pass.seed_ == two_pass.seed_ and one_pass.n_features_in_ == 300
    with pytest.raises(ValueError, match="NaN"):
        JLProjector(8).fit_transform(np.full((2, 3), np.nan))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", ["transform", "fit_transform"])
def test_non_finite_input_is_refused_even_where_r_is_empty(bad, method):
    # The dense kernel checks finiteness during its pass; a column whose column of R
    # is empty (most of them with 2 components at density 0.01) must be checked too.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(70, 10_000))
    proj = JLProjector(2, density=0.01, random_state=0).fit(X)
    before = dict(proj.__dict__)
    Z = proj.transform(X)
    dense_r = proj.transform(np.eye(10_000))
    empty = np.flatnonzero(~dense_r.any(axis=1))
    used = np.flatnonzero(dense_r.any(axis=1))
    assert empty.size > 9000 and used.size > 0
    for col in (empty[0], empty[-1], used[0]):
        for row in (0, 69):
            X_bad = X.copy()
            X_bad[row, col] = bad
            match = "NaN" if np.isnan(bad) else "infinity"
            with pytest.raises(ValueError, match=match):
                getattr(proj, method)(X_bad)
            X_sparse = sp.csr_matrix(X_bad)
            with pytest.raises(ValueError, match=match):
                getattr(proj, method)(X_sparse)
    # a failed call leaves the fitted projector unchanged
    assert proj.__dict__.keys() == before.keys()
    assert all(np.array_equal(proj.__dict__[k], v) for k, v in before.items())
    assert np.array_equal(proj.transform(X), Z)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("method", ["transform", "fit_transform"])
def test_sums_that_overflow_are_refused_not_returned_as_infinity(fmt, method):
    # 16 entries of 2e38 (float32 holds up to 3.4e38): the unscaled sums reach 4e38 and
    # more, which float32 cannot hold, while the scaled truth (scale 1/4) can; the
    # projection returned inf there, silently
    X = np.full((1, 16), 2e38, dtype=np.float32)
    X = sp.csr_matrix(X) if fmt == "csr" else X
    proj = JLProjector(64, random_state=0).fit(X)
    before = dict(proj.__dict__)
    with pytest.raises(ValueError, match="overflows float32"):
        getattr(proj, method)(X)
    assert proj.__dict__ == before
    # in float64 the same values project to finite numbers, as the dense truth says
    R = reference_matrix(proj.seed_, 64, 16, proj.density_)
    truth = X.astype(np.float64) @ R.T
    assert np.isfinite(truth.astype(np.float32)).all()
    np.testing.assert_allclose(proj.transform(X.astype(np.float64)), truth, rtol=1e-12)
    with pytest.raises(ValueError, match="overflows float64"):
        proj.transform(np.full((1, 16), 1.5e308))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 24),
    st.integers(1, 64),
    st.integers(30, 38),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
@example(1, 16, 64, 38, 0, False)
@example(2, 11, 1, 38, 2, False)  # |X @ R.T| is 5.8e38: the scale (1.82) overflows it
def test_large_float32_values_project_right_or_are_refused(n, p, k, exponent, seed, sparse):
    rng = np.random.default_rng(seed)
    X = (rng.uniform(-3.4, 3.4, size=(n, p)) * 10.0**exponent).astype(np.float32)
    proj = JLProjector(k, random_state=seed).fit(X)
    R = reference_matrix(proj.seed_, k, p, proj.density_)
    # float32 sums of the terms before the common scale: their size bounds every partial sum
    partial = np.abs(X.astype(np.float64)) @ (R != 0).T
    top = np.finfo(np.float32).max
    scale = np.sqrt(1 / proj.density_) / np.sqrt(k)
    try:
        Z = proj.transform(sp.csr_matrix(X) if sparse else X)
    except ValueError as err:
        assert "overflows float32" in str(err)
        # a partial sum, or the scaled result (scale > 1 for few components), is too large
        assert partial.max() * max(1.0, scale) >= 0.99 * top
        return
    assert np.isfinite(Z).all()
    truth = X.astype(np.float64) @ R.T
    tol = 4 * (p + 1) * np.finfo(np.float32).eps * partial * scale + 1e-45
    assert (np.abs(Z - truth) <= tol).all()


def test_matrix_is_not_stored():
    X = np.zeros((2, 100_000), dtype=np.float32)
    proj = JLProjector(4096, random_state=0).fit(X)
    assert len(pickle.dumps(proj)) < 2000


def test_pickle_clone_gridsearch():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    proj = JLProjector(48, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(proj))
    assert np.array_equal(restored.transform(X), proj.transform(X))
    assert clone(proj).get_params() == proj.get_params()
    pipe = make_pipeline(JLProjector(random_state=0), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"jlprojector__n_components": [3, 48]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"jlprojector__n_components": 48}
    assert search.best_score_ > 0.85
    assert search.cv_results_["mean_test_score"][0] < 0.8


def test_feature_names_and_pandas_output():
    import pandas as pd

    X = pd.DataFrame(np.ones((3, 4)), columns=list("abcd"))
    proj = JLProjector(3, random_state=0).set_output(transform="pandas").fit(X)
    out = proj.transform(X)
    assert list(out.columns) == ["jlprojector0", "jlprojector1", "jlprojector2"]
    np.testing.assert_array_equal(
        out.to_numpy(), proj.set_output(transform="default").transform(X)
    )


def test_validation_errors():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match="density"):
        JLProjector(density=0.0).fit(X)
    with pytest.raises(ValueError, match="n_jobs"):
        JLProjector(n_jobs=0).fit(X)
    proj = JLProjector(5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        proj.transform(np.ones((3, 5)))


@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_n_components_bool_is_refused_and_more_than_features_warns(method):
    """True passed sklearn's Interval(Integral, 1, None) and projected onto one
    dimension; n_components above n_features did not warn as sklearn's projections do."""
    X = np.ones((3, 4))
    for bad in (True, False):
        proj = JLProjector(bad, random_state=0)
        with pytest.raises(ValueError, match=rf"n_components.*Got {bad} instead"):
            getattr(proj, method)(X)
        assert not hasattr(proj, "n_components_")
    with pytest.warns(DataDimensionalityWarning, match=r"n_features < n_components \(4 < 5\)"):
        Z = getattr(JLProjector(5, random_state=0), method)(X)
    assert (method == "fit") or Z.shape == (3, 5)
    for k in (4, np.int64(4), 1):  # no more components than features: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            proj = getattr(JLProjector(k, random_state=0), method)(X)
        if method == "fit":
            assert proj.n_components_ == k and type(proj.n_components_) is int


def test_kernels_load_in_a_background_thread_at_import():
    # the import returns at once and a daemon thread loads the kernels; with
    # SKTRACEPROP_NO_WARMUP=1 nothing starts and fit (numpy only) never loads numba
    code = (
        "import sys, sktraceprop as stp; stp.JLProjector(4).fit([[1.0, 2.0]]);"
        "t = stp.projection._warmup.thread;"
        "print(t is not None and t.daemon, 'numba' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "SKTRACEPROP_NO_WARMUP"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split()[0] == "True"
    env["SKTRACEPROP_NO_WARMUP"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "False"]
    assert stp.JLProjector is JLProjector


@pytest.mark.parametrize("density", [0.02, 0.2, 1.0])
def test_guide_table_is_only_a_hint(density):
    # the gap is finished by a scan of the exact table: any lower bound gives the same R
    from sktraceprop.projection import _jl, _kernels

    n_features, k = 60, 40
    q = _jl._gap_table(density, k)
    guide, shift = _jl._guide_table(q)
    assert np.all(guide >= 0) and np.all(np.diff(guide) <= 0)

    def entries(g):
        counts = _kernels.column_counts(np.uint64(5), k, q, g, shift, n_features)
        colptr = np.concatenate([[0], np.cumsum(counts)])
        rows = np.empty(colptr[-1], dtype=np.int32)
        signs = np.empty(colptr[-1])
        _kernels.column_entries(np.uint64(5), k, q, g, shift, 0, colptr, rows, signs)
        return colptr, rows, signs

    colptr, rows, signs = entries(guide)
    for weaker in (np.zeros_like(guide), guide // 2):
        for got, want in zip(entries(weaker), (colptr, rows, signs)):
            assert np.array_equal(got, want)
    R = np.zeros((k, n_features))
    for j in range(n_features):
        R[rows[colptr[j] : colptr[j + 1]], j] = signs[colptr[j] : colptr[j + 1]]
    scale = np.sqrt(1 / density) / np.sqrt(k)
    np.testing.assert_array_equal(R * scale, reference_matrix(5, k, n_features, density))


@pytest.mark.parametrize("max_entries", [1, 7, 10**9])
def test_column_ranges_change_nothing_but_rounding(max_entries, monkeypatch):
    # R generated a few columns at a time: the same projection, dense equal to sparse
    from sktraceprop.projection import _jl

    rng = np.random.default_rng(1)
    X = rng.normal(size=(37, 90))
    X[rng.random(X.shape) < 0.5] = 0
    proj = JLProjector(20, density=0.3, random_state=3)
    whole = proj.fit_transform(X)
    monkeypatch.setattr(_jl, "_MAX_ENTRIES", max_entries)
    counts = _column_counts(proj)
    ranges = _jl._column_ranges(counts, max_entries)
    assert ranges[0][0] == 0 and ranges[-1][1] == 90
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert all(counts[a:b].sum() <= max_entries or b == a + 1 for a, b in ranges)
    chunked = proj.transform(X)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    assert np.array_equal(proj.transform(sp.csr_matrix(X)), chunked)
    R = reference_matrix(proj.seed_, 20, 90, 0.3)
    np.testing.assert_allclose(chunked, X @ R.T, rtol=1e-12, atol=1e-12)


def _column_counts(proj):
    from sktraceprop.projection import _jl, _kernels

    q = _jl._gap_table(proj.density_, proj.n_components_)
    guide, shift = _jl._guide_table(q)
    return _kernels.column_counts(
        np.uint64(proj.seed_), proj.n_components_, q, guide, shift, proj.n_features_in_
    )


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_checks_large_dense_input_in_parallel(order, bad, monkeypatch):
    from sktraceprop.projection import _finite

    monkeypatch.setattr(_finite, "_PARALLEL_CHECK_ENTRIES", 100)
    rng = np.random.default_rng(0)
    X = np.asarray(rng.normal(size=(40, 37)).astype(np.float32), order=order)
    JLProjector(8).fit(X)  # finite: no error
    for row, col in [(0, 0), (39, 36), (17, 8), (5, 35)]:  # lanes and the row tails
        X_bad = X.copy(order=order)
        X_bad[row, col] = bad
        with pytest.raises(ValueError, match="NaN" if np.isnan(bad) else "infinity"):
            JLProjector(8).fit(X_bad)
    strided = np.asarray(rng.normal(size=(40, 74)))[:, ::2]  # neither C nor F contiguous
    strided[3, 3] = bad
    with pytest.raises(ValueError):
        JLProjector(8).fit(strided)


def test_the_warm_up_thread_never_compiles_beside_the_programs_warning_blocks(tmp_path):
    # numba's compiler wraps its work in warnings.catch_warnings (process-wide state):
    # compiling in the warm-up thread beside a catch_warnings block of the program
    # restored, when it ended, the filters and handler the block had replaced, so the
    # block recorded nothing more (pytest.warns "DID NOT WARN" in 2 of 5 runs with the
    # cache cleared). With no cached kernels (an empty cache folder) the thread compiles
    # nothing: it returns at once and no kernel has a compiled overload
    code = (
        "import sktraceprop as stp; from sktraceprop.projection import _kernels, _scatter;"
        "t = stp.projection._warmup.thread; t.join(60);"
        "print(t.is_alive(), len(stp.projection._warmup._calls()),"
        " len(_kernels.project_dense.overloads), len(_scatter.project_scatter.overloads))"
    )
    env = {k: v for k, v in os.environ.items() if k != "SKTRACEPROP_NO_WARMUP"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path)  # empty: nothing cached
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "0", "0", "0"]


def _layouts(X, tmp_path):
    """The same values in the containers and layouts a user may hold them in."""
    import pandas as pd

    np.save(tmp_path / "X.npy", X)
    readonly = X.copy()
    readonly.flags.writeable = False
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    rows, cols = np.nonzero(X)
    half = X[rows, cols] / 2  # each nonzero as two duplicate entries, in reverse order
    coo = sp.coo_matrix(
        (np.r_[half, half][::-1], (np.r_[rows, rows][::-1], np.r_[cols, cols][::-1])),
        shape=X.shape,
    )
    sorted_ = sp.csr_matrix(X)
    order = np.concatenate(
        [np.arange(a, b)[::-1] for a, b in zip(sorted_.indptr[:-1], sorted_.indptr[1:])]
    )
    unsorted = sp.csr_matrix(
        (sorted_.data[order], sorted_.indices[order], sorted_.indptr), shape=X.shape
    )
    assert not unsorted.has_sorted_indices
    return {
        "fortran": np.asfortranarray(X),
        "strided": wide[:, ::2],
        "negative strides": X[::-1, ::-1].copy()[::-1, ::-1],
        "read-only": readonly,
        "memmap": np.load(tmp_path / "X.npy", mmap_mode="r"),
        "object": X.astype(object),
        "pandas Float64": pd.DataFrame(X).astype("Float64"),
        "coo with duplicates": coo,
        "csr unsorted": unsorted,
        "csc": sp.csc_matrix(X),
        "csr_array": sp.csr_array(X),
    }


def test_every_layout_projects_as_the_dense_truth(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 50)) * (rng.random((9, 50)) < 0.4)
    proj = JLProjector(24, random_state=0).fit(X)
    truth = X @ reference_matrix(proj.seed_, 24, 50, proj.density_).T
    for name, held in _layouts(X, tmp_path).items():
        np.testing.assert_allclose(proj.transform(held), truth, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(
            clone(proj).fit_transform(held), truth, atol=1e-12, err_msg=name
        )
