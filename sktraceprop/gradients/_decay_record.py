"""A weight decay that changed while a torch net was fitted: seen step by step, refused.

The decay of the objective is read from the fitted optimizer's parameter groups, which
hold the values of the *last* step. A scheduler or callback that changes a group's
``weight_decay`` during the fit (no decay over a warm-up, then some; a decay dropped
for the last epochs) leaves parameters that are the fixed point of no one objective,
and a reading of the end alone takes them for a point of the last one. So, while the
library fits a skorch net (:func:`record_decays`, around every such fit), torch's step
hook reads the decay settings each step used; after a fit the library did not see,
the groups the net's optimizer factory builds (the start) are compared with the fitted
ones (the end). A change found either way is named (:func:`decay_change`), and the
decay is then treated as unmodelled (:mod:`._weight_decay`): the neural removal
refuses the net, the influence curvature leaves the decay out and says so.

The record also counts the steps, so that a probe of an optimizer of unknown kind
(:mod:`._torch_decay`) can run as many zero-gradient steps as the fit did: a decay
that starts after step N moves no weight in a one-step probe.

The record is kept per optimizer object in this process: torch's
``Optimizer.__getstate__`` keeps no attribute of its own, and the net's attributes are
part of its fingerprint, taken before the fit ends. So a ``copy.deepcopy`` or a pickle of
a fitted net holds no record, and a copy of an optimizer of unknown kind with no step
counter in its state (as ``SGD`` without momentum keeps none) was probed for 1
zero-gradient step where its fit took many, a decay starting later taken for none: such
a fitted optimizer is now refused, saying its steps are not known
(:mod:`._weight_decay`). An unlearner's fit binds the record to the net it fitted
(:func:`bind_records`, ``_decay_steps`` on the net, with the digest of the parameters it
holds; a skorch net's private attributes are no part of its fingerprint), so a copy or
pickle of the unlearner as fitted is read as the fit was (it was refused until a first
removal had bound it). A removal works on a copy of the net: it takes the record of the
net it copies (:func:`records_of`) and binds it to its result, with the digest of the
parameters the removal ended with, so removal after removal, and copies and pickles of
a removal's result, are read as the fit was; the carried record counts only while the
module holds those parameters.
"""

import weakref
from contextlib import contextmanager

__all__ = [
    "bind_records",
    "decay_change",
    "fit_steps",
    "record_decays",
    "records_of",
    "was_recorded",
]

#: The net's instance attribute that carries the record through copies and pickles.
CARRIED = "_decay_steps"

# the group settings that decide a decay; any other key naming one ("shrink_decay")
DECAY_KEYS = ("weight_decay", "decoupled_weight_decay", "lambd", "maximize")


def _settings(optimizer):
    """The decay settings of each of ``optimizer``'s parameter groups, comparable."""
    groups = getattr(optimizer, "param_groups", None) or ()
    return tuple(
        tuple(
            sorted(
                (key, repr(value))
                for key, value in group.items()
                if key in DECAY_KEYS or "decay" in str(key).lower()
            )
        )
        for group in groups
    )


class _Seen:
    """For one optimizer: its steps and each change of its decay settings."""

    def __init__(self):
        self.steps, self.changes = 0, []

    def step(self, optimizer):
        self.steps += 1
        now = _settings(optimizer)
        if not self.changes or self.changes[-1][1] != now:
            self.changes.append((self.steps, now))


# optimizer -> its record, for the optimizers the library saw stepping in a fit (kept
# off the net, whose fingerprint reads its attributes)
_SEEN = weakref.WeakKeyDictionary()


@contextmanager
def record_decays(net):
    """Record the decay settings each optimizer step of ``net``'s fit used."""
    try:
        from torch.optim.optimizer import register_optimizer_step_pre_hook
    except ImportError:  # (no torch: no net to record)
        yield
        return
    seen = {}

    def hook(optimizer, args, kwargs):
        if id(optimizer) not in seen:
            seen[id(optimizer)] = (optimizer, _Seen())
        seen[id(optimizer)][1].step(optimizer)

    handle = register_optimizer_step_pre_hook(hook)
    try:
        yield
    finally:
        handle.remove()
        for optimizer, record in seen.values():
            _SEEN[optimizer] = record


def _places(net):
    """``(place, optimizer)`` for each torch optimizer on ``net`` and the one each
    wraps (its place with ``"/inner"``)."""
    import torch

    from ._torch_wrapper import inner_optimizer

    for key, value in list(vars(net).items()):
        if isinstance(value, torch.optim.Optimizer):
            yield key, value
            inner = inner_optimizer(value)
            if inner is not None:
                yield f"{key}/inner", inner


def _role(net, optimizer):
    """Where ``optimizer`` sits on ``net`` (:func:`_places`), or None."""
    return next((place for place, value in _places(net) if value is optimizer), None)


def _digest(net):
    from ..adapters._digest import module_digest

    try:
        return module_digest(net)
    except Exception:  # noqa: BLE001 - no fitted module (a fit that raised)
        return None


def bind_records(net, records):
    """Carry ``records`` (place on the net -> record) on ``net``, bound to the
    parameters its module holds now; none drops an earlier record."""
    net.__dict__.pop(CARRIED, None)
    digest = _digest(net) if records else None
    if digest is not None:
        net.__dict__[CARRIED] = (digest, dict(records))


def records_of(net):
    """The records of the steps of ``net``'s optimizers that hold now (place on the net
    -> record): a removal takes them before it moves the parameters, and binds them to
    its result (:func:`bind_records`), whose decay is that of the fit."""
    records = {}
    for place, optimizer in _places(net):
        record = _record(net, optimizer)
        if record is not None:
            records[place] = record
    return records


def _record(net, optimizer):
    """The record of ``optimizer``'s steps in the fit the library saw: kept in this
    process, or carried by ``net`` (a removal's result, its copies and pickles) while
    its module holds the parameters the removal ended with; None when there is none."""
    record = _SEEN.get(optimizer)
    if record is not None or net is None:
        return record
    carried = getattr(net, "__dict__", {}).get(CARRIED)
    if not carried:
        return None
    digest, records = carried
    role = _role(net, optimizer)
    if role not in records or _digest(net) != digest:
        return None
    return records[role]


def was_recorded(optimizer, net=None):
    """Whether the library saw ``optimizer`` step through its fit (in this process, or
    as carried by ``net``, a removal's result: :func:`_record`)."""
    return _record(net, optimizer) is not None


def fit_steps(optimizer, net=None):
    """How many steps ``optimizer`` took in the fit the library saw (this process's
    record, or the one ``net`` carries), else the most its state counts for a parameter
    (``state["step"]``, torch's own counter), or None."""
    record = _record(net, optimizer)
    if record is not None:
        return record.steps
    counts = []
    for state in getattr(optimizer, "state", {}).values():
        try:
            counts.append(int(state["step"]))
        except (KeyError, TypeError, ValueError, RuntimeError):
            continue
    return max(counts, default=None)


def _words(settings, others):
    """``settings`` in words: the entries of each group that differ in one of ``others``."""
    words = [
        (f"group {i}: " if len(settings) > 1 else "") + f"{key}={value}"
        for i, group in enumerate(settings)
        for key, value in group
        if any(i >= len(other) or (key, value) not in other[i] for other in others)
    ]
    return ", ".join(words) or f"{len(settings)} parameter group(s)"


def _start(net):
    """The optimizer the net's factory builds on its fitted module (its groups as the
    fit started), or None where it cannot be built so."""
    try:
        args, kwargs = net.get_params_for_optimizer("optimizer", net.module_.named_parameters())
        return net.optimizer(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a custom factory: only a recorded fit tells
        return None


def decay_change(net, optimizer):
    """How the decay of ``optimizer`` (``net``'s fitted one, or the optimizer it wraps)
    changed during the fit, in words, or None when it was seen not to."""
    name = type(optimizer).__name__
    record = _record(net, optimizer)
    if record is not None:
        now = _settings(optimizer)
        if record.changes and record.changes[-1][1] != now:
            # set after the fit the library saw (by hand, or a later partial_fit)
            last = record.changes[-1][1]
            return (
                f"{name} whose weight decay changed after the fit (its {record.steps} "
                f"steps used {_words(last, [now])}; now {_words(now, [last])})"
            )
        if len(record.changes) < 2:
            return None
        every = [s for _, s in record.changes]
        steps = "; ".join(
            f"from step {step}: {_words(s, [o for o in every if o != s])}"
            for step, s in record.changes
        )
        return f"{name} whose weight decay changed during the fit ({steps})"
    if getattr(net, "optimizer_", None) is not optimizer:
        return None  # the start of a wrapped optimizer is not built alone
    start = _start(net)
    before, after = (None, None) if start is None else (_settings(start), _settings(optimizer))
    if before == after:
        return None
    return (
        f"{name} whose weight decay changed during the fit (the net's optimizer "
        f"settings build {_words(before, [after])}; after the fit: "
        f"{_words(after, [before])}; or they were set after the fit)"
    )
