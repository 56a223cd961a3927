"""Whether a fitted traced estimator is still the model its run recorded.

A run names the rows a model was fitted on. Once a step is refitted, replaced, given
other parameters or modified in place outside a traced fit (``partial_fit``, a warm
start, ``set_params(...).fit(...)``, an unlearner's correction), those rows no longer
describe the model; consumers that name the model's training rows check this first.
The check fingerprints the fitted steps as the run did (about a millisecond for a
column transformer and a linear model; the fitted state, not the training rows, is
hashed).
"""

import warnings

from ..exceptions import LineageError, LineageWarning
from ..utils._prefit import unfrozen
from ..utils._stack import user_stacklevel
from ._fingerprint import SCHEME, fingerprint
from ._fingerprint_match import (
    UNCHECKED_NOTE,
    matching_scheme,
    may_hold_unseen_form,
    old_scheme_note,
    unseen_by_early_forms,
)
from ._record import fitted_steps

__all__ = [
    "FingerprintCarryMixin",
    "changed_steps",
    "check_unchanged",
    "old_note",
    "step_matches",
    "unchecked_steps",
]


def changed_steps(estimator, run=None):
    """Names of ``estimator``'s fitted steps whose fingerprint differs from its run's ops.

    Parameters
    ----------
    estimator : fitted traced estimator
        A ``TracedPipeline``, ``TracedEstimator`` (its ``estimator_`` is compared) or
        ``TracedColumnTransformer``.
    run : Lineage, default=None
        The run to compare with; ``estimator.lineage_`` if None.

    Returns
    -------
    names : list of str
        Empty when every step is as recorded.
    """
    return step_matches(estimator, run)[0]


def step_matches(estimator, run=None):
    """``(changed, old_scheme, schemes)``: names of ``estimator``'s fitted steps that
    match no fingerprint of its run's ops, names that match only a fingerprint of an
    earlier scheme (a run recorded before scheme 5, 4, 3 or 2), and those earlier schemes,
    sorted (:func:`old_note` says what such a match is worth).
    """
    run = estimator.lineage_ if run is None else run
    inner = getattr(estimator, "estimator_", estimator)
    # The estimator's own ops come last (after ops applied upstream to its sources),
    # so where names repeat, the last one is the estimator's.
    recorded = {op.name: op.fingerprint for op in run.ops}
    changed, old, schemes = [], [], set()
    for name, step in fitted_steps(inner):
        given = recorded.get(name)
        now = fingerprint(step)
        if given == now:
            continue
        scheme = None if given is None else matching_scheme(step, given, now)
        if scheme is not None and scheme < SCHEME:
            old.append(name)
            schemes.add(scheme)
        else:
            changed.append(name)
    return changed, old, sorted(schemes)


def unchecked_steps(estimator, changed, run=None):
    """The names among ``changed`` (from :func:`step_matches`) that cannot be checked
    rather than changed: ``run`` records no fingerprint scheme or scheme 1 (whose form
    changed without a new number), and scheme 1 as it was before 1 December 2026 did not
    see what the step learnt (a tree's nodes), so a record of then cannot be reproduced
    from the model, changed or not (:data:`~._fingerprint_match.UNCHECKED_NOTE`)."""
    run = estimator.lineage_ if run is None else run
    if not changed or not may_hold_unseen_form(run.fingerprint_scheme):
        return []
    steps = dict(fitted_steps(getattr(estimator, "estimator_", estimator)))
    return [name for name in changed if name in steps and unseen_by_early_forms(steps[name])]


def old_note(schemes):
    """What matches by the earlier ``schemes`` only are worth (a record from before
    scheme 3 that lists no schemes: scheme 1)."""
    return "; ".join(old_scheme_note(s) for s in (schemes or [1]))


def check_unchanged(estimator, action):
    """Raise :class:`LineageError` when ``estimator`` changed since its run.

    ``action`` says what was asked ("tracing its training rows"), for the message.
    """
    run = estimator.lineage_
    changed, old, schemes = step_matches(estimator, run)
    if old and not changed:
        warnings.warn(
            f"run {run.run_id}: step(s) {', '.join(old)} match their run's fingerprints "
            f"only by an earlier scheme: {old_note(schemes)}. Refit with fit() to record a "
            "run of the current scheme.",
            LineageWarning,
            stacklevel=user_stacklevel(),
        )
    unchecked = unchecked_steps(estimator, changed, run)
    changed = [name for name in changed if name not in unchecked]
    said = []
    if changed:
        said.append(
            f"the fitted {type(estimator).__name__} changed since its run {run.run_id}: "
            f"step(s) {', '.join(changed)} were refitted, replaced, given other parameters "
            "or modified in place (partial_fit, warm start, an unlearner's correction) "
            "after the traced fit, so the run's training rows no longer describe this "
            "model"
        )
    if unchecked:
        said.append(
            f"the fitted {type(estimator).__name__} cannot be checked against its run "
            f"{run.run_id}: step(s) {', '.join(unchecked)}: {UNCHECKED_NOTE}, so the "
            "run's training rows may not describe this model"
        )
    if said:
        raise LineageError(
            f"{'; and '.join(said)}; refused: {action}. Refit it with fit() to record a "
            "new run, or read the run as recorded (lineage_.trace(...), "
            "store.load_run(run_id))."
        )


class FingerprintCarryMixin:
    """Pickles ``_fingerprint_now`` (the hash of ``estimator_`` when it was fitted or last
    corrected) as whether ``estimator_`` still had it.

    Some fitted state hashes differently once unpickled (object addresses in reprs), so
    the hash itself cannot travel; whether the model was unchanged can, and a model
    changed before pickling stays refused after.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if "_fingerprint_now" in state:
            # the state's own model, not the object's: a removal in another thread may
            # be dropping them (the copy is then refused, see utils._fit_under_way)
            model = state.get("estimator_")
            state["_fingerprint_now"] = model is not None and state[
                "_fingerprint_now"
            ] == fingerprint(unfrozen(model))
        return state

    def __setstate__(self, state):
        unchanged = state.pop("_fingerprint_now", None)
        super().__setstate__(state)
        if unchanged is not None:
            self._fingerprint_now = (
                fingerprint(unfrozen(self.estimator_)) if unchanged else "changed before pickling"
            )
