"""The store interface: runs, audit events and checkpoints, all under one hash chain.

Subclasses keep rows; everything that gives the rows their meaning lives here, once:
what a run is stored as, the events that put it under the chain, bounded decoding, the
checks of :meth:`BaseStore.load_run`, :meth:`BaseStore.verify` and checkpoints. A
subclass implements the private ``_raw_*`` readers, ``_snapshot()`` (a consistent read)
and ``_writer()`` (one transaction; see :class:`_Chain` for what it must offer).
"""

import json
import os
import weakref
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from .. import signing
from .._lineage._fingerprint import class_path
from .._lineage._run import Lineage
from .._lineage._source import DERIVED_KINDS, Parents, Source
from ..exceptions import CorruptStoreError, StoreError, UnknownRunError
from . import _checkpoint
from ._chain import (
    GENESIS,
    RESERVED_PREFIX,
    RUN_EVENT,
    SOURCE_EVENT,
    canonical_json,
    loads_stored,
    make_event,
    payload_text,
    run_digest,
    source_digest,
    stored_event_matches,
)
from ._codec import decode_ids, encode_ids
from ._saved import note_saved
from ._sealed import REDACTION_EVENT, as_redacted, is_sealed, leaves_of, seal, unseal

_EVENT_KEYS = ("seq", "run_id", "created_at", "kind", "payload", "prev_hash", "hash")
_RUN_COLUMNS = [
    "run_id",
    "created_at",
    "estimator",
    "model",
    "n_samples",
    "sources",
    "purpose",
    "name",
    "parent_run_id",
    "tags",
    "search_role",
    "search_id",
]
_MAX_LISTED = 20  # problems named in a CorruptStoreError message (all are in .problems)


#: Per store handle, the last event row it appended: known to match its hash. Kept out
#: of the store's attributes, which are pickled and fingerprinted with the estimator
#: that holds the store.
_CHECKED_TIP = weakref.WeakKeyDictionary()


class _Chain:
    """Appends events inside one write transaction, after checking the log's last event.

    ``writer`` is what a store's ``_writer()`` yields: ``last_event()`` (the row of the
    last event or None) and ``insert_event(row)``, rows being ``(seq, run_id,
    created_at, kind, payload_text, prev_hash, hash)``.
    """

    def __init__(self, store, writer):
        self.store, self.writer = store, writer
        last = writer.last_event()
        if last is None:
            self.seq, self.head = 0, GENESIS
        else:
            # The row this handle last appended (or checked) is known to match its hash:
            # an identical row need not be hashed again (a changed one is).
            if last != _CHECKED_TIP.get(store) and not stored_event_matches(last):
                store._refuse_writes(
                    f"its last audit event ({last[0]}) does not match its hash: the log "
                    "was altered"
                )
                store._check_writable()
            self.seq, self.head = int(last[0]), last[6]

    def append(self, kind, payload, run_id=None, text=None):
        """Append one event; ``text`` is the payload's canonical JSON when known
        (from :func:`payload_text`, or a caller that made sure it is canonical)."""
        if text is None:
            text, payload = payload_text(payload)
        event = make_event(self.head, kind, payload, run_id, self.seq + 1, text)
        row = (
            event["seq"],
            run_id,
            event["created_at"],
            kind,
            text,
            event["prev_hash"],
            event["hash"],
        )
        self.writer.insert_event(row)
        self.row = row
        self.seq, self.head = event["seq"], event["hash"]
        return event

    def confirm(self):
        """Check, before the transaction commits, that the log ends with what was appended.

        A trigger or rule added to the database outside sktraceprop can drop or change
        a row as it is inserted (SQLite's ``RAISE(IGNORE)``): the event would be
        reported as written, and a checkpoint signed later would cover a log without
        it. Raising rolls the transaction back.
        """
        row = getattr(self, "row", None)
        if row is None:
            return
        if self.writer.last_event() != row:
            message = (
                f"audit event {row[0]} was not stored as written: the database changes or "
                "drops what is written (a trigger or rule added outside sktraceprop)"
            )
            self.store._refuse_writes(message)
            raise CorruptStoreError(f"{self.store!r}: {message}; nothing was written")
        _CHECKED_TIP[self.store] = row


def _raise_problems(where, problems):
    lines = [describe(p) for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"... and {len(problems) - _MAX_LISTED} more")
    error = CorruptStoreError(
        f"{where} failed its integrity check ({len(problems)} problem(s)); it was not "
        "modified:\n  - " + "\n  - ".join(lines)
    )
    error.problems = problems
    raise error


def schema_error(message, problem):
    """A :class:`CorruptStoreError` for a store whose layout was altered, with the
    ``problems`` entry ``check`` would list (``problem``: what is wrong, briefly)."""
    error = CorruptStoreError(message)
    error.problems = [{"check": "schema", "message": problem}]
    return error


def describe(problem):
    where = ""
    if problem.get("seq") is not None:
        where = f" audit event {problem['seq']}"
    elif problem.get("run_id") is not None:
        where = f" run {problem['run_id']}"
    elif problem.get("source_id") is not None:
        where = f" source {problem['source_id']!r}"
    elif problem.get("checkpoint") is not None:
        where = f" checkpoint {problem['checkpoint']}"
    return f"{problem['check']}:{where} {problem['message']}"


def _class_name(value):
    """A class path from a string, a class or an instance (as runs record it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return class_path(value)


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

    def _raw_redaction_events(self, run_id):
        """The ``store.redaction`` event rows of a run, oldest first."""
        return [row for row in self._raw_events(run_id) if row[3] == REDACTION_EVENT]

    def _scrub(self):  # noqa: B027 (most stores keep nothing to wipe)
        """After a redaction: wipe what the store's files keep of deleted rows."""

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
        self._check_writable()
        record, leaves = lineage.to_dict(), None
        if self._seals_runs:
            record, leaves = seal(record)
        record_text = canonical_json(record)
        row_ids = np.ascontiguousarray(lineage.row_ids, dtype=np.int64)
        inputs = lineage.input_row_ids
        inputs = None if inputs is None else np.ascontiguousarray(inputs, dtype=np.int64)
        digest = run_digest(record_text, row_ids, inputs)
        sources = []
        for source in lineage.sources.values():
            if source.parents is not None and source.parents.n_rows != source.n_rows:
                raise ValueError(
                    f"source {source.source_id!r} has parents for {source.parents.n_rows} "
                    f"rows but {source.n_rows} rows; nothing was stored"
                )
            text = canonical_json(source.to_dict())
            flat = None if source.parents is None else source.parents.to_flat()
            encoded = None if flat is None else self._encode(flat)
            sources.append((source, text, flat, source_digest(text, flat), encoded))
        stored_ids = self._encode(row_ids)
        stored_inputs = None if inputs is None else self._encode(inputs)
        n_input = None if inputs is None else int(inputs.size)

        def write(writer):
            if writer.run_exists(lineage.run_id):
                raise StoreError(
                    f"run {lineage.run_id} is already stored in {self!r}; runs are append-only"
                )
            chain = _Chain(self, writer)
            for source, text, flat, sdigest, parents in sources:
                if writer.source_exists(source.source_id, source.sha256):
                    continue
                n_parent_ids = None if flat is None else int(flat.size - source.n_rows - 1)
                event = chain.append(
                    SOURCE_EVENT,
                    {
                        "source_id": source.source_id,
                        "sha256": source.sha256,
                        "n_rows": int(source.n_rows),
                        "n_parent_ids": n_parent_ids,
                        "digest": sdigest,
                    },
                )
                writer.insert_source(
                    source.source_id, source.sha256, text, n_parent_ids, parents, event["seq"]
                )
            event = chain.append(
                RUN_EVENT,
                {
                    "digest": digest,
                    "n_samples": lineage.n_samples,
                    "n_input": n_input,
                    "estimator": lineage.estimator,
                    "purpose": lineage.purpose,
                },
                run_id=lineage.run_id,
            )
            writer.insert_run(
                lineage.run_id,
                lineage.created_at,
                record_text,
                lineage.n_samples,
                n_input,
                stored_ids,
                stored_inputs,
                event["seq"],
            )
            if leaves:
                writer.insert_leaves(lineage.run_id, leaves)
            chain.confirm()
            if not writer.run_exists(lineage.run_id):
                message = (
                    f"run {lineage.run_id} was not stored as written: the database drops "
                    "what is written (a trigger or rule added outside sktraceprop)"
                )
                self._refuse_writes(message)
                raise CorruptStoreError(f"{self!r}: {message}; nothing was written")
            return lineage.run_id

        def committed():
            return lineage.run_id if self._raw_run(lineage.run_id) is not None else None

        run_id = self._transact(write, committed)
        note_saved(self, run_id)
        return run_id

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
        with self._snapshot():
            lineage, digest, event_seq, source_events = self._read_run(run_id, cache=None)
            self._check_event(event_seq, RUN_EVENT, digest, run_id=run_id)
            for key, (seq, sdigest) in source_events.items():
                self._check_event(seq, SOURCE_EVENT, sdigest, source_key=key)
        return lineage

    def _read_run(self, run_id, cache):
        """``(lineage, digest, event_seq, {source key: (event_seq, digest)})``, bounded."""
        row = self._raw_run(run_id)
        if row is None:
            raise UnknownRunError(f"no run {run_id!r} in {self!r}")
        record_text, n_samples, n_input, blob, input_blob, event_seq = row
        name = f"run {run_id}"
        try:
            record = json.loads(record_text)
            declared = (record["run_id"], int(record["n_samples"]))
        except (TypeError, ValueError, KeyError) as exc:
            raise self._corrupt(
                f"{name}: its record is not readable ({exc!r})", run_id=run_id
            ) from None
        if declared != (run_id, n_samples):
            raise self._corrupt(
                f"{name}: its record says run {declared[0]} with {declared[1]} rows; its row "
                f"says {run_id} with {n_samples}",
                run_id=run_id,
            )
        if is_sealed(record):
            record = self._unsealed(run_id, record)
        try:
            row_ids = decode_ids(blob, n_samples, f"row ids of {name}")
            inputs = None
            if n_input is not None:
                inputs = decode_ids(input_blob, n_input, f"input row ids of {name}")
            elif input_blob is not None:
                raise CorruptStoreError(f"{name} has input row ids but declares none")
        except CorruptStoreError as exc:
            raise self._corrupt(str(exc), run_id=run_id) from None
        sources, source_events = {}, {}
        for entry in record.get("sources", ()):
            key = (entry.get("source_id"), entry.get("sha256"))
            found = None if cache is None else cache.get(key)
            if found is None:
                found = self._read_source(*key)
                if cache is not None:
                    cache[key] = found
            parents, sdigest, sseq, rows = found
            # A file's rows depend on the read (nrows, usecols...): another process may
            # have stored another read of the same bytes. Derived rows are laid out by
            # their stored parents, so their count must match.
            if (parents is not None or entry.get("kind") in DERIVED_KINDS) and rows != entry.get(
                "n_rows"
            ):
                raise self._corrupt(
                    f"{name}: source {key[0]!r} holds {rows} rows; the run says "
                    f"{entry.get('n_rows')}",
                    run_id=run_id,
                )
            source_events[key] = (sseq, sdigest)
            try:
                sources[int(entry["code"])] = Source.from_dict(entry, parents=parents)
            except (TypeError, ValueError, KeyError) as exc:
                raise self._corrupt(
                    f"{name}: source {key[0]!r} is not readable ({exc!r})", run_id=run_id
                ) from None
        try:
            lineage = Lineage.from_dict(record, row_ids, inputs, sources=sources)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise self._corrupt(
                f"{name}: its record is not readable ({exc!r})", run_id=run_id
            ) from None
        return lineage, run_digest(record_text, row_ids, inputs), event_seq, source_events

    def _unsealed(self, run_id, record):
        """A sealed record with its leaves back (or the placeholders of erased ones)."""
        name = f"run {run_id}"
        try:
            redacted = self._redactions(run_id)
            unsealed, problems = unseal(record, self._raw_leaves(run_id), redacted)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise self._corrupt(
                f"{name}: its sealed record is not readable ({exc!r})", run_id=run_id
            ) from None
        if problems:
            raise self._corrupt(f"{name}: {'; '.join(problems)}", run_id=run_id)
        return unsealed

    def _as_stored(self, run):
        """``run`` (a Lineage as its fit made it) as this store shows it now, with the
        placeholders of the values erased from its stored copy; None if the store holds
        no erasure of it, or a record of another layout."""
        with self._snapshot():
            row = self._raw_run(run.run_id)
            redacted = self._redactions(run.run_id) if row is not None else {}
        if not redacted:
            return None
        record = loads_stored(row[0])
        if not is_sealed(record):
            return None
        view = as_redacted(run.to_dict(), record, redacted)
        if view is None:
            return None
        return Lineage.from_dict(view, run.row_ids, run.input_row_ids, sources=run.sources)

    def _is_sealed_run(self, run_id):
        """Whether the stored run ``run_id`` is sealed (False when not stored)."""
        with self._snapshot():
            row = self._raw_run(run_id)
        try:
            return row is not None and is_sealed(loads_stored(row[0]))
        except (TypeError, ValueError):
            return False

    def _held_values(self, run_id, *, features=(), sources=(), fit_params=()):
        """The named values the sealed run ``run_id`` still holds (by kind)."""
        with self._snapshot():
            record = loads_stored(self._raw_run(run_id)[0])
            values = self._raw_leaves(run_id)
        _, unknown = leaves_of(
            record, values, features=features, sources=sources, fit_params=fit_params
        )
        return {
            "features": [f for f in features if f not in unknown.get("features", ())],
            "sources": [s for s in sources if s not in unknown.get("sources", ())],
            "fit_params": [p for p in fit_params if p not in unknown.get("fit_params", ())],
        }

    def _redactions(self, run_id):
        """``{leaf: {"event_seq", "reason"}}`` erased by the run's redaction events."""
        out = {}
        for row in self._raw_redaction_events(run_id):
            payload = loads_stored(row[4])
            for n in payload["leaves"]:
                if not isinstance(n, int) or isinstance(n, bool) or n in out:
                    raise ValueError(f"redaction event {row[0]} lists leaf {n!r} again or wrongly")
                out[n] = {"event_seq": row[0], "reason": payload["reason"]}
        return out

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
        preprocessing and finds them. The request is recorded first, in a
        ``store.erasure`` audit event (the sources, or the rows by source and line; the
        reason; the runs), which each run's ``store.redaction`` event names, and which
        ``sktraceprop trace`` reads to show no values of a row it reached. Row ids, digests
        and fingerprints stay, as do audit events already logged; the model itself is not
        changed.

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
            One summary per run erased from (``run_id``, ``event_seq``, ``erased``), or
            with ``dry_run``, per run that would be (``run_id``, ``features``,
            ``sources``, ``fit_params``). Empty when no stored run holds anything of
            the rows any more.

        Raises
        ------
        ValueError
            Neither or both of ``source_id``/``sample_id``, an empty reason, rows no
            stored run was given, feature names no run given the rows holds.
        UnknownSourceError
            A source (or the source of a row id) the store does not know.
        StoreError
            A run given the rows was stored unsealed (schema version 2): nothing is
            changed. If erasing from one run fails after others were erased, the error
            names those; running the request again erases the rest.

        Warns
        -----
        UserWarning
            When fitted objects of this process (the model fitted on the rows, an
            explainer's or valuer's copies) keep data of them: the erasure does not
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

    def _read_source(self, source_id, sha256):
        """``(parents or None, digest, event_seq, n_rows)`` of a stored source."""
        row = self._raw_source(source_id, sha256)
        if row is None:
            raise self._corrupt(
                f"source {source_id!r} (sha256 {str(sha256)[:12]}...) is missing from the store",
                source_id=source_id,
            )
        return self._decode_source(source_id, sha256, *row)

    def _decode_source(self, source_id, sha256, record_text, n_parent_ids, blob, event_seq):
        """Decode a source row, merge parents bounded by the counts it declares."""
        name = f"source {source_id!r} (sha256 {str(sha256)[:12]}...)"
        try:
            stored = json.loads(record_text)
            rows = int(stored["n_rows"])
            if (stored["source_id"], stored["sha256"]) != (source_id, sha256):
                raise ValueError("its record names another source")
        except (TypeError, ValueError, KeyError) as exc:
            raise self._corrupt(f"{name}: its record is not readable ({exc})") from None
        parents = flat = None
        if blob is not None or n_parent_ids is not None:
            try:
                if n_parent_ids is None or blob is None or int(n_parent_ids) < 0 or rows < 0:
                    raise CorruptStoreError(f"merge parents of {name} are incomplete")
                flat = decode_ids(blob, rows + 1 + int(n_parent_ids), f"parents of {name}")
                parents = Parents.from_flat(flat, rows)
            except (CorruptStoreError, ValueError) as exc:
                raise self._corrupt(f"{name}: {exc}", source_id=source_id) from None
        return parents, source_digest(record_text, flat), event_seq, rows

    def _check_event(self, seq, kind, digest, run_id=None, source_key=None):
        """The event a run or source row points at must be its own, unaltered."""
        row = None if seq is None else self._raw_event(seq)
        if run_id is not None:
            what, where = f"run {run_id}", {"run_id": run_id}
        else:
            what = f"source {source_key[0]!r} (sha256 {str(source_key[1])[:12]}...)"
            where = {"source_id": source_key[0]}
        if row is None:
            raise self._corrupt(
                f"{what} has no audit event: it was inserted outside sktraceprop, or its "
                "event was removed",
                **where,
            )
        payload = loads_stored(row[4]) if stored_event_matches(row) else None
        if payload is None:
            raise self._corrupt(f"{what}: its audit event {seq} was altered", **where)
        if (
            row[3] != kind
            or not isinstance(payload, dict)
            or (run_id is not None and row[1] != run_id)
        ):
            raise self._corrupt(f"{what}: audit event {seq} is not its event", **where)
        if source_key is not None and (
            payload.get("source_id"),
            payload.get("sha256"),
        ) != tuple(source_key):
            raise self._corrupt(f"{what}: audit event {seq} is not its event", **where)
        if payload.get("digest") != digest:
            raise self._corrupt(
                f"{what} was altered after it was stored: it no longer matches the digest "
                f"in audit event {seq}",
                **where,
            )

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
            cross-validation or search), ``"influence"`` (an explainer's clone),
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
        wanted_source = None
        if source is not None:
            if isinstance(source, Source):
                wanted_source = (source.source_id, source.sha256)
            elif isinstance(source, str):
                wanted_source = (source, None)
            else:
                wanted_source = tuple(source)
        names = None
        if estimator is not None:
            names = {_class_name(estimator)}
        purposes = None
        if purpose is not None:
            purposes = {purpose} if isinstance(purpose, str) else set(purpose)
        rows = []
        with self._snapshot():
            listed = self._raw_run_list()
        for run_id, record_text, _ in listed:
            try:
                record = json.loads(record_text)
                entries = record["sources"]
                keys = [(s["source_id"], s["sha256"]) for s in entries]
                ops = record["ops"]
                row = {
                    "run_id": run_id,
                    "created_at": record["created_at"],
                    "estimator": record["estimator"],
                    "model": ops[-1]["cls"] if ops else None,
                    "n_samples": int(record["n_samples"]),
                    "sources": [k[0] for k in keys],
                    "purpose": record.get("purpose"),
                    "name": record.get("name"),
                    "parent_run_id": record.get("parent_run_id"),
                    "tags": dict(record.get("tags") or {}),
                    "search_role": (record.get("selection") or {}).get("role"),
                    "search_id": (record.get("selection") or {}).get("search_id"),
                }
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise self._corrupt(
                    f"run {run_id} in {self!r} is corrupt: {exc!r}; check() or verify() "
                    "lists every problem",
                    run_id=run_id,
                ) from None
            if wanted_source is not None and not any(
                k[0] == wanted_source[0] and wanted_source[1] in (None, k[1]) for k in keys
            ):
                continue
            if names is not None and not _matches_class(names, row["estimator"], row["model"]):
                continue
            if purposes is not None and row["purpose"] not in purposes:
                continue
            if tags is not None and any(row["tags"].get(k) != v for k, v in tags.items()):
                continue
            if parent_run_id is not None and row["parent_run_id"] != parent_run_id:
                continue
            if search_id is not None and row["search_id"] != search_id:
                continue
            if search_role is not None and row["search_role"] != search_role:
                continue
            rows.append(row)
        # object columns keep None as None (pandas would make missing names NaN)
        frame = pd.DataFrame(
            {c: pd.Series([r[c] for r in rows], dtype=object) for c in _RUN_COLUMNS}
        )
        return frame.astype({"n_samples": np.int64})

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
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        if kind.startswith(RESERVED_PREFIX):
            raise ValueError(
                f"event kinds starting with {RESERVED_PREFIX!r} are written by the store "
                f"itself; got {kind!r}"
            )
        if run_id is not None and not isinstance(run_id, str):
            raise TypeError(f"run_id must be a string or None, got {type(run_id).__name__}")
        # refuse what cannot be stored before taking the write lock
        text, payload = payload_text(payload)
        return self._append_event_text(kind, payload, text, run_id)

    def _append_event_text(self, kind, payload, text, run_id):
        """Append an event whose payload's canonical JSON is ``text`` (see
        :func:`payload_text`); ``payload`` is what the returned event holds."""
        self._check_writable()
        made = []
        known = self.__dict__.setdefault("_known_runs", set())

        def write(writer):
            if run_id is not None and run_id not in known:
                # An event about a run this store does not hold could never be matched
                # to its model or data: refused, not written. Runs are append-only, so
                # a run once found stays known to this handle.
                if not writer.run_exists(run_id):
                    raise UnknownRunError(
                        f"no run {run_id!r} in {self!r}: an audit event about a run must "
                        "go to the store that holds the run (fit the estimator with this "
                        "store); nothing was written"
                    )
                known.add(run_id)
            chain = _Chain(self, writer)
            made.append(chain.append(kind, payload, run_id, text))
            chain.confirm()
            return made[-1]

        def committed():
            row = self._raw_event(made[-1]["seq"]) if made else None
            return made[-1] if row is not None and row[6] == made[-1]["hash"] else None

        return self._transact(write, committed)

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
        out = []
        with self._snapshot():
            rows = list(self._raw_events(run_id))
        for row in rows:
            event = dict(zip(_EVENT_KEYS, row))
            if kind is not None and event["kind"] != kind:
                continue
            if not include_store_events and str(event["kind"]).startswith(RESERVED_PREFIX):
                continue
            try:
                event["payload"] = json.loads(event["payload"])
            except (ValueError, TypeError, RecursionError) as exc:
                raise self._corrupt(
                    f"audit event {event['seq']} in {self!r} is corrupt: {exc}", seq=event["seq"]
                ) from None
            out.append(event)
        return out

    # -- integrity ----------------------------------------------------------------------------
    def verify(self, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
        """Check that nothing stored was altered, removed or added outside sktraceprop.

        Checks, naming each problem found: the hash chain of the audit events (each
        linked to its predecessor and matching its hash, none missing); every stored
        run and source against the digest its ``store.run``/``store.source`` event holds
        (an edited record, row id or merge parent; a deleted run or source; one added
        without an event); and the stored checkpoints against the chain.

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

        Raises
        ------
        CorruptStoreError
            If anything does not check out; ``problems`` lists each problem (``check``
            is ``"hash_chain"``, ``"runs"``, ``"sources"`` or ``"checkpoints"``; those
            about signatures under ``public_key`` also have ``signature: True``). After
            any other problem, this handle refuses writes.
        """
        self.check_integrity(
            public_key=public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )
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
            ``key_fingerprint``.

        Raises
        ------
        CorruptStoreError
            As :meth:`verify`.
        """
        from ._audit import audit

        report, problems = audit(self, public_key, checkpoint, allow_unsigned_tail)
        if problems:
            # What the data shows refuses writes; what a given key does not sign may
            # be the wrong key, or work not signed yet.
            damage = [p for p in problems if not p.get("signature")]
            if damage:
                self._refuse_writes(describe(damage[0]))
            _raise_problems(repr(self), problems)
        return report

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

    def _check_with(self, problems, where, public_key, checkpoint, allow_unsigned_tail):
        """:meth:`check_integrity`'s report, after a store's own checks found ``problems``:
        raise them all together with what it finds (refusing writes on damage, not on
        signatures alone), or return the report."""
        try:
            report = self.check_integrity(
                public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
            )
        except CorruptStoreError as exc:
            problems = problems + getattr(
                exc, "problems", [{"check": "read", "message": str(exc)}]
            )
            report = None
        if problems:
            damage = [p for p in problems if not p.get("signature")]
            if damage:
                self._refuse_writes(describe(damage[0]))
            _raise_problems(where, problems)
        return report

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
        key = signing.load_private_key(private_key)
        if path is not None and os.path.lexists(path):
            # refused before anything is stored: a checkpoint in the store whose copy
            # could not be written would be one the caller believes was never made
            raise FileExistsError(f"{os.fspath(path)} exists; nothing was signed or stored")
        self._check_writable()
        report = self.check_integrity()
        texts = []

        def write(writer):
            number = writer.next_checkpoint_seq()
            made = _checkpoint.make_checkpoint(
                key, self.store_id, number, report["last_seq"], report["chain_head"]
            )
            texts.append(canonical_json(made))
            writer.insert_checkpoint(number, texts[-1])
            return made

        def committed():
            return (
                json.loads(texts[-1]) if texts and texts[-1] in self._raw_checkpoints() else None
            )

        made = self._transact(write, committed)
        if path is not None:
            _checkpoint.write_checkpoint(made, path)
        return made

    def checkpoints(self):
        """The stored checkpoints, oldest first (JSON-safe dicts, as :meth:`checkpoint`)."""
        out = []
        with self._snapshot():
            texts = self._raw_checkpoints()
        for text in texts:
            try:
                out.append(json.loads(text))
            except (TypeError, ValueError) as exc:
                raise self._corrupt(f"a stored checkpoint is not readable: {exc}") from None
        return out


def _matches_class(names, *paths):
    for path in paths:
        if path is None:
            continue
        short = path.rsplit(".", 1)[-1]
        if path in names or short in names:
            return True
    return False
