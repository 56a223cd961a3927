"""The store interface: what every store offers, and what a store must provide.

:class:`BaseStore` declares what a subclass implements (the private ``_raw_*``
readers, ``_snapshot()`` for a consistent read and ``_writer()`` for one transaction;
see :class:`._append._Chain` for what a writer must offer), keeps a handle's integrity
state (a handle that found damage refuses writes), and documents the public methods.
Each job is done, once for every store, in its own module:

- :mod:`._save_run` and :mod:`._load_run`: a run stored under the hash chain, and read
  back checked against it; :mod:`._sealed_runs`: sealed runs' values and erasures;
- :mod:`._list_runs`: runs listed and filtered;
- :mod:`._events`: the user's audit events;
- :mod:`._integrity` (with :mod:`._audit`) and :mod:`._checkpoint`: verification and
  signed checkpoints;
- :mod:`._redaction` and :mod:`._erase_rows`: erasing values and rows;
  :mod:`._prediction_salts` and :mod:`._erase_predictions`: salted prediction events,
  and erasing the calls that scored some rows.
"""

import math
import numbers
import warnings
from abc import ABC, abstractmethod

from ..exceptions import CorruptStoreError
from . import _checkpoint, _events, _integrity, _list_runs, _load_run, _save_run, _sealed_runs
from ._chain import GENESIS, make_event  # noqa: F401 (importable from here, as before)
from ._codec import encode_ids
from ._sealed import REDACTION_EVENT


def check_timeout(timeout):
    """``timeout`` (seconds to wait for another writer), refused unless a number >= 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds; got {timeout!r}")
    if not 0 <= timeout < math.inf:
        raise ValueError(f"timeout must be a finite number of seconds >= 0; got {timeout!r}")
    return float(timeout)


class BaseStore(ABC):
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
        """A UUID naming this store; checkpoints sign it."""

    @property
    def _seals_runs(self):
        """Whether runs saved here are sealed (:mod:`._sealed`): stores of schema version
        3 and later, which keep the values of a run beside its record."""
        return getattr(self, "schema_version", 3) >= 3

    def _raw_leaves(self, run_id):
        """``{leaf number: (value_text, salt)}`` of a sealed run's leaves still held."""
        return {}

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
        """Upgrade a store of schema version 3 to 4 (SQLite, PostgreSQL)."""
        raise NotImplementedError(f"{type(self).__name__} has no schema version 3 to upgrade")

    def _raw_prediction_salts(self):
        """``{event seq: salt}`` of the salted prediction events whose salt is held."""
        return {}

    def _raw_source_versions(self, source_id):
        """The record texts of the stored sources named ``source_id``."""
        return [text for sid, _, text, *_ in self._raw_sources() if sid == source_id]

    def _raw_redaction_events(self, run_id):
        """The ``store.redaction`` event rows of a run, oldest first."""
        return [row for row in self._raw_events(run_id) if row[3] == REDACTION_EVENT]

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

    # -- runs -----------------------------------------------------------------------------------
    def save_run(self, lineage):
        """Append a run, with the audit events that put it under the hash chain.

        Parameters
        ----------
        lineage : Lineage
            The run; refused if a run with the same id is stored (append-only).

        Returns
        -------
        run_id : str
        """
        return _save_run.save_run(self, lineage)

    def load_run(self, run_id):
        """The stored run, checked against the digest its audit event holds.

        Row ids are decoded only up to the number the run declares, and the run (record,
        row ids, its sources' merge parents) must match the digests in the hash chain,
        so an altered run is never returned. (:meth:`verify` checks the chain itself.)

        Parameters
        ----------
        run_id : str

        Returns
        -------
        run : Lineage

        Raises
        ------
        UnknownRunError
            No such run.
        CorruptStoreError
            The run, a source of it, or its audit event was altered or is unreadable;
            this store handle then refuses writes.
        """
        return _load_run.load_run(self, run_id)

    # -- sealed runs (see _sealed_runs.py) -----------------------------------------------------
    def _as_stored(self, run):
        """``run`` (a Lineage as its fit made it) as this store shows it now, with the
        placeholders of the values erased from its stored copy; None if the store holds
        no erasure of it, or a record of another layout."""
        return _sealed_runs.as_stored(self, run)

    def _is_sealed_run(self, run_id):
        """Whether the stored run ``run_id`` is sealed (False when not stored)."""
        return _sealed_runs.is_sealed_run(self, run_id)

    def _held_values(self, run_id, *, features=(), sources=(), fit_params=()):
        """The named values the sealed run ``run_id`` still holds (by kind)."""
        return _sealed_runs.held_values(
            self, run_id, features=features, sources=sources, fit_params=fit_params
        )

    # -- erasure --------------------------------------------------------------------------------
    def redact(self, run_id, *, features=(), sources=(), fit_params=(), reason):
        """Erase from a stored run what it holds of training data, keeping the chain whole.

        See :func:`sktraceprop.stores._redaction.redact` (documented in
        doc/stores.rst): the named values are deleted from the store, and a
        ``store.redaction`` audit event records which of the run's sealed values went
        and why (never the values). :meth:`verify` and :meth:`load_run` then check every
        value left against its commitment, and that each one gone was erased so.

        Parameters
        ----------
        run_id : str
        features : list of str, default=()
            Feature or column names (one-hot categories, for example): erased wherever
            the run names them, with every note that mentions one.
        sources : list of str, default=()
            Source ids whose training-data statistics (rows, label balance, missing
            values, counted at fit) are erased.
        fit_params : list of str, default=()
            Fit parameters (``"sample_weight"``) whose SHA-256 and counts are erased.
        reason : str
            Why (an erasure request's reference, an unlearning event): recorded.

        Returns
        -------
        summary : dict
            ``run_id``, ``event_seq`` (the redaction event), ``erased`` (how many values).

        Raises
        ------
        ValueError
            Nothing named, a name the run does not hold (or no longer: erased already),
            an empty reason; nothing is changed.
        StoreError
            A run stored unsealed (a store of schema 2, or a run saved before sealing),
            whose record cannot lose a value without breaking the chain.
        """
        from ._redaction import redact

        return redact(
            self, run_id, features=features, sources=sources, fit_params=fit_params, reason=reason
        )

    def erase_rows(self, *, source_id=None, sample_id=None, reason, features=(), dry_run=False):
        """Erase what every stored run holds of some training rows (an erasure request).

        Finds every run given the rows (as training rows, as rows given to ``fit``, as
        parents of merged rows or members of an aggregate joined back to them; matched
        by source and line, whichever process stored the run) and erases from each, with
        :meth:`redact`, what it holds of them: its training-data statistics of their
        sources (and of the sources merged or aggregated from them), its sample
        weights' record, and the feature names given. The whole request is checked
        before anything is erased. The store keeps no values of rows, so it cannot tell
        which feature names (one-hot categories) only these rows produced: name them in
        ``features``, or remove the rows from the model with
        ``GradientCorrectionUnlearner.unlearn(..., redact=reason)``, which refits the
        preprocessing and finds them; a ``UserWarning`` says how many names made of
        values (not input column names) each run erased from keeps that ``features``
        did not name. The request is recorded first, in a
        ``store.erasure`` audit event (the sources, or the rows by source and line; the
        reason; the runs), which each run's ``store.redaction`` event names, and which
        ``sktraceprop trace`` reads to show no values of a row it reached. Row ids, digests
        and fingerprints stay, as do audit events already logged; the model itself is not
        changed. The prediction log is not reached: the calls that scored a person are
        erased by :meth:`erase_predictions`, given the person's rows. Where the store
        holds calls logged before prediction events were salted (schema version 3 and
        earlier), or logged explanations, each holds the plain SHA-256 of its input
        rows, which finds a row scored alone from its values, whatever is erased: a
        ``UserWarning`` says how many (the store cannot know whether the erased rows
        were among them).

        The erased values' old bytes are then wiped from the store's files (SQLite's
        write-ahead log folded in, PostgreSQL's table rewritten by ``VACUUM FULL``).
        Where another connection's read blocks that, the erasure waits a few seconds,
        warns, and the store stays marked: every later write and writable opening of it
        tries again, and until one succeeds opening and :meth:`verify` warn and
        :meth:`check_integrity` lists it (``erased_bytes_left``); a writer killed
        before the wipe leaves the same mark. PostgreSQL's write-ahead log, archives,
        replicas and backups keep their copies: no client can wipe them.

        Parameters
        ----------
        source_id : str or list of str, default=None
            Erase for every row of these sources (every version stored; every file
            stored under the name, which a ``LineageWarning`` then lists: two
            folders' ``data.csv`` are both ``data`` by default).
        sample_id : array-like of int64, default=None
            Erase for these rows (packed row ids, as ``trace`` and ``train_row_ids_``
            give them; read through this process's sources, else the stored runs').
        reason : str
            Why (the erasure request's reference): recorded in each ``store.redaction``
            event.
        features : list of str, default=()
            Feature or column names to erase wherever a run given the rows holds them.
        dry_run : bool, default=False
            Only say what would be erased: nothing is written.

        Returns
        -------
        erased : list of dict
            One summary per run erased from (``run_id``, ``event_seq``, ``erased``, and
            ``wiped``: True once the old bytes of what was erased are gone from the
            store's files, False where the wipe is still pending, as the warning and
            ``check()["erased_bytes_left"]`` say), or
            with ``dry_run``, per run that would be (``run_id``, ``features``,
            ``sources``, ``fit_params``, and ``value_names_kept``: how many of its
            feature names made of values ``features`` did not name, which the erasure
            would keep and warn of). Empty when no stored run holds anything of the
            rows any more (another writer may have erased it just before).

        Raises
        ------
        ValueError
            Neither or both of ``source_id``/``sample_id``, an empty reason, rows no
            stored run was given, feature names no run given the rows holds.
        UnknownSourceError
            A source (or the source of a row id) the store does not know.
        StoreError
            A run given the rows was stored unsealed (schema version 2): nothing is
            changed. The request's event and every run's erasure are one transaction:
            if erasing from one run fails (or the writer is killed), nothing of the
            request is written; running it again erases it all. Values another writer
            erased since the request was planned are left out, not refused.

        Warns
        -----
        UserWarning
            When another connection kept the erased values' old bytes in the store's
            files (see above). When the store holds unsalted input digests (see
            above), once. With ``dry_run`` too: when fitted objects of this process (the model
            fitted on the rows, an explainer's or valuer's copies) keep data of them,
            or of merged rows built from them at any depth (for ``source_id``, of any
            row of those sources, given to a stored run or not): the erasure does not
            reach them.
        """
        from ._erase_rows import erase_rows

        return erase_rows(
            self,
            source_id=source_id,
            sample_id=sample_id,
            reason=reason,
            features=features,
            dry_run=dry_run,
        )

    def erase_predictions(self, X, *, reason, run_id=None, dry_run=False):
        """Make the logged calls that scored some input rows unfindable from them.

        Finds the ``"prediction"`` events whose input was ``X`` (as
        :func:`~sktraceprop.compliance.find_predictions` finds them: the rows as given
        and in every exact other form it tries; a row scored inside a larger batch is
        found by the call's keyed row digests, see :mod:`sktraceprop._row_digests`) and,
        in one transaction, deletes each call's salt (and with it its row digests)
        (kept beside the chain, see :mod:`._prediction_salts`) and appends a
        ``store.prediction_erasure`` audit event giving the reason, which names no call:
        it commits to every call erased so far under a key the next erasure deletes
        (see :mod:`._prediction_erasures`), so the chain does not tie the request to
        the calls' outputs. The ``"explanation"`` events of the rows
        (``InfluenceExplainer.explain(..., log=True)``, which commit to the rows
        explained the same way) are erased with them and returned among the calls.
        A store with a salt deleted outside sktraceprop is refused
        (:class:`~sktraceprop.exceptions.CorruptStoreError`, nothing written). The
        old bytes are then wiped from the store's files, as :meth:`erase_rows` does.
        After it, ``find_predictions(X)`` finds none of them, the store holds neither
        their salts nor the plain SHA-256 of their input, and :meth:`verify` passes: it
        checks the chain and that the missing salts were erased so, but no longer
        anything of those calls' input.

        What stays, under the chain, of each erased call: its time, the model (run)
        that answered, the method, the number of rows and columns, the outputs
        themselves (labels or scores, with their SHA-256) and this erasure event. The
        outputs of one person scored alone (a probability to many decimals, a label
        and its time) may still identify them to whoever knows when they were scored
        or what they were told, and nothing can erase them from the chain. Calls
        logged before prediction events were salted (stores of schema version 3 and
        earlier) hold the plain SHA-256 of their input: they are found, returned in
        ``unsalted`` and not erased (a ``UserWarning`` names them). Erasing a call
        erases it for every row of its batch: a call found by one row of ``X`` inside a
        larger batch is erased whole (it commits to the batch under one salt), listed in
        ``by_row``, and a ``UserWarning`` says the rest of its batch went with it. Calls
        that keep no row digests (logged before them) cannot be searched by row: listed
        in ``no_row_digests``, with a ``UserWarning`` (pass their whole batch). The
        model, and copies made outside the store (reports, exports, backups), are not
        changed.

        Parameters
        ----------
        X : DataFrame, polars DataFrame or array-like
            The rows as given to ``predict``, or a person's own row(s) (a one-row
            frame) wherever they were scored.
        reason : str
            Why (the erasure request's reference): recorded.
        run_id : str, default=None
            Only the calls answered by this run.
        dry_run : bool, default=False
            Only say which calls would be erased: nothing is written.

        Returns
        -------
        erased : dict
            ``event_seq`` (the ``store.prediction_erasure`` event, None when nothing
            was erased), ``calls`` (the seqs of the calls and explanations erased, or
            with ``dry_run`` that would be), ``unsalted`` (the seqs of calls found that cannot be
            erased), ``by_row`` (those of ``calls`` found by a row inside a larger batch:
            erased whole), ``no_row_digests`` (calls that could not be searched by row)
            and, without ``dry_run``, ``wiped`` (True once the old bytes are
            gone from the store's files; False where the wipe is pending: a warning
            says why, and ``check()["erased_bytes_left"]`` until it is done).

        Warns
        -----
        UserWarning
            Where no call was found (nothing erased: a row passed as a Series,
            ``frame.iloc[i]``, rather than the one-row frame ``frame.iloc[[i]]``, values
            other than those the model was given, or calls erased already), besides the
            warnings above.

        Raises
        ------
        ValueError
            An empty reason; nothing is changed.
        UnknownRunError
            ``run_id`` names no run of the store; nothing is changed.
        """
        from ._erase_predictions import erase_predictions

        return erase_predictions(self, X, reason=reason, run_id=run_id, dry_run=dry_run)

    # -- queries -----------------------------------------------------------------------------
    def list_runs(
        self,
        *,
        source=None,
        estimator=None,
        purpose=None,
        tags=None,
        parent_run_id=None,
        search_id=None,
        search_role=None,
    ):
        """Stored runs, oldest first, optionally only those matching every filter given.

        Parameters
        ----------
        source : str, Source or (str, str), default=None
            Runs whose training rows came from this source: a ``source_id`` (any
            version), a :class:`~sktraceprop.Source` or ``(source_id, sha256)`` (that
            version). Sources reached through a merge or aggregate count.
        estimator : str, class or estimator, default=None
            Runs of this estimator: matched against the traced estimator's class and
            the final model's class (``model``); a string may be a full class path
            (``"sklearn.linear_model._logistic.LogisticRegression"``) or a class name
            (``"LogisticRegression"``).
        purpose : str or list of str, default=None
            ``"fit"`` (a user's fit, a search's refit), ``"cv_fold"`` (one split of a
            cross-validation or search), ``"permutation_test"`` (one split of
            ``permutation_test_score``'s fits on permuted labels; its ``search_role`` is
            ``"cv_fold"``), ``"influence"`` (an explainer's clone),
            ``"unlearning"`` (an unlearner's clone), or your own (see
            :func:`sktraceprop.run_context`).
        tags : dict, default=None
            Runs holding all these tags (see :func:`sktraceprop.run_context`).
        parent_run_id : str, default=None
            Runs derived from this run (the clones made of the model it fitted).
        search_id : str, default=None
            Runs of this search or cross-validation call (its splits and its refit).
        search_role : {"cv_fold", "refit"}, default=None
            Runs that scikit-learn's model selection fitted in this role.

        Returns
        -------
        runs : DataFrame
            Columns ``run_id``, ``created_at``, ``estimator``, ``model`` (final
            estimator class), ``n_samples``, ``sources`` (source ids), ``purpose``,
            ``name``, ``parent_run_id``, ``tags``, ``search_role`` (``"cv_fold"``,
            ``"refit"``, or None for a fit not known to be made by model selection:
            meta-estimators' own fits, such as ``CalibratedClassifierCV``'s, are not
            marked) and
            ``search_id`` (None also when the split's search is not known); the
            whole record is ``load_run(run_id).selection``.

        Notes
        -----
        Listing reads the stored records without checking them against the hash chain
        (that would hash every run's row ids): a record edited outside sktraceprop is
        listed as it now reads. :meth:`load_run` checks the run it returns, and
        :meth:`verify` every run.
        """
        return _list_runs.list_runs(
            self,
            source=source,
            estimator=estimator,
            purpose=purpose,
            tags=tags,
            parent_run_id=parent_run_id,
            search_id=search_id,
            search_role=search_role,
        )

    # -- audit events ---------------------------------------------------------------------------
    def append_event(self, kind, payload, run_id=None):
        """Append an audit event to the hash chain and return it.

        Parameters
        ----------
        kind : str
            What happened (``"unlearning"``, ``"review"``...). Kinds starting with
            ``"store."`` are the store's own and refused.
        payload : dict
            JSON-serialisable details. The event keeps a copy: changing the dict
            afterwards changes neither the log nor the returned event.
        run_id : str, default=None
            The run the event is about.

        Returns
        -------
        event : dict
            ``seq``, ``run_id``, ``created_at`` (UTC), ``kind``, ``payload``,
            ``prev_hash`` and ``hash``.
        """
        return _events.append_event(self, kind, payload, run_id)

    def _append_event_text(self, kind, payload, text, run_id, salt=None):
        """Append an event whose payload's canonical JSON is ``text`` (see
        :func:`._chain.payload_text`); ``payload`` is what the returned event holds;
        ``salt``, a salted prediction event's (kept beside the chain)."""
        return _events.append_event_text(self, kind, payload, text, run_id, salt)

    def events(self, run_id=None, *, kind=None, include_store_events=False):
        """Audit events, oldest first.

        Parameters
        ----------
        run_id : str, default=None
            Only the events of this run.
        kind : str, default=None
            Only the events of this kind.
        include_store_events : bool, default=False
            Also list the ``store.run`` and ``store.source`` events the store appends
            when it saves a run (they put runs and sources under the chain). Their
            ``seq`` numbers are why the events listed without them may not be
            consecutive.

        Returns
        -------
        events : list of dict
            Keys ``seq``, ``run_id``, ``created_at``, ``kind``, ``payload``,
            ``prev_hash``, ``hash``; each a copy.

        Notes
        -----
        Events are returned as stored, without checking the hash chain: an event
        edited, removed or added outside sktraceprop is returned as it now reads.
        :meth:`verify` (or :meth:`check`) checks the chain; a compliance report is
        made only from a store that verifies.
        """
        return _events.events(self, run_id, kind=kind, include_store_events=include_store_events)

    # -- integrity ----------------------------------------------------------------------------
    def verify(self, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
        """Check that nothing stored was altered, removed or added outside sktraceprop.

        Checks, naming each problem found: the hash chain of the audit events (each
        linked to its predecessor and matching its hash, none missing); every stored
        run and source against the digest its ``store.run``/``store.source`` event holds
        (an edited record, row id or merge parent; a deleted run or source; one added
        without an event); the salts of logged calls against the ``salt_sha256`` their
        events hold, the calls without their salt being those the last
        ``store.prediction_erasure`` event committed to (what a salted call committed
        to cannot be checked without its input rows);
        and the stored checkpoints against the chain.

        With ``public_key``, also that every stored checkpoint is signed by that key,
        and that the chain's head is covered by one: events appended after the last
        checkpoint (forged, or not yet signed) are a problem unless
        ``allow_unsigned_tail``. With ``checkpoint`` (kept elsewhere), that the log still
        holds the event that checkpoint signed, with the same hash: this is what finds
        events cut from the end of the log.

        The store's append-only guards (SQLite and PostgreSQL triggers) are not checked
        here: a dropped or redefined trigger alters nothing stored, and edits it then
        lets through are what the checks above find. :meth:`check` checks the guards as
        they are now, as opening a store and :meth:`checkpoint` do.

        Parameters
        ----------
        public_key : Ed25519PublicKey or path, default=None
            The key checkpoints must be signed with (a PEM file, see
            :mod:`sktraceprop.signing`).
        checkpoint : dict, path, or list of them, default=None
            Checkpoints kept outside the store (:meth:`checkpoint` returns and can write
            them). Requires ``public_key``.
        allow_unsigned_tail : bool, default=False
            With ``public_key``: accept events after the last signed checkpoint.

        Returns
        -------
        True
            Nothing found. What no check without ``public_key`` and ``checkpoint``
            can show (events cut from the end with the checkpoints that signed them,
            an older copy of the store put back) is listed by
            :meth:`check_integrity` (``not_shown``).

        Raises
        ------
        CorruptStoreError
            If anything does not check out; ``problems`` lists each problem (``check``
            is ``"hash_chain"``, ``"runs"``, ``"sources"``, ``"prediction_salts"`` (a
            salt of a logged call replaced, deleted without an erasure, added, or held
            again after its erasure) or ``"checkpoints"``; those
            about signatures under ``public_key`` also have ``signature: True``). After
            any other problem, this handle refuses writes.

        Warns
        -----
        UserWarning
            When an erasure committed but the old bytes of the values it deleted are
            still in the store's files (``erased_bytes_left`` of
            :meth:`check_integrity`): the record checks out, the wipe is pending.
        """
        report = self.check_integrity(
            public_key=public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )
        for sentence in report.get("erased_bytes_left", ()):
            # not damage: the record is intact, but its erasures are not all wiped yet
            warnings.warn(f"{self!r}: {sentence}", UserWarning, stacklevel=2)
        return True

    def check_integrity(self, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
        """What :meth:`verify` checks, returning a report instead of True.

        Returns
        -------
        report : dict
            ``runs``, ``sources``, ``events`` (all events, the store's own included) and
            ``checkpoints`` checked; ``chain_head`` (hash of the last event, 64 zeros
            when none) and ``last_seq``; ``signed_through`` (the last event covered by
            a checkpoint whose signature was checked, None without ``public_key``);
            ``key_fingerprint``; ``not_shown``: what this check cannot show, in words
            (a list of sentences). A log cut at its end together with the stored
            checkpoints that signed them, as an older copy of the store put back, is
            valid on its own: only a checkpoint kept elsewhere (``checkpoint=``) shows
            it; without ``public_key``, neither that nor a chain re-computed after an
            edit with its checkpoints removed or signed again is shown.
            ``erased_bytes_left``: where an erasure committed but the store has not yet
            wiped the old bytes of the values it deleted from its files (a SQLite
            store's write-ahead log not yet folded in: a reader kept it in use, or the
            writer stopped first), a sentence saying so (``[]`` when nothing is left).
            ``times_set_back``: the ``seq`` of each event stamped earlier than the
            event before it (a clock set back, or writers whose clocks differ; see
            :class:`~sktraceprop.exceptions.ClockWarning`): not damage, but times
            read from the log are then not in its order.

        Raises
        ------
        CorruptStoreError
            As :meth:`verify`.
        """
        return _integrity.check_integrity(
            self, public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )

    def check(self, full=True, *, public_key=None, checkpoint=None, allow_unsigned_tail=False):
        """Check the whole store and return a report; see :meth:`verify` for what is checked.

        Parameters
        ----------
        full : bool, default=True
            :class:`SQLiteStore` also runs SQLite's ``integrity_check`` (``full=True``)
            or ``quick_check``; the other stores check the same either way.
        public_key, checkpoint, allow_unsigned_tail
            As for :meth:`verify`.

        Returns
        -------
        report : dict
            As :meth:`check_integrity`.
        """
        return self.check_integrity(
            public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )

    def checkpoint(self, private_key, *, path=None):
        """Sign the chain head with an Ed25519 key, after verifying the whole store.

        The store is verified first (:meth:`verify`, without a key), and the head that
        verification saw is signed: a checkpoint never vouches for altered data.

        Parameters
        ----------
        private_key : Ed25519PrivateKey or path
            The signing key (a PEM file; see :mod:`sktraceprop.signing`).
        path : str or path-like, default=None
            Also write the checkpoint there as JSON. An existing file is refused
            (FileExistsError) before anything is signed or stored. Keep a
            copy outside the store: it is what shows later that events were cut from
            the end of the log.

        Returns
        -------
        checkpoint : dict
            ``format``, ``store_id``, ``checkpoint`` (its number), ``event_seq`` and
            ``chain_head`` (the event signed and its hash), ``created_at`` (UTC),
            ``key_fingerprint`` and ``signature`` (base64). Stored in the store too
            (:meth:`checkpoints`).
        """
        return _checkpoint.sign_store(self, private_key, path)

    def checkpoints(self):
        """The stored checkpoints, oldest first (JSON-safe dicts, as :meth:`checkpoint`)."""
        return _checkpoint.stored_checkpoints(self)


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
