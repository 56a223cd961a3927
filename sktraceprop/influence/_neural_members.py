"""One member of the neural ensemble: its features and its Gauss-Newton solver.

A member is built by :func:`_member_trak` (gradients projected by a
:class:`~sktraceprop.projection.JLProjector`, ``G`` projected alike) or
:func:`_member_ggn` (exact gradients, ``G`` in parameter or factor space); :class:`_Member`
then scores test rows against training rows block by block with the damping set on it.
See :mod:`._trak` for the influence these compute.
"""

import numpy as np

from ._gauss_newton import DualSolver, PrimalSolver
from ._neural_model import (
    _factors,
    _gradients,
    _n_directions,
    _n_params,
    _probabilities,
    _rows_per_block,
)

#: Directions of each row's loss Hessian in the logits kept by "trak" (the largest; all
#: of them up to 5 classes): it approximates anyway, and the cost grows with them. On
#: the 10-class digits MLP the 4 largest hold 97% of the trace of ``Lambda_i``.
_TRAK_DIRECTIONS = 4


class _Member:
    """One model of the ensemble: score features and the Gauss-Newton solver.

    ``space`` is "primal" (``(G + lambda I)^-1`` applied in feature space) or "dual"
    (test rows scored through ``F_t F^T`` and ``F_t A^T``: from the stored projected
    features for TRAK, from gradients recomputed from the training rows for the exact
    method, which stores none).
    """

    def __init__(self, model, projector, space, F, q, solver, train=None, A=None):
        self.model = model
        self.projector = projector
        self.space = space
        self.F = F
        self.q = q
        self.solver = solver
        # dual only: the training rows to recompute gradients from (exact method), or
        # the stored projected factors of a multi-logit model (TRAK)
        self.train = train
        self.A = A
        self.damping = None
        self._map = None
        # the curvature of the model's own L2 penalty in the summed objective (n * alpha):
        # the damping's floor
        self.penalty = 0.0

    def set_damping(self, lam):
        """Damping ``lam``, raised to the model's own penalty where below it."""
        self.damping = max(float(lam), self.penalty)
        self._map = self.solver.inverse(self.damping) if self.space == "primal" else None

    def _test_gradients(self, Xt, y, parameters, block_size):
        proj = None if self.projector is None else self.projector.transform
        # per-sample gradients are n_params wide before projection: bound the block
        rows = _rows_per_block(_n_params(self.model, parameters), block_size)
        return np.asarray(
            _gradients(self.model, Xt, y, parameters, rows, projector=proj), dtype=np.float64
        )

    def test_part(self, Xt, y, parameters, block_size):
        """What :meth:`train_block` needs of the test rows: ``F_t M`` or ``[F_t F^T, L_t]``."""
        if self.space == "primal":
            return self._test_gradients(Xt, y, parameters, block_size) @ self._map
        width = self.F.shape[1] if self.F is not None else _n_params(self.model, parameters)
        rows = _rows_per_block(2 * width, Xt.shape[0])
        parts = []
        # test rows in blocks: each block's exact gradients (n_params floats a row) are
        # crossed with the training rows' before the next block is computed
        for start in range(0, Xt.shape[0], rows):
            Ft = self._test_gradients(
                Xt[start : start + rows], y[start : start + rows], parameters, block_size
            )
            parts.append(np.hstack(_dual_cross(self, Ft)))
        return np.vstack(parts)

    def probe_sums(self, rows, W, factors):
        """Predicted sums ``f_r (G + lambda I)^-1 F^T W`` of training rows ``rows``
        for ``lambda = factor * scale`` over ``factors``."""
        lams = [f * self.solver.scale for f in factors]
        if isinstance(self.solver, PrimalSolver):
            return self.solver.probe_sums(self.F, rows, W, lams)
        return self.solver.probe_sums(rows, W, lams)

    def width(self):
        if self.space == "primal":
            return self._map.shape[0]
        return self.solver.K.shape[0] + self.solver.s.size

    def train_block(self, part, tr):
        """Kernel part ``f_t (G + lambda I)^-1 f_i`` for training rows ``tr``."""
        if self.space == "primal":
            return part @ np.asarray(self.F[tr], dtype=np.float64).T
        n = self.solver.K.shape[0]
        return self.solver.scores(part[:, :n], part[:, n:], self.damping, cols=tr)


def _dual_cross(member, Ft):
    """``F_t F^T`` and ``F_t A^T U``, from stored features or recomputed gradients."""
    if member.F is not None:
        F = np.asarray(member.F, dtype=np.float64)
        A = member.A
        if A is None:  # one logit: the factors are sqrt(p (1 - p)) times the features
            A = np.sqrt((1.0 - member.q) * member.q)[:, None] * F
        return Ft @ F.T, (Ft @ A.T) @ member.solver.basis
    Xt, y, parameters, block_size, single = member.train
    n = Xt.shape[0]
    Kt = np.empty((Ft.shape[0], n))
    FtA = []
    for start, stop in _exact_ranges(member.model, Xt, parameters, block_size, single):
        F, A = _exact_block(member.model, Xt[start:stop], y[start:stop], parameters, single)
        Kt[:, start:stop] = Ft @ F.T
        if not single:
            FtA.append(Ft @ A.T)
    if single:  # the factors are sqrt(p (1 - p)) times the gradients: F_t A^T from F_t F^T
        return Kt, (Kt * np.sqrt((1.0 - member.q) * member.q)) @ member.solver.basis
    return Kt, np.hstack(FtA) @ member.solver.basis


def _exact_ranges(model, Xt, parameters, block_size, single):
    """Row blocks whose exact gradients and curvature factors fit the memory budget."""
    # one logit: no factors are held (they are the gradients times sqrt(p (1 - p)))
    per_row = _n_params(model, parameters) * (1 if single else 1 + _n_directions(model, Xt))
    rows = _rows_per_block(2 * per_row, block_size)  # float64: twice the float32 width
    for start in range(0, Xt.shape[0], rows):
        yield start, min(start + rows, Xt.shape[0])


def _exact_block(model, X, y, parameters, single):
    """Exact margin gradients ``F`` and curvature factors ``A`` of rows ``X`` (float64).

    For one logit the factors are ``sqrt(p (1 - p)) grad m`` (the sign of ``grad m``
    against ``grad z`` squares away in ``G = A^T A``): ``A`` is None, the callers scale
    the Gram matrices of ``F`` instead; else one per output direction, row-major
    (:func:`sktraceprop.gradients.torch_gauss_newton_factors`).
    """
    rows = X.shape[0]
    F = np.asarray(_gradients(model, X, y, parameters, rows), dtype=np.float64)
    if single:
        return F, None
    return F, np.asarray(_factors(model, X, parameters, rows), dtype=np.float64)


def _member_trak(model, Xt, y, parameters, n_components, block_size, seed, out, single):
    """Projected margin gradients and the projected Gauss-Newton matrix.

    Returns the projector, the features, ``1 - p``, the solver and the projected
    factors when the dual is used (``n_train * (1 + c) < k``; else None).
    With ``n_components`` at least the parameters differentiated the gradients are
    kept as they are (projector None): a projection to as many dimensions or more
    keeps no more information, costs more, and may lose a direction (a square sparse
    matrix can be singular). The notes say so; JLProjector's warning about it is for a
    user's own projector, not this internal one.
    """
    from ..projection import JLProjector

    n_params = _n_params(model, parameters)
    proj = None
    if n_components < n_params:
        proj = JLProjector(n_components, random_state=seed).fit(
            np.zeros((1, n_params), dtype=np.float32)
        )
    transform = None if proj is None else proj.transform
    rows = _rows_per_block(n_params, block_size)
    F = _gradients(model, Xt, y, parameters, rows, out, transform)
    p, q = _probabilities(model, Xt, y)
    k = F.shape[1]
    c = 1 if single else min(_n_directions(model, Xt), _TRAK_DIRECTIONS)
    n_factors = Xt.shape[0] * c
    dual = n_factors + (0 if single else Xt.shape[0]) < k
    if single:
        if dual:
            Fd = np.asarray(F, dtype=np.float64)
            r = np.sqrt(p * q)
            K = Fd @ Fd.T
            return proj, F, q, DualSolver(K, r[:, None] * K, r[:, None] * K * r), None
        return proj, F, q, PrimalSolver(_weighted_gram(F, p * q)), None
    frows = _rows_per_block(n_params * c, block_size)
    if dual:
        A = _factors(model, Xt, parameters, frows, transform, c)
        A = np.asarray(A, dtype=np.float64)
        Fd = np.asarray(F, dtype=np.float64)
        return proj, F, q, DualSolver(Fd @ Fd.T, A @ Fd.T, A @ A.T), A
    gram = np.zeros((k, k))
    for start in range(0, Xt.shape[0], frows):
        A = _factors(model, Xt[start : start + frows], parameters, frows, transform, c)
        A = np.asarray(A, dtype=np.float64)
        gram += A.T @ A
    return proj, F, q, PrimalSolver(gram), None


def _weighted_gram(F, w, block_size=4096):
    """``F^T diag(w) F``, ``F`` read block by block (it may be a memmap)."""
    gram = np.zeros((F.shape[1], F.shape[1]))
    for start in range(0, F.shape[0], block_size):
        B = np.asarray(F[start : start + block_size], dtype=np.float64)
        gram += (B * w[start : start + block_size, None]).T @ B
    return gram


def _member_ggn(model, Xt, y, parameters, block_size, out, single, space):
    """Exact gradients; ``G`` in parameter space (primal) or its factor Gram (dual)."""
    p, q = _probabilities(model, Xt, y)
    if space == "primal":
        n_params = _n_params(model, parameters)
        F = _gradients(model, Xt, y, parameters, _rows_per_block(n_params, block_size), out)
        if single:
            return F, q, PrimalSolver(_weighted_gram(F, p * q)), None
        gram = np.zeros((n_params, n_params))
        frows = _rows_per_block(n_params * _n_directions(model, Xt), block_size)
        for start in range(0, Xt.shape[0], frows):
            A = np.asarray(_factors(model, Xt[start : start + frows], parameters, frows))
            gram += A.T.astype(np.float64) @ A.astype(np.float64)
        return F, q, PrimalSolver(gram), None
    n = Xt.shape[0]
    ranges = list(_exact_ranges(model, Xt, parameters, block_size, single))
    K = np.zeros((n, n))
    nf = n if single else n * _n_directions(model, Xt)
    c = nf // n
    D = None if single else np.zeros((nf, n))
    B = None if single else np.zeros((nf, nf))
    # Gram matrices of all pairs of row blocks, the second block's gradients recomputed
    # for each pair: memory stays two blocks of gradients.
    for a, (sa, ea) in enumerate(ranges):
        Fa, Aa = _exact_block(model, Xt[sa:ea], y[sa:ea], parameters, single)
        for sb, eb in ranges[: a + 1]:
            if sb == sa:
                Fb, Ab = Fa, Aa
            else:
                Fb, Ab = _exact_block(model, Xt[sb:eb], y[sb:eb], parameters, single)
            K[sa:ea, sb:eb] = Fa @ Fb.T
            K[sb:eb, sa:ea] = K[sa:ea, sb:eb].T
            if not single:
                D[sa * c : ea * c, sb:eb] = Aa @ Fb.T
                D[sb * c : eb * c, sa:ea] = Ab @ Fa.T
                B[sa * c : ea * c, sb * c : eb * c] = Aa @ Ab.T
                B[sb * c : eb * c, sa * c : ea * c] = B[sa * c : ea * c, sb * c : eb * c].T
    if single:
        r = np.sqrt(p * q)
        solver = DualSolver(K, r[:, None] * K, r[:, None] * K * r[None, :])
    else:
        solver = DualSolver(K, D, B)
    return None, q, solver, (Xt, y, parameters, block_size, single)
