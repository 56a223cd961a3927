"""How a neural classifier forgets: an influence step plus retained-set fine-tuning.

Used for skorch nets (``_neural_torch.py``) and
:class:`~sktraceprop.adapters.JaxClassifier` MLPs (``_neural_jax.py``); neither framework
is imported here.

The model minimises ``J(theta) = mean_i loss_i + wd / 2 ||theta||^2``, ``theta`` every
parameter, biases included, as both frameworks train (``JaxClassifier``'s ``alpha``
penalises every leaf; a torch optimizer's ``weight_decay`` every parameter of its
groups, which must share one decay and be coupled: a decoupled decay, as in ``AdamW``
or ``optax.adamw``, is no term of ``J`` and is refused,
:mod:`sktraceprop.gradients._weight_decay`). Removing the rows
``K`` (``R`` retained) is done in two steps:

1. an influence (one Gauss-Newton) step on the **last layer** (its inputs, the
   penultimate activations, held fixed) or on all parameters
   (:mod:`._influence_step`);
2. ``n_steps`` mini-batch SGD steps of step size ``lr`` on the retained objective over
   **all** parameters (same loss and weight decay as the training); a default step
   (:mod:`._finetune_lr`) whose steps raised the certificate is halved
   (:mod:`._neural_step`), and a fine-tuning that still raised it is marked and warned
   about.

A calibration can rescale step 1 so that the removed rows' mean loss, measured after
step 2, matches an estimate of what a retrain would give them (a root search on the
scale ``t`` of the step, shortening or lengthening it):

- ``"holdout"``: the model's mean loss on rows it never trained on (a population
  estimate: blind to how hard the removed rows themselves are);
- ``"crossfit"``: per row, the mean loss under clones fitted at ``fit`` time that left
  the row out (:mod:`._crossfit`), corrected by a holdout ratio to the share of the
  fit's rows removed (by this removal and earlier ones).

Neither step is certified for a non-convex model: the reported *certificate* is the
retained-objective gradient norm after the correction, a measure of stationarity, not a
bound on the distance to a retrain.

:class:`NeuralCorrection` keeps the retained rows as the network sees them (module
inputs and encoded targets), the rows of a skorch validation split (a calibration
holdout, never trained on) and, with the crossfit calibration, each retained row's
crossfit loss. After a removal the optimizer state of the net (momentum buffers, which
hold gradients of the removed rows) is cleared.

The parts live beside this module: the removal on the network in :mod:`._neural_step`,
the calibration in :mod:`._calibration` (prepared at ``fit`` in
:mod:`._neural_calibration_fit`), the event's fields and note in :mod:`._neural_note`,
the rows as the network sees them in :mod:`._neural_inputs`, and the removal by a
retrain (``neural_method="refit"``) in :mod:`._neural_refit`.
"""

import copy
import warnings

import numpy as np

from .._lineage._skorch import is_skorch_net
from .._lineage._split_classes import split_class_note, split_classes
from ..gradients._decay_record import bind_records, records_of
from ..gradients._decay_seen import decay_unchecked
from ..utils._stack import user_stacklevel
from ._crossfit import crossfit_holdout_kept, crossfit_removal_target
from ._method import Removal, RemovalMethod
from ._neural_calibration_fit import fit_calibration
from ._neural_classes import check_no_class_lost
from ._neural_inputs import _final, _holdout_rows, _module_inputs
from ._neural_note import correction_fields
from ._neural_refit import refit_removal
from ._neural_step import neural_remove

__all__ = ["NeuralCorrection"]


class NeuralCorrection(RemovalMethod):
    """Influence step plus fine-tuning of a neural classifier.

    Parameters
    ----------
    backend : module
        The framework backend.
    Z, Y : ndarray
        Module inputs and encoded targets of the rows the model holds.
    validation : tuple (Z_v, Y_v, "validation split") or None
        Rows of a skorch validation split: given to ``fit``, never trained on.
    crossfit : dict or None
        ``unseen`` (each held row's crossfit loss), ``model_holdout`` and
        ``clones_holdout`` (the model's and the clones' mean holdout loss), ``left_out``
        (the clones' left-out fraction) and ``source`` (see
        :func:`~._crossfit.crossfit_target`); also ``holdout_clones`` (each clone's loss
        on each holdout row) and ``holdout_full`` (the model's), kept for studies of the
        target (``benchmarks/study_unlearning_neural_calibration.py``) and to measure
        the two levels again when validation rows of removed data are dropped
        (:func:`~._crossfit.crossfit_holdout_kept`: ``holdout_dropped`` counts them, and
        the levels are None once none is left); ``n_rows`` (the rows the clones were
        fitted among, of which a removal's share is taken) and ``holdout_source``.
    calibration : {"crossfit", "holdout", "none"}
        The calibration ``calibration="auto"`` resolved to at ``fit``.
    validation_ids : ndarray of int64 or None
        Row ids of the ``validation`` rows, so that a removal of their source drops them.
    split_note : str or None
        Said at fit and in every removal's note where the skorch validation split held
        every row of a class (:mod:`sktraceprop._lineage._split_classes`).
    auto_at_refit : bool
        Whether ``calibration="auto"`` was resolved at a fit with
        ``neural_method="refit"`` (to ``"holdout"``, no crossfit clones fitted): a
        correction with it says what it calibrated on, or that it did not
        (:mod:`._neural_note`).
    """

    def __init__(
        self,
        backend,
        Z,
        Y,
        validation=None,
        crossfit=None,
        calibration="holdout",
        validation_ids=None,
        split_note=None,
        auto_at_refit=False,
    ):
        self.backend = backend
        self.Z = Z
        self.Y = Y
        self.validation = validation
        self.crossfit = crossfit
        self.calibration = calibration
        self.validation_ids = validation_ids
        self.split_note = split_note
        self.auto_at_refit = auto_at_refit

    def __getstate__(self):
        # a module cannot be pickled: keep its name
        return {**vars(self), "backend": self.backend.__name__}

    def __setstate__(self, state):
        import importlib

        state["backend"] = importlib.import_module(state["backend"])
        vars(self).update(state)

    @classmethod
    def fit(
        cls,
        backend,
        estimator,
        X,
        y,
        trained,
        params,
        X_holdout=None,
        y_holdout=None,
        ids=None,
        features=None,
    ):
        """Prepare the removal for the fitted ``estimator`` (fit the crossfit clones).

        ``trained`` are the positions of the rows the net trained on (None: all); the
        others form a skorch validation split, used as a calibration holdout. ``ids``:
        the row ids of ``X``. ``features``: the inputs of the rows of ``X`` as the net
        was fitted on them (a ``TargetEncoder`` cross fits: its ``transform`` gives the
        training rows other encodings); None takes them through the preprocessing's
        ``transform``.
        """
        final = _final(estimator)
        if is_skorch_net(final):
            # the record of the fit's steps (kept in this process, per optimizer) is
            # carried on the net, bound to its parameters, so that a copy or pickle of
            # the unlearner as fitted is read as the fit was (a wrapper or an optimizer
            # whose state counts no steps was refused until a first removal bound it);
            # a skorch net's private attributes are no part of its fingerprint
            steps_seen = records_of(final)
            if steps_seen:
                bind_records(final, steps_seen)
        Z_all = _module_inputs(estimator, X, features)
        y_all = np.asarray(y)
        if y_all.ndim == 2 and y_all.shape[1] == 1:
            y_all = y_all.ravel()
        Z, Y = (Z_all, y_all) if trained is None else (Z_all[trained], y_all[trained])
        Z, Y = backend.prepare(final, Z, Y)
        validation = validation_ids = split_note = None
        if trained is not None:
            held = np.setdiff1d(np.arange(y_all.shape[0]), trained)
            if held.size:
                validation = backend.prepare(final, Z_all[held], y_all[held]) + (
                    "validation split",
                )
                validation_ids = None if ids is None else np.asarray(ids, np.int64)[held]
            # a class the split took whole: the net never trained on it (said, not hidden)
            lost, rows = split_classes(y_all, trained)
            if lost.size:
                split_note = split_class_note(
                    final, lost, rows if ids is None else np.asarray(ids, np.int64)[rows]
                )
                warnings.warn(split_note, UserWarning, stacklevel=user_stacklevel())
        calibration, crossfit, auto_at_refit = fit_calibration(
            backend, estimator, Z, Y, validation, params, X_holdout, y_holdout
        )
        method = cls(
            backend,
            Z,
            Y,
            validation,
            crossfit,
            calibration,
            validation_ids,
            split_note,
            auto_at_refit,
        )
        # said at fit: the removals work on copies, whose optimizers no fit stepped
        method.decay_unchecked = decay_unchecked(final)
        return method

    def trained_features(self):
        return self.Z, True

    def without_validation(self, drop):
        """A copy that no longer holds the validation rows the mask ``drop`` selects (the
        model never trained on them: nothing else changes)."""
        stay = ~np.asarray(drop, dtype=bool)
        validation = self.validation
        return NeuralCorrection(
            self.backend,
            self.Z,
            self.Y,
            (validation[0][stay], validation[1][stay], validation[2]) if stay.any() else None,
            crossfit_holdout_kept(self.crossfit, stay),
            self.calibration,
            self.validation_ids[stay] if stay.any() else None,
            getattr(self, "split_note", None),
            getattr(self, "auto_at_refit", False),
        )

    def remove(
        self,
        estimator,
        forget,
        keep,
        params,
        X_holdout=None,
        y_holdout=None,
        drop_validation=None,
    ):
        """As :meth:`RemovalMethod.remove`; ``drop_validation`` (a mask over the
        validation rows) names those of removed sources: the removal neither uses nor
        keeps them."""
        refit = params.get("neural_method", "correct") == "refit"
        if not refit:
            # a class only removed rows hold: refused, the correction keeps it (see there)
            check_no_class_lost(_final(estimator), self.Y, forget, keep)
        backend = self.backend
        validation = self.validation
        validation_ids = getattr(self, "validation_ids", None)  # (older pickles lack it)
        n_dropped = 0 if drop_validation is None else int(np.sum(drop_validation))
        cf = self.crossfit
        if n_dropped:
            stay = ~np.asarray(drop_validation, dtype=bool)
            validation = (
                (validation[0][stay], validation[1][stay], validation[2]) if stay.any() else None
            )
            validation_ids = validation_ids[stay] if stay.any() else None
            # the clones' holdout levels were measured on those rows too: again without
            cf = crossfit_holdout_kept(cf, stay)
        if refit:  # exact: the network retrained on the held rows (see there)
            return refit_removal(
                self, estimator, keep, params, (validation, validation_ids, cf), n_dropped
            )
        original = _final(estimator)
        # the record of the fit's steps (kept for the net copied), bound to the result
        steps_seen = records_of(original) if is_skorch_net(original) else None
        final = copy.deepcopy(original)
        crossfit, holdout = None, None
        calibration = (
            self.calibration if params["calibration"] == "auto" else params["calibration"]
        )
        if calibration == "crossfit":
            if cf is None:
                raise ValueError(
                    "calibration='crossfit' was set after fit: its clones are fitted by fit; "
                    "fit the unlearner again with it."
                )
            # Every row is left out by at least one clone (n_crossfit >= crossfit_folds).
            crossfit = crossfit_removal_target(cf, forget, keep.shape[0])
        elif calibration == "holdout":
            holdout = (
                validation
                if X_holdout is None
                else _holdout_rows(backend, estimator, X_holdout, y_holdout)
            )
        if steps_seen:
            bind_records(final, steps_seen)  # the copy is read as the net copied
        info = neural_remove(
            backend,
            final,
            self.Z,
            self.Y,
            forget,
            keep,
            n_steps=params["n_steps"],
            lr=params["lr"],
            damping=params["damping"],
            influence=params["influence"],
            holdout=holdout,
            crossfit=crossfit,
        )
        backend.reset_optimizer(final)
        backend.record_held_rows(final, self.Z[keep], self.Y[keep])
        if steps_seen is not None:
            bind_records(final, steps_seen)
        # (older pickles lack them: the net as loaded, whose steps no fit here saw)
        unchecked = (
            self.decay_unchecked if hasattr(self, "decay_unchecked") else decay_unchecked(final)
        )
        split_note = getattr(self, "split_note", None)
        fields = correction_fields(
            info,
            params,
            auto_at_refit=getattr(self, "auto_at_refit", False),
            notes=(unchecked, split_note),  # the objective certified is the decay seen's
        )
        remains = []
        if cf is not None:
            remains.append(
                "the crossfit losses kept for the retained rows and the holdout rows were "
                "measured by clones fitted with the removed rows (a few numbers per row, "
                "no row's values)"
            )
        if n_dropped:
            fields["validation_rows_dropped"] = n_dropped
            fields["note"] += (
                f"; {n_dropped} row(s) of the removed data were in the validation split "
                "(never trained on): dropped from the calibration holdout the unlearner "
                "keeps, and not used by this removal"
            )
        kept = NeuralCorrection(
            backend,
            self.Z[keep],
            self.Y[keep],
            validation,
            None if cf is None else {**cf, "unseen": cf["unseen"][keep]},
            self.calibration,
            validation_ids,
            split_note,
            getattr(self, "auto_at_refit", False),
        )
        kept.decay_unchecked = unchecked
        if remains:
            fields["caveat"] = "; ".join(remains)
        return Removal(final, kept, fields)
