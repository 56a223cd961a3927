"""Eigenpairs of the cross-entropy's Hessian in the logits against the matrix itself."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sktraceprop.gradients._curvature import n_directions_for, output_curvature


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 7)),
        elements=st.floats(-30, 30, allow_nan=False),
    )
)
def test_directions_rebuild_the_loss_hessian(z):
    V, w = output_curvature(z)
    n, K = z.shape
    c = n_directions_for(K)
    assert V.shape == (n, c, K) and w.shape == (n, c)
    assert (w >= 0).all()
    for zi, Vi, wi in zip(z, V, w):
        if K == 1:
            p = 1 / (1 + np.exp(-zi[0]))
            lam = np.array([[p * (1 - p)]])
        else:
            p = np.exp(zi - zi.max())
            p /= p.sum()
            lam = np.diag(p) - np.outer(p, p)
        np.testing.assert_allclose(Vi.T @ (wi[:, None] * Vi), lam, atol=1e-12)
        np.testing.assert_allclose(Vi @ Vi.T, np.eye(c), atol=1e-9)


def test_fewer_directions_keep_the_largest():
    z = np.array([[2.0, 1.0, 0.0, -1.0]])
    V_all, w_all = output_curvature(z)
    V_two, w_two = output_curvature(z, n_directions=2)
    np.testing.assert_allclose(w_two, w_all[:, :2])
    assert w_all[0, 0] >= w_all[0, 1] >= w_all[0, 2]
    with pytest.raises(ValueError, match="positive"):
        output_curvature(z, n_directions=0)
