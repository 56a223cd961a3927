"""The top and bottom rows of an explanation, against a full sort of its scores: equal
scores (copies of one row, rows of weight zero) are ranked by training position."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from sktraceprop import InfluenceExplainer
from sktraceprop.influence._blocks import merge_top


def _ranked(scores, k, largest):
    """Brute force: every row's scores sorted by value, then by training position."""
    position = np.arange(scores.shape[1])
    key = -scores if largest else scores
    return np.array([np.lexsort((position, row))[:k] for row in key])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    copies=st.integers(1, 4),
    block_size=st.integers(1, 40),
    top_k=st.integers(1, 12),
    zero_weights=st.booleans(),
)
@example(seed=0, copies=3, block_size=2048, top_k=5, zero_weights=False)  # picked 21, 41 over 1
def test_top_rows_are_a_full_sort_with_ties_by_position(
    seed, copies, block_size, top_k, zero_weights
):
    X, y = make_classification(40, 3, n_informative=3, n_redundant=0, random_state=seed % 1000)
    Xt, yt = np.vstack([X[:20]] * copies), np.tile(y[:20], copies)
    weights = np.ones(yt.size)
    if zero_weights:
        weights[::3] = 0.0  # their scores are all exactly 0: ties
    explainer = InfluenceExplainer(LogisticRegression(), block_size=block_size)
    explainer.fit(Xt, yt, sample_weight=weights)
    explanation = explainer.explain(X[20:], y[20:], top_k=top_k, keep_scores=True)
    k = min(top_k, yt.size)
    np.testing.assert_array_equal(explanation.top_indices, _ranked(explanation.scores, k, True))
    np.testing.assert_array_equal(
        explanation.bottom_indices, _ranked(explanation.scores, k, False)
    )


def test_merge_keeps_the_lowest_positions_of_scores_tied_at_the_cut():
    scores = np.array([[1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.5]])
    empty_i, empty_v = np.full((1, 3), -1), np.full((1, 3), -np.inf)
    idx, val = merge_top(empty_i, empty_v, scores, np.arange(10), 3, largest=True)
    assert idx.tolist() == [[1, 2, 3]] and val.tolist() == [[2.0, 2.0, 2.0]]
