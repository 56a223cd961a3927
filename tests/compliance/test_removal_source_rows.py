"""Each removal in the report gives the source rows behind its training rows.

The removal events count, per source, the training rows removed (``sources``: a merged
row under each source it was built from) and the distinct rows of each source behind
them (``source_rows``: a lookup row merged into many removed training rows is one row of
the lookup), with a ``counts_note`` where the two differ. The report's removals carried
the training-row counts only, so an auditor read "lookup: 37 rows removed" of a lookup
that lost one row. Report format 8 carries both. Truth: pandas' read of the raw files.
"""

import copy
import json
import warnings

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._trust import counted_at_fit
from sktraceprop.compliance import ComplianceReport, compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER, before_format_8, traced_frames


def _resealed(data, path):
    data["integrity"] = seal(body_of(data))
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _lookup_merge_unlearned(hospitals, tmp_path):
    """Both hospital files (bp filled after loading) merged on sex with a lookup file,
    fitted, and the lookup's row of "F" unlearned: every merged row built from it goes.
    ``(unlearner, store, removal counts expected from the raw files)``."""
    lookup_path = tmp_path / "lookup.csv"
    lookup_path.write_text("sex,w\nF,0.4\nM,0.6\n", encoding="utf-8")
    a, b, _, _ = traced_frames(hospitals)
    lookup = stp.read_csv(lookup_path, source_id="weights")
    df = pd.concat([a, b])
    df["bp"] = df["bp"].fillna(120.0)
    joined = stp.merge(df, lookup, on="sex", how="left", source_id="joined")
    X, y = joined[["age", "bp", "w"]], joined["label"]
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
        unl.unlearn(sample_id=stp.row_ids(lookup)[lookup["sex"].eq("F").to_numpy()])
    unl.predict(X.iloc[:3])
    # the truth: the raw files, read by pandas alone
    raw_a = pd.read_csv(hospitals["hospital_a"])
    raw_b = pd.read_csv(hospitals["hospital_b"], comment="#")
    n_a, n_b = int(raw_a["sex"].eq("F").sum()), int(raw_b["sex"].eq("F").sum())
    assert n_a > 1 and n_b > 1
    training = {"hospital_a": n_a, "hospital_b": n_b, "weights": n_a + n_b}
    behind = {"hospital_a": n_a, "hospital_b": n_b, "weights": 1}
    return unl, store, training, behind


def test_each_removal_gives_the_source_rows_behind_its_training_rows(hospitals, tmp_path):
    unl, store, training, behind = _lookup_merge_unlearned(hospitals, tmp_path)
    path = tmp_path / "report.json"
    report = compliance_report(unl, **DEPLOYER, output_path=path)
    data = report.to_dict()
    assert data["report"]["format_version"] >= 8
    (removal,) = data["record_keeping"]["removals"]
    event = unl.unlearning_log_[-1]
    assert removal["n_removed"] == training["weights"]
    assert {k: v for k, v in removal["sources"].items() if k != "joined"} == training
    assert {k: v for k, v in removal["source_rows"].items() if k != "joined"} == behind
    # as the event records them (the merge's own rows too), with its note
    assert removal["source_rows"] == event["source_rows"]
    assert removal["counts_note"] == event["counts_note"]
    assert (
        f"weights: {training['weights']} training row(s) from 1 row(s)" in (removal["counts_note"])
    )
    assert verify(path, store=store)
    page = report.to_html()
    table = page.split("Removals (unlearning)")[1].split("Runs in the store")[0]
    assert "Source rows behind them, per source" in table
    assert "&#x27;weights&#x27;: 1" in table
    assert "training row(s) from 1 row(s) of the source" in table


def test_an_edited_source_rows_count_fails_verification(hospitals, tmp_path):
    """The lookup's 1 source row turned into as many as its training rows: caught by
    the content hash, and, the report re-hashed, by the store."""
    unl, store, training, _ = _lookup_merge_unlearned(hospitals, tmp_path)
    data = compliance_report(unl, **DEPLOYER).to_dict()
    data["record_keeping"]["removals"][0]["source_rows"]["weights"] = training["weights"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    pointer = "/record_keeping/removals/0/source_rows/weights"
    with pytest.raises(ReportVerificationError) as info:
        verify(edited)
    # (the digests go as deep as the removal)
    assert info.value.problems == [
        "/record_keeping/removals/0 was changed after the report was made"
    ]
    rehashed = _resealed(copy.deepcopy(data), tmp_path / "rehashed.json")
    assert verify(rehashed)  # (a re-hash alone: caught by the store, or a signature)
    with pytest.raises(ReportVerificationError) as info:
        verify(rehashed, store=store)
    assert f"{pointer} differs from the store's log up to the chain head" in (info.value.problems)


def test_a_format_7_report_without_source_rows_still_verifies(hospitals, tmp_path):
    """Format 8 added them: a report of format 7, of the same store, verifies as it was
    written (its Art. 26(4) in its own words); one of format 8 that lost them does not."""
    unl, store, _, _ = _lookup_merge_unlearned(hospitals, tmp_path)
    data = compliance_report(unl, **DEPLOYER).to_dict()
    (why,) = [a["why"] for a in data["articles"] if a["article"] == "26(4)"]
    assert counted_at_fit(1) in why
    predictions = copy.deepcopy(data["record_keeping"]["predictions"])
    before_format_8(data)
    cut = copy.deepcopy(data)
    # (format 18's count stays, as the report's format says: only format 8's keys are lost)
    cut["record_keeping"]["predictions"] = predictions
    with pytest.raises(ReportVerificationError) as info:
        verify(_resealed(cut, tmp_path / "cut.json"), store=store)
    # (among every key added after format 7 that it lost: the message shows the first 25)
    assert any("removals/0/source_rows" in str(p) for p in info.value.problems)
    data["report"]["format_version"] = 7
    data["articles"] = articles(data)
    (why,) = [a["why"] for a in data["articles"] if a["article"] == "26(4)"]
    assert "(the counts of the columns changed after loading among them)" in why
    assert counted_at_fit(1) not in why
    assert verify(_resealed(data, tmp_path / "format7.json"), store=store)
    page = ComplianceReport(data).to_html()
    assert "not in reports of format 7 and earlier" in page


def test_a_removal_whose_event_did_not_count_source_rows_says_so(fitted, tmp_path):
    """An event logged by an older sktraceprop has no source_rows: null, said so on the
    page, never a count made up from the training rows."""
    pipe, store, _, _ = fitted
    run_id = pipe.lineage_.run_id
    store.append_event(
        "unlearning",
        {"method": "newton", "n_removed": 2, "sources": {"hospital_a": 2}},
        run_id=run_id,
    )
    path = tmp_path / "report.json"
    report = compliance_report(store=store, run_id=run_id, **DEPLOYER, output_path=path)
    (removal,) = report.to_dict()["record_keeping"]["removals"]
    assert removal["source_rows"] is None and "counts_note" not in removal
    assert verify(path, store=store)
    assert "not recorded by the removal&#x27;s event" in report.to_html()
