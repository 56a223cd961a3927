"""explain, value and score spread over a Dask cluster give the serial numbers."""

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp


def test_explain_value_and_score_on_a_dask_cluster_equal_serial():
    distributed = pytest.importorskip("distributed")
    X, y = make_classification(300, 5, n_informative=4, n_redundant=0, random_state=0)
    X = stp.from_numpy(X, "dask_rows")
    X_tr, y_tr, X_te, y_te = X.iloc[:240], y[:240], X.iloc[240:], y[240:]

    def run():
        # several test blocks, retrained subsets and validation blocks for the workers
        explainer = stp.InfluenceExplainer(
            LogisticRegression(), block_size=16, n_subsets=6, random_state=0
        ).fit(X_tr, y_tr)
        exp = explainer.explain(X_te, y_te, top_k=5)
        valuer = stp.KNNShapleyValuer(n_neighbors=5).fit(X_tr, y_tr)
        return exp, explainer.score(X_te, y_te), valuer.value(X_te.iloc[:30], y_te[:30])

    exp, lds, values = run()
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            d_exp, d_lds, d_values = run()
    assert len(tasks.data) >= 4 + 6  # explain's test blocks and the LDS retrains
    np.testing.assert_array_equal(d_exp.scores, exp.scores)
    np.testing.assert_array_equal(d_exp.top_indices, exp.top_indices)
    np.testing.assert_array_equal(d_exp.source_scores, exp.source_scores)
    assert d_lds == lds
    np.testing.assert_array_equal(d_values, values)
