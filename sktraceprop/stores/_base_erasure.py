"""The public methods of every store that erase what it holds of training data and of
the people scored (a mixin of :class:`._base.BaseStore`): :meth:`~ErasureMethods.redact`
(:mod:`._redaction`), :meth:`~ErasureMethods.erase_rows` (:mod:`._erase_rows`) and
:meth:`~ErasureMethods.erase_predictions` (:mod:`._erase_predictions`), each documented
here and done there.
"""


class ErasureMethods:
    """Values, rows and logged calls erased, the hash chain kept whole."""

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

        A later fit on the rows is warned of (a
        :class:`~sktraceprop.exceptions.RefitOnRemovedWarning` naming the erasure
        event): a fit writing to this store, in any process, and any traced fit in this
        process, with a store or without. A fit in another process (or after a restart)
        that writes to no store cannot know of the request, which only the store
        records, and is not warned.

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
            would keep and warn of). Where no stored run holds anything of the rows
            any more (an earlier request erased their sources' statistics, or another
            writer just did), the request is still recorded where it names rows no
            earlier request named (its ``store.erasure`` event lists those runs under
            ``erased_before``), so that ``trace`` hides them and pickles made before
            warn of them: one summary per such run, with ``event_seq`` None (no
            redaction event: nothing was left to redact), ``erased`` 0,
            ``erased_before`` True, ``erasure_seq`` (the ``store.erasure`` event) and
            ``wiped`` (with ``dry_run``: ``run_id`` and ``erased_before`` True, nothing
            written). Empty only where nothing was, or would be, recorded (every row
            named was named by an earlier request).

        Raises
        ------
        ValueError
            Neither or both of ``source_id``/``sample_id``, an empty reason, rows no
            stored run was given, feature names no run given the rows holds.
        UnknownSourceError
            A source (or the source of a row id) the store does not know. A request
            naming rows no stored run was given, or a source the store does not know,
            leaves no record in the store (it records a request with what it erased,
            and a source named by id alone would mark any later run on a source of that
            name): the error says so, and the request's maker keeps their own record
            that it was made and found nothing.
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
