"""The enclosing-fit tag of a pickle reads the pickling thread's own stack, never another's.

:func:`sktraceprop._enclosing_pickle.pickled_tag` looks for the ``fit`` of a
meta-estimator holding the pickled object. It once looked at every thread's stack
(:func:`sys._current_frames`); walking the frames of a thread that goes on running
crashed CPython 3.11 in the step watch, which did the same. Now a fit on another thread
gives no tag (the worker's note then says the estimator could not be named), and the
meta-estimator's attributes, which another thread may set meanwhile, are still read safely
(iterating its live ``__dict__`` raised "dictionary changed size during iteration").
"""

import pickle
import sys
import threading

from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from sktraceprop._enclosing_pickle import pickled_tag

STARTED = threading.Event()
RELEASE = threading.Event()


class Holder(BaseEstimator):
    """A meta-estimator whose fit waits, holding ``estimator``."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X=None, y=None):
        STARTED.set()
        RELEASE.wait(60)
        return self


class Tagging(BaseEstimator):
    """A meta-estimator whose fit asks for its estimator's tag, on its own thread, while
    a trace function sets one of its attributes at each step of reading them."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X=None, y=None):
        count = [0]

        def tracer(frame, event, arg):
            if frame.f_code.co_name == "<genexpr>":
                count[0] += 1
                self.__dict__[f"set_meanwhile_{count[0]}"] = count[0]
            return tracer

        sys.settrace(tracer)
        try:
            self.tag_ = pickled_tag(self.estimator)
        finally:
            sys.settrace(None)
        self.set_meanwhile_ = count[0]
        return self


def test_the_tag_of_a_fit_on_this_thread_reads_attributes_set_meanwhile():
    tagging = Tagging(LogisticRegression()).fit()
    assert tagging.set_meanwhile_ > 0  # the attributes did change while they were read
    assert tagging.tag_ is not None and tagging.tag_["owner"] == ("Tagging", __name__, "fit")
    assert tagging.tag_["pickled"] is True


def test_a_fit_on_another_thread_gives_no_tag_and_its_stack_is_not_read(monkeypatch):
    read = []
    real = sys._current_frames
    monkeypatch.setattr(sys, "_current_frames", lambda: read.append(1) or real())
    STARTED.clear()
    RELEASE.clear()
    inner = LogisticRegression()
    holder = Holder(inner)
    fitting = threading.Thread(target=holder.fit)
    fitting.start()
    try:
        assert STARTED.wait(60)
        tag = pickled_tag(inner)
        again = pickle.loads(pickle.dumps(inner))
    finally:
        RELEASE.set()
        fitting.join(60)
    assert tag is None
    assert not hasattr(again, "_stp_enclosing")
    assert read == []
