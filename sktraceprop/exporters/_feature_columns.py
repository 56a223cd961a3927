"""Which source columns each final-estimator feature derives from, through merges and aggregates.

:meth:`sktraceprop.Lineage.feature_sources` names the sources behind a feature; an
export also needs the column in each source (a merge may rename ``bp`` to ``bp_x``).
This walk follows the same records (``columns_from`` of derived sources) and keeps the
column names and the derived sources passed on the way.
"""

from dataclasses import dataclass, field

import numpy as np

from .._lineage._ids import codes_of
from .._lineage._target_name import TARGET


@dataclass
class FeatureInputs:
    """Where one feature's values come from.

    Attributes
    ----------
    leaves : dict of (int, str) to set of int
        ``(source code, column)`` of each leaf source column -> the codes of the derived
        sources (merges, aggregates) it reached the feature through.
    aggregates : set of str
        Every aggregate source passed on the way, as
        :meth:`~sktraceprop.Lineage.feature_aggregates` names them.
    unresolved : list of str
        Input columns of the feature found in no source (a column computed after
        loading, say): the feature also depends on something the run cannot name.
    target : bool
        Whether the feature was computed from the target of the training rows (its
        lineage lists ``"<target>"``: a target encoding, a supervised selection).
    """

    leaves: dict = field(default_factory=dict)
    aggregates: set = field(default_factory=set)
    unresolved: list = field(default_factory=list)
    target: bool = False


def _walk(run, code, column, through, out, via):
    source = run.sources.get(int(code))
    if source is None:
        return False
    if not source.derived:
        if column not in source.columns_read():
            return False
        out.leaves.setdefault((int(code), column), set()).update(via)
        return True
    if source.kind == "aggregate":
        out.aggregates.add(source.source_id)
    found = False
    for parent, parent_column in (source.columns_from or {}).get(column, []):
        if (int(parent), parent_column) in through:
            continue
        found |= _walk(
            run,
            parent,
            parent_column,
            (*through, (int(code), column)),
            out,
            (*via, int(code)),
        )
    return found


def feature_inputs(run):
    """Each feature of ``run.feature_lineage`` -> :class:`FeatureInputs`, or None if unknown.

    Parameters
    ----------
    run : Lineage

    Returns
    -------
    inputs : dict of str to FeatureInputs or None
        None where the run records the feature's lineage as unknown.
    """
    top = [int(c) for c in np.unique(codes_of(run.row_ids))]
    result = {}
    for feature, columns in run.feature_lineage.items():
        if columns is None:
            result[feature] = None
            continue
        out = FeatureInputs()
        for column in columns:
            if column == TARGET:
                out.target = True
                continue
            found = False
            for code in top:
                found |= _walk(run, code, column, (), out, ())
            for code, loaded in run.renamed_columns.get(column, ()) if not found else ():
                found |= _walk(run, int(code), loaded, (), out, ())  # (identified by values)
            if not found:
                out.unresolved.append(column)
        result[feature] = out
    return result
