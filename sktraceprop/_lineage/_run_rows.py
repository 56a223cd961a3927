"""A run's training rows: where each came from, the ops it went through, and which
depend on removed rows.

The queries of :class:`~sktraceprop._lineage._run.Lineage` that read its row ids
(:meth:`trace`, :meth:`source_counts`, :meth:`depends_on`, ...), as a base class it
inherits, so that the record itself (``_run.py``) stays apart from what is asked of it.
"""

import warnings

import numpy as np
import pandas as pd

from ..exceptions import LineageError, LineageWarning, UnknownSourceError
from ..utils._stack import user_stacklevel
from ._depends_on import depends_on
from ._erasures_seen import erased_in_run, with_erasures
from ._file_digests import PROCESS_DIGESTS
from ._file_state import with_file_states
from ._labels import row_groups, source_labels
from ._lineage_frame import lineage_frame
from ._op_rows import entries_through, leaf_paths, name_only

# the words of the note a run holds when a sampler without ``sample_indices_`` stood
# before its final estimator (written by ``_fitted_ops.resample_ids``, kept in stores)
UNTRACED_SAMPLER_NOTE = "has no sample_indices_: it may create synthetic rows"


class _LineageRows:
    """The row queries of :class:`~sktraceprop._lineage._run.Lineage` (``row_ids``,
    ``sources`` and ``ops`` are its fields)."""

    def source(self, code):
        try:
            return self.sources[int(code)]
        except KeyError:
            raise UnknownSourceError(
                f"run {self.run_id} has no source with code {int(code)}"
            ) from None

    @property
    def n_samples(self):
        return int(self.row_ids.shape[0])

    def source_ids(self):
        """Source ids of the training rows, in code order."""
        return [self.sources[c].source_id for c in sorted(self.sources)]

    def _untraced_sampler(self):
        """The sampler named by the run's note when one without ``sample_indices_`` stood
        before the final estimator (``"sampler step 'smote' (SMOTE)"``), else None: the
        run's row ids are then the rows given to fit, not its training rows by position."""
        for note in self.notes:
            if UNTRACED_SAMPLER_NOTE in note:
                return note.split(f" {UNTRACED_SAMPLER_NOTE}")[0]
        return None

    @property
    def _position_name(self):
        # the rows given to fit are not labelled as the final estimator's positions
        return "train_index" if self._untraced_sampler() is None else "fit_index"

    def rows(self, *, store=None):
        """Source, URI and line of every training row (``train_index`` = position).

        Parameters
        ----------
        store : store, default=None
            The store whose erasure requests (``store.erase_rows``) to check the rows
            against (the store the run was saved in). None: checked only against the
            requests made in this process (their rows True, naming them in
            ``frame.attrs["erasures_requests_here"]``); every other row says ``<NA>``
            (a request made elsewhere is recorded only in its store).

        Returns
        -------
        rows : DataFrame
            Columns ``train_index`` (position in the final estimator's training set),
            ``row_id``, ``source_id``, ``uri`` and ``line`` (``via`` for merged rows),
            and ``erased`` (nullable boolean, as in :meth:`trace`: True where the row
            is, or was built from, a row that an erasure request recorded in ``store``
            named (or, given no store, one made in this process), False where none did,
            ``<NA>`` where not known (no store given and no request made here named it);
            ``frame.attrs["erasures_checked"]`` and ``frame.attrs["erasures_note"]``
            say which).
            Where a sampler without ``sample_indices_`` (SMOTE, SMOTEENN,
            ClusterCentroids) stood before the final estimator, which rows it was
            fitted on is not recorded: the rows are those given to fit, their first
            column ``fit_index`` (position among the rows given to fit), and a
            :class:`~sktraceprop.exceptions.LineageWarning` says so.

        Warns
        -----
        ErasedRowsHeldWarning
            When ``store`` records an erasure request of some of the rows: their lines
            are shown (the run still holds their ids), marked in ``erased``.
        """
        sampler = self._untraced_sampler()
        if sampler is not None:
            warnings.warn(
                f"rows(): {sampler} of run {self.run_id} has no sample_indices_, so which "
                "rows the final estimator was fitted on is not recorded (a row the sampler "
                "made has no file line). These are the rows given to fit, by their position "
                "among them (fit_index), not the training rows (as trace() refuses them).",
                LineageWarning,
                stacklevel=user_stacklevel(),
            )
        frame = self._rows_frame()
        at = frame[self._position_name].to_numpy()
        hit, seqs = erased_in_run(store, self, self.row_ids)
        return with_erasures(frame, at, hit, seqs, store, "rows")

    def _rows_frame(self):
        return lineage_frame(self.row_ids, self.source, position_name=self._position_name)

    def source_counts(self):
        """Number of training rows per leaf source (a merged row counts for each parent).

        Where a sampler without ``sample_indices_`` (SMOTE, SMOTEENN, ClusterCentroids)
        stood before the final estimator, these are the rows given to fit (the
        Series is named ``fit_index``, not ``train_index``): which rows it was fitted on
        is not recorded (see :meth:`rows`).

        A source is one content, not a name: two files read under one ``source_id``
        (two folders' ``data.csv``, both ``data`` by default) or two contents of one
        edited file are counted apart. The index holds the source id, and where several
        sources share one, ``"source_id [first 12 digits of the sha256]"`` (see
        :func:`sktraceprop._lineage._labels.source_labels`), sorted.
        """
        if any(s.derived for s in self.sources.values()):
            frame = self._rows_frame()
            group, sources = row_groups(frame["row_id"].to_numpy(), self.source)
            pairs = np.unique(frame[self._position_name].to_numpy() * len(sources) + group)
            counts = np.bincount(pairs % len(sources), minlength=len(sources))
        else:
            # No merges: count codes directly instead of building a frame of every row.
            group, sources = row_groups(self.row_ids, self.source)
            counts = np.bincount(group, minlength=len(sources))
        index = pd.Index(source_labels(sources), name="source_id")
        return pd.Series(counts, index=index, name=self._position_name).sort_index()

    def trace(self, indices, *, store=None):
        """Source, URI, line and ops of the given training rows.

        Parameters
        ----------
        indices : int or array-like of int
            Positions in the final estimator's training set.
        store : store, default=None
            The store whose erasure requests (``store.erase_rows``) to check the rows
            against (the store the run was saved in). None: checked only against the
            requests made in this process (their rows True, naming them in
            ``frame.attrs["erasures_requests_here"]``); every other row says ``<NA>``
            (a request made elsewhere is recorded only in its store).

        Returns
        -------
        trace : DataFrame
            Columns ``train_index``, ``row_id``, ``source_id``, ``uri``, ``line``
            (``via`` for merged rows; ``uris``, with ``uri`` empty, for a file read from
            several paths when the fit did not know which its rows came from: see
            :func:`sktraceprop.row_lineage`) and ``ops``: the step names the row went through
            (an op fitted on some sources only is listed where the row, a merge it was
            built through, or the leaf row is of one of them: matched by content, so
            two files read under one source_id are told apart; and, where it transformed
            some of their rows only, one of those: ``Op.rows``). Ops of other fitted
            states that share a name (a scaler per file, both ``"standardscaler@data"``)
            are named ``"name [fingerprint[:12]]"``. ``file_state`` says whether the
            row's file still holds the bytes read (``"unchanged"``, ``"changed"``,
            ``"missing"``, ``"unreadable"``; ``"not a file"`` for rows of frames, arrays
            and aggregates): see :func:`sktraceprop.row_lineage`. ``erased``
            (nullable boolean): True where the training row is, or was built from, a
            row that an erasure request recorded in ``store`` named, False where none
            did, ``<NA>`` where no store was given; ``frame.attrs["erasures_checked"]``
            and ``frame.attrs["erasures_note"]`` say which.

        Raises
        ------
        LineageError
            When a sampler without ``sample_indices_`` (SMOTE, SMOTEENN,
            ClusterCentroids) stood before the final estimator: its training rows are
            not known by position, and the run holds the rows given to fit.

        Warns
        -----
        LineageWarning
            When a file behind the rows no longer holds the bytes read (edited,
            replaced, deleted): its lines may now hold other rows.
        LineageWarning
            When an op of a run recorded before ops kept their sources' contents names
            a source id that several sources of the run carry (two folders'
            ``data.csv``, two contents of one file): it is then listed for the rows of
            each.
        ErasedRowsHeldWarning
            When ``store`` records an erasure request of some of the rows: their lines
            are shown (the run still holds their ids), marked in ``erased``.
        """
        return self._trace(indices, store)

    def _trace(self, indices, store, *, warn=True):
        sampler = self._untraced_sampler()
        if sampler is not None:
            # its row ids are the rows given to fit: position i of them is not the final
            # estimator's row i (SMOTEENN drops and adds rows, ClusterCentroids makes all)
            raise LineageError(
                f"run {self.run_id} cannot name the final estimator's training rows by "
                f"position: {sampler} has no sample_indices_, so which rows the final "
                "estimator was fitted on, and in which order, is not recorded (a row the "
                "sampler made has no file line). The run lists the rows given to fit, not "
                "by their place in the training set; stp.row_lineage(X) names the lines "
                "of the rows X given to fit holds. Use a sampler that records "
                "sample_indices_ (RandomUnderSampler, RandomOverSampler) to trace them."
            )
        indices = np.atleast_1d(np.asarray(indices))
        if indices.dtype.kind not in "iu":
            raise TypeError(f"trace expects integer positions, got dtype {indices.dtype}")
        n = self.n_samples
        bad = indices[(indices < -n) | (indices >= n)]
        if bad.size:
            raise IndexError(
                f"training row {int(bad[0])} out of range: the model was fitted on {n} rows"
            )
        indices = np.where(indices < 0, indices + n, indices)
        ids = self.row_ids[indices]
        frame = lineage_frame(ids, self.source, position_name="train_index")
        ops = self._ops_by_leaf(ids)
        frame["ops"] = [
            ops[(int(p), int(r))]
            for p, r in zip(frame["train_index"].to_numpy(), frame["row_id"].to_numpy())
        ]
        local = frame["train_index"].to_numpy()
        frame["train_index"] = indices[local]
        self._warn_shared_op_sources()
        frame = with_file_states(frame, self.source, "trace", digests=PROCESS_DIGESTS)
        hit, seqs = erased_in_run(store, self, ids)
        return with_erasures(frame, local, hit, seqs, store, "trace", warn=warn)

    def _ops_by_leaf(self, ids):
        """``{(position in ids, leaf row id): [op names]}``, in the order of the ops."""
        paths = leaf_paths(ids, self.source)
        pos, leaves = paths[:2]
        hits = np.zeros((pos.size, len(self.ops)), dtype=bool)
        for j, op in enumerate(self.ops):
            hits[:, j] = entries_through(op, self.sources, paths)
        # one leaf reached twice (through two merges): the ops of both ways
        keys, inverse = np.unique(np.stack([pos, leaves], axis=1), axis=0, return_inverse=True)
        found = np.zeros((len(keys), len(self.ops)), dtype=bool)
        np.logical_or.at(found, inverse.ravel(), hits)
        names = np.array(op_labels(self.ops), dtype=object)
        return {(int(p), int(r)): list(names[f]) for (p, r), f in zip(keys, found)}

    def _warn_shared_op_sources(self):
        shared = [
            f"{op.name} (fitted on {', '.join(map(repr, ids))})"
            for op in self.ops
            if (ids := name_only(op, self.sources))
        ]
        if shared:
            warnings.warn(
                f"trace: ops {'; '.join(shared)} name a source id that several sources of "
                "the training rows carry (other files or other contents of one file); the "
                "run was recorded before ops kept their sources' contents (SHA-256), so "
                "each is listed for the rows of each, including rows it may not have "
                "transformed. Refit to record them, or read each file with its own "
                "source_id= to tell them apart.",
                LineageWarning,
                stacklevel=user_stacklevel(),
            )

    def depends_on(self, removed_ids=None, removed_sources=None):
        """Which training rows were built from removed rows, directly or through aggregates.

        Parameters
        ----------
        removed_ids : array-like of int64, default=None
            Row ids being removed: file lines, or merged rows removed whole (training
            rows built by :func:`sktraceprop.merge`).
        removed_sources : iterable of str, default=None
            Source ids being removed whole (every version).

        Returns
        -------
        row : ndarray of bool of shape (n_samples,)
            True where a training row is a removed row, was merged from one, or joins an
            aggregate computed over one.
        via_aggregate : ndarray of bool of shape (n_samples,)
            True where the dependence is only through an aggregate.
        """
        names = set(removed_sources or ())
        codes = [c for c, s in self.sources.items() if s.source_id in names]
        return depends_on(self.row_ids, self.source, removed_ids, codes)


def op_labels(ops):
    """The ops' names, each as ``"name [fingerprint[:12]]"`` where ops of another fitted
    state share it (one scaler per file of one source id: both ``standardscaler@data``),
    so that a row's list says which of them it went through."""
    prints = {}
    for op in ops:
        prints.setdefault(op.name, set()).add(op.fingerprint)
    return [
        op.name if len(prints[op.name]) == 1 else f"{op.name} [{op.fingerprint[:12]}]"
        for op in ops
    ]
