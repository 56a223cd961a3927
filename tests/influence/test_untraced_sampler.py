"""An untraced imbalanced-learn pipeline with a sampler is refused by the explainer:
its final estimator was fitted on the rows the sampler drew, which it does not record,
so X's rows would be scored in their place (Spearman 0.38-0.63 with leave-one-out
refits before the refusal)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sktraceprop import InfluenceExplainer, make_traced_pipeline

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline  # noqa: E402
from imblearn.under_sampling import RandomUnderSampler  # noqa: E402

SAMPLERS = [RandomOverSampler(random_state=0), RandomUnderSampler(random_state=0)]


def _data():
    return make_classification(
        60, 3, n_informative=2, n_redundant=0, weights=[0.75], random_state=0
    )


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("fitted", [False, True])
def test_untraced_sampler_pipeline_is_refused_naming_the_step(sampler, fitted):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), clone(sampler), LogisticRegression())
    if fitted:
        pipe.fit(X, y)
    name = type(sampler).__name__
    with pytest.raises(ValueError, match=rf"sampler step {name.lower()} \({name}\) resampled"):
        InfluenceExplainer(pipe).fit(X, y)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_traced_sampler_pipeline_scores_the_drawn_rows(sampler):
    """The traced pipeline is not refused: it scores the rows the sampler drew, as a
    model fitted on exactly those rows is scored."""
    X, y = _data()
    pipe = make_traced_pipeline(
        StandardScaler(), clone(sampler), LogisticRegression(tol=1e-12, max_iter=10_000)
    ).fit(X, y)
    drawn = pipe.steps[1][1].sample_indices_
    explainer = InfluenceExplainer(pipe).fit(X, y)
    assert explainer.n_train_ == drawn.size
    Z = pipe[0].transform(X)
    truth = (
        InfluenceExplainer(LogisticRegression(tol=1e-12, max_iter=10_000))
        .fit(Z[drawn], y[drawn])
        .explain(Z[:5], y[:5], keep_scores=True)
        .scores
    )
    got = explainer.explain(X[:5], y[:5], keep_scores=True).scores
    np.testing.assert_allclose(got, truth, rtol=1e-6, atol=1e-10)
