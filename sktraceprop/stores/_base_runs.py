"""The public methods of every store that save, load and list runs (a mixin of
:class:`._base.BaseStore`): each documents the method and hands it to the module that
does it, :mod:`._save_run`, :mod:`._load_run`, :mod:`._sealed_runs` or :mod:`._list_runs`.
"""

from . import _list_runs, _load_run, _save_run, _sealed_runs
from ._saved import note_saved


class RunMethods:
    """Runs stored under the hash chain, read back checked, listed and filtered."""

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
        run = _load_run.load_run(self, run_id)
        note_saved(self, run_id)  # (an exporter of the run then finds its removals here)
        return run

    def _fingerprint_scheme(self, run_id):
        """The stored run's ``fingerprint_scheme`` (None: not recorded), as
        ``load_run(run_id).fingerprint_scheme`` gives it: its record and row ids are
        checked against the digest of its audit event as :meth:`load_run` checks them,
        but its sources are not read nor the run built. Raises as :meth:`load_run`."""
        return _load_run.load_scheme(self, run_id)

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
