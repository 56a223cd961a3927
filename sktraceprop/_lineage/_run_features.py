"""A run's features: the sources and aggregates behind each final-estimator feature.

The queries of :class:`~sktraceprop._lineage._run.Lineage` that read its
``feature_lineage`` (:meth:`feature_sources`, :meth:`target_features`,
:meth:`feature_aggregates`, ...), as a base class it takes them from, and
:func:`column_origins`, which follows one column of a source back to the loaded sources.
"""

import numpy as np

from ._ids import codes_of
from ._target_name import TARGET


class _LineageFeatures:
    """The feature queries of :class:`~sktraceprop._lineage._run.Lineage`
    (``feature_lineage``, ``sources``, ``renamed_columns`` and ``attached_columns`` are
    its fields)."""

    def _column_origins(self, code, column):
        """Leaf sources (and the aggregates passed on the way) behind one column."""
        return column_origins(self.sources, code, column)

    def _feature_origins(self):
        top = [int(c) for c in np.unique(codes_of(self.row_ids))]
        out = {}
        for feature, columns in self.feature_lineage.items():
            leaves, aggregates = set(), set()
            attached = self.attached_sources()
            for column in columns or ():
                own = set()
                for code in top:
                    sub_leaves, sub_aggs = self._column_origins(code, column)
                    own |= sub_leaves
                    aggregates |= sub_aggs
                # (per column: a feature of a sourced column and a renamed one names both;
                # per source: rows of one source holding it by name, rows of another
                # holding a column renamed to it (a concat), name both)
                for code, loaded in self.renamed_columns.get(column, ()):
                    if self._column_origins(code, column)[0]:
                        continue  # (that source holds it by name)
                    sub_leaves, sub_aggs = self._column_origins(code, loaded)
                    own |= sub_leaves
                    aggregates |= sub_aggs
                # (a loaded column overwritten with another source's: both)
                leaves |= own | set(attached.get(column, ()))
            out[feature] = (sorted(leaves), sorted(aggregates))
        return out

    def feature_sources(self):
        """Each final-estimator feature -> the sources that hold its input columns.

        Through a merge, a column names the side it came from; through an aggregate, it
        names every source the aggregate was computed over; a column renamed outside the
        pipeline, the source of the loaded column its values were identified as
        (:attr:`renamed_columns`); a column attached by position from another loaded
        source, that source (:attr:`attached_columns`). A feature whose lineage is
        unknown (``None`` in :attr:`feature_lineage`) maps to an empty list, and so does
        one that depends on no input column (tell them apart there); the target names
        no source here (see :meth:`target_features`).
        """
        return {f: leaves for f, (leaves, _) in self._feature_origins().items()}

    def attached_sources(self):
        """Input column -> the source ids of the loaded columns it was identified as
        holding by position (:attr:`attached_columns`), sorted."""
        out = {}
        for entry in self.attached_columns:
            out.setdefault(entry["input_column"], set()).add(entry["source_id"])
        return {c: sorted(ids) for c, ids in out.items()}

    def target_features(self):
        """Final-estimator features computed from the target of the training rows.

        A target encoding, a supervised feature selection or a stacked model's
        predictions: each row's value (or whether the feature is there at all) depends
        on the targets of every training row, of every source, so removing rows changes
        it for the rows that remain.
        """
        return [f for f, columns in self.feature_lineage.items() if TARGET in (columns or ())]

    def feature_aggregates(self):
        """Each final-estimator feature -> the aggregate sources it was computed through.

        A feature computed from an aggregate (a group statistic joined back to rows)
        carries information from every row of the group, including rows of other
        sources: removing a source must refit or recompute these features.
        """
        return {f: aggs for f, (_, aggs) in self._feature_origins().items() if aggs}


def column_origins(sources, code, column, through=()):
    """Leaf sources (and the aggregates passed on the way) behind ``column`` of the
    source ``code``; ``sources`` maps codes to :class:`Source` (empty sets if unknown)."""
    source = sources.get(int(code))
    if source is None:
        return set(), set()
    if not source.derived:
        return ({source.source_id} if column in source.columns_read() else set()), set()
    refs = (source.columns_from or {}).get(column, [])
    leaves, aggregates = set(), set()
    if source.kind == "aggregate":
        aggregates.add(source.source_id)
    for parent, parent_column in refs:
        if (int(parent), parent_column) in through:
            continue
        sub_leaves, sub_aggs = column_origins(
            sources, parent, parent_column, (*through, (int(code), column))
        )
        leaves |= sub_leaves
        aggregates |= sub_aggs
    return leaves, aggregates
