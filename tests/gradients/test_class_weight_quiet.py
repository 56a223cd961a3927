"""The probe of how a class balances ``class_weight="balanced"`` keeps its own fit's
warnings from the user in its thread only: a warning another thread raises while the
probe fits is shown (before, a process-wide ``catch_warnings`` dropped it)."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sktraceprop.gradients._class_weight import balances_weighted_counts


class _Probed(LogisticRegression):
    """LogisticRegression whose fit warns itself and has another thread warn meanwhile."""

    def fit(self, X, y, sample_weight=None):
        warnings.warn("the probe's own", UserWarning, stacklevel=1)
        other = threading.Thread(
            target=warnings.warn, args=("another thread's", UserWarning), kwargs={"stacklevel": 1}
        )
        other.start()
        other.join()
        return super().fit(X, y, sample_weight=sample_weight)


def test_probe_drops_only_its_own_warnings():
    balances_weighted_counts.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = balances_weighted_counts(LogisticRegression)
        assert balances_weighted_counts(_Probed) is expected
    assert [str(w.message) for w in caught] == ["another thread's"]


def test_an_error_filter_makes_the_probe_say_so():
    balances_weighted_counts.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="cannot tell whether _Probed.*the probe's own"):
            balances_weighted_counts(_Probed)
    balances_weighted_counts.cache_clear()
    assert np.isfinite(float(balances_weighted_counts(LogisticRegression)))
