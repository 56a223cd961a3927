"""OpenLineage events: valid against the published JSON Schemas, true to the run and files."""

import copy
import hashlib
import json
import re
import subprocess
import sys
import textwrap
import uuid
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, UnknownRunError
from sktraceprop.exporters import to_openlineage
from tests.exporters._fits import hospital_run, merged_and_aggregated
from tests.exporters._runs import runs

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

VENDORED = Path(__file__).parent / "data" / "openlineage"

# RFC 3339 date-time and RFC 3986 URI, as the spec's "format" keywords require: the
# jsonschema checkers for these need extra packages, so the test states them itself.
_DATE_TIME = re.compile(
    r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$", flags=re.ASCII
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def _format_checker():
    checker = jsonschema.FormatChecker(["uuid"])
    checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(_DATE_TIME.match(v)))
    checker.checks("uri")(lambda v: not isinstance(v, str) or bool(_URI.match(v)))
    return checker


def _schemas():
    found = [json.loads(p.read_text()) for p in sorted(VENDORED.glob("*.json"))]
    package = resources.files("sktraceprop.exporters") / "schemas"
    found += [json.loads(p.read_text()) for p in package.iterdir() if p.name.endswith(".json")]
    return found


SCHEMAS = _schemas()
REGISTRY = referencing.Registry().with_resources(
    (s["$id"], referencing.Resource.from_contents(s)) for s in SCHEMAS
)


def _validator(schema):
    return jsonschema.Draft202012Validator(
        schema, registry=REGISTRY, format_checker=_format_checker()
    )


def _facet_groups(event):
    yield event["run"]["facets"]
    yield event["job"]["facets"]
    for dataset in event["inputs"] + event["outputs"]:
        yield dataset["facets"]


def validate(event):
    """The event against OpenLineage.json, and each facet against the schema it names."""
    spec = next(s for s in SCHEMAS if s["$id"].endswith("/OpenLineage.json"))
    _validator(spec).validate(event)
    for facets in _facet_groups(event):
        for key, facet in facets.items():
            # The facet's _schemaURL must resolve to a vendored schema and hold there ...
            _validator({"$ref": facet["_schemaURL"]}).validate(facet)
            # ... and its key must be the one that schema's file declares for it.
            base = facet["_schemaURL"].split("#")[0]
            root = next(s for s in SCHEMAS if s["$id"] == base)
            assert key in root["properties"], (key, base)
            _validator(root).validate({key: facet})
    json.dumps(event, allow_nan=False)


def _inputs_of(fields):
    return {
        feature: {(f["name"], f["field"]) for f in value["inputFields"]}
        for feature, value in fields.items()
    }


def test_the_validator_is_not_vacuous(hospital_frames):
    run, _ = hospital_run(*hospital_frames)
    event = to_openlineage(run)
    validate(event)
    breakages = [
        lambda e: e["run"].pop("runId"),
        lambda e: e.update(eventType="DONE"),
        lambda e: e.update(eventTime="yesterday"),
        lambda e: e["run"].update(runId="not-a-uuid"),
        lambda e: e["inputs"][0]["facets"]["schema"].pop("_producer"),
        lambda e: e["outputs"][0]["facets"]["columnLineage"].pop("fields"),
        lambda e: e["inputs"][0]["facets"]["schema"]["fields"][0].pop("name"),
        lambda e: next(iter(e["outputs"][0]["facets"]["columnLineage"]["fields"].values()))[
            "inputFields"
        ][0].pop("field"),
        lambda e: e["run"]["facets"]["sktraceprop_rowLineage"]["rows"].update(sha256="x"),
        lambda e: e["run"]["facets"]["sktraceprop_fit"].pop("ops"),
        lambda e: e["job"]["facets"]["jobType"].pop("integration"),
    ]
    for breakage in breakages:
        broken = copy.deepcopy(event)
        breakage(broken)
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_event_names_the_files_their_versions_and_the_column_lineage(hospitals, tmp_path):
    a = stp.read_csv(hospitals["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(hospitals["hospital_b"], source_id="hospital_b", comment="#")
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    run, X = hospital_run(a, b, store=store)
    event = to_openlineage(run, store=store, job_name="triage")
    validate(event)
    assert event["eventType"] == "COMPLETE" and event["eventTime"] == run.created_at
    assert event["run"]["runId"] == run.run_id and event["job"]["name"] == "triage"
    assert event["outputs"][0]["name"] == "triage.model"

    # Inputs: the two files, named as OpenLineage names local files, versioned by the
    # SHA-256 of their bytes, with the columns and dtypes pandas reads from them.
    inputs = {d["name"]: d for d in event["inputs"]}
    paths = {str(Path(p).resolve()): p for p in hospitals.values()}
    assert set(inputs) == set(paths)
    for name, dataset in inputs.items():
        assert dataset["namespace"] == "file"
        raw = Path(name).read_bytes()
        assert dataset["facets"]["version"]["datasetVersion"] == hashlib.sha256(raw).hexdigest()
        frame = pd.read_csv(name, comment="#")
        fields = dataset["facets"]["schema"]["fields"]
        assert [f["name"] for f in fields] == list(frame.columns)
        assert [f["ordinal_position"] for f in fields] == list(range(1, frame.shape[1] + 1))
        assert [f["type"] for f in fields] == [str(t) for t in frame.dtypes]

    # Column lineage: each model feature <- the columns it comes from, in both files.
    model = event["outputs"][0]["facets"]
    assert [f["name"] for f in model["schema"]["fields"]] == list(run.feature_lineage)
    assert model["version"]["datasetVersion"] == run.model_fingerprint
    both = sorted(paths)
    got = _inputs_of(model["columnLineage"]["fields"])
    assert got == {
        "onehotencoder__sex_F": {(p, "sex") for p in both},
        "onehotencoder__sex_M": {(p, "sex") for p in both},
        "standardscaler__age": {(p, "age") for p in both},
        "standardscaler__bp": {(p, "bp") for p in both},
    }
    transformations = [
        t
        for value in model["columnLineage"]["fields"].values()
        for f in value["inputFields"]
        for t in f["transformations"]
    ]
    assert {(t["type"], t["subtype"]) for t in transformations} == {("DIRECT", "TRANSFORMATION")}

    # Row lineage: points at the store file, whose stored row ids it fingerprints.
    rows = event["run"]["facets"]["sktraceprop_rowLineage"]
    assert rows["store"] == {
        "kind": "SQLiteStore",
        "uri": (tmp_path / "lineage.db").resolve().as_uri(),
    }
    stored = stp.stores.SQLiteStore(tmp_path / "lineage.db").load_run(rows["runId"])
    digest = hashlib.sha256(stored.row_ids.astype("<i8").tobytes()).hexdigest()
    assert rows["rows"] == {"count": len(X), "sha256": digest}
    assert rows["inputRows"] is None
    by_name = {s["sourceId"]: s for s in rows["sources"]}
    assert by_name["hospital_a"]["trainingRows"] + by_name["hospital_b"]["trainingRows"] == len(X)
    assert by_name["hospital_a"]["trainingRows"] == int(
        (stp.row_lineage(X)["source_id"] == "hospital_a").sum()
    )
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert [(o["name"], o["fingerprint"]) for o in fit["ops"]] == [
        (op.name, op.fingerprint) for op in run.ops
    ]
    assert fit["unknownFeatureLineage"] == [] and fit["unresolvedColumns"] == {}


def test_column_lineage_through_merges_and_aggregates(hospital_frames):
    a, b = hospital_frames
    _, _, joined = merged_and_aggregated(a, b)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    run = pipe.fit(joined[["age", "bp_mean"]], joined["label"]).lineage_
    event = to_openlineage(run)
    validate(event)
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    uri = {s.source_id: s.uri for s in run.sources.values()}
    files = sorted(str(Path(uri[s].removeprefix("file://"))) for s in ("hospital_a", "hospital_b"))
    assert _inputs_of(fields) == {
        "age": {(p, "age") for p in files},
        "bp_mean": {(p, "bp") for p in files},
    }
    (age,) = {t["subtype"] for f in fields["age"]["inputFields"] for t in f["transformations"]}
    (mean,) = {
        t["subtype"] for f in fields["bp_mean"]["inputFields"] for t in f["transformations"]
    }
    assert (age, mean) == ("TRANSFORMATION", "AGGREGATION")
    description = fields["bp_mean"]["inputFields"][0]["transformations"][0]["description"]
    assert "aggregate 'bp_by_sex'" in description and "merge 'with_means'" in description
    # The merge and the aggregate are not datasets; the row facet lists them with parents.
    assert {d["name"] for d in event["inputs"]} == set(files)
    sources = event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    derived = {s["sourceId"]: s for s in sources if s["kind"] in ("merge", "aggregate")}
    assert set(derived) == {"bp_by_sex", "with_means"}
    assert derived["with_means"]["namespace"] is None
    assert derived["with_means"]["trainingRows"] == len(joined)


def test_renamed_merge_columns_lead_to_their_side():
    left = stp.from_pandas(pd.DataFrame({"k": [1, 2, 3, 4], "v": [0.1, 0.5, 0.9, 0.3]}), "left")
    right = stp.from_pandas(pd.DataFrame({"k": [4, 3, 2, 1], "v": [1.0, 2.0, 3.0, 4.0]}), "right")
    merged = stp.merge(left, right, on="k")
    run = stp.make_traced_pipeline(LogisticRegression())
    run = run.fit(merged[["v_x", "v_y"]], [0, 1, 0, 1]).lineage_
    event = to_openlineage(run)
    validate(event)
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert _inputs_of(fields) == {"v_x": {("left", "v")}, "v_y": {("right", "v")}}
    # The same sources as the library's own feature lineage.
    assert {f: sorted(n for n, _ in v) for f, v in _inputs_of(fields).items()} == (
        run.feature_sources()
    )


def test_unknown_and_unresolved_feature_lineage_are_said_not_dropped(hospital_frames):
    a, b = hospital_frames
    X = pd.concat([a, b]).dropna()
    X = X.assign(ratio=X["age"] / X["bp"])  # computed after loading: in no source
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    run = pipe.fit(X[["age", "ratio"]], X["label"]).lineage_
    event = to_openlineage(run)
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert set(fields) == {"age"}
    assert fit["unresolvedColumns"] == {"ratio": ["ratio"]}

    opaque = FunctionTransformer(np.log1p)  # no feature_names_out: lineage unknown
    pipe = stp.make_traced_pipeline(make_pipeline(opaque), LogisticRegression())
    run = pipe.fit(X[["age", "bp"]], X["label"]).lineage_
    assert all(columns is None for columns in run.feature_lineage.values())
    event = to_openlineage(run)
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert event["outputs"][0]["facets"]["columnLineage"]["fields"] == {}
    assert fit["unknownFeatureLineage"] == list(run.feature_lineage)
    assert fit["notes"] == run.notes and any("unknown" in n for n in fit["notes"])


def test_features_from_the_target_and_constants_are_said(hospital_frames):
    from sklearn.preprocessing import PolynomialFeatures, TargetEncoder

    a, b = hospital_frames
    X = pd.concat([a, b]).dropna()
    pre = stp.make_traced_column_transformer(
        (TargetEncoder(), ["sex"]), (PolynomialFeatures(1), ["age"])
    )
    run = stp.make_traced_pipeline(pre, LogisticRegression()).fit(X, X["label"]).lineage_
    event = to_openlineage(run)
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    # the target is no column left unresolved; the constant depends on no column
    assert fit["targetFeatures"] == ["targetencoder__sex"]
    assert fit["unresolvedColumns"] == {} and fit["unknownFeatureLineage"] == []
    named = _inputs_of(fields)["targetencoder__sex"]
    assert sorted(Path(name).stem for name, _ in named) == ["hospital_a", "hospital_b"]
    assert {column for _, column in named} == {"sex"}
    assert fields["polynomialfeatures__1"] == {"inputFields": []}


def test_two_versions_of_one_file_are_two_versions_of_one_dataset(tmp_path):
    path = tmp_path / "ward.csv"
    texts = ["age,bp,label\n30,120,0\n40,130,1\n", "age,bp,label\n31,121,1\n41,131,0\n"]
    frames = []
    for text in texts:
        path.write_text(text)
        frames.append(stp.read_csv(path, source_id="ward"))
    X = pd.concat(frames)
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X[["age", "bp"]], X["label"])
    event = to_openlineage(run.lineage_)
    validate(event)
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        ("file", str(path.resolve()))
    ] * 2
    assert sorted(d["facets"]["version"]["datasetVersion"] for d in event["inputs"]) == sorted(
        hashlib.sha256(t.encode()).hexdigest() for t in texts
    )


def test_store_pointer_is_checked_and_never_guessed(tmp_path):
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(20, 2)), "s")
    memory = stp.stores.MemoryStore()
    run = stp.make_traced_pipeline(LogisticRegression(), store=memory).fit(X, X["x0"] > 0)
    run = run.lineage_
    with pytest.raises(ValueError, match="MemoryStore lives in this process only"):
        to_openlineage(run, store=memory)
    elsewhere = stp.stores.SQLiteStore(tmp_path / "other.db")
    with pytest.raises(UnknownRunError, match="would point at nothing"):
        to_openlineage(run, store=elsewhere)
    with pytest.raises(ValueError, match="pass the store too"):
        to_openlineage(run, store_uri="file:///x.db")
    elsewhere.save_run(run)
    with pytest.raises(ValueError, match="URI with a scheme"):
        to_openlineage(run, store=elsewhere, store_uri="other.db")
    event = to_openlineage(run, store=elsewhere, store_uri="https://audit.example/lineage.db")
    assert event["run"]["facets"]["sktraceprop_rowLineage"]["store"]["uri"] == (
        "https://audit.example/lineage.db"
    )
    with pytest.raises(ValueError, match="event_type must be one of"):
        to_openlineage(run, event_type="DONE")
    odd = stp.Lineage(**{**vars(run), "run_id": "run-1"})
    with pytest.raises(LineageError, match="UUID"):
        to_openlineage(odd)
    with pytest.raises(TypeError, match="exports a Lineage"):
        to_openlineage(run.to_dict())


def test_a_stored_run_that_differs_is_refused(tmp_path):
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(20, 2)), "s")
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    run = stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, X["x0"] > 0)
    run = run.lineage_
    other = stp.Lineage(**{**vars(run), "row_ids": run.row_ids[::-1].copy()})
    with pytest.raises(LineageError, match="differs from the run given"):
        to_openlineage(other, store=store)
    # values erased from the stored run since: the run as fitted would write them again
    store.redact(run.run_id, sources=["s"], reason="erasure request")
    with pytest.raises(LineageError, match="were erased from .* since it was fitted"):
        to_openlineage(run, store=store)
    stored = store.load_run(run.run_id)
    assert stored.source_stats["sources"][0]["redacted"]["reason"] == "erasure request"
    validate(to_openlineage(stored, store=store, store_uri="file:///lineage.db"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_generated_runs_give_valid_events(run):
    event = to_openlineage(run)
    validate(event)
    assert uuid.UUID(event["run"]["runId"]) == uuid.UUID(run.run_id)
    facet = event["run"]["facets"]["sktraceprop_rowLineage"]
    ids = np.asarray(run.row_ids, dtype="<i8")
    assert facet["rows"] == {
        "count": ids.size,
        "sha256": hashlib.sha256(ids.tobytes()).hexdigest(),
    }
    # Every named input field leads to the sources the library names for the feature.
    owners = {}
    for s in facet["sources"]:
        owners.setdefault((s["namespace"], s["name"]), set()).add(s["sourceId"])
    fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    fit = event["run"]["facets"]["sktraceprop_fit"]
    expected = run.feature_sources()
    for feature, columns in run.feature_lineage.items():
        if feature in fields:
            named = set()
            for f in fields[feature]["inputFields"]:
                named |= owners[(f["namespace"], f["name"])]
            assert named >= set(expected[feature])
            assert all(
                owners[(f["namespace"], f["name"])] & set(expected[feature])
                for f in fields[feature]["inputFields"]
            )
        elif columns is None:
            assert feature in fit["unknownFeatureLineage"]
        else:
            assert expected[feature] == [] and feature in fit["unresolvedColumns"]


def test_events_need_no_optional_package():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import sktraceprop as stp
        from sklearn.linear_model import LogisticRegression
        X = stp.from_numpy(np.ones((4, 1)), "s")
        run = stp.make_traced_pipeline(LogisticRegression()).fit(X, [0, 1, 0, 1]).lineage_
        for name in ("pyarrow", "opentelemetry", "jsonschema"):
            sys.modules[name] = None  # makes "import name" raise ImportError
        print(stp.exporters.to_openlineage(run)["inputs"][0]["name"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "s"


def _keep(X, offset=0):
    return X


def test_a_parameter_beyond_2_53_is_read_exactly_by_a_float_reader():
    big = 2**60 + 1
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "big_param")
    step = FunctionTransformer(_keep, kw_args={"offset": big})
    run = stp.make_traced_pipeline(step, LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    event = to_openlineage(run)
    validate(event)
    text = json.dumps(event)
    # as JavaScript reads JSON (every number a double), and exactly: the same event
    assert json.loads(text, parse_int=float) == json.loads(text)
    ops = event["run"]["facets"]["sktraceprop_fit"]["ops"]
    (op,) = [o for o in ops if "kw_args" in o["params"]]
    assert int(op["params"]["kw_args"]["offset"]) == big


def test_a_searchs_runs_say_their_roles():
    from sklearn.model_selection import GridSearchCV

    X = stp.from_numpy(np.random.default_rng(4).normal(size=(24, 2)), "grid")
    y = (X["x0"] > 0).astype(int)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.5, 2.0]}, cv=2).fit(X, y)
    for run_id in store.list_runs()["run_id"]:
        run = store.load_run(run_id)
        event = to_openlineage(run)
        validate(event)
        fit = event["run"]["facets"]["sktraceprop_fit"]
        assert (fit["purpose"], fit["selection"]) == (run.purpose, run.selection)
    fit = to_openlineage(search.best_estimator_.lineage_)["run"]["facets"]["sktraceprop_fit"]
    assert fit["selection"]["role"] == "refit"
    assert fit["selection"]["best_params"] == search.best_params_


def test_a_weighted_fit_says_so_in_its_fit_facet():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    X = stp.from_pandas(df, source_id="weighted_ol")
    y = (df["a"] > 0).astype(int)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, y, logisticregression__sample_weight=np.r_[np.zeros(3), np.ones(27)])
    event = to_openlineage(pipe.lineage_)
    validate(event)
    fit = event["run"]["facets"]["sktraceprop_fit"]
    assert fit["fitParams"]["logisticregression__sample_weight"]["weights"]["n_zero"] == 3
    plain = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert "fitParams" not in to_openlineage(plain.lineage_)["run"]["facets"]["sktraceprop_fit"]


def test_runs_of_one_search_share_their_parent_run():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    from sktraceprop.stores import MemoryStore

    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    X = stp.from_pandas(df, source_id="search_ol")
    y = (df["a"] > 0).astype(int)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X, y)
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 5  # 2 candidates x 2 splits, and the refit
    parents = set()
    for run in runs:
        event = to_openlineage(run)
        validate(event)
        parent = event["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == run.selection["search_id"]
        assert parent["job"]["name"].endswith("GridSearchCV")
        parents.add(parent["run"]["runId"])
    assert len(parents) == 1
    # a fit no search made has no parent facet
    plain = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert "parent" not in to_openlineage(plain.lineage_)["run"]["facets"]


def test_a_clone_names_the_run_it_derives_from():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(6)
    df = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    X = stp.from_pandas(df, source_id="clone_ol")
    y = (df["a"] > 0).astype(int)
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    unl = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    run = unl.estimator_.lineage_
    assert run.parent_run_id == pipe.lineage_.run_id
    event = to_openlineage(run)
    validate(event)
    assert event["run"]["facets"]["sktraceprop_fit"]["parentRunId"] == pipe.lineage_.run_id


def test_an_op_fitted_on_one_of_two_same_named_files_names_its_content(tmp_path):
    # a/data.csv and b/data.csv are both "data": the fit facet's op said only
    # sources ["data"], though the run records which file's rows the scaler was fitted on
    X, y, which, _, _ = _same_named_files(tmp_path)
    event = to_openlineage(_fit_scaled_b(X, y, which))
    validate(event)
    (op,) = [o for o in event["run"]["facets"]["sktraceprop_fit"]["ops"] if o["sources"]]
    b_sha = hashlib.sha256((tmp_path / "b" / "data.csv").read_bytes()).hexdigest()
    assert op["sources"] == ["data"]
    assert op["sourceKeys"] == [{"sourceId": "data", "sha256": b_sha}]
    # ops of every row carry no keys
    assert all(
        "sourceKeys" not in o
        for o in event["run"]["facets"]["sktraceprop_fit"]["ops"]
        if o["sources"] is None
    )


def _same_named_files(tmp_path):
    from tests.conftest import same_named_cancer_files

    train, valid, which = same_named_cancer_files(tmp_path)
    X, y = train.drop(columns="target"), train["target"].to_numpy()
    return X, y, which, valid, None


def _fit_scaled_b(X, y, which):
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = X.copy()
    X.loc[which == 1, :] = scaler.fit_transform(X[which == 1]).to_numpy()
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y).lineage_
