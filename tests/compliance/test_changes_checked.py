"""A source whose values were not compared with what was loaded is not read as unchanged.

A column is marked ``changed_after_loading`` where the run found it changed. No mark
was read as "unchanged" in two cases where nothing showed it: a run that did not record
it (``changed_columns`` None: an older sktraceprop, data without column names) and a fit
whose values could not be compared (``changed_columns == []`` although nothing was
compared: the loads not kept in the fitting process, as for a frame unpickled from
another). Each source now says whether it was checked (``changes_after_loading``), and
Art. 26(4) lists those that were not. The truth is pandas' read of the raw files.
"""

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._trust import counted_at_fit
from sktraceprop.compliance import ComplianceReport, compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.compliance._source_evidence import NOT_COMPARED, NOT_RECORDED
from sktraceprop.exceptions import ReportVerificationError
from tests._lineage._filled_merge_fit import filled_merge_fit

from .conftest import DEPLOYER, before_format_9, logged_pipeline, traced_frames


def _fit(store, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    return pipe


def _article(data):
    (article,) = [a for a in data["articles"] if a["article"] == "26(4)"]
    return article


def _checks(data):
    return {s["source_id"]: s.get("changes_after_loading") for s in data["sources"]}


def _resealed(data, path):
    data["integrity"] = seal(body_of(data))
    path.write_text(json.dumps(data))
    return path


def test_a_run_that_did_not_record_changes_says_so_per_source(hospitals, tmp_path):
    """changed_columns None (a run stored by an older sktraceprop): no source is marked,
    and the report said nothing; now each source and Art. 26(4) say it was not recorded."""
    a, b, X, y = traced_frames(hospitals)
    X = X.copy()
    X["bp"] = X["bp"].fillna(120.0)  # a change the run below does not record
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    run = _fit(store, X, y).lineage_
    run.changed_columns = run.rows_compared = None
    run.run_id = "0" * 8 + run.run_id[8:]
    store.save_run(run)
    store.append_event("review", {"note": "reviewed"}, run_id=run.run_id)
    path = tmp_path / "report.json"
    data = compliance_report(store=store, run_id=run.run_id, **DEPLOYER, output_path=path)
    data = data.to_dict()
    assert stp.compliance.verify(path, store=store)
    unknown = {"checked": False, "rows_compared": None, "note": NOT_RECORDED}
    assert _checks(data) == {"hospital_a": unknown, "hospital_b": unknown}
    assert not any("changed_after_loading" in c for s in data["sources"] for c in s["columns"])
    article = _article(data)
    (cannot,) = [c for c in article["cannot_show"] if "changed after loading" in c]
    assert f"hospital_a ({NOT_RECORDED})" in cannot and f"hospital_b ({NOT_RECORDED})" in cannot
    assert "is not known for 2 sources" in article["why"]
    html = ComplianceReport(data).to_html()
    assert "whether columns were changed after loading is not recorded for this run" in html
    # the check is rebuilt from the stored run: one turned into "checked" is found
    edited = copy.deepcopy(data)
    edited["sources"][1]["changes_after_loading"] = {"checked": True, "rows_compared": 30}
    edited["articles"] = articles(edited)
    with pytest.raises(ReportVerificationError) as info:
        stp.compliance.verify(_resealed(edited, tmp_path / "edited.json"), store=store)
    assert "/sources/1/changes_after_loading/checked differs from the store's run record" in (
        info.value.problems
    )
    # a report of format 6 (made before sources said it) still verifies as written
    old = copy.deepcopy(data)
    before_format_9(old)
    for source in old["sources"]:
        del source["changes_after_loading"]
    old["report"]["format_version"] = 6
    old["articles"] = articles(old)
    assert not any("changed after loading" in c for c in _article(old)["cannot_show"])
    assert stp.compliance.verify(_resealed(old, tmp_path / "old.json"), store=store)


def test_values_not_compared_are_not_checked_rather_than_unchanged(hospitals, tmp_path):
    """Loads not kept where the model was fitted (a frame unpickled from another
    process): the run recorded [] (as for data unchanged), and the report marked nothing
    and said nothing, for a column filled after loading."""
    from sktraceprop._lineage._witness import WITNESSES

    a, b, X, y = traced_frames(hospitals)
    raw = pd.read_csv(hospitals["hospital_b"], comment="#")  # pandas alone: the truth
    assert raw["bp"].isna().any()
    X = X.copy()
    X["bp"] = X["bp"].fillna(120.0)
    WITNESSES.clear()  # (what a process that unpickled the frames keeps of their loads)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = _fit(store, X, y)
    assert pipe.lineage_.changed_columns == []  # ... which alone reads as "unchanged"
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    unchecked = {"checked": False, "rows_compared": 0, "note": NOT_COMPARED}
    assert _checks(data) == {"hospital_a": unchecked, "hospital_b": unchecked}
    assert NOT_COMPARED.startswith("not checked")
    (cannot,) = [c for c in _article(data)["cannot_show"] if "changed after loading" in c]
    assert f"hospital_b ({NOT_COMPARED})" in cannot
    assert "whether columns were changed after loading is not checked" in (
        ComplianceReport(data).to_html()
    )


def test_values_compared_say_how_many_rows(fitted, hospitals, tmp_path):
    pipe, store, _, _ = fitted
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    n = {s: len(pd.read_csv(hospitals[s], comment="#")) for s in ("hospital_a", "hospital_b")}
    # (files this small: every row is a witness row, and every one was compared)
    assert _checks(data) == {s: {"checked": True, "rows_compared": k} for s, k in n.items()}
    assert not any("changed after loading" in c for c in _article(data)["cannot_show"])
    assert "is not known for" not in _article(data)["why"]


def test_a_source_reached_through_a_merge_is_checked_through_it(hospitals, tmp_path):
    a, b, _, _ = traced_frames(hospitals)
    lookup = stp.from_pandas(pd.DataFrame({"sex": ["F", "M"], "w": [0.4, 0.6]}), source_id="w")
    joined = stp.merge(pd.concat([a, b]), lookup, on="sex", how="left", source_id="joined")
    X = joined[["age", "sex", "bp"]]
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    data = compliance_report(_fit(store, X, joined["label"]), **DEPLOYER).to_dict()
    merged = {"checked": True, "rows_compared": len(X), "compared_in": ["joined"]}
    assert _checks(data) == {
        "hospital_a": merged,
        "hospital_b": merged,
        "w": merged,
        "joined": {"checked": True, "rows_compared": len(X)},
    }


def test_a_model_after_removal_says_its_change_counts_are_of_the_fit(hospitals, tmp_path):
    """The unlearner's copy of the run kept the fit's changed_columns counts as its own
    (rows removed since); each entry now says they are the fit's, and the report (which
    rests on the run as stored at fit) says its counts of changed columns are too."""
    a, b, X, y = traced_frames(hospitals)
    X = X.copy()
    X["bp"] = X["bp"].fillna(120.0)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(logged_pipeline(store, X, y)).fit(X, y)
        from_b = (stp.row_lineage(X)["source_id"] == "hospital_b").to_numpy()
        unl.unlearn(sample_id=stp.row_ids(X)[from_b][:4])
    stored = store.load_run(unl.run_id_)
    copied = unl.estimator_.lineage_
    assert len(copied.row_ids) == len(stored.row_ids) - 4
    said = "counted at fit over the rows given to fit, removed rows included"
    assert stored.changed_columns and not any("retained" in e for e in stored.changed_columns)
    assert [{k: v for k, v in e.items() if k != "retained"} for e in copied.changed_columns] == (
        stored.changed_columns
    )
    for entry in copied.changed_columns + copied.rows_compared:
        assert entry["retained"].startswith(said) and "after 1 removal(s)" in entry["retained"]
    assert stp.exporters.read_parquet(
        stp.exporters.to_parquet(copied, tmp_path / "pq")
    ).changed_columns == (copied.changed_columns)
    report = compliance_report(unl, **DEPLOYER)
    assert report.verify(store=store)
    # (format 8: in the words of the copy's entries and its exports, one function's)
    assert (
        "The rows compared with what was loaded and the columns changed after loading "
        f"(changes_after_loading, changed_after_loading) were {counted_at_fit(1)}."
    ) in _article(report.to_dict())["why"]
    assert copied.changed_columns[0]["retained"] == counted_at_fit(1)


def test_merged_rows_made_from_rows_not_compared_are_not_counted_as_checked(tmp_path):
    """A column filled before a merge of more than 512 rows: the merged rows compared
    were not those whose parents were (each load kept its own sample), so the change
    was marked on rows that could not show it. Their count is given apart, as not
    known, and the mark and Art. 26(4) say so. A merge now takes the rows made from its
    changed inputs' witness rows: with both inputs changed, each compared on its own
    rows, a row taken for one input's holds the other's values unknown. Truth: the gaps
    of the raw frames."""
    pipe, store, raw = filled_merge_fit(tmp_path)
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)  # (the schema allows the mark)
    (mark,) = [
        c["changed_after_loading"]
        for s in data["sources"]
        if s["source_id"] == "joined"
        for c in s["columns"]
        if c["name"] == "v"
    ]
    assert mark["rows_not_known"] > 0
    assert mark["rows_changed"] <= mark["rows_checked"]
    # every row compared is either checked or not known; none counted twice
    compared = {s["source_id"]: s["changes_after_loading"] for s in data["sources"]}
    assert mark["rows_checked"] + mark["rows_not_known"] == compared["joined"]["rows_compared"]
    assert mark["rows_changed"] <= int(raw["v"].isna().sum())
    (cannot,) = [c for c in _article(data)["cannot_show"] if "changed after loading" in c]
    assert f"{mark['rows_not_known']} more rows hold values a merge made" in cannot


def test_a_run_that_recorded_changes_but_not_rows_compared_is_not_read_as_unchanged(
    fitted, tmp_path
):
    """A run stored with changed_columns but before rows_compared was kept: its [] may
    mean nothing was compared, so each source says it is not known."""
    from sktraceprop.compliance._source_evidence import COMPARED_UNKNOWN

    pipe, store, _, _ = fitted
    run = pipe.lineage_
    assert run.changed_columns == []
    run.rows_compared = None
    run.run_id = "0" * 8 + run.run_id[8:]
    store.save_run(run)
    store.append_event("review", {"note": "reviewed"}, run_id=run.run_id)
    path = tmp_path / "report.json"
    data = compliance_report(store=store, run_id=run.run_id, **DEPLOYER, output_path=path)
    assert stp.compliance.verify(path, store=store)
    unknown = {"checked": False, "rows_compared": None, "note": COMPARED_UNKNOWN}
    assert _checks(data.to_dict()) == {"hospital_a": unknown, "hospital_b": unknown}


def _merged_fit(tmp_path, unkept, changed=True):
    """a and b merged (c joined after, through a second merge), the sources in
    ``unkept`` loaded as in a process the frames were unpickled into (their loads not
    kept here), a's column changed before merging; fitted, logged and reported."""
    from sktraceprop._lineage._witness import WITNESSES

    rng = np.random.default_rng(0)
    n = 200
    raw = {
        "a": pd.DataFrame({"k": np.arange(n), "x": rng.normal(size=n)}),
        "b": pd.DataFrame({"k": np.arange(n), "z": rng.normal(size=n)}),
        "c": pd.DataFrame({"k": np.arange(n), "u": rng.normal(size=n)}),
    }
    raw["a"]["label"] = rng.integers(0, 2, n)
    frames = {}
    for kept in (False, True):
        for name in sorted(s for s in raw if (s not in unkept) == kept):
            frames[name] = stp.from_pandas(raw[name], source_id=name)
            if name == "a" and changed:
                frames[name]["x"] = frames[name]["x"] + 100.0  # (in that process)
        if not kept:
            WITNESSES.clear()  # (what a process that unpickled them keeps of their loads)
    ab = stp.merge(frames["a"], frames["b"], on="k", source_id="ab")
    m = stp.merge(ab, frames["c"], on="k", source_id="abc")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True).fit(
        m[["x", "z", "u"]], m["label"]
    )
    pipe.predict(m[["x", "z", "u"]].iloc[:3])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert stp.compliance.verify(path, store=store)
    return pipe, store, data


def test_a_merge_of_frames_whose_loads_are_not_kept_does_not_check_their_sources(tmp_path):
    """Frames changed and pickled in another process, merged here: the merged rows were
    compared with what the merge made, and the report said their parent sources were
    'checked' (rows compared 200, compared in the merge), though nothing compared their
    values with what was loaded: a's +100 was seen by nothing. Now they are not checked,
    and the note says why; a source loaded here, merged after, still is."""
    from sktraceprop.compliance._source_evidence import NOT_COMPARED_THROUGH

    pipe, store, data = _merged_fit(tmp_path, unkept={"a", "b"})
    assert pipe.lineage_.changed_columns == []  # (the change: seen by nothing)
    unseen = {"checked": False, "rows_compared": 0, "note": NOT_COMPARED_THROUGH}
    checked = {"checked": True, "rows_compared": 200, "compared_in": ["abc"]}
    assert _checks(data) == {
        "abc": {"checked": True, "rows_compared": 200},
        "ab": checked,  # (its load is kept: the rows it made were compared)
        "a": unseen,
        "b": unseen,
        "c": checked,
    }
    run = pipe.lineage_
    names = {c: s.source_id for c, s in run.sources.items()}
    assert {
        (names[e["code"]], names.get(e.get("through"))): e["rows"] for e in run.rows_compared
    } == {
        ("abc", None): 200,
        ("ab", "abc"): 200,
        ("a", "abc"): 0,
        ("b", "abc"): 0,
        ("c", "abc"): 200,
    }
    # kept as recorded: the store, a run read back
    assert store.load_run(run.run_id).rows_compared == run.rows_compared
    assert store.verify()
    (cannot,) = [c for c in _article(data)["cannot_show"] if "changed after loading" in c]
    assert f"a ({NOT_COMPARED_THROUGH})" in cannot


def test_a_merge_of_one_frame_whose_loads_are_not_kept_checks_the_other(tmp_path):
    """Only a unpickled: b, loaded here, is checked through the merges; a is not."""
    from sktraceprop.compliance._source_evidence import NOT_COMPARED_THROUGH

    _, _, data = _merged_fit(tmp_path, unkept={"a"}, changed=False)
    checks = _checks(data)
    assert checks["a"] == {"checked": False, "rows_compared": 0, "note": NOT_COMPARED_THROUGH}
    assert (
        checks["b"]
        == checks["c"]
        == {
            "checked": True,
            "rows_compared": 200,
            "compared_in": ["abc"],
        }
    )


def test_a_run_recorded_without_the_merges_entries_counts_every_merge(tmp_path):
    """A run recorded before the per-merge entries were kept: its merges' parents count
    the merged rows compared, as they did (nothing tells which were not compared)."""
    from sktraceprop._lineage._ids import codes_of
    from sktraceprop._lineage._trust import changes_checked

    pipe, _, _ = _merged_fit(tmp_path, unkept={"a", "b"})
    run = pipe.lineage_
    run.rows_compared = [e for e in run.rows_compared if "through" not in e]
    codes, counts = np.unique(codes_of(run.row_ids), return_counts=True)
    found = changes_checked(run, {}, dict(zip(codes.tolist(), counts.tolist())))
    checks = {run.sources[c].source_id: v for c, v in found.items()}
    assert checks["a"] == {"checked": True, "rows_compared": 200, "compared_in": ["abc"]}
