"""Rows explained for a bare neural net have the shape of the rows it was trained on.

A skorch module that slices or pools its input takes rows of another width: explain and
score scored 6-column rows against a net trained on 4 columns with no word (skorch's
predict takes them too), and a 1-D row raised torch's "too many indices".
"""

import warnings

import numpy as np
import pytest

from sktraceprop import InfluenceExplainer

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")


class _FirstFour(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(x[:, :4])


def _explainer():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    net = skorch.NeuralNetClassifier(
        _FirstFour,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        lr=0.05,
        batch_size=16,
        train_split=None,
        verbose=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return InfluenceExplainer(net, method="ggn", damping=0.1).fit(X, y), X, y


@pytest.mark.parametrize(
    "shape, named",
    [((3, 6), r"\(6,\)"), ((3, 2, 2), r"\(2, 2\)"), ((4,), r"\(\)")],
    ids=["wider", "3-d", "1-d"],
)
def test_rows_of_another_shape_are_refused(shape, named):
    exp, X, y = _explainer()
    bad = np.random.RandomState(1).randn(*shape).astype(np.float32)
    if len(shape) == 2:
        # nothing else refuses them: the net predicts them, from their first 4 columns
        np.testing.assert_allclose(
            exp.model_.predict_proba(bad), exp.model_.predict_proba(bad[:, :4]), rtol=1e-6
        )
    with pytest.raises(ValueError, match=f"rows to explain have shape {named} each"):
        exp.explain(bad)
    if len(shape) == 2:
        with pytest.raises(ValueError, match="the rows it was trained on \\(4,\\)"):
            exp.score(bad, y[:3])
    # rows of the training shape are explained
    assert np.isfinite(exp.explain(X[:3], y[:3]).scores).all()
