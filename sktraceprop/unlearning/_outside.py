"""Steps fitted outside the model on sources that held removed rows.

A transformer wrapped in :class:`~sktraceprop.TracedEstimator` and applied before the
pipeline (one scaler per hospital, say) is recorded as an op of the sources it was
applied to (``Op.sources``, by content ``Op.source_keys``). When rows of such a source
are removed, the retained rows of those sources still hold values that step computed
with what it learnt from the removed rows (a scaler's mean and scale, an encoder's
categories): no correction of the model reaches them. The rows the step was fitted on
are not recorded, only its sources, so such a step *may* carry the removed rows; the
removal's record names it. So are input
columns changed after loading by pandas code the library could not see
(:func:`changed_columns_caveat`).
"""

from collections import Counter

from .._lineage._op_rows import leaf_paths, positions_through
from .._lineage._witness import describe, sample_words

__all__ = [
    "changed_columns_caveat",
    "outside_steps_caveat",
    "outside_steps_over",
    "unsourced_columns_caveat",
]


def outside_steps_over(ops, sources, source_of, removed_ids, retained_ids):
    """``{op: n}``: how many retained training rows went through each step fitted outside
    the model that removed rows went through too.

    A row went through a step when a source on its way (its own, a merge it was built
    through, a leaf row's) is one the step was fitted on: matched by ``source_id`` and
    SHA-256, so a step fitted on one folder's ``data.csv`` is not another's (ops of runs
    recorded before they kept their sources' contents are matched by source id, see
    :mod:`sktraceprop._lineage._op_rows`). Two steps of one name (a scaler per file of
    one source id) are told apart by their fingerprint: ``"name [fingerprint[:12]]"``,
    whether or not both went through removed rows.

    Parameters
    ----------
    ops : iterable of Op
        Steps applied outside the model (their ``sources`` set), repeats allowed.
    sources : dict of int to Source
        The sources of the training rows (merge parents included), by code.
    source_of : callable
        Code -> Source, with the parents of merged sources.
    removed_ids, retained_ids : ndarray of int64
        The removed and the retained training rows.
    """
    steps = {op.fingerprint: op for op in ops if op.sources}
    if not steps:
        return {}
    removed = leaf_paths(removed_ids, source_of)
    retained = leaf_paths(retained_ids, source_of)
    counts = {}
    for op in steps.values():
        if not positions_through(op, sources, removed, len(removed_ids)).any():
            continue
        n = int(positions_through(op, sources, retained, len(retained_ids)).sum())
        if n:
            counts[op.fingerprint] = n
    names = Counter(op.name for op in steps.values())
    out = {
        (steps[f].name if names[steps[f].name] == 1 else f"{steps[f].name} [{f[:12]}]"): n
        for f, n in counts.items()
    }
    return dict(sorted(out.items()))


def outside_steps_caveat(steps):
    """The caveat and warning naming those steps."""
    n = max(steps.values())
    names = ", ".join(f"{k!r} ({v} rows)" for k, v in steps.items())
    return (
        f"{n} retained training row(s) went through step(s) fitted outside the model "
        f"(TracedEstimator) on sources behind the removed rows (their own, or for removed "
        f"merged rows the sources they were merged from): {names}. What such a step "
        "learnt from those sources' rows (a scaler's mean and scale, an encoder's "
        "categories) may still be in the retained rows' values, which no correction of the "
        "model removes (for a source that only joined removed merged rows, the step saw "
        "none of the data asked to be removed, only the rows it was merged with): "
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
        "the pipeline, where unlearning refits them. " + sample_words()
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
