"""A traced pipeline given ``memory=``: what other threads read as its memory mid-fit.

While a traced fit runs, the pipeline's memory is stood in for (``WatchedMemory``, which
watches the clones it fits). Before, the stand-in was in the pipeline's dict, so another
thread reading ``get_params()["memory"]`` or ``pipe.memory`` mid-fit got the stand-in,
not the object the user gave. Now only the fit's own thread sees it: every other thread
reads the user's memory (by identity), and a clone, pickle or ``repr`` taken there is of
it. The fitting thread is held after its steps were fitted (an event, no sleep).
"""

import pickle

import joblib
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._watch_memory import _STANDS_IN, WatchedMemory
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, shifted_data

MEMORIES = {
    "folder": lambda path: str(path),
    "joblib.Memory": lambda path: joblib.Memory(path, verbose=0),
}


def _layouts(memory):
    """``(traced model, the pipeline given memory, the key of its memory)``."""
    traced = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), memory=memory)
    inner = Pipeline([("scale", StandardScaler())], memory=memory)
    nested = stp.TracedPipeline([("prep", inner), ("lr", LogisticRegression())])
    return {
        "traced": (traced, traced, "memory"),
        "nested": (nested, inner, "prep__memory"),
    }


def _location(memory):
    return memory if isinstance(memory, str) else memory.location


@pytest.mark.parametrize("layout", ["traced", "nested"])
@pytest.mark.parametrize("kind", list(MEMORIES))
def test_another_thread_reads_the_user_s_memory_mid_fit(monkeypatch, tmp_path, kind, layout):
    X, y = shifted_data(0, "memory_seen")
    memory = MEMORIES[kind](tmp_path)
    model, pipe, key = _layouts(memory)[layout]
    model.set_params(store=MemoryStore())
    seen = {}

    def read():  # in this (main) thread, while the fit is held in thread 'pipeline'
        seen["attribute"] = pipe.memory
        seen["params"] = model.get_params()[key]
        seen["clone"] = clone(model).get_params()[key]
        seen["pickle"] = pickle.loads(pickle.dumps(model)).get_params()[key]
        seen["repr"] = repr(model)

    error = fit_while_other_code_fits(monkeypatch, model, X, y, read)
    assert error is None, error
    assert seen["attribute"] is memory and seen["params"] is memory
    for how in ("clone", "pickle"):
        assert not isinstance(seen[how], WatchedMemory), how
        assert type(seen[how]) is type(memory) and _location(seen[how]) == _location(memory)
    assert "WatchedMemory" not in seen["repr"] and repr(memory) in seen["repr"]
    # once the fit returned: the user's memory in every thread, nothing left stood in
    assert pipe.memory is memory and id(pipe) not in _STANDS_IN
    assert "memory" in vars(pipe) and vars(pipe)["memory"] is memory


#: The pipeline :class:`_Reads` reads the memory of, and what it read.
_READ = {"pipe": None, "seen": []}


class _Reads(StandardScaler):
    """A scaler whose fit (in the fitting thread) reads the pipeline's memory."""

    def fit(self, X, y=None, sample_weight=None):
        _READ["seen"].append(_READ["pipe"].memory)
        return super().fit(X, y, sample_weight)


def test_the_fit_s_own_thread_still_uses_the_stand_in(tmp_path):
    # the clones the memory fits are watched: read in the fitting thread mid-fit
    X, y = shifted_data(0, "memory_seen")
    pipe = stp.make_traced_pipeline(_Reads(), LogisticRegression(), memory=str(tmp_path))
    _READ.update(pipe=pipe, seen=[])
    pipe.fit(X, y)
    assert _READ["seen"] and isinstance(_READ["seen"][0], WatchedMemory)
    assert pipe.memory == str(tmp_path)


def test_a_memory_set_during_the_watch_is_the_one_read(tmp_path):
    # (the stand-in stood for the memory given: one set since, in any thread, is read)
    from sktraceprop._lineage._fitted_elsewhere import StepFits
    from sktraceprop._lineage._watch_memory import restore_memories, watch_memories

    pipe = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])
    pipe.set_params(memory=str(tmp_path))
    put = watch_memories(pipe, StepFits())
    assert isinstance(pipe.memory, WatchedMemory)
    pipe.set_params(memory=None)
    assert pipe.memory is None and pipe.get_params()["memory"] is None
    restore_memories(put)
    assert pipe.memory is None and id(pipe) not in _STANDS_IN
