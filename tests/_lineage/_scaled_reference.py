"""The search for scaled columns as it was before it was made faster (session 51):
``find_scaled`` and ``_fit`` verbatim, NumPy only, the truth the faster search is
tested against (``test_scaled_fast.py``). The loaded candidates, the rounding and the
plausibility checks are the module's own (unchanged)."""

import numpy as np

from sktraceprop._lineage._scaled import MAX_COLUMNS, PROFILE, SAMPLED, Scaled
from sktraceprop._lineage._scaled_candidates import _candidates, _profile
from sktraceprop._lineage._scaled_fit import (
    ENDS,
    EPS,
    MAX_ENDS,
    MAX_RATIO,
    MIN_DISTINCT,
    PROBES,
    _nearest,
    _plausible,
    _tolerance,
)


def _fit(xs, cs, eps):
    ratio = xs.size / cs.size
    if ratio > MAX_RATIO:
        return None
    n_c = int(min(MAX_ENDS, max(ENDS, ENDS / ratio), cs.size // 2))
    n_x = int(min(MAX_ENDS, max(ENDS, ENDS * ratio), xs.size // 2))
    c1, x1, c2, x2 = (
        g.ravel() for g in np.meshgrid(cs[:n_c], xs[:n_x], cs[-n_c:], xs[-n_x:], copy=False)
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = (x2 - x1) / (c2 - c1)
        b = x1 - a * c1
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0)
    a, b = a[ok], b[ok]
    if not a.size:
        return None
    probe = cs[np.unique(np.linspace(0, cs.size - 1, PROBES).astype(np.intp))]
    score = np.empty(a.size, np.int64)
    for start in range(0, a.size, 4096):
        aa, bb = a[start : start + 4096, None], b[start : start + 4096, None]
        dist, _ = _nearest(xs, aa * probe[None, :] + bb)
        score[start : start + 4096] = (dist <= _tolerance(aa, bb, cs, xs, eps)).sum(axis=1)
    top = np.argsort(-score, kind="stable")[:16]
    aa, bb = a[top, None], b[top, None]
    dist, _ = _nearest(xs, aa * cs[None, :] + bb)
    hits = (dist <= _tolerance(aa, bb, cs, xs, eps)).sum(axis=1)
    k = int(np.argmax(hits))
    best = (int(hits[k]), float(aa[k, 0]), float(bb[k, 0]))
    if best[0] < MIN_DISTINCT:
        return None
    _, a0, b0 = best
    dist, at = _nearest(xs, a0 * cs + b0)
    inliers = dist <= _tolerance(a0, b0, cs, xs, eps)
    a1, b1 = np.polyfit(cs[inliers], xs[at[inliers]], 1)
    dist, _ = _nearest(xs, a1 * cs + b1)
    hits = int((dist <= _tolerance(a1, b1, cs, xs, eps)).sum())
    if hits < best[0]:
        a1, b1, hits = a0, b0, best[0]
    return float(a1), float(b1), hits


def find_scaled(matrix, eps=EPS):
    candidates = _candidates()
    if not candidates:
        return []
    rows = slice(None, None, max(1, -(-matrix.shape[0] // SAMPLED)))
    found = []
    for j in range(min(matrix.shape[1], MAX_COLUMNS)):
        values = matrix[rows, j]
        values = values[np.isfinite(values)]
        xs = np.unique(values)
        if xs.size < MIN_DISTINCT:
            continue
        profile = _profile(values)
        if profile is None:
            continue
        if any(np.isin(xs, cs).mean() > 0.5 for _, _, cs, _, _ in candidates):
            continue
        fits = []
        for source_id, name, cs, theirs, loaded_rows in candidates:
            if np.abs(profile - theirs).max() > PROFILE:
                continue
            fit = _fit(xs, cs, eps)
            if fit is None:
                continue
            share = min(1.0, matrix.shape[0] / loaded_rows)
            if _plausible(fit, values, xs, cs, eps, share):
                fits.append((source_id, name, fit[0], fit[1]))
        if len({(s, n) for s, n, _, _ in fits}) != 1:
            continue
        source_id, name, a, b = fits[0]
        if abs(a - 1) <= 1e-12 and abs(b) <= 1e-12 * max(1.0, np.abs(xs).max()):
            continue
        found.append(Scaled(j, source_id, name, a, b))
    return found
