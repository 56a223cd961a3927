"""A sampler that records no ``sample_indices_`` (SMOTEENN) made the model's training
rows: the report says its counts are of the rows given to fit.

The report said ``n_training_rows`` 200 with the label balance of those rows, and Art.
26(4) said nothing of the sampler (only the run's free-text note did), while the model
was trained on the rows SMOTEENN made: the truth is imblearn's own ``fit_resample`` of
the same rows.
"""

import warnings

import numpy as np
from imblearn.combine import SMOTEENN
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import compliance_report

from .conftest import DEPLOYER

COLUMNS = ["mean_radius", "mean_texture", "worst_area"]


def _input_data(data):
    (article,) = [a for a in data["articles"] if a["article"] == "26(4)"]
    return article


def _fitted(tmp_path, sampler):
    frame = load_breast_cancer(as_frame=True).frame.iloc[:200]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame[COLUMNS + ["target"]].to_csv(tmp_path / "cancer.csv", index=False)
    df = stp.read_csv(tmp_path / "cancer.csv", source_id="cancer")
    X, y = df[COLUMNS], df["target"]
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(
            sampler, LogisticRegression(max_iter=5000), store=store, log_predictions=True
        ).fit(X, y)
    pipe.predict(X.iloc[:3])
    return pipe, store, X, y


def test_a_smoteenn_run_s_report_says_its_counts_are_not_the_model_s_rows(tmp_path):
    sampler = SMOTEENN(random_state=0)
    pipe, store, X, y = _fitted(tmp_path, sampler)
    trained_on, _ = clone(sampler).fit_resample(X.to_numpy(), y.to_numpy())
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    # the record's count is of the rows given to fit, not of the model's rows
    assert data["model"]["n_training_rows"] == len(X) != len(trained_on)
    article = _input_data(data)
    assert "estimator, 'smoteenn' (SMOTEENN) recorded no sample_indices_" in article["why"]
    assert (
        "the rows the model learned from, and how many, are not in the record" in (article["why"])
    )
    assert "the rows a sampler made and trained the model on" in article["cannot_show"]


def test_a_sampler_that_records_its_rows_gets_no_such_sentence(tmp_path):
    from imblearn.under_sampling import RandomUnderSampler

    pipe, _, X, _ = _fitted(tmp_path, RandomUnderSampler(random_state=0))
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    assert data["model"]["n_training_rows"] < len(X)  # its rows are the model's
    article = _input_data(data)
    assert "sample_indices_" not in article["why"]
    assert not np.any(["sampler made" in c for c in article["cannot_show"]])
