"""``trace()`` past imbalanced-learn samplers, checked against the raw lines of the file.

The truth is the sampler's own ``fit_resample`` of the same rows (the rows the final
estimator received) and the text of the file, never the library's ids.
"""

import csv

import numpy as np
import pytest
from imblearn.combine import SMOTEENN
from imblearn.over_sampling import SMOTE
from imblearn.under_sampling import ClusterCentroids, EditedNearestNeighbours, TomekLinks
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

COLUMNS = ["mean_radius", "mean_texture", "mean_smoothness", "worst_area"]


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    frame = load_breast_cancer(as_frame=True).frame.iloc[:200]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = tmp_path_factory.mktemp("sampler") / "cancer.csv"
    frame[COLUMNS + ["target"]].to_csv(path, index=False)
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    return path, lines


def _line_values(lines, line):
    return np.array([float(v) for v in lines[line - 1][: len(COLUMNS)]])


@pytest.mark.parametrize("sampler", [EditedNearestNeighbours(), TomekLinks()])
def test_trace_names_the_line_of_each_row_a_sampler_kept(cancer, sampler):
    path, lines = cancer
    df = stp.read_csv(path, source_id="cancer")
    X, y = df[COLUMNS], df["target"]
    pipe = stp.make_traced_pipeline(sampler, LogisticRegression(max_iter=5000)).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    assert len(received) < len(X)  # the sampler dropped rows
    trace = pipe.trace(np.arange(len(received)))
    for i, line in enumerate(trace["line"]):
        np.testing.assert_allclose(_line_values(lines, int(line)), received[i])


@pytest.mark.parametrize(
    "sampler",
    [SMOTE(random_state=0), SMOTEENN(random_state=0), ClusterCentroids(random_state=0)],
    ids=["smote", "smoteenn", "clustercentroids"],
)
def test_trace_refuses_positions_past_a_sampler_that_records_no_rows(cancer, sampler):
    # Before, the run held the rows given to fit and trace(i) named the line of X's row
    # i: for SMOTEENN, training row 0 is another row (or a synthetic one), for
    # ClusterCentroids every training row is a centroid of no line.
    path, lines = cancer
    df = stp.read_csv(path, source_id="cancer")
    X, y = df[COLUMNS], df["target"]
    with pytest.warns(stp.exceptions.LineageWarning, match="sample_indices_"):
        pipe = stp.make_traced_pipeline(sampler, LogisticRegression(max_iter=5000)).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    given_row_lines = [
        i
        for i in range(min(len(received), len(X)))
        if not np.allclose(received[i], _line_values(lines, i + 2))
    ]
    if type(sampler) is not SMOTE:
        assert given_row_lines  # X's row i is not the final estimator's row i
    store = stp.stores.MemoryStore()
    store.save_run(pipe.lineage_)
    for traced in (pipe, pipe.lineage_, store.load_run(pipe.lineage_.run_id)):
        with pytest.raises(
            LineageError, match=type(sampler).__name__ + r"\) has no sample_indices_"
        ):
            traced.trace([0])
    # the rows given to fit keep their lines
    np.testing.assert_array_equal(stp.row_lineage(X)["line"], np.arange(len(X)) + 2)
