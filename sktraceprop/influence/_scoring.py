"""The explained rows' side of :class:`InfluenceExplainer`: their features, margins
and gradients, the blocks of scores against the training rows, and what an
:class:`~sktraceprop.influence.Explanation` shows of a training row (its values as given
to ``fit`` and the ops it went through)."""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import validate_data

from .._erased_held import erased_marks, erasure_of, removal_of
from .._lineage._paired import check_paired
from ..utils._progress import map_blocks
from ..utils._sklearn_compat import num_samples, safe_indexing
from ._blocks import explain_block, source_incidence
from ._explanation import Explanation
from ._fit_view import FitView
from ._matrix_free import MatrixFreeInverse, MatrixFreeScores
from ._neural_model import as_inputs
from ._woodbury_scores import WoodburyScores


class ScoringMixin:
    """Test-side methods of :class:`InfluenceExplainer` (fitted attributes it reads:
    ``trak_``, ``transformer_``, ``model_``, ``objective_``, ``n_train_``,
    ``block_size``, the training rows' gradients through ``_train_gradients``)."""

    def _raw_values(self, train_index):
        pos = (
            train_index if self._input_positions_ is None else self._input_positions_[train_index]
        )
        X = self._X_fit
        if isinstance(X, pd.DataFrame):
            return X.iloc[int(pos)].to_dict()
        row = X[int(pos)]
        row = row.toarray().ravel() if sparse.issparse(row) else np.asarray(row).ravel()
        return {f"x{j}": v.item() for j, v in enumerate(row)}

    def _removal(self, row_id):
        """``(removed, withheld)``: which removal of the explained unlearner took the row
        ``row_id`` out of the model since the explanation was made (its fit held the
        row), or which erasure its store records of it, or None; and whether its values
        are withheld (removed, erased, or not known: see
        :func:`~sktraceprop._erased_held.erasure_of`)."""
        log = getattr(self.estimator_, "unlearning_log_", None) or ()
        for seq, event in enumerate(log):
            if np.isin(row_id, np.asarray(event["row_ids"], dtype=np.int64)):
                when = event["time_utc"]
                return f"removed from the model by its unlearning event {seq} ({when})", True
        # an erasure its store records since this object was pickled (the erasure could
        # not reach it): the row's values are not handed out again
        erased, withheld = erasure_of(self.estimator_, row_id)
        if erased is None:
            # nor those of a row its unlearner (a copy of it, unpickled, keeps the log
            # it had then) took out of its run since, which its store records
            removed = removal_of(self.estimator_, row_id)
            if removed is not None:
                return removed, True
        return erased, withheld

    def _erased_marks(self, train_index):
        """:func:`~sktraceprop._erased_held.erased_marks` of the training rows at
        ``train_index``: which an erasure request recorded in the explained model's
        store named (an explanation pickled before it still names their lines)."""
        ids = np.asarray(self.train_row_ids_, dtype=np.int64)[np.asarray(train_index)]
        return erased_marks(self.estimator_, ids)

    def _ops(self, train_index):
        if self._lineage is None:
            if self.transformer_ is None:
                return [type(self.model_).__name__]
            return (
                [name for name, _ in self.estimator_.steps]
                if isinstance(self.estimator_, Pipeline)
                else [type(self.model_).__name__]
            )
        # (only its ops: the erased column is the explanation's own, checked apart)
        return list(self._lineage._trace([train_index], None, warn=False)["ops"].iloc[0])

    def _test_features(self, X):
        if self.trak_ is not None:
            Xt = as_inputs(X if self.transformer_ is None else self.transformer_.transform(X))
            trained = self.Xt_.shape[1:]
            if Xt.shape[1:] != trained:
                # a module that slices or pools its input takes other widths without a
                # word: its rows would be scored as if they were rows of the training data
                raise ValueError(
                    f"The rows to explain have shape {Xt.shape[1:]} each as the network's "
                    f"inputs, the rows it was trained on {trained}: pass rows with the "
                    f"{'features' if len(trained) == 1 else 'shape'} of X given to fit."
                )
            if not np.isfinite(Xt).all():
                # the network's margin of such a row is NaN (its scores NaN, its top
                # rows -1) or, with infinity, finite while its scores are not
                where = (
                    "the rows to explain contain NaN or infinity"
                    if self.transformer_ is None
                    else "the rows to explain contain NaN or infinity after the pipeline's "
                    f"preprocessing ({type(self.transformer_).__name__} passed them through)"
                )
                raise ValueError(
                    f"{where[0].upper()}{where[1:]} (as the network's float32 inputs), so "
                    "their margins and scores are undefined. Impute or drop them first."
                )
            return Xt
        if self.transformer_ is None:
            Xt = validate_data(self, X, reset=False, accept_sparse=True, dtype=np.float64)
        else:
            Xt = self.transformer_.transform(X)
        Xt = Xt if sparse.issparse(Xt) else np.asarray(Xt, dtype=np.float64)
        if not np.isfinite(Xt.data if sparse.issparse(Xt) else Xt).all():
            # a step such as StandardScaler passes NaN through; every score of the row
            # would be NaN
            raise ValueError(
                "The rows to explain contain NaN or infinity after the pipeline's "
                f"preprocessing ({type(self.transformer_).__name__} passed them through), "
                "so their margins and scores are undefined. Impute or drop them first."
            )
        return Xt

    def _explained_targets(self, X, Xt, y):
        """The classes whose margins are explained: ``y``, or where it is None, the
        model's predicted classes (regressors: None)."""
        if y is None and (self.trak_ is not None or is_classifier(self.model_)):
            # a bare linear model predicts on X as given (its feature names, if any)
            linear_alone = self.trak_ is None and self.transformer_ is None
            y = self.model_.predict(X if linear_alone else Xt)
        return None if y is None else np.asarray(y)

    def _test_gradients(self, X, y):
        """Margins, explained targets and ``-H^-1 grad f`` of test rows (n_test, p); on
        the Woodbury route, in its place, their features and margins' gradients with
        respect to the outputs (``(Xt, U)``, :meth:`_woodbury_blocks` scores them)."""
        Xt = self._test_features(X)
        y = self._explained_targets(X, Xt, y)
        if self.trak_ is not None:
            margins = self.trak_.margins(Xt, y)
            return margins, y, self.trak_.test_features(Xt, y, self.block_size)
        if isinstance(self._inv_hessian, np.ndarray):
            margins, grads = self.objective_.margins(Xt, y)
            return margins, y, -grads @ self._inv_hessian
        # the Woodbury route: the test rows' side of the scores, no p-sized row
        margins, U = self.objective_.margin_outputs(Xt, y)
        return margins, y, (Xt, U)

    def _woodbury_scores(self):
        scores = getattr(self, "_woodbury", None)
        if scores is None:  # pickled before they were kept, or not yet needed
            if not hasattr(self, "_row_weights"):
                self._prepare_removal()
            kind = (
                MatrixFreeScores
                if isinstance(self._inv_hessian, MatrixFreeInverse)
                else WoodburyScores
            )
            scores = self._woodbury = kind(
                self._inv_hessian,
                self.objective_,
                self.y_,
                self._row_weights,
                self.sample_weight_,
                self._balance,
            )
        return scores

    def _woodbury_blocks(self, test):
        """:meth:`_blocks` on the Woodbury route: test rows a few at a time (within
        ``WORK_BYTES``), each against every block of training rows."""
        Xt, U = test
        scorer = self._woodbury_scores()
        n_test, b = U.shape[0], self.block_size
        step = min(b, scorer.chunk_rows())
        for t0 in range(0, n_test, step):
            te = slice(t0, min(t0 + step, n_test))
            side = scorer.test_side(Xt[te], U[te])
            for start in range(0, self.n_train_, b):
                tr = slice(start, min(start + b, self.n_train_))
                yield tr, te, scorer.scores(side, tr)

    def _blocks(self, A):
        """Yield ``(train_slice, test_slice, scores)`` blocks of ``A @ G_train^T``."""
        if isinstance(A, tuple):
            yield from self._woodbury_blocks(A)
            return
        b = self.block_size
        n_test = A.shape[0]
        for start in range(0, self.n_train_, b):
            tr = slice(start, min(start + b, self.n_train_))
            if self.trak_ is not None:
                S = self.trak_.train_block(A, tr)
                for t0 in range(0, n_test, b):
                    yield tr, slice(t0, min(t0 + b, n_test)), S[t0 : t0 + b]
                continue
            G = self._train_gradients(tr)
            for t0 in range(0, n_test, b):
                te = slice(t0, min(t0 + b, n_test))
                yield tr, te, A[te] @ G.T

    def _check_explained(self, X, y):
        """Validate the rows to explain and their classes; return ``(n_test, y)``."""
        n_test = num_samples(X)
        if n_test == 0:
            raise ValueError("X has no rows to explain (0 samples).")
        if y is None and getattr(getattr(self, "objective_", None), "multilabel", False):
            raise ValueError(
                f"This {type(self.model_).__name__} was fitted on a multilabel target: a "
                "row's prediction is several labels, with no single margin. Pass y, the "
                "label whose decision value is explained for each row (a column index, "
                f"one of classes_ {np.asarray(self.model_.classes_).tolist()})."
            )
        if y is None:
            return n_test, None
        check_paired(X, y, call="explain or score")  # a row's margin is of its own class
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]  # a column vector: one target, as fit takes it
        if y.ndim != 1 or y.shape[0] != n_test:
            raise ValueError(
                f"y must be 1-D with one class per row of X ({n_test} rows), got shape {y.shape}"
            )
        classes = getattr(self.model_, "classes_", None)
        if classes is not None and (self.trak_ is not None or is_classifier(self.model_)):
            unknown = ~np.isin(y, classes)
            if unknown.any():
                raise ValueError(
                    f"y names classes the model does not have: "
                    f"{np.unique(y[unknown])[:10].tolist()}; its classes are "
                    f"{np.asarray(classes).tolist()}"
                )
        return n_test, y

    def _test_blocks(self, X, y):
        """``(X_block, y_block)`` pieces of ``block_size`` test rows."""
        n_test = num_samples(X)
        return [
            (
                safe_indexing(X, slice(t0, t0 + self.block_size)),
                None if y is None else y[t0 : t0 + self.block_size],
            )
            for t0 in range(0, n_test, self.block_size)
        ]

    def _explanation(self, X, y, k, keep_scores):
        """The :class:`~sktraceprop.influence.Explanation` of rows ``X`` (checked, and
        ``y`` resolved, by :meth:`explain`): their blocks of scores against the training
        rows, with the ``k`` most positive and negative rows and the sums per source."""
        n_train = self.n_train_
        names, sources, incidence = source_incidence(
            self._train_rows, self._train_sources, n_train
        )
        parts = map_blocks(
            explain_block,
            self._test_blocks(X, y),
            shared=(self, k, keep_scores, incidence),
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc="explain",
        )
        margins, y_exp, scores, src_sums, top_i, top_v, bot_i, bot_v = (
            [part[j] for part in parts] for j in range(8)
        )
        return Explanation(
            scores=np.vstack(scores) if keep_scores else None,
            margins=np.concatenate(margins),
            y=None if y_exp[0] is None else np.concatenate(y_exp),
            top_indices=np.vstack(top_i),
            top_scores=np.vstack(top_v),
            bottom_indices=np.vstack(bot_i),
            bottom_scores=np.vstack(bot_v),
            source_scores=pd.DataFrame(
                np.vstack(src_sums), columns=pd.Index(names, name="source_id")
            ),
            train_rows=self._train_rows,
            sources=sources,
            source_rows=np.asarray(incidence.sum(axis=0), dtype=np.int64).ravel(),
            explainer=FitView(self),  # read only while this fit is held
            model_fingerprint=self.model_fingerprint_,
            notes=self._notes(),
        )
