"""What fitted objects of this process keep of the rows an erasure request names.

:meth:`BaseStore.erase_rows` erases from the store; the fitted objects of the process
that read the rows (traced models, explainers, valuers, unlearners: see
:mod:`sktraceprop._holders`) keep their own copies, which no erasure reaches, and a
warning names them. The request's rows are looked for at every level of the merges
(``sktraceprop.merge``): an object fitted on merged rows keeps data of every row they
were merged from, and a request may name merged rows, or a merge's source, which an
object holds whole. A request by source looks for every row of the sources named, not
only those given to stored runs. Counts are of the request's rows, each once: an object
holding a merged row holds one row, whether the request named it, the lines behind it,
or both.
"""

import warnings

import numpy as np

from .._lineage._ids import codes_of, lines_of, pack
from .._lineage._merged_parents import levels
from ..exceptions import UnknownSourceError
from ..utils._stack import user_stacklevel


def _here(run, ids, registry):
    """``ids`` (in ``run``'s codes) in this process's codes, where it knows the source."""
    out = [np.zeros(0, np.int64)]
    codes = codes_of(ids)
    for code in np.unique(codes).tolist():
        source = run.sources.get(code)
        if source is None:
            continue
        try:
            mine = registry.code_of_key(source.key)
        except KeyError:
            continue
        out.append(pack(mine, lines_of(ids[codes == code])))
    return np.concatenate(out)


def run_rows_here(run, ids, hit, via_aggregate, removed_ids, removed_codes, registry):
    """``(removed, asked)`` of one stored run, in this process's codes (``registry``).

    ``asked``: the rows of the request behind the run's rows ``ids[hit]``, at any level
    of the merges (file lines, merged rows named, rows of a merge named whole), not the
    other parents of merged rows (an object holding those keeps nothing erased);
    ``removed``: the run's rows that joined an aggregate over erased rows
    (``via_aggregate``), which carry their data.
    """
    removed_codes = np.asarray(removed_codes, dtype=np.int64)
    rows = np.concatenate([ids[:0], *(r for _, r in levels(ids[hit], run.sources.__getitem__))])
    erased = rows[np.isin(rows, removed_ids) | np.isin(codes_of(rows), removed_codes)]
    return _here(run, ids[via_aggregate], registry), _here(run, np.unique(erased), registry)


def source_rows_here(source_ids, keys, registry):
    """The rows of the sources a request erases whole that objects of this process hold,
    themselves or behind merged rows, at any depth: the sources of ``keys`` (the stored
    ones named) and every version of ``source_ids`` this process read (``registry``)."""
    from .._holders import rows_held_of

    codes = set()
    for key in keys:
        try:
            codes.add(int(registry.code_of_key(key)))
        except KeyError:
            continue
    for name in source_ids:
        try:
            codes |= {int(v.code) for v in registry.versions(name)}
        except UnknownSourceError:
            continue
    return rows_held_of(codes) if codes else np.zeros(0, np.int64)


def warn_held_here(removed, asked, drop):
    """With ``drop`` (an erasure, not a dry run), have the fitted objects of this
    process that can drop rows (a :class:`~sktraceprop.KNNShapleyValuer`) drop the rows
    being erased, merged rows built from them included, as the process's own copies of
    the rows' loaded values go (whatever the store held); warn naming them, and those
    that still keep data of those rows (``removed`` and ``asked``: see
    :func:`sktraceprop._holders.held_elsewhere`). A dry run names them all as keeping
    data."""
    from .._holders import cache_advice, held_elsewhere

    dropped = {}
    held = (
        held_elsewhere(
            removed,
            exclude=(),
            asked=asked,
            dropped=dropped if drop else None,
            by="an erasure request (store.erase_rows)",
        )
        if removed.size or asked.size
        else {}
    )
    if dropped:
        named = ", ".join(f"{name} ({n} row(s))" for name, n in sorted(dropped.items()))
        # an explainer drops its whole fit, a valuer its values_ only: each told its own
        kinds = {"Explainer" in name.split(" in ")[0] for name in dropped}
        advice = [
            said
            for explainer, said in (
                (True, "an explainer's fit was dropped: fit it again on the rows kept"),
                (False, "a valuer's values_ were discarded: value() again"),
            )
            if explainer in kinds
        ]
        warnings.warn(
            f"fitted objects in this process dropped the rows being erased that they held: "
            f"{named} ({'; '.join(advice)})",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if held:
        named = ", ".join(f"{name} ({n} row(s))" for name, n in sorted(held.items()))
        warnings.warn(
            f"fitted objects in this process keep data of the rows being erased: {named}. "
            "Erasing from the store does not reach them (a model's steps fitted on the rows, "
            "an explainer's or valuer's copies): remove the rows from a model with "
            "GradientCorrectionUnlearner.unlearn(..., redact=reason), refit or discard the "
            f"others{cache_advice(held)}. Objects in other processes cannot be seen",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
