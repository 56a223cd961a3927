"""Exceptions and warnings raised by sktraceprop."""

import pickle

__all__ = [
    "ComplianceError",
    "ChangedSourceWarning",
    "ClockWarning",
    "CorruptStoreError",
    "EarlierPickleWarning",
    "ErasedRowsHeldWarning",
    "ErasuresUnknownWarning",
    "LineageError",
    "LineageLostError",
    "LineageWarning",
    "RefitOnRemovedWarning",
    "ReportVerificationError",
    "SourceConflictError",
    "StateFormatError",
    "StoreBusyError",
    "StoreConnectionError",
    "StoreError",
    "StoreNotFoundError",
    "StorePermissionError",
    "UncheckedStateWarning",
    "UnknownRunError",
    "UnknownSourceError",
    "UnlearningError",
]


class LineageError(ValueError):
    """Row lineage cannot be determined or is inconsistent."""


class LineageLostError(LineageError):
    """Data that carried row ids reached a traced fit without them."""


class UnknownSourceError(LineageError, KeyError):
    """A row id or source id does not name a registered source."""

    def __str__(self):
        # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class SourceConflictError(LineageError):
    """A source id is already registered with different content."""


class LineageWarning(UserWarning):
    """Lineage is incomplete (for example, synthetic rows from a sampler)."""


class RefitOnRemovedWarning(LineageWarning):
    """A fit trains on rows that were removed from a model (unlearned or erased).

    Raised by traced fits and unlearner fits whose training rows hold rows an unlearner
    removed in this process, or that the store the fit writes to records as unlearned
    or erased (from any process), or rows merged from such rows (:func:`sktraceprop.merge`),
    or the rows a removed merged row was merged from. A refit learns them again; rows the
    fit's own ``forget=`` removes are not counted. Its message always begins
    ``"this fit of "``. A fit that writes to no store sees only the removals made in
    its own process: pass the store the removals were recorded in to see the others.
    A subclass of :class:`LineageWarning`: filters on that still apply. Silence it for
    a deliberate refit with ``warnings.simplefilter("ignore", RefitOnRemovedWarning)``.
    """


class ChangedSourceWarning(LineageWarning):
    """A traced row's file no longer holds the bytes that were read.

    Raised by the calls that name training rows' files and lines
    (:func:`~sktraceprop.row_lineage`, ``trace``, ``Explanation.top`` and ``.trace``)
    when a file was edited, replaced, deleted or cannot be read since it was loaded:
    its lines may now hold other rows. The message names each file, the SHA-256 of the
    bytes read and what is there now; the frame's ``file_state`` column says which
    rows. A subclass of :class:`LineageWarning`: filters on that still apply.
    """


class StateFormatError(pickle.UnpicklingError, ValueError):
    """A pickled sktraceprop estimator's state is of a format this version cannot read.

    Raised while unpickling, before anything is set on the object: the pickle was made
    by a newer sktraceprop (a newer state format), by an earlier one in a format this
    version no longer reads, or by one from before pickles recorded their format whose
    state the class knows it cannot read (a fitted ``GradientCorrectionUnlearner``). The
    message names the class, the format found and the one expected. Fit the estimator
    again with this version, or load it with the version that pickled it.
    """


class EarlierPickleWarning(UserWarning):
    """A fitted sktraceprop estimator was loaded from a pickle that records no state
    format: made by an sktraceprop from before pickles recorded one.

    This version reads the forms of then that it knows of, but cannot tell whether the
    pickle is one of them: what the state lacks fails where it is read. Fit it again
    with this version to be sure.
    """


class ErasedRowsHeldWarning(LineageWarning):
    """A fitted traced model's ``lineage_`` holds training rows that a store records as
    erased since its fit.

    An erasure redacts the store's runs and names the objects of its own process that
    keep the rows; a model pickled before it (loaded later, or in another process) keeps
    them: its run's row ids and source statistics, its steps' fitted state. Raised where
    such a model is used with that store: its logged calls (once per model and store) and
    a compliance report on it. The message names the sources, the rows' count and the
    erasure events. Refit the model on the rows kept, or discard it. A subclass of
    :class:`LineageWarning`: filters on that still apply.
    """


class ErasuresUnknownWarning(ErasedRowsHeldWarning):
    """Whether a fitted object's training rows were erased since could not be checked:
    the store it was checked against is an unpickled
    :class:`~sktraceprop.stores.MemoryStore`, or cannot be read.

    A MemoryStore pickled with a model (or an explainer) is a copy of the store frozen
    when it was pickled; an erasure request recorded in that store since is not in the
    copy. Where a check against such a copy would say "no erased row" (a compliance
    report, a logged call, an explanation's ``trace()`` handing out a row's values),
    this warning says it is not known instead; a frame's ``erased`` column says
    ``<NA>``. Check against the store itself, or use an
    :class:`~sktraceprop.stores.SQLiteStore` or
    :class:`~sktraceprop.stores.PostgresStore`, which outlive a pickle. An explanation
    whose model's store cannot be read (its file moved or deleted, another store made
    at its path, opened on another machine) says it too at each accessor. A subclass of
    :class:`ErasedRowsHeldWarning`: filters on that still apply.
    """


class ClockWarning(UserWarning):
    """An audit event was stamped with a time earlier than the event before it.

    The clock of the process writing it was set back, or writers on machines whose
    clocks differ share one store. The event is stored with the time its clock read:
    the log's order is its ``seq`` numbers, never its times, and
    a store's ``check_integrity()`` lists such events (``times_set_back``).
    """


class UncheckedStateWarning(UserWarning):
    """A check of a fitted object loaded from a pickle cannot be made.

    The object was pickled by an earlier sktraceprop, which did not record what the
    check compares with (a :class:`~sktraceprop.KNNShapleyValuer` pickled before it
    recorded its transformer's fingerprint: whether the transformer was refitted since
    cannot be checked). The call goes on unchecked; fit the object again to have it
    checked.
    """


class StoreError(RuntimeError):
    """A lineage store cannot be used."""


class CorruptStoreError(StoreError):
    """A store is corrupt, was altered, or was not written by sktraceprop; it is left untouched.

    Raised by integrity checks (``verify``, ``check``) and by reads of altered data.
    ``problems`` (when set) lists each problem found as a dict with keys ``check``,
    ``message`` and, where they apply, ``seq``, ``run_id`` or ``source_id``. A store
    handle that found a problem refuses later writes.
    """


class StoreBusyError(StoreError):
    """Another writer held the store for longer than the timeout; retrying may succeed.

    Nothing was written by the call that raised it.
    """

    retryable = True


class StoreConnectionError(StoreError, ConnectionError):
    """The store's server could not be reached, or the connection was lost.

    ``retryable`` is True; the message says whether anything was written.
    """

    retryable = True


class StorePermissionError(StoreError, PermissionError):
    """The store cannot be written: read-only file, folder or mode, or no privilege."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """The store, or the folder it should be created in, does not exist."""


class UnknownRunError(StoreError, KeyError):
    """No run with the given id is stored."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnlearningError(ValueError):
    """A removal request cannot be honoured; the fitted model is left unchanged."""


class ComplianceError(ValueError):
    """A compliance report cannot be made from what was given; nothing was written."""


class ReportVerificationError(ValueError):
    """A compliance report failed verification; ``problems`` lists what was altered."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)
