"""The public methods of every store that keep and check its audit trail (a mixin of
:class:`._base.BaseStore`): the user's audit events (:mod:`._events`), verification
(:mod:`._integrity`, with :mod:`._audit`) and signed checkpoints (:mod:`._checkpoint`),
each documented here and done there.
"""

import warnings

from . import _checkpoint, _events, _integrity


class AuditMethods:
    """Audit events appended and listed; the whole store verified and checkpointed."""

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
        the ``store.upgrade`` events against the ``schema_version`` table (two events
        to one version, or an event whose version has no row: an inconsistent upgrade
        history, ``check`` ``"upgrades"``);
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

        :class:`~sktraceprop.stores.SQLiteStore` first runs SQLite's
        ``integrity_check`` on the file (every page, and every index matched to its
        table: the checks above read tables only).
        :class:`~sktraceprop.stores.PostgresStore` checks what the server returns, not
        the server's storage (see its notes).

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
            an older copy of the store put back; a schema upgrade made before upgrades
            were recorded as ``store.upgrade`` events) is listed by
            :meth:`check_integrity` (``not_shown``).

        Raises
        ------
        CorruptStoreError
            If anything does not check out; ``problems`` lists each problem (``check``
            is ``"integrity_check"`` (SQLite's check of the file's pages; ``damaged``
            names the tables and indexes where it can be told), ``"hash_chain"``,
            ``"runs"``, ``"sources"``, ``"prediction_salts"`` (a salt of a logged call
            replaced, deleted without an erasure, added, or held again after its
            erasure), ``"erasure_wipe"`` (an erasure event's wipe mark deleted from
            ``stp_meta``: whether its erased values' old bytes are still in the files
            is not known) or ``"checkpoints"``; those
            about signatures under ``public_key`` also have ``signature: True``). After
            any other problem, this handle refuses writes.
        StoreBusyError, StoreConnectionError, StorePermissionError, StoreNotFoundError
            If a read was kept from finishing (another client's lock past ``timeout``, a
            lost connection, a missing privilege, the store gone): nothing was checked
            past it and nothing is held against the store; verify again.

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
            edit with its checkpoints removed or signed again is shown. Nor, ever, a
            copy of the store written apart from it (a fork: a copied file keeps the
            ``store_id``, and each copy checks out alone); a checkpoint kept
            elsewhere, signed on the copy relied on after they diverged, shows that
            another copy holds different events.
            ``erased_bytes_left``: where an erasure committed but the store has not yet
            wiped the old bytes of the values it deleted from its files (a SQLite
            store's write-ahead log not yet folded in: a reader kept it in use, or the
            writer stopped first), a sentence saying so (``[]`` when nothing is left).
            ``times_set_back``: the ``seq`` of each event stamped earlier than the
            event before it (a clock set back, or writers whose clocks differ; see
            :class:`~sktraceprop.exceptions.ClockWarning`): not damage, but times
            read from the log are then not in its order.
            ``upgrades``: each schema upgrade the store's ``schema_version`` table
            (outside the chain) shows, oldest first: ``from_version``, ``to_version``,
            ``applied_at`` and ``event_seq`` (its ``store.upgrade`` event, None where an
            sktraceprop from before that event upgraded it: ``not_shown`` then says the
            upgrade history is not recorded under the chain).
            ``notes``: what the check found that is no damage and no failure, in words
            (``check()`` names each index added outside sktraceprop here; ``[]`` when
            none).

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
            (FileExistsError) before anything is signed or stored. The copy is
            written in full before the checkpoint is committed: where it cannot be (a
            full disk), a :class:`~sktraceprop.exceptions.StoreError` says so and
            nothing is stored or left at ``path``. Keep a copy outside the store: it
            is what shows later that events were cut from the end of the log.

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
