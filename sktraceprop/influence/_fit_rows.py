"""The model an explainer explains and the rows it was trained on.

The steps of :meth:`InfluenceExplainer.fit <sktraceprop.InfluenceExplainer.fit>` that
decide *what* is explained: the estimator as given or a clone fitted here, the rows of
``X`` (or those a run, an unlearner or a skorch split says) the final estimator was
trained on, their features as it was fitted on them, and the file lines they came from.
"""

import warnings

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._lineage._capture import resolve_row_ids
from .._lineage._current import check_unchanged
from .._lineage._final import WARM_START_NOTE
from .._lineage._fit_params import final_weight_names, final_weights_differ
from .._lineage._fit_routes import weighted_parts
from .._lineage._labels import row_groups
from .._lineage._read_paths import narrowed_sources, run_sources
from .._lineage._skorch import is_skorch_net, skorch_fit_indices
from .._lineage._source import REGISTRY
from .._lineage._split_classes import split_class_note, split_classes
from .._removed_rows import deferring
from .._tracing import library_fit
from ..exceptions import LineageWarning
from ..gradients import linear_model_objective
from ..gradients._torch_objective import check_torch_objective
from ..utils._module_input import check_module_input
from ..utils._prefit import is_fitted, unfrozen
from ..utils._private_copy import private_copy, shares_memory
from ..utils._sklearn_compat import num_samples
from ..utils._stack import user_stacklevel
from ._fit_features import (
    as_features,
    features_trained_on,
    final_fit_inputs,
    held_features,
    resampled_features_trained_on,
    smoothing_samplers,
)
from ._fitted import (
    innermost,
    is_frozen,
    run_holder,
    synthesising_samplers,
    unwrap,
    warn_if_refitted,
)
from ._neural_model import is_neural_model
from ._training_rows import check_training_ids, check_training_rows, input_positions, locate

NEURAL_SAMPLE_WEIGHT = (
    "sample_weight is not supported for neural models: the neural influence scores the "
    "plain mean cross-entropy, every row weighted alike."
)


class FitRowsMixin:
    """The steps of an explainer's fit that resolve its model and its training rows."""

    def _resolve_model(self, X, y, sample_weight):
        """Set ``estimator_``: the estimator itself when fitted (or frozen), else a clone
        fitted here. Returns ``(as_is, seen, fed)``: whether it was fitted before, the
        rows a bare skorch net kept from its validation split and the features its final
        estimator was fitted on (None when not fitted here)."""
        final = unfrozen(self.estimator)
        if is_neural_model(final):
            check_module_input(X, "the neural influence")
        if isinstance(final, Pipeline):
            final = unfrozen(final[-1])
        if sample_weight is not None and is_neural_model(final):
            # refused before the fit: skorch would hand sample_weight to the module's forward
            raise ValueError(NEURAL_SAMPLE_WEIGHT)
        if is_skorch_net(final) and not is_fitted(final):
            check_torch_objective(final)  # the criterion it will train with, before the fit
        seen = fed = None
        as_is = is_frozen(self.estimator) or is_fitted(self.estimator)
        if as_is:
            check_is_fitted(unfrozen(self.estimator))
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator)
            params = {}
            if sample_weight is not None:
                params = self._sample_weight_params(sample_weight)
            # A bare skorch net holds out a validation split: record the rows it kept.
            # The clone's run reaches the store only once the model is known supported.
            with (
                skorch_fit_indices(self.estimator_) as seen,
                library_fit("influence", self.estimator, owner=self, model=self.estimator_),
                final_fit_inputs(self.estimator_) as fed,  # gone before the run is kept
                deferring(),  # the explainer's fit checks the rows it keeps (one warning)
            ):
                self.estimator_.fit(X, y, **params)
                fitted = unwrap(self.estimator_)[0]
                if is_skorch_net(fitted):
                    check_torch_objective(fitted)
                elif not is_neural_model(fitted):
                    linear_model_objective(fitted)
        made = synthesising_samplers(self.estimator_)
        if made:
            raise ValueError(
                f"the final estimator was trained on rows that sampler step {made[0]} made "
                "(it records no sample_indices_), not on rows of X: influence scores "
                "training rows, and these have no data to score or file line to name. "
                "Explain a model trained without it, or with a sampler that keeps real "
                "rows (RandomUnderSampler, RandomOverSampler)."
            )
        return as_is, seen, fed

    def _check_given_rows(self, X, model, lineage, trained):
        """A model fitted before is explained by the rows it holds: refuse other rows
        of ``X``, and warn where rows of an earlier fit shaped it too."""
        if trained is not None and lineage is None:
            check_training_ids(X, trained, "it holds (an unlearner's retained rows)")
        if lineage is not None:
            holder = run_holder(self.estimator_)
            if holder is not None:
                check_unchanged(holder, "explaining it by the run's training rows")
            check_training_rows(X, lineage)
            warm = [note for note in lineage.notes if WARM_START_NOTE in note]
            if warm:
                warnings.warn(
                    f"run {lineage.run_id} says {warm[0]}. The scores cover only the rows "
                    "of this run; rows of the earlier fit also shaped the model and are "
                    "not scored.",
                    LineageWarning,
                    stacklevel=user_stacklevel(),
                )
        if lineage is None and is_skorch_net(model):
            warn_if_refitted(model)

    def _take_features(self, X, fed, neural, sample_weight):
        """The rows of ``X`` as the final estimator takes them (where it was fitted
        here, the features it was given: see :meth:`_features_trained_on`); keeps a
        private copy of ``X`` (``_X_fit``)."""
        model, transformer = self.model_, self.transformer_
        # the raw rows as given, kept to show a training row's values and to retrain for
        # score(): taken before the transform, which a step with copy=False writes into,
        # and shared with nothing the caller may write into later
        self._X_fit = given = private_copy(X)
        Xt = given if transformer is None else transformer.transform(X)
        if shares_memory(Xt, X):
            Xt = private_copy(Xt)  # an identity step's output is the caller's data
        Xt = self._features_trained_on(X, Xt, fed, transformer)
        if neural:
            if sample_weight is not None:
                raise ValueError(NEURAL_SAMPLE_WEIGHT)
            if getattr(model, "_sample_weighted", False):
                raise ValueError(
                    f"This {type(model).__name__} was fitted with sample_weight (unequal "
                    "weights, or rows of weight zero, which it left out): "
                    + NEURAL_SAMPLE_WEIGHT
                    + " Its rows of weight zero would be scored as training rows. Explain "
                    "a model fitted without sample_weight, on the rows it trained on."
                )
        features = as_features(Xt, neural)
        if fed is not None and fed.X is not None and num_samples(fed.X) != num_samples(X):
            # a sampler changed the rows: compared once they are known (_select_rows)
            self._resampled_inputs = fed
        return features

    def _select_rows(self, X, y, sample_weight, Xt, holds, neural):
        """Keep the rows the final estimator was trained on (``Xt_``, ``y_``,
        ``sample_weight_``, ``train_row_ids_``): those of ``X``, or those its run, an
        unlearner or a skorch split says. ``holds``: ``(lineage, trained, held, seen)``
        as :meth:`fit` found them."""
        lineage, trained, held, seen = holds
        model = self.model_
        # (taken first: not kept past this fit, whatever it raises)
        resampled = self.__dict__.pop("_resampled_inputs", None)
        if lineage is not None and trained is None and sample_weight is None:
            weighted = final_weight_names(lineage.fit_params or {})
            if weighted:
                # scored unweighted, the rows would not match the objective the model
                # minimised: every score (and the Hessian) silently wrong
                raise ValueError(
                    f"run {lineage.run_id} says its final estimator "
                    f"{type(model).__name__} was fitted with sample weights (not all 1) "
                    f"({', '.join(weighted)}), and none were given to this fit: the "
                    "influence scores would differentiate the unweighted objective, not "
                    "the one the model minimised. Pass the same weights: "
                    "InfluenceExplainer(...).fit(X, y, sample_weight=w)."
                )
        elif lineage is not None and trained is None:
            # X is the run's rows in its order (checked): weights compare row for row
            differ, unchecked = final_weights_differ(lineage.fit_params or {}, sample_weight)
            if differ is not None:
                raise ValueError(
                    f"the sample_weight given are not those the final estimator "
                    f"{type(model).__name__} of run {lineage.run_id} was fitted with: "
                    f"{differ}. The scores would differentiate another objective than "
                    "the one the model minimised; pass the weights it was fitted with."
                )
            if unchecked:
                warnings.warn(
                    f"run {lineage.run_id} records no digest of its {', '.join(unchecked)} "
                    "(recorded before digests of that scheme): only their counts and sum "
                    "were compared with the sample_weight given, so the same weights on "
                    "other rows (another order) cannot be told apart.",
                    LineageWarning,
                    stacklevel=user_stacklevel(),
                )
        y = np.array(y, copy=True)  # kept: the caller's may change
        # a model without a run: untraced X whose target (or weights) shows loaded rows
        # warns, as a traced fit does (a traced one's fit checked them)
        labels = (
            {"y": y, "fit_params": {"sample_weight": sample_weight}} if lineage is None else {}
        )
        input_ids = (
            resolve_row_ids(X, **labels)
            if lineage is None or trained is not None
            else (lineage.input_row_ids if lineage.input_row_ids is not None else lineage.row_ids)
        )
        row_ids = input_ids if lineage is None else lineage.row_ids
        if trained is not None:
            # an unlearner's model holds its retained rows only (fitted here on all of X)
            row_ids = trained
        if lineage is None and is_skorch_net(model):
            if seen is not None and seen.indices is not None:
                row_ids = input_ids[seen.indices]
            elif seen is None and getattr(model, "train_split", None) is not None:
                raise ValueError(
                    "This frozen skorch net held out a validation split whose rows are "
                    "unknown; fit it in a TracedPipeline (which records them) or with "
                    "train_split=None."
                )
        positions = input_positions(input_ids, row_ids, num_samples(X))
        self._input_positions_ = positions
        self._lineage = lineage
        self.Xt_ = Xt[positions] if positions is not None else Xt
        if resampled is not None and trained is None and positions is not None:
            # a sampler drew the rows the final estimator was fitted on: their features as
            # it got them (cross fitted, or a smoothed bootstrap's noisy copies)
            Xt, self.cross_fitted_, self._fit_features = resampled_features_trained_on(
                self.Xt_, y[positions], resampled, self.transformer_
            )
            self.Xt_ = as_features(Xt, neural)
        if trained is not None:
            # the unlearner's final step was fitted (or corrected) on its retained rows'
            # features as they reached it, which a cross-fitting step makes differ from
            # transform's: the rows are scored there, or a warning says it cannot be
            Xt, self.cross_fitted_, self._fit_features = held_features(
                held, self.Xt_, self.transformer_
            )
            self.Xt_ = as_features(Xt, neural)
        self.y_ = y[positions] if positions is not None else y
        self._split_note = None
        if is_skorch_net(model) and trained is None and resampled is None:
            # a class its validation split took whole: an output no row trained
            lost, rows = split_classes(y, positions)
            if lost.size:
                self._split_note = split_class_note(model, lost, np.asarray(input_ids)[rows])
                warnings.warn(self._split_note, UserWarning, stacklevel=user_stacklevel())
        sw = None if sample_weight is None else np.array(sample_weight, dtype=np.float64)
        self.sample_weight_ = sw if sw is None or positions is None else sw[positions]
        self.train_row_ids_ = np.asarray(row_ids, dtype=np.int64)

    def _features_trained_on(self, X, Xt, fed, transformer):
        """The training rows' features as the final estimator was fitted on them.

        Where this explainer fitted the pipeline, the features that reached the final
        estimator (``fed``) replace ``transform``'s: a ``TargetEncoder`` cross fits, so
        they differ (``cross_fitted_`` names the steps); behind a sampler they are
        compared once the rows it drew are known (:meth:`_select_rows`). Where it did not
        see them (a pipeline fitted before, one fitted inside a wrapper), the features
        are ``transform``'s, and ``cross_fitted_`` names the steps that may make them
        differ from those it was trained on.
        """
        Xt, self.cross_fitted_, self._fit_features = features_trained_on(X, Xt, fed, transformer)
        if fed is None or fed.X is None:
            # a smoothed bootstrap's copies carry noise the model was fitted on: unseen
            noisy = smoothing_samplers(innermost(self.estimator_)[0])
            if noisy:
                self.cross_fitted_, self._fit_features = self.cross_fitted_ + noisy, "unknown"
        return Xt

    def _sample_weight_params(self, sample_weight):
        est = self.estimator_
        if not sklearn.get_config()["enable_metadata_routing"]:
            if isinstance(est, Pipeline):
                return {f"{est.steps[-1][0]}__sample_weight": sample_weight}
            return {"sample_weight": sample_weight}
        # With routing, ``step__param`` names are refused: the weights go as the steps
        # requested them, and must reach the final estimator, whose objective uses them.
        params = {"sample_weight": sample_weight}
        if not weighted_parts(est, params)[1]:
            raise ValueError(
                "with metadata routing enabled, the final estimator does not request "
                "sample_weight, so it would be fitted without the weights the explainer's "
                "objective uses. Request them: final_step.set_fit_request(sample_weight=True)."
            )
        return params

    def _locate_train_rows(self, X):
        """The training rows' lines (:meth:`_locate`) and their sources, one per content
        (in this process, whose registry knows them: an anonymous source does not travel
        with a pickle, and explain needs no registry). A file read from several paths
        (copies) is named by the paths the model's run read its rows from, or else
        those ``X`` was read from (:mod:`sktraceprop._lineage._read_paths`)."""
        if self._lineage is not None:
            sources = run_sources(self._lineage, REGISTRY.by_code)
        else:
            sources = narrowed_sources(X, REGISTRY.by_code)
        self._train_rows = locate(self.train_row_ids_, sources)
        group, sources = row_groups(self._train_rows["row_id"].to_numpy(), sources)
        self._train_sources = (group, [source.light() for source in sources])
