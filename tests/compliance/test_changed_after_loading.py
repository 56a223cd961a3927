"""Columns changed after loading are marked in the report, beside their missing counts.

After ``X["bp"] = X["bp"].fillna(...)`` the report counted 0 missing ``bp`` values for a
file with empty cells (counted on the rows given to fit, as documented), and Art. 26(4)
said missing values were counted for every source: only a free-text note of the run told
of the change. The truth is pandas' read of the raw file.
"""

import copy
import json
import warnings

import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop.compliance import ComplianceReport, compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER, logged_pipeline, traced_frames


def _report(store, X, y, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    return pipe, compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()


def _input_data(data):
    (article,) = [a for a in data["articles"] if a["article"] == "26(4)"]
    return article


def test_a_column_filled_after_loading_is_marked_and_26_4_names_it(hospitals, tmp_path):
    a, b, X, y = traced_frames(hospitals)
    X = X.copy()
    X["bp"] = X["bp"].fillna(120.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    path = tmp_path / "report.json"
    _, data = _report(store, X, y, path)
    assert stp.compliance.verify(path, store=store)  # schema, and rebuilt from the store
    raw = pd.read_csv(hospitals["hospital_b"], comment="#")  # pandas alone: the truth
    gaps = int(raw["bp"].isna().sum())
    assert gaps > 0
    sources = {s["source_id"]: s for s in data["sources"]}
    bp = {c["name"]: c for c in sources["hospital_b"]["columns"]}["bp"]
    assert bp["missing"] == 0  # the values given to fit ...
    assert bp["changed_after_loading"] == {  # ... which the report now says changed
        "rows_checked": len(raw),  # (a file this small: every row is checked)
        "rows_changed": gaps,
        "missing_filled": gaps,
    }
    # nothing else changed: no other column of either file is marked
    marked = [
        (s["source_id"], c["name"])
        for s in data["sources"]
        for c in s["columns"]
        if "changed_after_loading" in c
    ]
    assert marked == [("hospital_b", "bp")]
    article = _input_data(data)
    said = f"bp of hospital_b ({gaps} of {len(raw)} rows checked changed, {gaps} of them"
    assert said in article["why"]
    (cannot,) = [c for c in article["cannot_show"] if "changed after loading" in c]
    assert said in cannot and "the counts are of the values given to fit" in cannot
    html = ComplianceReport(data).to_html()
    assert "Changed after loading" in html
    assert f"{gaps} of {len(raw)} rows checked differ from the values loaded" in html


def test_a_mark_removed_and_the_report_resealed_fails_against_the_store(hospitals, tmp_path):
    """The mark is rebuilt from the stored run: a report that dropped it (its integrity
    sealed again) does not verify against its store, and the message names it."""
    a, b, X, y = traced_frames(hospitals)
    X = X.copy()
    X["bp"] = X["bp"].fillna(0.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    _, data = _report(store, X, y, tmp_path / "report.json")
    edited = copy.deepcopy(data)
    (where,) = [
        f"/sources/{i}/columns/{j}/changed_after_loading"
        for i, s in enumerate(edited["sources"])
        for j, c in enumerate(s["columns"])
        if c.pop("changed_after_loading", None) is not None
    ]
    edited["integrity"] = seal(body_of(edited))
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    with pytest.raises(ReportVerificationError) as info:
        stp.compliance.verify(path, store=store)
    assert f"{where} differs from the store's run record" in info.value.problems


def test_data_as_loaded_has_no_mark(fitted, tmp_path):
    pipe, store, _, _ = fitted
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    assert pipe.lineage_.changed_columns == []
    assert not any("changed_after_loading" in c for s in data["sources"] for c in s["columns"])
    article = _input_data(data)
    assert not any("changed after loading" in c for c in article["cannot_show"])
    assert "changed after loading" not in article["why"]
    assert "Changed after loading" not in ComplianceReport(data).to_html()


def test_a_file_reached_through_a_merge_is_marked_with_its_own_rows(hospitals, tmp_path):
    a, b, _, _ = traced_frames(hospitals)
    lookup = stp.from_pandas(pd.DataFrame({"sex": ["F", "M"], "w": [0.4, 0.6]}), source_id="w")
    joined = stp.merge(pd.concat([a, b]), lookup, on="sex", how="left")
    X = joined[["age", "sex", "bp"]].copy()
    X["bp"] = X["bp"].fillna(120.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    path = tmp_path / "report.json"
    pipe, data = _report(store, X, joined["label"], path)
    assert stp.compliance.verify(path, store=store)
    raw = pd.read_csv(hospitals["hospital_b"], comment="#")
    gaps = int(raw["bp"].isna().sum())
    merged = pipe.lineage_.sources[pipe.lineage_.changed_columns[0]["code"]].source_id
    marks = {
        (s["source_id"], c["name"]): c["changed_after_loading"]
        for s in data["sources"]
        for c in s["columns"]
        if "changed_after_loading" in c
    }
    assert marks == {
        (merged, "bp"): {"rows_checked": len(X), "rows_changed": gaps, "missing_filled": gaps},
        ("hospital_b", "bp"): {
            "rows_checked": len(raw),
            "rows_changed": gaps,
            "missing_filled": gaps,
            "found_in": [merged],
        },
    }
    # hospital_a's bp, counted through the same merge, had no gap and is not marked
    cannot = " ".join(_input_data(data)["cannot_show"])
    assert "bp of hospital_b" in cannot and "hospital_a" not in cannot


def test_a_run_stored_before_the_mark_reports_and_verifies_without_it(hospitals, tmp_path):
    a, b, X, y = traced_frames(hospitals)
    X = X.copy()
    X["bp"] = X["bp"].fillna(120.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = logged_pipeline(store, X, y)
    run = pipe.lineage_
    assert run.changed_columns  # recorded now ...
    run.changed_columns = None  # ... and not by an older sktraceprop
    run.run_id = "0" * 8 + run.run_id[8:]
    store.save_run(run)
    store.append_event("review", {"note": "reviewed"}, run_id=run.run_id)
    path = tmp_path / "report.json"
    data = compliance_report(store=store, run_id=run.run_id, **DEPLOYER, output_path=path)
    data = data.to_dict()
    assert stp.compliance.verify(path, store=store)
    assert not any("changed_after_loading" in c for s in data["sources"] for c in s["columns"])
