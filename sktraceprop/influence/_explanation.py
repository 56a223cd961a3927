"""Explanation: influence scores mapped to training rows, source files and lines."""

import numpy as np

from .._erasures_unreachable import said_once
from .._lineage._erasures_seen import with_erasures
from .._lineage._file_digests import PROCESS_DIGESTS
from .._lineage._file_state import with_file_states
from .._lineage._source import REGISTRY
from .._state_format import RecordedFormatMixin
from ._explanation_rows import source_table, top_table, trace_row
from ._of_fit import OF_FIT, OfFit, held_privately, warn_erased_scored

__all__ = ["Explanation"]

#: How to check the rows no request made here named, where the model has no store.
_ADVICE = "fit the explained model with store= (where erasure requests are recorded) to check them"


class Explanation(RecordedFormatMixin):
    """Influence of training rows on test predictions, traced to files and lines.

    Returned by :meth:`InfluenceExplainer.explain`; not built by users.

    Attributes
    ----------
    scores : ndarray of shape (n_test, n_train) or None
        ``scores[j, i]``: change of test row ``j``'s margin caused by training row ``i``
        (positive: the row raises the margin, i.e. supports the explained class). None
        when the full matrix was not kept (only ``top_k`` was asked on a large problem).
    margins : ndarray of shape (n_test,)
        The margins explained (true-class margin, or the prediction of a regressor).
    y : ndarray of shape (n_test,) or None
        The classes explained (given, or predicted when ``y=None``).
    top_indices : ndarray of shape (n_test, top_k)
        Training positions of the ``top_k`` largest scores per test row, best first;
        equal scores (copies of one row) in order of training position.
    top_scores : ndarray of shape (n_test, top_k)
    bottom_indices, bottom_scores : ndarray of shape (n_test, top_k)
        The ``top_k`` most negative scores (opponents), most negative first.
    source_scores : DataFrame of shape (n_test, n_sources)
        Sum of the scores of each source's training rows, per test row. A source is
        one content, not a name: two files read under one ``source_id`` (two folders'
        ``data.csv``, both ``data`` by default) or two contents of one edited file are
        two columns. Columns are labelled by source id, and where several sources share
        one, by ``"source_id [first 12 digits of the sha256]"`` (the ``label`` column of
        :meth:`by_source`). A row built by :func:`sktraceprop.merge` counts, with its
        full score, toward each source of its parents, so with merges the columns can
        add up to more than the total.
    model_fingerprint : str
        SHA-256 fingerprint of the explained model (class, parameters and fitted
        state), as recorded by the explainer's ``fit``; for a traced pipeline it equals
        the run's ``lineage_.model_fingerprint``.
    notes : list of str
        What the scores do not include, in words: for a pipeline, the preprocessing
        steps that learned from the training rows and are held fixed (empty when
        there are none), training rows whose leverage makes a refit without them
        move the margins more than twice their score, and training rows that share one
        file line (copies an over-sampler made, rows a one-to-many merge built from one
        parent line), whose line's effect is the sum of their scores; for a model
        fitted before the explainer whose training rows nothing records (a bare
        estimator, no traced run), that the rows of ``X`` given to ``fit`` are taken as
        its training rows.

    Notes
    -----
    Where a removal (:meth:`~sktraceprop.GradientCorrectionUnlearner.unlearn`) or an
    erasure request (:meth:`~sktraceprop.stores.BaseStore.erase_rows`) drops the
    explainer's fit that scored this explanation (it held removed rows), everything the
    explanation holds of that fit is of a model the removed rows trained: ``scores``,
    ``margins``, ``y``, ``top_indices``, ``top_scores``, ``bottom_indices``,
    ``bottom_scores``, ``source_scores``, ``notes``, :attr:`train_rows`, :meth:`top`,
    :meth:`by_source` and :meth:`trace` then raise ``ValueError`` naming the removal
    (fit the explainer again on the rows kept, and explain again), and its pickle holds
    none of them, nor its training rows' ids and lines. ``n_test`` and
    ``model_fingerprint`` stay readable.

    An erasure that could not drop that fit (the explanation was pickled before it and
    loaded after, in this process or another, or it was made by another process) is
    found in the explained model's store, or among the requests made in this process:
    each of those accessors then warns
    (:class:`~sktraceprop.exceptions.ErasedRowsHeldWarning`, naming the erasure event:
    its numbers were computed from the erased rows' data; refit the model and the
    explainer on the rows kept, or discard it), :meth:`top` and :attr:`train_rows`
    mark the rows erased, and :meth:`trace` withholds an erased row's values. Where
    that store cannot be read (its file moved or deleted, another machine), each warns
    that whether rows were erased is not known
    (:class:`~sktraceprop.exceptions.ErasuresUnknownWarning`), marks them ``<NA>`` and
    withholds the values :meth:`trace` would hand out.
    """

    # 2: the attributes of OF_FIT kept as _name (read through OfFit)
    _state_format = 2  # (its pickle records it: see _state_format)
    _state_upgrades = {1: held_privately}

    scores = OfFit()
    margins = OfFit()
    y = OfFit()
    top_indices = OfFit()
    top_scores = OfFit()
    bottom_indices = OfFit()
    bottom_scores = OfFit()
    source_scores = OfFit()
    notes = OfFit()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_scored_index", None)  # (found again where loaded: see _of_fit)
        if self._forgotten() is not None:
            # (the fit that scored it was dropped: its numbers are not pickled either,
            # nor its training rows' ids and lines, which nothing reads any more;
            # loaded, it refuses as it does here)
            state.update({f"_{name}": None for name in OF_FIT})
            state.update(_train_rows=None, _sources=None, _source_rows=None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        # (pickled with no format recorded: read as format 1)
        self.__dict__.update(held_privately(self.__dict__))
        # pickled before explanations shared the process's file digests (dc23a111): its
        # own, read by nothing since
        self.__dict__.pop("_digests", None)

    def _forgotten(self):
        """Why the fit that scored this explanation was dropped (a removal, an erasure),
        in words, or None."""
        token = getattr(self.__dict__.get("_explainer"), "_token", None)
        return getattr(token, "forgotten", None)

    def _refuse_if_forgotten(self):
        """Raise where a removal or an erasure dropped the fit that scored this
        explanation: its scores, margins and notes are of the model before it."""
        refuse = getattr(self.__dict__.get("_explainer"), "refuse_if_forgotten", None)
        if refuse is not None:
            refuse()

    def __init__(
        self,
        *,
        scores,
        margins,
        y,
        top_indices,
        top_scores,
        bottom_indices,
        bottom_scores,
        source_scores,
        train_rows,
        explainer,
        sources=None,
        source_rows=None,
        model_fingerprint,
        notes=(),
    ):
        self.scores = scores
        self.margins = margins
        self.y = y
        self.top_indices = top_indices
        self.top_scores = top_scores
        self.bottom_indices = bottom_indices
        self.bottom_scores = bottom_scores
        self.source_scores = source_scores
        self._train_rows = train_rows
        self._sources = sources
        self._source_rows = source_rows
        self._explainer = explainer
        self.model_fingerprint = model_fingerprint
        self.notes = list(notes)
        self._shape = top_indices.shape  # (n_test, top_k): words of it, not of the fit

    @property
    def train_rows(self):
        """The file lines behind the training rows (DataFrame).

        Columns ``train_index`` (position of the training row), ``row_id``,
        ``source_id``, ``uri``, ``line`` and ``file_state`` (whether the file still
        holds the bytes read, see :func:`sktraceprop.row_lineage`: each file is hashed
        at the first access in the process and again whenever its status (inode, size, modification
        or status-change time) differs from the one it was hashed with, and a
        :class:`~sktraceprop.exceptions.ChangedSourceWarning` names every file that no
        longer holds them, at each access), sorted by ``train_index``. A row built by
        :func:`sktraceprop.merge` appears once per parent, with the merge in column
        ``via`` (present only when some row was merged), as in
        :func:`sktraceprop.row_lineage`. Column ``erased`` marks the rows an erasure
        request recorded in the explained model's store named, as in :meth:`top`.
        """
        self._refuse_if_forgotten()  # (a removal dropped the fit that scored it)
        rows = self._with_file_states(self._train_rows, "Explanation.train_rows")
        return self._with_erasures(rows, "Explanation.train_rows")

    def _with_erasures(self, rows, what):
        """``rows`` (of :attr:`train_rows`) with column ``erased``: whether the explained
        model's store records an erasure request of the training row (see
        :func:`sktraceprop._erased_held.erased_marks`; an explanation pickled before it
        still names the row's file line); given no store, marked by the erasure requests
        made in this process, as the lineage views are)."""
        marks = self._explainer._erased_marks(rows["train_index"].to_numpy())
        hit, seqs, store, note = marks
        rows = with_erasures(
            rows.copy(), np.arange(len(rows)), hit, seqs, store, what, advice=_ADVICE
        )
        if note is not None:
            rows.attrs["erasures_note"] = note
        return rows

    @property
    def n_test(self):
        """Number of test rows explained."""
        return self._n_shape[0]

    @property
    def _n_top(self):
        return self._n_shape[1]

    @property
    def _n_shape(self):
        # (kept apart from top_indices: a pickle of a dropped fit holds none)
        shape = self.__dict__.get("_shape")
        return shape if shape is not None else self._top_indices.shape

    def top(self, n=None, *, opponents=False):
        """The most influential training rows of every test row, with file and line.

        Parameters
        ----------
        n : int, default=None
            Rows per test row; all ``top_k`` computed rows if None.
        opponents : bool, default=False
            Return the most negative scores (rows that lower the margin) instead.

        Returns
        -------
        top : DataFrame
            Columns ``test_index``, ``rank``, ``train_index``, ``score``, ``row_id``,
            ``source_id``, ``uri``, ``line`` and ``file_state`` (whether the file still
            holds the bytes read, see :func:`sktraceprop.row_lineage`), sorted by test
            row then rank. A merged
            training row takes one line per parent (same rank and score), with the
            merge in column ``via`` (present only when some training row was merged).
            Column ``erased`` (nullable boolean): True where the explained model's
            store records an erasure request of the training row (made after the model
            was fitted, before or after this explanation, which still names its file
            line; an
            :class:`~sktraceprop.exceptions.ErasedRowsHeldWarning` says so), False
            where it records none, ``<NA>`` where it cannot be checked (the model has no
            store, or no traced run); ``attrs["erasures_checked"]`` and
            ``attrs["erasures_note"]`` say which. A row an erasure request made in this
            process named is True whatever the store (the model has none, or it was
            made through another store), as in :func:`sktraceprop.row_lineage`, naming
            the request in ``attrs["erasures_requests_here"]``.
        """
        self._refuse_if_forgotten()  # (a removal dropped the fit that scored it)
        with said_once():  # (its store unreadable: said once)
            out = top_table(self, n, opponents)
            if not out["erased"].any():
                # (no row shown was erased, some scored may be: their scores are in the
                # numbers shown, as in every accessor's)
                warn_erased_scored(self, "Explanation.top")
        return out

    def _with_file_states(self, rows, what):
        """``rows`` of :attr:`train_rows` with their files' ``file_state`` (see
        :func:`sktraceprop.row_lineage`), warning of files that changed since."""
        kept = getattr(self._explainer, "_train_sources", None)
        known = {s.code: s for s in (kept[1] if kept else ())}
        return with_file_states(
            rows,
            lambda code: known.get(int(code)) or REGISTRY.by_code(code),
            what,
            # (the process's: a digest is of this machine's file, whoever asked)
            digests=PROCESS_DIGESTS,
        )

    def by_source(self, test_index=None):
        """Influence aggregated per source of training rows.

        Parameters
        ----------
        test_index : int or array-like of int, default=None
            Test rows to aggregate over; all if None.

        Returns
        -------
        by_source : DataFrame
            One row per source, sorted by ``score`` descending: ``source_id``, ``uri``,
            ``sha256``, ``label`` (its column in :attr:`source_scores`), ``n_rows``
            (training rows with a line in the source), ``score`` (sum of their scores
            over the selected test rows) and ``mean_score`` (per training row and test
            row). A source is one content: two files read under one ``source_id``, or
            two contents of one file, are two rows, told apart by ``uri``, ``sha256``
            and ``label``. A merged row counts, with its full score, toward each source
            of its parents: with merges the scores can add up to more than the total.

        Notes
        -----
        ``score`` is a first-order sum of the rows' scores: it ranks sources by their
        effect, but it is not the change a refit without the whole source makes. A
        large source moves the model far, and the sum leaves out how its rows' removals
        interact, so the larger the source the further a refit can be from the sum. To
        see that change, remove the source
        (:class:`~sktraceprop.GradientCorrectionUnlearner`) or refit.

        Warns
        -----
        ErasedRowsHeldWarning
            Where training rows scored were erased at request after the explained model
            was fitted (its store records the request, or this process made it): the
            sums hold their scores. :meth:`top` marks them (column ``erased``).
        """
        table = self._by_source(test_index)  # (refused where a removal dropped the fit)
        warn_erased_scored(self, "Explanation.by_source")
        return table

    def _by_source(self, test_index=None):
        """:meth:`by_source` with no word of erased rows (a caller that says it)."""
        self._refuse_if_forgotten()  # (a removal dropped the fit that scored it)
        return source_table(self, test_index)

    def trace(self, test_index=0, rank=0, *, opponents=False):
        """File, line, raw values and ops of one influential training row.

        Parameters
        ----------
        test_index : int, default=0
            Position of the test row in the explained data.
        rank : int, default=0
            0 for the most influential row, 1 for the next...
        opponents : bool, default=False
            Trace the ``rank``-th most negative row instead.

        Returns
        -------
        trace : dict
            ``test_index``, ``rank``, ``train_index``, ``score``, ``row_id``,
            ``source_id``, ``uri``, ``line``, ``file_state`` (whether the file still
            holds the bytes read, see :func:`sktraceprop.row_lineage`; ``"not a
            file"`` for a merged row, whose lines' files are in ``lines``, each with its
            ``file_state``), ``lines``, ``values`` (the raw input
            values of the row as passed to ``fit``, a dict; None for a row a sampler
            synthesised, and for a removed row), ``ops`` (names of the steps the row
            went through) and ``removed``: where the explained estimator is a
            :class:`~sktraceprop.GradientCorrectionUnlearner` that removed the row
            after this explanation was made, which event did (its position in
            ``unlearning_log_`` and UTC time), or, for an explanation pickled before
            the removal (of the unlearner or its ``estimator_``), the unlearning event
            of the explained model's run that its store records, else None; the
            explainer still holds the row until it is refitted or discarded (the
            removal's ``held_elsewhere``);
            or, where the explained model's store records an erasure request of the row
            (made after the model was fitted: an erasure changes no fitted object, so a
            model fitted or pickled before it still holds the row), that erasure event
            (its values are then not handed out again). Where that store is a copy of a
            :class:`~sktraceprop.stores.MemoryStore` (unpickled with the explainer, or
            made by ``store.copy()``), a request recorded in the store itself since is
            not known here: the values of a row its copy records no request of are
            withheld too (``values`` None, ``removed`` None), with an
            :class:`~sktraceprop.exceptions.ErasuresUnknownWarning`; set the explained
            model's ``store`` to the store itself to have them.
            ``lines`` lists the file lines behind the row (dicts with ``row_id``,
            ``source_id``, ``uri``, ``line``, ``via`` for a merged row, and ``uris``
            where the source's bytes were read from several paths and the model's run
            does not know which its rows came from, whose ``uri`` is then None): one for a
            row read from a source, one per parent for a row built by
            :func:`sktraceprop.merge`, whose own ``source_id`` and ``uri`` are the
            merge's and whose ``line`` is None (a merged frame has no file line).

        Raises
        ------
        ValueError
            If the explainer was fitted again since this explanation was made (its
            training rows are no longer the ones scored here).
        """
        self._refuse_if_forgotten()
        with said_once():  # (its store unreadable: said once)
            return trace_row(self, test_index, rank, opponents)

    def __repr__(self):
        if self._forgotten() is not None:
            kept = "dropped: a removal dropped the fit that scored them"
        else:
            kept = "kept" if self._scores is not None else "not kept"
        return (
            f"Explanation(n_test={self.n_test}, n_train={self._explainer.n_train_}, "
            f"top_k={self._n_top}, scores {kept}, "
            f"model {self.model_fingerprint[:12]})"
        )
