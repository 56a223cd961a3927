"""The store interface: what every store offers, and what a store must provide.

:class:`BaseStore` declares what a subclass implements (the private ``_raw_*``
readers, ``_snapshot()`` for a consistent read and ``_writer()`` for one transaction;
see :class:`._append._Chain` for what a writer must offer) and keeps a handle's
integrity state (a handle that found damage refuses writes). Its public methods are
documented in three mixins, each handing every method to the module that does it, once
for every store:

- :mod:`._base_runs`: :mod:`._save_run` and :mod:`._load_run`, a run stored under the
  hash chain and read back checked against it; :mod:`._sealed_runs`, sealed runs'
  values and erasures; :mod:`._list_runs`, runs listed and filtered;
- :mod:`._base_erasure`: :mod:`._redaction` and :mod:`._erase_rows`, erasing values and
  rows; :mod:`._erase_predictions`, erasing the calls that scored some rows (their
  salted prediction events, :mod:`._prediction_salts`);
- :mod:`._base_audit`: :mod:`._events`, the user's audit events; :mod:`._integrity`
  (with :mod:`._audit`) and :mod:`._checkpoint`, verification and signed checkpoints.
"""

import math
import numbers
import warnings
from abc import ABC, abstractmethod

from .._state_format import RecordedFormatMixin
from ..exceptions import CorruptStoreError
from ._base_audit import AuditMethods
from ._base_erasure import ErasureMethods
from ._base_runs import RunMethods
from ._chain import GENESIS, make_event  # noqa: F401 (importable from here, as before)
from ._codec import encode_ids
from ._sealed import REDACTION_EVENT
from ._upgrade_wait import timed_upgrade


def check_timeout(timeout):
    """``timeout`` (seconds to wait for another writer), refused unless a number >= 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds; got {timeout!r}")
    if not 0 <= timeout < math.inf:
        raise ValueError(f"timeout must be a finite number of seconds >= 0; got {timeout!r}")
    return float(timeout)


class BaseStore(RecordedFormatMixin, RunMethods, ErasureMethods, AuditMethods, ABC):
    """Where runs and audit events are kept: append-only, and all under one hash chain.

    Saving a run also appends, in the same transaction, a ``store.run`` audit event
    holding the SHA-256 digest of the run's record and row ids (and a ``store.source``
    event for each new source), so that :meth:`verify` finds and names any run, source
    or event edited or deleted after it was stored. :meth:`checkpoint` signs the chain
    with an Ed25519 key, so that truncation and a re-computed chain are found too.

    A store is a handle on a shared resource: copying it (``clone`` deep-copies
    parameters) returns the same handle, so every clone in a grid search writes to it
    (a :class:`MemoryStore` only within its own process: see its notes).
    """

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # -- what subclasses provide --------------------------------------------------------------
    @abstractmethod
    def _writer(self):
        """Context manager: one write transaction (all or nothing), yielding a writer."""

    @abstractmethod
    def _snapshot(self):
        """Context manager: the ``_raw_*`` reads inside it see one consistent state."""

    @abstractmethod
    def _raw_run(self, run_id):
        """``(record_text, n_samples, n_input, row_ids, input_row_ids, event_seq)`` or None."""

    @abstractmethod
    def _raw_run_list(self):
        """``[(run_id, record_text, created_at)]`` of every run in the chain's order;
        ``created_at`` is the run row's own time column (None where a store keeps none)."""

    @abstractmethod
    def _raw_source(self, source_id, sha256):
        """``(record_text, n_parent_ids, parents, event_seq)`` or None."""

    @abstractmethod
    def _raw_sources(self):
        """``(source_id, sha256, record_text, n_parent_ids, parents, event_seq)`` rows."""

    @abstractmethod
    def _raw_event(self, seq):
        """The event row with this ``seq``, or None."""

    @abstractmethod
    def _raw_events(self, run_id=None):
        """Event rows, oldest first (of one run when ``run_id`` is given)."""

    @abstractmethod
    def _raw_checkpoints(self):
        """The stored checkpoints' JSON texts, oldest first."""

    @property
    @abstractmethod
    def store_id(self):
        """A UUID naming this store; checkpoints sign it.

        A copy of the store (its file copied, a schema dumped and restored) keeps it:
        two copies written apart (a fork) look like one store, and only a checkpoint
        kept outside the store tells them apart (see :meth:`check_integrity`,
        ``not_shown``)."""

    #: Most bytes one stored value (a run's record, its row ids, a source's merge parents)
    #: may hold, or None: no limit of the store's own.
    _max_value_bytes = None

    @property
    def _seals_runs(self):
        """Whether runs saved here are sealed (:mod:`._sealed`): stores of schema version
        3 and later, which keep the values of a run beside its record."""
        return getattr(self, "schema_version", 3) >= 3

    def _raw_leaves(self, run_id):
        """``{leaf number: (value_text, salt)}`` of a sealed run's leaves still held."""
        return {}

    def _raw_leaf_runs(self):
        """``{run_id: number of leaves held}`` of every run id the table of leaves
        holds values of, stored runs or not (an audit compares them with the runs)."""
        return {}

    def _wipe_marks(self):
        """``(prefix, keys)``: the erasure wipe marks ``stp_meta`` holds (keys that begin
        with ``prefix``, ``:done`` ones included; :mod:`._wipe_marks`), or ``(None,
        set())`` for a store that keeps nothing to wipe."""
        return None, set()

    @property
    def _salts_predictions(self):
        """Whether prediction events logged here are salted (:mod:`._prediction_salts`):
        stores of schema version 4 and later, which keep each call's salt beside the
        chain."""
        return getattr(self, "schema_version", 4) >= 4

    def _salting(self):
        """Whether a call logged now is salted. A writable store of schema version 3 is
        upgraded first, when a model first logs a call to it through this handle
        (opening, reading and verifying never alter it; tried once per handle, which
        warns where it failed)."""
        if (
            getattr(self, "mode", None) == "rw"
            and getattr(self, "schema_version", 4) == 3
            and getattr(self, "_integrity_failure", None) is None
            and not self.__dict__.get("_upgrade_tried")
        ):
            self._upgrade_tried = True
            self._upgrade_to_salts()
        if getattr(self, "schema_version", 4) == 2 and not self.__dict__.get("_unsalted_said"):
            self._unsalted_said = True
            _say_not_salted(self)
        return self._salts_predictions

    def _upgrade_to_salts(self):
        """Upgrade a store of schema version 3 to the newest (SQLite, PostgreSQL)."""
        raise NotImplementedError(f"{type(self).__name__} has no schema version 3 to upgrade")

    def _indexing(self):
        """Before a write: a writable store of schema version 3 or 4 is upgraded to the
        newest (the salts table, the index on the events' kind) when this handle first
        writes to it (opening, reading and verifying never alter it; tried once per
        handle, which warns where it failed). A version-3 store written but never
        logged to stayed at 3 and found its events by kind by scanning the whole log
        at every traced fit, with nothing said; :meth:`_salting` upgrades it too where
        the first write is a logged call."""
        if (
            getattr(self, "mode", None) == "rw"
            and getattr(self, "schema_version", 5) in (3, 4)
            and getattr(self, "_integrity_failure", None) is None
            and not self.__dict__.get("_upgrade_tried")
        ):
            self._upgrade_tried = True
            # (a lock it waited for counts against the write's wait: one timeout in all)
            timed_upgrade(self, self._upgrade_to_index)

    def _upgrade_to_index(self):
        """Upgrade a store of schema version 3 or 4 to the newest (SQLite, PostgreSQL)."""
        raise NotImplementedError(f"{type(self).__name__} has no schema version 4 to upgrade")

    def _raw_prediction_salts(self):
        """``{event seq: salt}`` of the salted prediction events whose salt is held."""
        return {}

    def _raw_prediction_salt_rows(self):
        """``(seq, salt)`` of the salts held, by seq: a store with a database yields them
        as read (a check of every salt holds one at a time, not a dict of all)."""
        return iter(sorted(self._raw_prediction_salts().items()))

    def _raw_prediction_salt_seqs(self):
        """The seqs whose salt is held, sorted, as int64 (8 bytes each, no salt read)."""
        import numpy as np

        return np.fromiter((seq for seq, _ in self._raw_prediction_salt_rows()), np.int64)

    def _raw_source_versions(self, source_id):
        """The record texts of the stored sources named ``source_id``."""
        return [text for sid, _, text, *_ in self._raw_sources() if sid == source_id]

    def _raw_redaction_events(self, run_id):
        """The ``store.redaction`` event rows of a run, oldest first (selected by the
        database where the store has one: the run's prediction log is not read)."""
        return list(self._raw_events_of_kinds((REDACTION_EVENT,), run_id))

    def _raw_events_of_kinds(self, kinds, run_id=None):
        """The event rows of the given kinds (of run ``run_id`` only, where given), oldest
        first (stores with a database select them there: the prediction log is not read)."""
        return [row for row in self._raw_events(run_id) if row[3] in kinds]

    def _raw_schema_versions(self):
        """``(version, applied_at)`` of each row of the store's ``schema_version`` table
        (none where the store keeps no such table, as in memory)."""
        return []

    def _raw_events_mark(self, kinds):
        """``(count, last seq, last hash)`` of the events of the given kinds: changes
        with any event of them appended (a cache of them is kept while it holds)."""
        rows = self._raw_events_of_kinds(kinds)
        return (len(rows), rows[-1][0], rows[-1][6]) if rows else (0, None, None)

    def _scrub(self):  # noqa: B027 (most stores keep nothing to wipe)
        """After a redaction: wipe what the store's files keep of deleted rows."""

    def _erasure_left(self):
        """What of erased values the store's files may still hold, in words (one
        sentence each; ``[]``: nothing): an erasure whose wipe is pending."""
        return []

    def _transact(self, write, committed):
        """Run ``write(writer)`` in one transaction and return its result.

        ``committed()`` returns that result if the transaction is found stored, else
        None: a store whose connection can drop (a server) uses it to tell, after a
        lost connection, whether to retry.
        """
        with self._writer() as writer:
            return write(writer)

    def _encode(self, ids):
        """What a row-id array is stored as (bytes by default)."""
        return encode_ids(ids)

    def _writable_problem(self):
        """An exception saying why this handle cannot write, or None."""
        return None

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _label(self):
        """This store in words that stay the same for its whole life (its repr, where
        that holds nothing that changes): how a request recorded in it is named, read
        from the store or recorded in this process, so that one request is said once."""
        return repr(self)

    # -- integrity state ------------------------------------------------------------------
    def _refuse_writes(self, reason):
        if getattr(self, "_integrity_failure", None) is None:
            self._integrity_failure = reason

    def _check_writable(self):
        """Raise, before anything is fitted or written, if this store cannot be written."""
        failure = getattr(self, "_integrity_failure", None)
        if failure is not None:
            raise CorruptStoreError(
                f"{self!r} refuses writes: it failed an integrity check ({failure}). "
                "Nothing was written. Audit it with verify() or check(); write new runs "
                "to another store."
            )
        problem = self._writable_problem()
        if problem is not None:
            raise problem

    def _corrupt(self, message, **where):
        """A CorruptStoreError; this handle refuses writes from now on."""
        self._refuse_writes(message)
        error = CorruptStoreError(message)
        error.problems = [{"check": "read", "message": message, **where}]
        return error


def _say_not_salted(store):
    """Warn (once per handle) that a store of schema version 2 logs calls unsalted: it is
    not upgraded (its runs are unsealed; version 3 changed how runs are stored)."""
    from ..utils._stack import user_stacklevel

    warnings.warn(
        f"{store!r} has schema version 2, which is not upgraded: the calls its models log "
        "are not salted (the plain SHA-256 of their input rows stays under the hash chain, "
        "and erase_predictions cannot make them unfindable: whoever holds a person's rows "
        "finds the call that scored them). Log calls to a store of the current version "
        "(a new one) to be able to erase them.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
