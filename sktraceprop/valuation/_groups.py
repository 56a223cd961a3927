"""Training rows' values grouped per source and per preprocessing op.

The ops the training rows went through (:func:`fitted_ops`, at fit), and the tables of
:meth:`~sktraceprop.KNNShapleyValuer.by_source` and
:meth:`~sktraceprop.KNNShapleyValuer.by_op` built from a valuer's ``values_``.
"""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._lineage._current import changed_steps
from .._lineage._ids import codes_of
from .._lineage._io import lineage_frame
from .._lineage._labels import content_key, source_order
from .._lineage._op_rows import leaf_paths, name_only, positions_through
from .._lineage._record import collect_ops, upstream_ops
from .._lineage._upstream_outputs import identify
from .._lineage._upstream_rows import restrict_rows
from ..utils._prefit import unfrozen


def fitted_ops(sources, X, ids, transformer):
    """The ops the training rows ``X`` (row ids ``ids``, of ``sources``) went
    through: the steps fitted outside that their values tell, each limited to the
    rows it transformed, then ``transformer``'s (a valuer's ``transformer_``)."""
    upstream = upstream_ops(sources)
    if ids is not None:
        # each limited to the rows it transformed (one hospital's of a file)
        upstream = restrict_rows(identify(X, ids, sources, upstream), X, ids, sources)[0]
    ops = {op.fingerprint: replace(op) for op in upstream}
    transformer = unfrozen(transformer)
    lineage = getattr(transformer, "lineage_", None)
    if lineage is not None and not changed_steps(transformer, lineage):
        steps = lineage.ops
    elif lineage is not None:
        # Changed since its run (refitted outside a traced fit): the run's ops are
        # not what transforms the rows now; its fitted steps are.
        steps = collect_ops(getattr(transformer, "estimator_", transformer))
    elif transformer is not None:
        # A fitted transformer without its own run (e.g. ``pipe[:-1]``): its fitted
        # steps, applied to every row.
        steps = collect_ops(transformer)
    else:
        steps = []
    for op in steps:
        ops.setdefault(op.fingerprint, replace(op))
    return list(ops.values())


def lineage_rows(valuer):
    """The fitted ``valuer``'s training rows with their sources' codes (an alias
    code joined to the first of its content) and values; refused before
    :meth:`~sktraceprop.KNNShapleyValuer.value`."""
    check_is_fitted(valuer)
    check_is_fitted(
        valuer, "values_", msg="No values_ yet: call value(X_val, y_val) on this %(name)s."
    )
    frame = lineage_frame(valuer.row_ids_, valuer._sources.__getitem__)
    # a source is one content (versions of a source_id share the name); an alias
    # code (the same source coded in another process) joins the first code
    first = {}
    for code, source in sorted(valuer._sources.items()):
        first.setdefault(content_key(source), code)
    canonical = {code: first[content_key(s)] for code, s in valuer._sources.items()}
    codes = codes_of(frame["row_id"].to_numpy())
    frame["code"] = pd.Series(codes, index=frame.index).map(canonical)
    frame = frame.drop_duplicates(["row", "code"])
    frame["value"] = valuer.values_[frame["row"].to_numpy()]
    return frame


def source_values(valuer):
    """The table of :meth:`~sktraceprop.KNNShapleyValuer.by_source`."""
    frame = lineage_rows(valuer)
    grouped = frame.groupby("code", sort=False)["value"]
    # correctly rounded (math.fsum): a source's sum is that of its rows' values
    # whatever their order, so the sources concatenated in another order, or the
    # rows re-added by hand, give the same number bit for bit
    table = grouped.agg(n_rows="size", sum=math.fsum)
    table["mean"] = table["sum"] / table["n_rows"]
    sources = [valuer._sources[int(code)] for code in table.index]
    order = sorted(range(len(sources)), key=lambda i: source_order(sources[i]))
    several = [len(s.uris()) > 1 for s in sources]  # copies: which is not known
    head = pd.DataFrame(
        {
            "source_id": [s.source_id for s in sources],
            "uri": [None if k else s.uri for s, k in zip(sources, several)],
            "sha256": [s.sha256 for s in sources],
        }
    )
    if any(several):
        head["uris"] = pd.Series([tuple(s.uris()) for s in sources], dtype=object)
    out = pd.concat([head, table.reset_index(drop=True)], axis=1)
    # copies of one row (a row id given to fit more than once) each count in n_rows
    distinct = pd.Series(valuer.row_ids_[frame["row"].to_numpy()], index=frame.index)
    distinct = distinct.groupby(frame["code"], sort=False).nunique().reindex(table.index)
    note = repeated_rows_note(valuer.row_ids_)
    if note is not None:
        out.insert(out.columns.get_loc("n_rows") + 1, "n_distinct_rows", distinct.to_numpy())
        out.attrs["notes"] = [note]
    return out.iloc[order].reset_index(drop=True)


def repeated_rows_note(ids):
    """What :meth:`~sktraceprop.KNNShapleyValuer.by_source` says of training rows that
    are copies of one row (one row id at several positions: a sampler's copies, or one
    file read twice and concatenated), as the influence explainer's note says it
    (:func:`sktraceprop.influence._messages.repeated_rows_notes`); None where none is."""
    if ids.size < 2:
        return None
    _, counts = np.unique(ids, return_counts=True)
    repeated = counts[counts > 1]
    if not repeated.size:
        return None
    return (
        f"by_source: {int(repeated.sum())} of the {ids.size} training rows are copies of "
        f"{repeated.size} row(s) (one row id given to the fit more than once: by a "
        "sampler such as RandomOverSampler, or in the data, such as one file read twice "
        f"and concatenated; at most {int(repeated.max())} copies of one): each copy is "
        "valued apart, as one training row of the model. A source's n_rows counts every "
        "copy, its sum is the sum of its copies' values and its mean is over the copies; "
        "column n_distinct_rows counts each row (one row id) once."
    )


def op_values(valuer):
    """The table of :meth:`~sktraceprop.KNNShapleyValuer.by_op`, and the ops whose rows
    are not known (a source id several sources carry), in words."""
    lineage_rows(valuer)  # (checks that values were computed)
    paths = leaf_paths(valuer.row_ids_, valuer._sources.__getitem__)
    records, unknown = [], []
    for op in valuer.ops_:
        shared = name_only(op, valuer._sources)
        if shared:
            unknown.append(f"{op.name} (fitted on {', '.join(map(repr, shared))})")
            records.append(
                {
                    "op": op.name,
                    "cls": op.cls,
                    "fingerprint": op.fingerprint,
                    "sources": list(op.sources),
                    "n_rows": np.nan,
                    "sum": np.nan,
                    "mean": np.nan,
                }
            )
            continue
        hit = positions_through(op, valuer._sources, paths, valuer.n_samples_fit_)
        values = valuer.values_[hit]
        records.append(
            {
                "op": op.name,
                "cls": op.cls,
                "fingerprint": op.fingerprint,
                "sources": None if op.sources is None else list(op.sources),
                "n_rows": int(hit.sum()),
                "sum": math.fsum(values),  # correctly rounded, as by_source
                "mean": math.fsum(values) / values.size if values.size else np.nan,
            }
        )
    columns = ["op", "cls", "fingerprint", "sources", "n_rows", "sum", "mean"]
    return pd.DataFrame.from_records(records, columns=columns), unknown


def unknown_ops_warning(unknown):
    """What :meth:`KNNShapleyValuer.by_op` says of the ops ``unknown`` (their names) whose
    rows it cannot tell (see :func:`op_values`)."""
    return (
        f"by_op: ops {'; '.join(unknown)} record a source id that several sources "
        "of the training rows carry (other files or other contents of one file): "
        "which of them each op transformed is not recorded, and its n_rows, sum "
        "and mean are NaN. Read each file with its own source_id= to tell them "
        "apart."
    )
