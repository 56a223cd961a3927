"""``trace()`` past imbalanced-learn samplers, checked against the raw lines of the file.

The truth is the sampler's own ``fit_resample`` of the same rows (the rows the final
estimator received) and the text of the file, never the library's ids.
"""

import csv
import warnings

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


#: Samplers that record no ``sample_indices_`` (new rows, or others than those given).
NO_ROWS = pytest.mark.parametrize(
    "sampler",
    [SMOTE(random_state=0), SMOTEENN(random_state=0), ClusterCentroids(random_state=0)],
    ids=["smote", "smoteenn", "clustercentroids"],
)


def _fitted_past_no_rows(cancer, sampler):
    """``(pipe, X, received)``: a pipeline fitted past ``sampler``, which warns that it
    records no rows, and the rows the sampler's own ``fit_resample`` gives (the truth)."""
    path, _ = cancer
    df = stp.read_csv(path, source_id="cancer")
    X, y = df[COLUMNS], df["target"]
    with pytest.warns(stp.exceptions.LineageWarning, match="sample_indices_"):
        pipe = stp.make_traced_pipeline(sampler, LogisticRegression(max_iter=5000)).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    return pipe, X, received


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


@NO_ROWS
def test_trace_refuses_positions_past_a_sampler_that_records_no_rows(cancer, sampler):
    # Before, the run held the rows given to fit and trace(i) named the line of X's row
    # i: for SMOTEENN, training row 0 is another row (or a synthetic one), for
    # ClusterCentroids every training row is a centroid of no line.
    _, lines = cancer
    pipe, X, received = _fitted_past_no_rows(cancer, sampler)
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


@NO_ROWS
def test_rows_are_labelled_as_given_to_fit_past_a_sampler_that_records_no_rows(cancer, sampler):
    # Before, rows() labelled X's row i train_index i and source_counts() counted the
    # rows given to fit as the model's: SMOTE's model was fitted on more rows than the
    # 200 said, SMOTEENN's on others, ClusterCentroids' on centroids of no line.
    _, lines = cancer
    pipe, X, received = _fitted_past_no_rows(cancer, sampler)
    assert len(received) != len(X)  # the run's count is not the model's
    store = stp.stores.MemoryStore()
    store.save_run(pipe.lineage_)
    for run in (pipe.lineage_, store.load_run(pipe.lineage_.run_id)):
        with pytest.warns(stp.exceptions.LineageWarning, match=r"rows given to fit"):
            rows = run.rows()
        assert "train_index" not in rows.columns
        np.testing.assert_array_equal(rows["fit_index"], np.arange(len(X)))
        # each is X's row of that position, by the file's own text
        for i, line in zip(rows["fit_index"], rows["line"]):
            np.testing.assert_allclose(_line_values(lines, int(line)), X.to_numpy()[i])
        counts = run.source_counts()
        assert counts.name == "fit_index" and counts.to_dict() == {"cancer": len(X)}
        assert f"given {len(X)} rows to fit" in repr(run)
        assert "fitted on" not in repr(run)


def test_rows_keep_train_index_past_a_sampler_that_records_its_rows(cancer):
    path, lines = cancer
    df = stp.read_csv(path, source_id="cancer")
    X, y = df[COLUMNS], df["target"]
    sampler = EditedNearestNeighbours()
    pipe = stp.make_traced_pipeline(sampler, LogisticRegression(max_iter=5000)).fit(X, y)
    received, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        rows = pipe.lineage_.rows()
    np.testing.assert_array_equal(rows["train_index"], np.arange(len(received)))
    for i, line in zip(rows["train_index"], rows["line"]):
        np.testing.assert_allclose(_line_values(lines, int(line)), received[i])
    assert pipe.lineage_.source_counts().name == "train_index"
    assert f"fitted on {len(received)} rows" in repr(pipe.lineage_)
