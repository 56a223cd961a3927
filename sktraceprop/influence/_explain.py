"""The explainer's queries of a fit: ``explain``, ``influence_sums`` and ``score``.

The explained rows' scores are computed by :mod:`._scoring` (in blocks, :mod:`._blocks`);
what they do not include is said in words by :mod:`._messages`.
"""

import threading
import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._model_lock import shared
from .._prediction_log import explanation_store, log_explanation, start_salt
from .._row_hash_start import start_hash_rows
from ..exceptions import ErasedRowsHeldWarning
from ..utils._fit_under_way import check_removal_finished
from ..utils._progress import map_blocks
from ..utils._stack import user_stacklevel
from ._blocks import (
    check_masks,
    check_top_k,
    influence_sums_block,
)
from ._messages import explanation_notes
from ._model_held import model_held


class ExplainMixin:
    """The queries of :class:`~sktraceprop.InfluenceExplainer`'s fit."""

    def influence_sums(self, X, y, masks):
        """Predicted margin change of every subset: sum of scores over its rows.

        Parameters
        ----------
        X : array-like of shape (n_test, n_features)
            Test rows.
        y : array-like of shape (n_test,) or None
            Classes whose margins are predicted; the predicted classes if None.
        masks : ndarray of bool of shape (n_subsets, n_train)
            The training rows of each subset, one column per training row (in the
            order of ``train_row_ids_``); 0/1 numbers are read as booleans, any other
            shape or value raises a ``ValueError``.

        Returns
        -------
        sums : ndarray of shape (n_test, n_subsets)
        """
        # never during a fit of this explainer (see fit), nor a refit of its model
        with shared(self), model_held(self):
            check_is_fitted(self)
            self._refuse_if_forgotten()
            _warn_erased_fit(self, "influence_sums")
            self._check_model_unchanged()
            _, y = self._check_explained(X, y)
            masks = check_masks(masks, self.n_train_)
            parts = map_blocks(
                influence_sums_block,
                self._test_blocks(X, y),
                shared=(self, masks),
                n_jobs=self.n_jobs,
                verbose=self.verbose,
                desc="influence of subsets",
            )
            return np.vstack(parts) if parts else np.zeros((0, masks.shape[0]))

    def explain(self, X, y=None, top_k=10, keep_scores="auto", log=False):
        """Influence of every training row on each row of ``X``.

        Test rows are explained in blocks of ``block_size`` rows, through joblib
        (``n_jobs``) and with progress when ``verbose``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_test, n_features)
            Rows to explain, in the format the estimator takes.
        y : array-like of shape (n_test,), default=None
            Classes whose margin is explained, each one of the model's ``classes_``;
            the predicted classes if None. Ignored for regressors (the prediction is
            explained).
        top_k : int, default=10
            Most positive and most negative training rows kept per test row (at most
            the number of training rows); a positive integer.
        keep_scores : bool or "auto", default="auto"
            Keep the full (n_test, n_train) score matrix. "auto" keeps it when it holds
            at most ``2**24`` entries. Without it, at most ``block_size ** 2`` scores
            are in memory at once per worker.
        log : bool, default=False
            Append an ``"explanation"`` audit event to the explained estimator's
            store: the run, the SHA-256 of ``X``, the classes explained and the
            ``top_k`` row ids and scores per row (see :mod:`sktraceprop.compliance`).

        Returns
        -------
        explanation : Explanation
        """
        # never during a fit of this explainer (see fit), nor a refit of its model
        with shared(self), model_held(self):
            check_is_fitted(self)
            self._refuse_if_forgotten()
            _warn_erased_fit(self, "explain")
            input_sha256 = salt = store = None
            if log:
                store = explanation_store(self)  # a missing store is refused before any work
                # the rows as given: a step with copy=False (SimpleImputer) may write into
                # them while they are explained
                input_sha256 = start_hash_rows(X)
                salt = start_salt(store, X)
            top_k = check_top_k(top_k)
            if not (keep_scores == "auto" or isinstance(keep_scores, bool | np.bool_)):
                raise ValueError(f'keep_scores must be True, False or "auto", got {keep_scores!r}')
            self._check_model_unchanged()
            n_test, y = self._check_explained(X, y)
            n_train = self.n_train_
            k = min(top_k, n_train)
            if keep_scores == "auto":
                keep_scores = n_test * n_train <= 2**24
            explanation = self._explanation(X, y, k, bool(keep_scores))
            # a model without a lock refitted meanwhile: refused before it is logged
            self._check_model_unchanged()
            if log:
                # to the store the salt was drawn for (a set_params(store=...) meanwhile)
                log_explanation(self, X, explanation, input_sha256, salt, store=store)
            return explanation

    def _notes(self):
        """What the scores do not include, in words (the explanation's ``notes``)."""
        return explanation_notes(self)

    def score(self, X, y):
        """Linear datamodeling score (LDS) of the attributions on ``(X, y)``.

        Retrains the final estimator on ``n_subsets`` random subsets of ``alpha`` times
        the training rows and reports the mean over test rows of the Spearman
        correlation between predicted and actual margins (see
        :func:`sktraceprop.metrics.linear_datamodeling_score`).

        Parameters
        ----------
        X : array-like of shape (n_test, n_features)
        y : array-like of shape (n_test,)

        Returns
        -------
        score : float
        """
        # never during a fit of this explainer (see fit), nor a refit of its model
        with shared(self), model_held(self):
            from ..metrics import linear_datamodeling_score

            check_is_fitted(self)
            self._refuse_if_forgotten()
            _warn_erased_fit(self, "score")
            self._check_model_unchanged()  # (before the retrains, not only after them)
            self._check_explained(X, y)
            _SAID.score = True  # (its influence_sums below: said here, once)
            try:
                return linear_datamodeling_score(
                    self,
                    self._X_fit,
                    None,
                    X,
                    y,
                    n_subsets=self.n_subsets,
                    alpha=self.alpha,
                    random_state=self.random_state,
                    n_jobs=self.n_jobs,
                    verbose=self.verbose,
                )
            finally:
                _SAID.score = False


#: Whether this thread is in ``score``, which says it for the queries it makes.
_SAID = threading.local()


def _warn_erased_fit(explainer, what):
    """Warn where training rows of ``explainer``'s fit were erased at request since the
    explained model was fitted: an erasure that could not drop the fit (the explainer
    was pickled before it and loaded after, or it was made by another process; one made
    here drops it, and ``what`` refuses), so that ``what`` returns numbers computed from
    their data (its store, or the requests made in this process, say which)."""
    if getattr(_SAID, "score", False):
        return
    # (a copy made while a removal was under way holds part of its state: refused first)
    check_removal_finished(explainer)
    if not all(k in explainer.__dict__ for k in ("estimator_", "train_row_ids_", "n_train_")):
        return  # (no whole fit to read: ``what`` refuses it)
    hit, seqs, _, _ = explainer._erased_marks(np.arange(explainer.n_train_))
    if hit is None or not hit.any():
        return
    named = [f"store.erasure event seq {s}" if not isinstance(s, str) else s for s in seqs]
    warnings.warn(
        f"{type(explainer).__name__}.{what}: {int(hit.sum())} of the {hit.size} training "
        f"row(s) of its fit are, or were built from, rows erased at request "
        f"({'; '.join(named)}): it holds their features and gradients, and what it "
        "returns is computed from their data. Fit it again on the rows kept (the erasure "
        "could not reach this explainer: pickled before it, or made by another process), "
        "or discard it.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )
