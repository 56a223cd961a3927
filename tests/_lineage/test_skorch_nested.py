"""Nested :func:`skorch_fit_indices` contexts on one net: each records the fit's split,
and each exit puts back exactly what the context around it had shadowed, also when the
exit is by an exception. Truth: the net instance's ``__dict__`` before each context
opened, and the validation rows a ``PredefinedSplit`` names."""

import numpy as np
import pytest

from sktraceprop._lineage._skorch import skorch_fit_indices


def _shadowed(net):
    return {name: net.__dict__.get(name) for name in ("get_split_datasets", "get_iterator")}


def _fit(net):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    net.fit(X, np.arange(20) % 3)


def test_three_nested_contexts_record_and_restore_exactly_through_exceptions():
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from tests._torch_nets import split_net

    fold = np.full(20, -1)
    fold[[3, 7]] = 0  # rows 3 and 7 are the validation split
    net = split_net(fold)
    trained = np.setdiff1d(np.arange(20), [3, 7])
    before = _shadowed(net)
    with skorch_fit_indices(net) as outer:
        at_outer = _shadowed(net)
        with pytest.raises(RuntimeError, match="middle"):
            with skorch_fit_indices(net) as middle:
                at_middle = _shadowed(net)
                with pytest.raises(RuntimeError, match="inner"):
                    with skorch_fit_indices(net) as inner:
                        _fit(net)
                        raise RuntimeError("inner")
                assert _shadowed(net) == at_middle  # the middle context's own
                raise RuntimeError("middle")
        assert _shadowed(net) == at_outer  # the outer's, not the class's methods
        for seen in (inner, middle, outer):
            np.testing.assert_array_equal(seen.indices, trained)
            assert seen.n_train == 18
        outer.indices = None
        _fit(net)  # the outer context still records after the inner ones ended
        np.testing.assert_array_equal(outer.indices, trained)
    assert _shadowed(net) == before == {"get_split_datasets": None, "get_iterator": None}
    # nothing is left shadowed: the class's methods serve the next fit
    _fit(net)
    assert net.history[-1, "train_loss"] > 0
