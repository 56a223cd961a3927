"""Traced estimators with scikit-learn's metadata routing enabled."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metadata_routing import MetadataRouter, get_routing_for_object

import sktraceprop as stp


def _data(tmp_path, n=48, seed=0):
    """A CSV file whose ``key`` column is each row's physical line, read back traced."""
    rng = np.random.default_rng(seed)
    lines = ["key,a,b,g,y"]
    for i in range(n):
        a, b = rng.normal(size=2)
        lines.append(f"{i + 2},{a:.4f},{b:.4f},{i % 4},{int(a + 0.5 * b > 0)}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    df = stp.read_csv(path)
    return df[["a", "b"]], df["y"], df


def _weights(n):
    w = np.arange(n, dtype=float) % 3  # a third of the rows weigh 0
    w[5] = 2.5
    return w


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _scored_with_weights(pipe):
    """``pipe``, whose score model selection gives sample weights.

    scikit-learn before 1.8 reads the request of a pipeline's own ``score`` signature
    (``set_score_request``) for that; later releases route the weights to the final
    step, as it requested.
    """
    scorer = check_scoring(make_pipeline(LogisticRegression()))
    if not isinstance(get_routing_for_object(scorer), MetadataRouter):
        pipe.set_score_request(sample_weight=True)
    return pipe


def test_model_selection_scores_a_traced_pipeline_as_a_plain_one(tmp_path, routing):
    X, y, _ = _data(tmp_path)
    w = _weights(len(y))
    scores = []
    for make in (make_pipeline, stp.make_traced_pipeline):
        pipe = make(
            StandardScaler().set_fit_request(sample_weight=False),
            LogisticRegression()
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True),
        )
        # the pipeline's own sample_id request asked nothing of score's sample_weight
        pipe = _scored_with_weights(pipe)
        search = GridSearchCV(pipe, {"logisticregression__C": [0.5]}, cv=3, error_score="raise")
        scores.append(search.fit(X, y, sample_weight=w).cv_results_["mean_test_score"])
    assert scores[0] == scores[1]
    # truth: the weighted accuracy of the first split, by hand
    train, test = next(iter(StratifiedKFold(3).split(X, y)))
    scale = StandardScaler().fit(X.iloc[train])
    model = LogisticRegression(C=0.5).fit(
        scale.transform(X.iloc[train]), y.iloc[train], sample_weight=w[train]
    )
    hits = model.predict(scale.transform(X.iloc[test])) == y.iloc[test].to_numpy()
    first = search.cv_results_["split0_test_score"][0]
    assert first == pytest.approx(np.sum(hits * w[test]) / np.sum(w[test]), rel=1e-12)
