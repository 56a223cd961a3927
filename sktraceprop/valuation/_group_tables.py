"""A valuer's values summed and averaged per source and per preprocessing op."""

import warnings

from .._model_lock import shared as shared_use
from ..exceptions import LineageWarning
from ._erased import said_by_call, warn_erased_valued
from ._groups import op_values, source_values, unknown_ops_warning

__all__ = ["GroupTablesMixin"]


class GroupTablesMixin:
    """``by_source`` and ``by_op`` of :class:`~sktraceprop.KNNShapleyValuer`."""

    def by_source(self):
        """Values of the training rows summed and averaged per source.

        A source is one content (SHA-256): two files read under one ``source_id`` (two
        folders' ``data.csv``, both named ``data`` by default) or two versions of one
        file are two rows of the table, told apart by ``uri`` and ``sha256``. A row
        built by :func:`sktraceprop.merge` counts, with its full value, toward each
        source of its parents; with merges the per-source sums can therefore add up to
        more than the total.

        Returns
        -------
        table : DataFrame
            Columns ``source_id``, ``uri``, ``sha256``, ``n_rows``, ``sum`` and
            ``mean`` of the values in ``values_``, one row per source, sorted by
            ``source_id``, then ``uri``, then load time. A file read from several
            paths (copies under one ``source_id``) whose rows given to fit did not
            carry the path they were read from (see :func:`sktraceprop.row_lineage`)
            has no ``uri``, and a ``uris`` column lists its paths (each holding the
            same bytes). ``n_rows`` counts training rows: where one row id was given
            to fit more than once (a sampler's copies, one file read twice and
            concatenated), each copy is one training row, valued apart, and counts;
            its source's ``sum`` is the sum over the copies and ``mean`` is over
            them. A column ``n_distinct_rows`` then counts each row once, and a
            :class:`~sktraceprop.exceptions.LineageWarning` (also in
            ``table.attrs["notes"]``) says how many rows are copies.
        """
        # never during a fit of this valuer (see fit); erased rows said once, below
        with shared_use(self), said_by_call():
            table = source_values(self)
            warn_erased_valued(self, f"{type(self).__name__}.by_source")
        for note in table.attrs.get("notes", ()):
            warnings.warn(note, LineageWarning, stacklevel=2)
        return table

    def by_op(self):
        """Values of the training rows summed and averaged per preprocessing op.

        A row counts toward an op when the op was fitted on the row's source (a
        :class:`~sktraceprop.TracedEstimator` fitted on one source, e.g. a scaler per
        hospital before concatenation; for a merged row, on a parent's source or on the
        merge), or when the op is a step of ``transformer`` (applied to every row). A
        row counts toward every op it went through, so the sums over ops need not add
        up to the total. A group's sum is the sum of its rows' Shapley values, not the
        Shapley value of the group as a single player.

        An op records the sources it was fitted on by content (``source_id`` and
        SHA-256), so of two folders' ``data.csv`` read without ``source_id=`` (or two
        versions of a file) only the rows of the one it was fitted on count toward it.
        An op recorded before ops kept their sources' contents names source ids only:
        when several sources of the training rows carry one of them, which of them the
        op transformed is not known, and its ``n_rows``, ``sum`` and ``mean`` are NaN,
        with a warning.

        Returns
        -------
        table : DataFrame
            Columns ``op`` (step name), ``cls``, ``fingerprint``, ``sources`` (the
            sources the op was fitted on, ``None`` for every row), ``n_rows``, ``sum``
            and ``mean``, one row per op, in the order of ``ops_``.
        """
        # never during a fit of this valuer (see fit); erased rows said once, below
        with shared_use(self), said_by_call():
            table, unknown = op_values(self)
            warn_erased_valued(self, f"{type(self).__name__}.by_op")
            if unknown:
                warnings.warn(unknown_ops_warning(unknown), UserWarning, stacklevel=2)
            return table
