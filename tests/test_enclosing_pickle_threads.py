"""The enclosing-fit tag of a pickle reads meta-estimators' attributes in other threads.

:func:`sktraceprop._enclosing_pickle.pickled_tag` looks at every thread's stack for the
``fit`` of a meta-estimator holding the pickled object. That fit runs in another
thread and may set attributes meanwhile: iterating its live ``__dict__`` raised
"dictionary changed size during iteration" out of a clone made in a joblib thread.
Here a trace function sets an attribute of the meta-estimator at each step of that
iteration, which is what the other thread may do between any two of them.
"""

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


def test_a_meta_estimator_setting_attributes_in_another_thread_is_read_safely():
    STARTED.clear()
    RELEASE.clear()
    inner = LogisticRegression()
    holder = Holder(inner)
    fitting = threading.Thread(target=holder.fit)
    fitting.start()
    try:
        assert STARTED.wait(60)
        count = [0]

        def tracer(frame, event, arg):
            if frame.f_code.co_name == "<genexpr>":
                count[0] += 1
                holder.__dict__[f"set_meanwhile_{count[0]}"] = count[0]
            return tracer

        sys.settrace(tracer)
        try:
            tag = pickled_tag(inner)
        finally:
            sys.settrace(None)
    finally:
        RELEASE.set()
        fitting.join(60)
    assert tag is not None and tag["owner"] == ("Holder", __name__, "fit")
    assert tag["pickled"] is True
