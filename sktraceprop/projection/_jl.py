"""JLProjector: sparse random projection whose matrix is hashed on the fly, never stored."""

from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import assert_all_finite, check_is_fitted, validate_data

from .._state_format import StateFormatMixin
from .._thread_compiles import attempt, prepare, result
from ..utils._sklearn_compat import Interval, StrOptions
from ._finite import _all_finite, _check_finite
from ._params import check_n_components

__all__ = ["JLProjector"]

# Bytes of a dense block's transposed feature tile (features x rows): with the block's
# accumulator it stays in a core's L2 cache (512 KB on the benchmark machine), and each
# row's slice of a tile is several KB long, so reading X is a few long streams.
_TILE_BYTES = 128 << 10
# Below this many nonzeros per output component and tile, the component-major kernel's
# per-component work outweighs its terms: nonzeros are scattered instead (_scatter.py).
_SCATTER_BELOW = 4
# The exponent bits of float32 and float64: all set for NaN and infinity only.
_EXPONENT = {np.float32: np.int32(0x7F800000), np.float64: np.int64(0x7FF0000000000000)}
# Nonzeros of R generated and held at once (4 bytes of row index and one value each).
_MAX_ENTRIES = 1 << 22
# Below about this many multiply-adds, one thread beats starting others.
_SMALL_WORK = 1_000_000


class JLProjector(
    StateFormatMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Sparse Johnson-Lindenstrauss random projection without a stored matrix.

    Projects ``X`` onto ``n_components`` dimensions with a random matrix ``R`` of shape
    ``(n_components, n_features)`` distributed as in scikit-learn's
    :class:`~sklearn.random_projection.SparseRandomProjection`: each entry is ``0``
    with probability ``1 - density`` and ``+-sqrt(1 / (density * n_components))``
    with probability ``density / 2`` each, independently. ``transform`` returns
    ``X @ R.T``.

    ``R`` is generated on the fly from a counter-based hash of ``(seed_, feature)``:
    the fitted projector stores none of it, a ``transform`` holds at most ``2**22`` of
    its nonzeros at a time (about 24 MB), the same ``seed_`` gives bitwise the same
    projection on any machine, and the transform of a block of rows is bitwise equal
    to those rows of the full transform (for any thread count). Numba kernels that
    release the GIL, run in threads over blocks of rows.

    Parameters
    ----------
    n_components : int, default=4096
        Dimension of the projected space (not a bool); above ``n_features``, fit warns.
    density : "auto" or float in (0, 1], default="auto"
        Expected fraction of nonzero entries of ``R``. ``"auto"`` is
        ``1 / sqrt(n_features)`` (Li, Hastie and Church, 2006), as in scikit-learn.
    random_state : int, RandomState instance or None, default=None
        Draws the 63-bit ``seed_`` of the hash at ``fit``. Pass an int for the same
        projection across calls and machines.
    n_jobs : int, default=None
        Number of threads used by ``transform``. ``None`` or ``-1``: numba's thread
        count (``NUMBA_NUM_THREADS``, by default the number of cores); ``-2`` one fewer,
        and so on. The result does not depend on it.

    Attributes
    ----------
    n_components_ : int
        Dimension of the projected space.
    density_ : float
        Density of ``R`` actually used.
    seed_ : int
        Seed of the hash that defines ``R``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.random_projection.SparseRandomProjection : the same distribution, with the
        matrix drawn at fit and stored.

    Notes
    -----
    Sums are accumulated in the dtype of ``X`` (float32 in, float32 out; float64 in,
    float64 out), in increasing feature order. Dense and CSR input give the same
    values. The gap between consecutive nonzeros of a column of ``R`` is drawn by
    inverting a table of ``(1 - density) ** g`` built by repeated multiplication, so
    the distribution matches scikit-learn's up to float64 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from sktraceprop.projection import JLProjector
    >>> X = np.random.default_rng(0).normal(size=(5, 1000)).astype(np.float32)
    >>> Z = JLProjector(n_components=256, random_state=0).fit_transform(X)
    >>> Z.shape, Z.dtype
    ((5, 256), dtype('float32'))
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "random_state": ["random_state"],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
            None,
        ],
    }

    def __init__(self, n_components=4096, *, density="auto", random_state=None, n_jobs=None):
        self.n_components = n_components
        self.density = density
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learn the number of features and draw the seed of the projection.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Only its shape is used.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,  # checked below, in parallel for large dense X
        )
        _check_finite(X, type(self).__name__, self.n_jobs)
        self._fit_shape(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and project it in one pass over ``X``.

        Equal to ``fit(X).transform(X)``, without ``fit``'s separate pass over ``X`` to
        check it: like ``transform``, it checks finiteness during the projection.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse input; float32 is kept, other dtypes become float64.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The projection, in the dtype of ``X``.
        """
        self._validate_params()
        state = self.__dict__.copy()
        try:
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                order="C",
                ensure_all_finite=False,  # checked during the projection pass
            )
            self._fit_shape(X)
            return self._project(X)
        except Exception:
            # a failed call leaves a fitted projector as it was
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit_shape(self, X):
        self.n_components_ = check_n_components(self.n_components, X.shape[1])
        self.density_ = 1 / np.sqrt(X.shape[1]) if self.density == "auto" else float(self.density)
        rng = check_random_state(self.random_state)
        self.seed_ = int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))

    def transform(self, X):
        """Project ``X``: ``X @ R.T``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse input; float32 is kept, other dtypes become float64.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The projection, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            reset=False,
            ensure_all_finite=False,  # checked during the projection pass
        )
        return self._project(X)

    def _project(self, X):
        from . import _kernels, _scatter

        dtype = X.dtype.type
        k = self.n_components_
        density = self.density_
        q = _gap_table(density, k)
        guide, shift = _guide_table(q)
        scale = dtype(np.sqrt(1 / density) / np.sqrt(k))
        seed = np.uint64(self.seed_)
        n_features = X.shape[1]
        out = np.empty((X.shape[0], k), dtype=dtype)
        tile = _TILE_BYTES // (_kernels.ROWS * X.dtype.itemsize)
        # the kernel, and with it the order of the sums, depends on (dtype, n_features,
        # n_components, density) only: the scatter kernel sums each range in one tile
        scatter = tile * density < _SCATTER_BELOW
        if scatter:
            tile = n_features
        sparse = sp.issparse(X)
        if sparse:
            assert_all_finite(X.data, estimator_name=type(self).__name__, input_name="X")
            if not X.has_canonical_format:
                X = X.copy()
                X.sum_duplicates()
            n_units = X.shape[0]
        else:
            bits = X.view(np.int32 if X.dtype == np.float32 else np.int64)
            exponent = _EXPONENT[X.dtype.type]
            rows_per_unit = 64 // X.dtype.itemsize if scatter else _kernels.ROWS
            n_units = -(-X.shape[0] // rows_per_unit)
        chunks = _chunks(n_units, _n_threads(X, k, density, self.n_jobs))
        counts = _kernels.column_counts(seed, k, q, guide, shift, n_features)
        ranges = _column_ranges(counts, _MAX_ENTRIES)
        seen = []
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            for j0, j1 in ranges:
                colptr = np.zeros(j1 - j0 + 1, dtype=np.int64)
                np.cumsum(counts[j0:j1], out=colptr[1:])
                rows = np.empty(colptr[-1], dtype=np.int32)
                signs = np.empty(colptr[-1], dtype=X.dtype)
                _kernels.column_entries(seed, k, q, guide, shift, j0, colptr, rows, signs)
                # the common scale rides on the last range's pass over out
                last_scale = scale if j1 == n_features else dtype(0)
                if sparse:
                    args = (X.data, X.indices, X.indptr, j0, colptr, rows, signs, tile)
                    kernel = _kernels.project_csr
                elif scatter:
                    args = (X, bits, exponent, j0, colptr, rows, signs)
                    kernel = _scatter.project_scatter
                else:
                    rowptr, cols, tsigns = _kernels.tile_rows(colptr, rows, signs, k, tile)
                    args = (X, bits, exponent, j0, j1 - j0, rowptr, cols, tsigns, tile)
                    kernel = _kernels.project_dense
                first = j0 == 0
                seen += _run(pool, kernel, args + (first, last_scale, out), chunks)
        if not sparse and any(s == exponent for s in seen):
            # the kernel saw NaN or infinity: sklearn's check raises its usual error
            assert_all_finite(X, estimator_name=type(self).__name__, input_name="X")
        if not _all_finite(out):  # finite X: a sum overflowed (in float32, pass float64)
            raise ValueError(f"the projection of X overflows {X.dtype}: X's entries are too large")
        return out

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _gap_table(density, n_components):
    """``q[g] = (1 - density) ** g`` for ``g = 0..n_components``, by repeated products.

    Repeated IEEE multiplication is exactly reproducible on every platform (unlike
    ``pow``), which keeps the generated matrix machine independent.
    """
    q = np.empty(n_components + 1)
    q[0] = 1.0
    np.multiply.accumulate(np.full(n_components, 1.0 - density), out=q[1:])
    return q


def _guide_table(q):
    """Lower bounds of the gap over ``2**p >= 2 * len(q)`` equal bins of ``u``.

    Bin ``b`` holds ``u`` in ``(b / 2**p, (b + 1) / 2**p]`` (``b`` is the top ``p`` bits
    of the hash); the gap ``max{g : u <= q[g]}`` is smallest at the top of the bin.
    About ``len(q) / 2**p <= 1/2`` table steps remain to scan on average.
    """
    p = (2 * q.size - 1).bit_length()
    top = np.arange(1, (1 << p) + 1, dtype=np.float64) / float(1 << p)  # exact
    guide = np.searchsorted(-q, -top, side="right") - 1
    return guide.astype(np.int32), np.uint64(64 - p)


def _n_threads(X, n_components, density, n_jobs):
    """Threads for ``transform``: ``n_jobs`` (``None``: numba's thread count, by
    default the number of cores), one for inputs too small to share."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        n_threads = available
    else:
        n_threads = n_jobs if n_jobs > 0 else available + 1 + n_jobs
    entries = X.nnz if sp.issparse(X) else X.size
    if entries * (1 + density * n_components) < _SMALL_WORK:
        return 1
    return max(n_threads, 1)


def _chunks(n_units, n_threads):
    """At most ``n_threads`` contiguous, nonempty ranges covering ``range(n_units)``."""
    bounds = np.linspace(0, n_units, min(n_threads, max(n_units, 1)) + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a] or [(0, 0)]


def _run(pool, kernel, args, chunks):
    """``kernel(*args, u0, u1)`` for each chunk, in the pool's threads (the kernels release
    the GIL and write disjoint rows of the output); their return values."""
    if len(chunks) == 1:
        return [kernel(*args, *chunks[0])]
    # a kernel not yet compiled in this process is not compiled on a pool thread (it
    # would lose the program's recorded warnings): numba refuses it there before the
    # kernel runs; the first refused chunk is run here (compiling the kernel), the
    # others again in the pool (see _thread_compiles)
    prepare()
    outcomes = list(pool.map(lambda chunk: attempt(kernel, *args, *chunk), chunks))
    refused = [i for i, (done, _) in enumerate(outcomes) if not done]
    if refused:
        outcomes[refused[0]] = (True, kernel(*args, *chunks[refused[0]]))
        rest = refused[1:]
        again = pool.map(lambda i: attempt(kernel, *args, *chunks[i]), rest)
        for i, outcome in zip(rest, again):
            outcomes[i] = outcome
    # refused twice (cannot be: the types are the same): run here
    return [result(o, kernel, *args, *chunk) for o, chunk in zip(outcomes, chunks)]


def _column_ranges(counts, max_entries):
    """Consecutive feature ranges whose columns of ``R`` hold at most ``max_entries``
    nonzeros together (a single column may hold more). They depend on ``R`` only, so
    dense and sparse input, and any rows, are summed in the same order."""
    ends = np.cumsum(counts)
    ranges, j0, done = [], 0, 0
    n = counts.shape[0]
    while j0 < n:
        j1 = int(np.searchsorted(ends, done + max_entries, side="right"))
        j1 = max(j1, j0 + 1)
        ranges.append((j0, j1))
        done = int(ends[j1 - 1])
        j0 = j1
    return ranges
