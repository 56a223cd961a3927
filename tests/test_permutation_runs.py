"""Fits made by scikit-learn's permutation_test_score: the score's fits on the labels as
given, and one fit per split for each permutation, on labels it shuffled. The runs must
say which is which, and never count permuted labels as the data's label balance."""

import jsonschema
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, permutation_test_score

import sktraceprop as stp
from sktraceprop.compliance import compliance_report

DEPLOYER = {
    "system_name": "S",
    "system_version": "1",
    "deployer_name": "D",
    "high_risk_category": "creditworthiness",
    "intended_purpose": "scoring",
    "human_oversight": ["reviewer"],
}


def _two_files(tmp_path):
    """Two files whose label balance differs (the first mostly 0, the second mostly 1),
    so labels shuffled across them change each file's balance."""
    rng = np.random.default_rng(0)
    paths = []
    for name, labels in (("left", [0] * 15 + [1] * 5), ("right", [1] * 15 + [0] * 5)):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame({"a": rng.normal(size=20), "y": labels}).to_csv(path, index=False)
        paths.append(path)
    frame = pd.concat([stp.read_csv(p) for p in paths])
    return frame.sample(frac=1.0, random_state=1), paths


def _runs(store):
    return [store.load_run(r) for r in store.list_runs()["run_id"]]


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_permuted_fits_say_so_and_count_no_label_balance(tmp_path, n_jobs):
    data, paths = _two_files(tmp_path)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    cv, n_perm = KFold(2), 2
    permutation_test_score(
        pipe, data[["a"]], data["y"].to_numpy(), cv=cv, n_permutations=n_perm, n_jobs=n_jobs
    )
    runs = _runs(store)
    assert len(runs) == 2 * (1 + n_perm)
    given = [r for r in runs if not r.selection["labels_permuted"]]
    permuted = [r for r in runs if r.selection["labels_permuted"]]
    assert len(given) == 2 and len(permuted) == 2 * n_perm
    # the truth for the fits on the labels as given: each file's labels over the split's
    # training rows, read from the files with pandas alone
    truth = {p.stem: pd.read_csv(p)["y"] for p in paths}
    lineage = stp.row_lineage(data)
    for run in given:
        assert run.purpose == "cv_fold"
        assert run.selection["search"] == "sklearn.model_selection.permutation_test_score"
        k = run.selection["split_index"]
        train = list(cv.split(data))[k][0]
        assert run.row_ids.tolist() == data.index.to_numpy()[train].tolist()
        for s in run.source_stats["sources"]:
            rows = lineage.iloc[train]
            lines = rows.loc[rows["source_id"] == s["source_id"], "line"].to_numpy()
            counts = truth[s["source_id"]].iloc[lines - 2].value_counts()
            assert s["labels"]["counts"] == {str(c): int(n) for c, n in counts.items()}
    for run in permuted:
        assert run.purpose == "permutation_test"
        assert run.selection["role"] == "cv_fold"
        assert run.selection["split_index"] in (0, 1)
        assert any("labels it permuted" in n for n in run.notes)
        for s in run.source_stats["sources"]:
            assert s["labels"]["kind"] == "not recorded"
            assert "permuted" in s["labels"]["reason"]
    assert store.verify()


def test_a_report_of_a_permuted_fit_says_its_labels_were_permuted(tmp_path):
    data, _ = _two_files(tmp_path)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(data[["a"]], data["y"]).predict(data[["a"]].iloc[:2])
    permutation_test_score(pipe, data[["a"]], data["y"].to_numpy(), cv=KFold(2), n_permutations=1)
    (run_id,) = [r.run_id for r in _runs(store) if r.purpose == "permutation_test"][:1]
    report = compliance_report(store=store, run_id=run_id, **DEPLOYER)
    data = report.to_dict()
    jsonschema.validate(data, stp.compliance.report_schema())
    assert data["model"]["purpose"] == "permutation_test"
    assert "labels it permuted" in data["model"]["selection_note"]
    for s in data["sources"]:
        assert s["statistics"]["labels"]["kind"] == "not recorded"
    assert "labels it permuted" in report.to_html()
    assert stp.compliance.verify(data, store=store)  # made again from the store: the same


def test_a_traced_step_inside_a_permuted_fit_counts_no_label_balance(tmp_path):
    """A traced estimator as a step of a plain scikit-learn pipeline: the pipeline is
    what permutation_test_score fits, the step's run is of a fit on its labels."""
    from sklearn.pipeline import make_pipeline

    data, paths = _two_files(tmp_path)
    store = stp.stores.MemoryStore()
    step = stp.make_traced_pipeline(LogisticRegression(), store=store)
    outer = make_pipeline("passthrough", step)  # X reaches the step with its row ids
    permutation_test_score(outer, data[["a"]], data["y"].to_numpy(), cv=KFold(2), n_permutations=1)
    runs = _runs(store)
    assert len(runs) == 4
    permuted = [r for r in runs if r.purpose == "permutation_test"]
    assert len(permuted) == 2
    for run in permuted:
        assert any("fitted inside a fit made by permutation_test_score" in n for n in run.notes)
        for s in run.source_stats["sources"]:
            assert s["labels"]["kind"] == "not recorded"
    truth = {p.stem: pd.read_csv(p)["y"] for p in paths}
    lineage = stp.row_lineage(data)
    for run in [r for r in runs if r.purpose != "permutation_test"]:
        assert any("with the labels as given" in n for n in run.notes)
        rows = lineage[lineage["row_id"].isin(run.row_ids)]
        assert len(rows) == len(run.row_ids)
        for s in run.source_stats["sources"]:
            lines = rows.loc[rows["source_id"] == s["source_id"], "line"].to_numpy()
            counts = truth[s["source_id"]].iloc[lines - 2].value_counts()
            assert s["labels"]["counts"] == {str(c): int(n) for c, n in counts.items()}
