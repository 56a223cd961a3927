"""A fit on group statistics computed over removed rows is said, naming the rows.

A salary file is averaged per person (``stp.aggregate``) and merged onto the people
a model trains on. Salary rows removed from another model (``unlearn``) are no
training row of the people model, nor merged into one, yet the means hold their
values: a fit on them learnt the removed rows again with no word (the documented gap
of the refit check). Truth: the files' physical lines, read from their bytes.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import RefitOnRemovedWarning

REMOVED_PIDS = [3, 7]


def _files(tmp_path, prefix):
    rng = np.random.default_rng(5)
    people = pd.DataFrame({"pid": np.arange(40), "age": rng.integers(20, 70, 40)})
    salaries = pd.DataFrame(
        {
            "pid": np.repeat(np.arange(30), 2),
            "salary": rng.integers(30_000, 90_000, 60),
            "late": rng.integers(0, 2, 60),
        }
    )
    (tmp_path / "people.csv").write_text(people.to_csv(index=False))
    (tmp_path / "salaries.csv").write_text(salaries.to_csv(index=False))
    return (
        stp.read_csv(tmp_path / "people.csv", source_id=f"{prefix}_people"),
        stp.read_csv(tmp_path / "salaries.csv", source_id=f"{prefix}_salaries"),
    )


def _line_of(tmp_path, name, pid, nth=0):
    """The physical line (1-based) of the nth row of ``pid`` in the file's bytes."""
    lines = (tmp_path / name).read_bytes().decode().split("\n")
    hits = [n for n, text in enumerate(lines, 1) if text.split(",")[0] == str(pid)]
    return hits[nth]


def _removed(tmp_path, prefix):
    people, salaries = _files(tmp_path, prefix)
    mask = salaries["pid"].isin(REMOVED_PIDS).to_numpy()
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ).fit(salaries[["salary"]], salaries["late"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(mask=mask)
    return people, salaries, mask


def _fit(people, salaries):
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    X = stp.merge(people, mean, on="pid")
    y = (X["age"].to_numpy() > 45).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    return X, lambda: pipe.fit(X[["age", "salary_mean"]], y)


def test_a_fit_on_statistics_over_removed_rows_is_said(tmp_path):
    people, salaries, _ = _removed(tmp_path, "aggrefit")
    X, fit = _fit(people, salaries)
    with pytest.warns(RefitOnRemovedWarning) as record:
        fit()
    (said,) = [str(w.message) for w in record if "group statistics" in str(w.message)]
    assert said.startswith("this fit of TracedPipeline")
    holding = int(X["pid"].isin(REMOVED_PIDS).sum())  # truth: the merged rows of those pids
    assert holding == len(REMOVED_PIDS)
    assert f"trains on {holding} row(s) that hold group statistics" in said
    assert f"computed over {2 * len(REMOVED_PIDS)} row(s) removed from a model" in said
    for pid in REMOVED_PIDS:
        for nth in (0, 1):
            line = _line_of(tmp_path, "salaries.csv", pid, nth)
            assert re.search(rf"aggrefit_salaries line {line}\b", said), (line, said)
    # the training rows are merged rows: named by the people's lines they were merged from
    for pid in REMOVED_PIDS:
        line = _line_of(tmp_path, "people.csv", pid)
        assert re.search(rf"aggrefit_people line {line} \(merged into merge:", said), said
    # the documented filter silences it with the other refit warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", "this fit of .* removed from a model")
        fit()
    assert not [w for w in caught if "group statistics" in str(w.message)]


def test_statistics_recomputed_without_the_removed_rows_are_not_warned(tmp_path):
    people, salaries, mask = _removed(tmp_path, "aggrefit_ok")
    _, fit = _fit(people, salaries[~mask])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    assert not [w for w in caught if "removed from a model" in str(w.message)]


def test_a_fit_on_the_aggregate_rows_themselves_is_said(tmp_path):
    """The statistics as training rows (no merge): each group row over a removed row."""
    _, salaries, _ = _removed(tmp_path, "aggrefit_rows")
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    y = (mean["salary_mean"].to_numpy() > 60_000).astype(int)
    with pytest.warns(RefitOnRemovedWarning) as record:
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
            mean[["salary_mean"]], y
        )
    (said,) = [str(w.message) for w in record if "group statistics" in str(w.message)]
    assert f"trains on {len(REMOVED_PIDS)} row(s) that hold group statistics" in said
