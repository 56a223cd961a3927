"""The state format a public estimator's pickle records, checked when it is loaded.

An estimator's attributes (and the private objects it keeps: an unlearner's removal
method, an explainer's fit) change between versions of sktraceprop. Loaded into code
that expects another layout, a pickle fails deep inside a later call (an unlearner
pickled at commit 29414bb raised ``AttributeError: 'PipelineRefit' object has no
attribute 'weighted'`` in ``unlearn``) or, worse, computes something else with no
word. So each public estimator's pickle records its class's state format (a number,
``_state_format``, raised whenever what the class keeps changes in a way the code
cannot read back) and the sktraceprop version that wrote it, and loading checks them
before anything is set on the object:

- the format this class writes: loaded;
- an earlier format the class reads (``_state_upgrades``: format -> function turning
  such a state into the current one): upgraded, then loaded;
- any other earlier format: refused (:class:`~sktraceprop.exceptions.StateFormatError`),
  naming the class, the format found and the one expected: fit it again;
- a newer format: refused, made by a newer sktraceprop;
- no format (pickled before pickles recorded one): a fitted state is warned about
  (:class:`~sktraceprop.exceptions.EarlierPickleWarning`), since the forms of then that
  this version reads cannot be told from those it cannot, or refused where the class
  knows it cannot read them (``_reads_unnumbered = False``). An unfitted one holds only
  parameters, which :mod:`._earlier_pickle` checks.

scikit-learn's own ``__getstate__``/``__setstate__`` (its version warning) run
unchanged inside these.
"""

import warnings

from ._version import __version__
from .exceptions import EarlierPickleWarning, StateFormatError

#: The key of the state's record: ``{"format": int, "sktraceprop": version}``.
KEY = "_sktraceprop_state"

_REFIT = "Fit it again with this sktraceprop (or load it with the sktraceprop that pickled it)."


class StateFormatMixin:
    """Records the class's state format in its pickles and checks it when loading.

    Each public class sets ``_state_format`` (an int, from 1) in its own body, and may
    set ``_state_upgrades`` and ``_reads_unnumbered`` (see the module's docstring).
    """

    _state_format = 1
    _state_upgrades = {}
    _reads_unnumbered = True

    def __getstate__(self):
        # a copy: BaseEstimator.__getstate__ may return the live __dict__
        state = dict(super().__getstate__())
        state[KEY] = {"format": type(self)._state_format, "sktraceprop": __version__}
        return state

    def __setstate__(self, state):
        if isinstance(state, dict):
            state = dict(state)
            state = read_state(type(self), state.pop(KEY, None), state)
        super().__setstate__(state)


def _fitted(state):
    """Whether ``state`` holds fitted attributes (names ending in ``_``)."""
    return any(k.endswith("_") and not k.startswith("__") for k in state)


def read_state(cls, record, state):
    """``state`` as ``cls`` of this version holds it, or raise/warn (see the module)."""
    name, expected = cls.__name__, cls._state_format
    if record is None:
        if not _fitted(state):
            return state
        if not cls._reads_unnumbered:
            raise StateFormatError(
                f"this {name} records no state format: it was pickled by an sktraceprop "
                "from before pickles recorded one (its version is not known), whose "
                f"fitted {name} this version (state format {expected}) cannot read: what "
                "it keeps has changed since (loaded, it would fail or compute otherwise "
                f"later). {_REFIT}"
            )
        warnings.warn(
            f"this {name} records no state format: it was pickled by an sktraceprop from "
            "before pickles recorded one (its version is not known). This version "
            f"(state format {expected}) reads the forms of then that it knows of, but "
            "cannot tell whether this is one of them: what it lacks fails where it is "
            f"read, and what changed meaning is not seen. {_REFIT}",
            EarlierPickleWarning,
            stacklevel=3,
        )
        return state
    found = record.get("format") if isinstance(record, dict) else None
    version = record.get("sktraceprop", "unknown") if isinstance(record, dict) else "unknown"
    if not isinstance(found, int) or isinstance(found, bool):
        raise StateFormatError(
            f"this {name}'s pickle records a state format that is not a number "
            f"({record!r}): it was not written by sktraceprop as it is, and this version "
            f"(state format {expected}) cannot read it. {_REFIT}"
        )
    if found == expected:
        return state
    if found > expected:
        raise StateFormatError(
            f"this {name} was made by a newer sktraceprop ({version}, state format "
            f"{found}): this sktraceprop ({__version__}) reads {name} state format "
            f"{expected} and earlier only. Load it with sktraceprop {version} or newer, "
            "or fit it again with this one."
        )
    upgrade = cls._state_upgrades.get(found)
    if upgrade is None:
        reads = sorted({expected, *cls._state_upgrades})
        raise StateFormatError(
            f"this {name} was pickled by sktraceprop {version} in state format {found}; "
            f"this sktraceprop ({__version__}) reads {name} state format(s) "
            f"{', '.join(map(str, reads))} only (expected {expected}), so it cannot be "
            f"loaded. {_REFIT}"
        )
    return upgrade(state)
