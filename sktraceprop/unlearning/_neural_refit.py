"""A neural removal done exactly: the network retrained on the retained rows.

With ``neural_method="refit"`` a removal from a skorch net or a
:class:`~sktraceprop.adapters.JaxClassifier` is no correction: an unfitted clone of the
final step (the same parameters) is fitted, from initial weights drawn with a logged
seed, on the rows the model still holds, as the network saw them (module inputs after
the kept preprocessing). That is a retrain, not an approximation, so it also removes a
whole class, which the correction refuses (:mod:`._neural_classes`): the retrained
network is what a retrain without the class gives (a ``JaxClassifier`` without the
class in ``classes_``; a skorch net whose module keeps the output it was built with,
which no row pulls up).

A skorch net's validation split is not drawn again: the clone trains with
``train_split=None`` on exactly the held rows (those the net trained on, less the
removed ones; the validation rows stay the calibration holdout, never trained on), and
its ``train_split`` is set back after the fit.

A skorch net's retrain follows its seed whatever its module's constructor does (a
``torch.manual_seed`` there is seeded from the pair, :mod:`._neural_seed_torch`); where
the initial weights still do not depend on it, the event says so
(``refit_seed_sets_weights`` False, its note) and a warning too.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._lineage._skorch import is_skorch_net
from ..exceptions import UnlearningError
from ..gradients._decay_record import bind_records, record_decays, records_of
from ..gradients._decay_seen import decay_unchecked
from ..utils._stack import user_stacklevel
from ._method import Removal
from ._neural_inputs import _final

__all__ = ["neural_refit", "refit_removal", "refit_seed"]


def refit_seed(final, random_state):
    """The seed of the retrain: a ``JaxClassifier``'s own int ``random_state``, else one
    drawn from the unlearner's ``random_state``."""
    own = getattr(final, "random_state", None)
    if not is_skorch_net(final) and isinstance(own, int | np.integer):
        return int(own)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def neural_refit(backend, final, Z, Y, seed):
    """An unfitted clone of the network ``final`` fitted on the module inputs ``Z`` and
    encoded targets ``Y`` (as :func:`backend.prepare` gives them) with ``seed``.

    Returns ``(net, Y, seed_note)``: the retrained network, ``Y`` encoded for it (a
    ``JaxClassifier`` retrained without a class has fewer ``classes_``) and None, or
    the sentence saying its initial weights do not depend on ``seed``. Raises
    :class:`~sktraceprop.exceptions.UnlearningError` where the retrain fails (a
    ``JaxClassifier`` left with one class), nothing changed.
    """
    template = clone(final)
    skorch = is_skorch_net(final)
    split = getattr(final, "train_split", None) if skorch else None
    if split is not None:
        template.set_params(train_split=None)  # the held rows are those it trains on
    try:
        # the decay each optimizer step used, recorded as for the unlearner's own fit
        with record_decays(template):
            net, seed_note = backend.fit_retrain(final, template, Z, Y, seed)
    except UnlearningError:
        raise
    except ValueError as error:
        raise UnlearningError(
            f"the retrain of {type(final).__name__} on the {Z.shape[0]} retained rows "
            f"(neural_method='refit') failed: {error} Nothing was changed."
        ) from error
    if split is not None:
        net.set_params(train_split=split)
    if hasattr(final, "feature_names_in_"):
        # the same columns as the fit's, taken as arrays: their names are those it saw
        net.__dict__["feature_names_in_"] = final.feature_names_in_
    if skorch:
        bind_records(net, records_of(net))
        return net, Y, seed_note
    labels = final.classes_[Y]
    return net, np.searchsorted(net.classes_, labels).astype(np.int64), seed_note


def refit_fields(final, net, n_kept, seed, certificate, seed_note=None):
    """The event fields of a retrain (see :func:`neural_refit`); ``seed_note`` says
    that its initial weights do not depend on ``seed``."""
    split = is_skorch_net(final) and getattr(final, "train_split", None) is not None
    lost = ""
    if not is_skorch_net(final) and net.classes_.size < final.classes_.size:
        gone = np.setdiff1d(final.classes_, net.classes_).tolist()
        lost = f"; classes_ no longer holds {gone!r}: only removed rows had them"
    note = (
        f"retrained (neural_method='refit'): an unfitted clone of {type(final).__name__} "
        f"(the same parameters) fitted on the {n_kept} retained rows as the network sees "
        f"them (the preprocessing kept), with seed {seed}"
        + (
            (
                " (torch's generators seeded with it for the fit; a torch.manual_seed(value) "
                "the module or a callback calls seeds them from (seed, value))"
                if seed_note is None
                else f" ({seed_note})"
            )
            if is_skorch_net(final)
            else " (random_state)"
        )
        + (
            ", train_split=None for the fit (the rows it trains on are those the unlearner "
            "holds; its validation rows stay a holdout, never trained on)"
            if split
            else ""
        )
        + ": exact, a retrain, not an approximation; the certificate is the retrained "
        "network's retained-objective gradient norm (training stops short of a "
        "stationary point)" + lost
    )
    unchecked = decay_unchecked(net)
    if unchecked is not None:
        note += f"; {unchecked}"
    return {
        "method": "refit",
        "certificate": certificate,
        "exact": True,
        "refit_seed": seed,
        "refit_seed_sets_weights": seed_note is None,
        "calibration": "none",
        "tol": None,
        "n_iter": 0,
        "note": note,
    }


def refit_removal(method, estimator, keep, params, kept, n_dropped):
    """The :class:`~._method.Removal` of a retrain of ``method``'s network (a
    :class:`~._neural.NeuralCorrection`) on its held rows ``keep``; ``kept`` is
    ``(validation, validation_ids, crossfit)``: the validation rows it keeps
    (``n_dropped`` dropped) and its crossfit losses without those dropped."""
    validation, validation_ids, crossfit = kept
    backend, final = method.backend, _final(estimator)
    seed = refit_seed(final, params["random_state"])
    Z = method.Z[keep]
    net, Y, seed_note = neural_refit(backend, final, Z, method.Y[keep], seed)
    if seed_note is not None:
        # a retrain all the same (as one by hand would be), but not one the seed drew
        warnings.warn(
            f"Removal (neural_method='refit', refit_seed={seed}): {seed_note} (the event's "
            "refit_seed_sets_weights is False).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    backend.record_held_rows(net, Z, Y)
    certificate = backend.gradient_norm(net, Z, Y, backend.weight_decay(net))
    fields = refit_fields(final, net, Z.shape[0], seed, float(certificate), seed_note)
    split_note = getattr(method, "split_note", None)
    if split_note is not None:
        fields["note"] += f"; {split_note}"
    if n_dropped:
        fields["validation_rows_dropped"] = n_dropped
        fields["note"] += (
            f"; {n_dropped} row(s) of the removed data were in the validation split "
            "(never trained on): dropped from the calibration holdout the unlearner keeps"
        )
    if crossfit is not None:
        fields["caveat"] = (
            "the crossfit losses kept for the retained rows and the holdout rows were "
            "measured by clones fitted with the removed rows (a few numbers per row, no "
            "row's values)"
        )
        crossfit = {**crossfit, "unseen": crossfit["unseen"][keep]}
    kept = type(method)(
        backend,
        Z,
        Y,
        validation,
        crossfit,
        method.calibration,
        validation_ids,
        split_note,
        getattr(method, "auto_at_refit", False),
    )
    kept.decay_unchecked = decay_unchecked(net)
    return Removal(net, kept, fields)
