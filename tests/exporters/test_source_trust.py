"""The exports carry the report's trust figures per source, computed by the same code.

The OpenLineage and OpenTelemetry exports named each source with its hash and row
count but not what the compliance report says of it: that its values given to fit were
not compared with what was loaded, that a column was changed after loading (with the
rows checked, changed, filled and not known), or that its training rows repeat (an
oversampler). An auditor reading the export saw a clean source where the report did
not. Truth: the compliance report made from the same run.
"""

import json
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage._labels import content_key
from sktraceprop._lineage._trust import counted_at_fit
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._source_evidence import sources_section
from sktraceprop.exporters import to_openlineage
from tests._lineage._filled_merge_fit import filled_merge_fit
from tests.exporters._fit_span import fit_span_attributes
from tests.exporters._runs import runs, with_aliases
from tests.exporters.test_openlineage import validate

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
over_sampling = pytest.importorskip("imblearn.over_sampling")

DEPLOYER = {
    "system_name": "Triage",
    "system_version": "1.0.0",
    "deployer_name": "Example Hospital",
    "high_risk_category": "creditworthiness",
    "intended_purpose": "Rank cases for manual review",
    "human_oversight": ["Head of triage"],
}

_SNAKE = {
    "rowsCompared": "rows_compared",
    "comparedIn": "compared_in",
    "inputColumn": "input_column",
    "rowsChecked": "rows_checked",
    "rowsChanged": "rows_changed",
    "missingFilled": "missing_filled",
    "rowsNotKnown": "rows_not_known",
    "foundIn": "found_in",
    "distinctRows": "distinct_rows",
    "countedAtFit": "counted_at_fit",
}


def _without_remark(entry):
    """An exported entry without the remark of a copy's counts (``countedAtFit``)."""
    return {k: v for k, v in entry.items() if k != "countedAtFit"}


def _snake(entry):
    return None if entry is None else {_SNAKE.get(k, k): v for k, v in entry.items()}


def _report_view(sources):
    """Per source code, the report's trust figures: training rows, changes after
    loading, its columns' marks, repeated rows (None where the report has none)."""
    return {
        s["code"]: (
            s["training_rows"],
            s.get("changes_after_loading"),
            {
                c["name"]: c["changed_after_loading"]
                for c in s["columns"]
                if "changed_after_loading" in c
            },
            s.get("repeated_rows"),
        )
        for s in sources
    }


def _openlineage_view(event):
    facet = event["run"]["facets"]["sktraceprop_sourceTrust"]
    return {
        s["code"]: (
            s["trainingRows"],
            _snake(s["changesAfterLoading"]),
            {
                c["column"]: _snake({k: v for k, v in c.items() if k != "column"})
                for c in s["changedColumns"]
            },
            _snake(s["repeatedRows"]),
        )
        for s in facet["sources"]
    }


def _opentelemetry_view(attributes):
    codes = list(attributes["sktraceprop.sources.code"])
    marks = {}
    changed = "sktraceprop.changed_columns."
    for k, code in enumerate(attributes[changed + "code"]):
        mark = json.loads(attributes[changed + "mark"][k])
        # the flat lists say what the JSON mark says
        assert attributes[changed + "rows_checked"][k] == mark["rows_checked"]
        assert attributes[changed + "rows_changed"][k] == mark["rows_changed"]
        assert attributes[changed + "missing_filled"][k] == mark["missing_filled"]
        assert attributes[changed + "rows_not_known"][k] == mark.get("rows_not_known", 0)
        marks.setdefault(code, {})[attributes[changed + "column"][k]] = mark
    out = {}
    for k, code in enumerate(codes):
        n = attributes["sktraceprop.sources.training_rows"][k]
        distinct = attributes["sktraceprop.sources.distinct_training_rows"][k]
        check = json.loads(attributes["sktraceprop.sources.changes_after_loading"][k])
        assert attributes["sktraceprop.sources.changes_checked"][k] == bool(
            check and check["checked"]
        )
        compared = attributes["sktraceprop.sources.rows_compared"][k]
        if check is None or check["rows_compared"] is None:
            assert compared == -1
        else:
            assert compared == check["rows_compared"]
        repeated = None
        if distinct < n:
            repeated = {"distinct_rows": distinct, "copies": n - distinct}
        out[code] = (n, check, marks.get(code, {}), repeated)
    return out


def _without_notes(view):
    """``view`` with the repeated-rows note left out (the spans give the counts)."""
    return {
        code: (
            n,
            check,
            marks,
            None if rep is None else {k: rep[k] for k in ("distinct_rows", "copies")},
        )
        for code, (n, check, marks, rep) in view.items()
    }


def _merged_oversampled(hospital_frames, tmp_path):
    """Both files, bp filled after loading, merged with a lookup, oversampled."""
    a, b = hospital_frames
    lookup = stp.from_pandas(pd.DataFrame({"sex": ["F", "M"], "w": [0.4, 0.6]}), "trust_w")
    df = pd.concat([a, b])
    df["bp"] = df["bp"].fillna(120.0)
    joined = stp.merge(df, lookup, on="sex", how="left", source_id="trust_joined")
    X, y = joined[["age", "bp", "w"]], joined["label"]
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(
        over_sampling.RandomOverSampler(random_state=0),
        LogisticRegression(),
        store=store,
        log_predictions=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    pipe.predict(X.iloc[:3])
    return pipe


def _big_merge(tmp_path):
    """Both inputs of a merge of more than 512 rows filled before it: a merged row taken
    for one input's compared rows holds the other's values not known."""
    return filled_merge_fit(tmp_path, names=("trust_big", "trust_w3", "trust_joined3"))[0]


def test_merged_oversampled_and_changed_sources_export_the_reports_figures(
    hospital_frames, tmp_path
):
    pipe = _merged_oversampled(hospital_frames, tmp_path)
    run = pipe.lineage_
    report = _report_view(compliance_report(pipe, **DEPLOYER).to_dict()["sources"])
    by_id = {run.sources[c].source_id: v for c, v in report.items()}
    # the case is what it claims: a changed column, a merge, rows repeated
    assert by_id["hospital_b"][2]["bp"]["rows_changed"] > 0
    assert by_id["hospital_b"][2]["bp"]["found_in"] == ["trust_joined"]
    assert by_id["trust_joined"][3]["copies"] > 0
    assert by_id["hospital_a"][1]["compared_in"] == ["trust_joined"]
    event = to_openlineage(run)
    validate(event)
    assert _openlineage_view(event) == report
    assert _opentelemetry_view(fit_span_attributes(run)) == _without_notes(report)
    # Parquet keeps the records the figures are computed from: the same figures back
    back = stp.exporters.read_parquet(stp.exporters.to_parquet(run, tmp_path / "pq"))
    assert _report_view(sources_section(back)) == report


def test_rows_not_known_are_exported_as_the_report_counts_them(tmp_path):
    pipe = _big_merge(tmp_path)
    run = pipe.lineage_
    report = _report_view(compliance_report(pipe, **DEPLOYER).to_dict()["sources"])
    (joined,) = [v for c, v in report.items() if run.sources[c].source_id == "trust_joined3"]
    assert joined[2]["v"]["rows_not_known"] > 0
    event = to_openlineage(run)
    validate(event)
    assert _openlineage_view(event) == report
    assert _opentelemetry_view(fit_span_attributes(run)) == _without_notes(report)


def test_values_not_compared_are_exported_as_not_checked(hospital_frames, tmp_path):
    """Loads not kept where the model was fitted: the report says not checked, so does
    the export (which said nothing, reading as clean)."""
    from sktraceprop._lineage._witness import WITNESSES

    a, b = hospital_frames
    X = pd.concat([a, b])
    X["bp"] = X["bp"].fillna(120.0)
    WITNESSES.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = (
            stp.make_traced_pipeline(LogisticRegression())
            .fit(X[["age", "bp"]], X["label"])
            .lineage_
        )
    event = to_openlineage(run)
    validate(event)
    facet = event["run"]["facets"]["sktraceprop_sourceTrust"]
    assert {s["sourceId"]: s["changesAfterLoading"]["checked"] for s in facet["sources"]} == {
        "hospital_a": False,
        "hospital_b": False,
    }
    assert list(fit_span_attributes(run)["sktraceprop.sources.changes_checked"]) == [
        False,
        False,
    ]
    assert _openlineage_view(event) == _report_view(sources_section(run))


@st.composite
def _runs_with_changes(draw):
    """A drawn run with drawn ``changed_columns`` / ``rows_compared`` records (None,
    empty, direct and through a merge, rows not known, another input name), its files
    under alias codes at times."""
    run = draw(runs().flatmap(with_aliases))
    codes = sorted(run.sources)
    if draw(st.booleans()):
        return run  # (not recorded: None, None)
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        code = draw(st.sampled_from(codes))
        columns = list(run.sources[code].columns_read()) or ["c"]
        n = draw(st.integers(0, 40))
        entry = {
            "code": code,
            "column": draw(st.sampled_from(columns)),
            "rows_checked": n,
            "rows_changed": (changed := draw(st.integers(0, n))),
            "missing_filled": draw(st.integers(0, changed)),
        }
        if draw(st.booleans()):
            entry["rows_not_known"] = draw(st.integers(1, 9))
        if draw(st.booleans()):
            entry["through"] = draw(st.sampled_from(codes))
        if draw(st.booleans()):
            entry["input_column"] = "renamed"
        entries.append(entry)
    run.changed_columns = entries
    run.rows_compared = draw(
        st.none()
        | st.lists(
            st.builds(
                lambda c, r: {"code": c, "rows": r}, st.sampled_from(codes), st.integers(0, 30)
            ),
            max_size=len(codes),
            unique_by=lambda e: e["code"],
        )
    )
    if draw(st.booleans()):  # an unlearner's copy: every entry says it is the fit's
        said = counted_at_fit(draw(st.integers(1, 5)))
        run.changed_columns = [{**e, "retained": said} for e in entries]
        run.rows_compared = [{**e, "retained": said} for e in run.rows_compared or []] or (
            run.rows_compared
        )
    return run


def _files_say_what_the_report_says(run, event, attributes):
    """Each exported code says what the report's entry of its file says: the file's
    codes, and whether (and on how many rows) its values were compared. Before, an
    alias code's export entry said "not checked" where the report said checked."""
    report = sources_section(run)
    by_code = {c: e for e in report for c in e.get("codes", [e["code"]])}
    facet = event["run"]["facets"]["sktraceprop_sourceTrust"]["sources"]
    assert sorted(by_code) == sorted(s["code"] for s in facet)
    folded = any("codes" in e for e in report)
    if folded:
        file_codes = attributes["sktraceprop.sources.file_codes"]
        file_checked = attributes["sktraceprop.sources.file_changes_checked"]
        file_checks = attributes["sktraceprop.sources.file_changes_after_loading"]
    else:
        assert not any(k.startswith("sktraceprop.sources.file_") for k in attributes)
    codes = list(attributes["sktraceprop.sources.code"])
    for s in facet:
        entry = by_code[s["code"]]
        check = entry.get("changes_after_loading")
        if "codes" in entry:
            assert s["fileCodes"] == entry["codes"]
            assert _snake(s["fileChangesAfterLoading"]) == check
            # its own rows: part of the file's
            assert entry["training_rows"] == sum(
                t["trainingRows"] for t in facet if t["code"] in entry["codes"]
            )
        else:
            assert "fileCodes" not in s and "fileChangesAfterLoading" not in s
            assert _snake(s["changesAfterLoading"]) == check
        if folded:
            k = codes.index(s["code"])
            assert file_codes[k] == ",".join(map(str, entry.get("codes", [entry["code"]])))
            assert json.loads(file_checks[k]) == check
            assert file_checked[k] == bool(check and check["checked"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=_runs_with_changes())
def test_exports_say_what_the_report_says_of_any_run(run):
    # the exports list a source per code, as a report did before format 19; the report
    # folds the codes of one file (an alias) into one entry, so they agree code by code
    # with its per-code form, and entry by entry with the report where no file has two
    report = _report_view(sources_section(run, per_code=True))
    contents = [content_key(source) for source in run.sources.values()]
    if len(set(contents)) == len(contents):
        assert _report_view(sources_section(run)) == report
    event = to_openlineage(run)
    validate(event)
    assert _openlineage_view(event) == report
    attributes = fit_span_attributes(run)
    assert _opentelemetry_view(attributes) == _without_notes(report)
    # and file by file with the report's folded entries (aliases or not)
    _files_say_what_the_report_says(run, event, attributes)
    # the copy's remark: on every count exported, and only on a copy's
    said = {e.get("retained") for e in (run.changed_columns or []) + (run.rows_compared or [])}
    assert len(said - {None}) <= 1
    remark = next(iter(said - {None}), None)
    counts = [c for _, check, marks, _ in report.values() for c in [check, *marks.values()]]
    assert all(c.get("counted_at_fit") == remark for c in counts if c is not None)
    assert attributes.get("sktraceprop.changes_after_loading.counted_at_fit") == remark


def test_an_unlearned_copys_export_says_its_counts_are_the_fits(hospital_frames, tmp_path):
    """The unlearner's copy of the run keeps the fit's counts of columns changed after
    loading and of rows compared (removed rows included), each entry marked so; its
    exports gave the counts without the remark, which the report on the corrected model
    makes. Now every count carries the remark, the one the report makes, in the same
    words (one function makes it)."""
    a, b = hospital_frames
    X = pd.concat([a, b])
    X["bp"] = X["bp"].fillna(120.0)  # changed after loading: marked, with counts
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(pipe).fit(X[["age", "bp"]], X["label"])
        from_b = (stp.row_lineage(X)["source_id"] == "hospital_b").to_numpy()
        unl.unlearn(sample_id=stp.row_ids(X)[from_b][:4])
    unl.predict(X[["age", "bp"]].iloc[:3])
    remark = counted_at_fit(1)
    stored, copied = store.load_run(unl.run_id_), unl.estimator_.lineage_
    assert len(copied.row_ids) == len(stored.row_ids) - 4
    # OpenLineage: every count the copy exports says it is the fit's ...
    event = to_openlineage(copied)
    validate(event)
    facet = event["run"]["facets"]["sktraceprop_sourceTrust"]["sources"]
    checks = [s["changesAfterLoading"] for s in facet]
    columns = [c for s in facet for c in s["changedColumns"]]
    assert [c["column"] for c in columns] == ["bp"] and columns[0]["rowsChanged"] > 0
    assert len(checks) == 2 and all(e["countedAtFit"] == remark for e in checks + columns)
    # ... and is: the stored run's counts, as exported from it (without the remark)
    fit = to_openlineage(stored)["run"]["facets"]["sktraceprop_sourceTrust"]["sources"]
    assert "countedAtFit" not in json.dumps(fit)
    assert [_without_remark(s["changesAfterLoading"]) for s in facet] == [
        s["changesAfterLoading"] for s in fit
    ]
    assert [_without_remark(c) for c in columns] == [c for s in fit for c in s["changedColumns"]]
    # OpenTelemetry: the run's attribute, and every JSON entry
    attributes = fit_span_attributes(copied)
    assert attributes["sktraceprop.changes_after_loading.counted_at_fit"] == remark
    entries = [json.loads(e) for e in attributes["sktraceprop.sources.changes_after_loading"]]
    entries += [json.loads(m) for m in attributes["sktraceprop.changed_columns.mark"]]
    assert len(entries) == 3 and all(e["counted_at_fit"] == remark for e in entries)
    assert "sktraceprop.changes_after_loading.counted_at_fit" not in fit_span_attributes(stored)
    # the report on the corrected model (on the run as stored at fit) says the same
    report = compliance_report(unl, **DEPLOYER)
    assert report.verify(store=store)
    (why,) = [a["why"] for a in report.articles if a["article"] == "26(4)"]
    assert f"were {remark}." in why
