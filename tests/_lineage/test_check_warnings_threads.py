"""The library's runs of a user's steps (the row-order check, the check of a step's
declared names at fit) keep their warnings from the user in their own thread only.

Before, each was wrapped in a process-wide ``warnings.catch_warnings`` that ignored
every warning: the warnings other threads raised meanwhile were lost (or, with the
filters restored under another thread's block, that block recorded nothing more). The
truth: each warning the other threads raised, by its text and line (as in
tests/test_threads.py, ``sys.setswitchinterval(1e-6)`` makes a race likely).
"""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp
from sktraceprop._lineage._declared import _refit
from sktraceprop.utils._quiet import quiet
from tests import _noise


def _alone_warns(X):
    """Rows as they are, as a NumPy array (no row ids); warns on a row run alone."""
    X = np.asarray(X, dtype=float)
    if X.shape[0] == 1:
        warnings.warn("check's row alone", UserWarning, stacklevel=1)
    return X


class _FitWarns(TransformerMixin, BaseEstimator):
    """Scales by the first column's mean (its names leave that out: checked at fit);
    warns when fitted on a few rows (the check's copies)."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        if X.shape[0] < 20:
            warnings.warn("check's copy fitted", UserWarning, stacklevel=1)
        self.scale_ = X[:, 0].mean()
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / self.scale_

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


def _frame(k, n=60):
    rng = np.random.default_rng(k)
    df = pd.DataFrame(
        {"a": rng.normal(size=n) + 5, "b": rng.normal(size=n), "y": np.arange(n) % 2}
    )
    return stp.from_pandas(df, source_id=f"t{k}")


@pytest.mark.parametrize("step", ["order", "fit"])
def test_checks_leave_other_threads_warnings_alone(fast_switching, step):
    stop = threading.Event()

    def fits(k):
        df = _frame(k)
        first = (
            FunctionTransformer(_alone_warns, feature_names_out="one-to-one")
            if step == "order"
            else _FitWarns()
        )
        for _ in range(3):
            stp.make_traced_pipeline(first, LogisticRegression()).fit(df[["a", "b"]], df["y"])
        return k

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(5) as ex:
            noise = [ex.submit(_noise.noisy, k, 20000, stop) for k in range(2)]
            done = [ex.submit(fits, k) for k in range(3)]
            try:
                assert [d.result() for d in done] == [0, 1, 2]
            finally:
                stop.set()
            noise = [n.result() for n in noise]
    noisy = [w for w in caught if str(w.message).startswith("noisy ")]
    # every other thread's warning, once, at its own line
    assert sorted(str(w.message) for w in noisy) == sorted(m for _, said in noise for m in said)
    assert {(w.filename, w.lineno) for w in noisy} == {(_noise.NOISE_FILE, noise[0][0])}
    # none of the checks' own
    assert not [w for w in caught if str(w.message).startswith("check's")]


def test_the_checks_run_and_say_nothing():
    # the checks this relies on do run: the row alone and the fitted copies warn inside
    seen = []
    df = _frame(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = FunctionTransformer(_alone_warns, feature_names_out="one-to-one")
        stp.make_traced_pipeline(first, LogisticRegression()).fit(df[["a", "b"]], df["y"])
        copy = _refit(_FitWarns(), df[["a", "b"]].iloc[:5], df[["a", "b"]].iloc[:5])
        seen.append(copy)
    assert copy is not None
    assert not [w for w in caught if str(w.message).startswith("check's")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _alone_warns(np.ones((1, 2)))
    assert [str(w.message) for w in caught] == ["check's row alone"]


def test_quiet_drops_only_its_threads_warnings_and_forgets_them():
    # a warning dropped inside quiet() was registered at its location ("default"): the
    # user's same warning there afterwards is shown, not taken as shown already
    def same():
        warnings.warn("same text", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        with quiet():
            same()
            assert np.divide(np.zeros(1), np.zeros(1)).size == 1  # errstate: no warning
        same()
    assert [str(w.message) for w in caught] == ["same text"]


def test_an_error_filter_still_raises_inside_quiet():
    # a filter's decision is not undone: the check then fails loudly, never silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="inside"), quiet():
            warnings.warn("inside", UserWarning, stacklevel=1)
