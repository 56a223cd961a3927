"""Steps fitted outside the model on sources that held removed rows.

A transformer wrapped in :class:`~sktraceprop.TracedEstimator` and applied before the
pipeline (one scaler per hospital, say) is recorded as an op of the sources it was
applied to (``Op.sources``). When rows of such a source are removed, the retained rows
of those sources still hold values that step computed with what it learnt from the
removed rows (a scaler's mean and scale, an encoder's categories): no correction of the
model reaches them. The rows the step was fitted on are not recorded, only its sources,
so such a step *may* carry the removed rows; the removal's record names it. So are input
columns changed after loading by pandas code the library could not see
(:func:`changed_columns_caveat`).
"""

import numpy as np

from .._lineage._witness import describe

__all__ = [
    "changed_columns_caveat",
    "outside_steps_caveat",
    "outside_steps_over",
    "unsourced_columns_caveat",
]


def outside_steps_over(ops, removed_sources, rows, sources):
    """``{op name: n}``: how many retained training rows come from the sources of each
    step fitted outside the model on a source of the removed rows.

    Parameters
    ----------
    ops : iterable of Op
        Steps applied outside the model (their ``sources`` set), repeats allowed.
    removed_sources : set of str
        Source ids of the removed rows (leaf sources of merged rows).
    rows, sources : ndarray
        Position of a retained training row and the id of one of its (leaf) sources,
        one entry per pair.
    """
    touched = {}
    for op in ops:
        if op.sources and set(op.sources) & removed_sources:
            touched.setdefault(op.name, op)
    out = {}
    for name, op in sorted(touched.items()):
        n = np.unique(rows[np.isin(sources, list(op.sources))]).size
        if n:
            out[name] = int(n)
    return out


def outside_steps_caveat(steps):
    """The caveat and warning naming those steps."""
    n = max(steps.values())
    names = ", ".join(f"{k!r} ({v} rows)" for k, v in steps.items())
    return (
        f"{n} retained training row(s) went through step(s) fitted outside the model "
        f"(TracedEstimator) on sources that held removed rows: {names}. What such a step "
        "learnt from the removed rows (a scaler's mean and scale, an encoder's categories) "
        "may still be in those rows' values, which no correction of the model removes: "
        "refit the step without them and refit the model, or make the step part of the "
        "pipeline, where unlearning refits it"
    )


def changed_columns_caveat(changed):
    """The caveat and warning naming input columns changed after loading (the witness
    rows of :mod:`sktraceprop._lineage._witness`), outside the pipeline."""
    return (
        f"input column(s) {describe(changed)} hold values that differ from what was "
        "loaded: they were changed before the fit, outside the pipeline, and the run does "
        "not record how. "
        "Where values moved between rows or were computed over rows (shift, ffill/bfill, "
        "fillna with a mean, rolling, groupby().transform, a column replaced under the "
        "same name), retained rows may "
        "still carry the removed rows' values, which no correction of the model removes: "
        "recompute those columns without the removed rows and refit, or compute them in "
        "the pipeline, where unlearning refits them"
    )


def unsourced_columns_caveat(columns):
    """The caveat and warning naming input columns that no source of the training rows
    holds: computed outside the pipeline, from anything (other rows included)."""
    return (
        f"input column(s) {', '.join(columns)} are in none of the sources of the training "
        "rows: they were computed or renamed outside the pipeline, and the run does not "
        "record from what. Where they were computed over rows (shift, rolling, a join, "
        "groupby().transform), retained rows may still carry the removed rows' values, "
        "which no correction of the model removes: recompute them without the removed "
        "rows and refit, or compute them in the pipeline, where unlearning refits them"
    )
