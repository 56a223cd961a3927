"""Two sources that carry one source_id (two folders' data.csv) stay apart in a report.

The report listed both, but its lineage graph keyed source nodes by source_id, so one
file's node stood for both (the other file vanished from the drawing), and nothing said
that the ops, feature lineage and runs, which name sources by source_id, cannot tell
the two apart. Checked against the raw files' bytes.
"""

import hashlib
import json

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError
from tests.conftest import write_normal_features

from .conftest import before_format_8


def _write(path, n, seed):
    return write_normal_features(path, n, seed)


def _report(tmp_path, paths):
    frames = [stp.read_csv(p) for p in paths]
    df = pd.concat(frames)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(df[["x1", "x2"]], df["y"])
    pipe.predict(df[["x1", "x2"]])
    return stp.compliance_report(
        pipe,
        system_name="Scorer",
        system_version="1.0.0",
        deployer_name="Bank",
        high_risk_category="creditworthiness",
        intended_purpose="credit decisions",
        human_oversight=["risk officer"],
        output_path=tmp_path / "report.json",
    )


def test_two_files_named_alike_are_two_sources_everywhere_in_the_report(tmp_path):
    a = _write(tmp_path / "a" / "data.csv", 30, 0)
    b = _write(tmp_path / "b" / "data.csv", 20, 1)
    report = _report(tmp_path, [a, b])
    data = report.to_dict()
    sources = data["sources"]
    assert [s["source_id"] for s in sources] == ["data", "data"]
    truth = {p.resolve().as_uri(): hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)}
    assert {s["uri"]: s["sha256"] for s in sources} == truth
    assert {s["uri"]: s["training_rows"] for s in sources} == {
        a.resolve().as_uri(): 30,
        b.resolve().as_uri(): 20,
    }
    labels = [s["label"] for s in sources]
    assert len(set(labels)) == 2
    for s, other in zip(sources, sources[::-1]):
        assert s["label"] == f"data [{s['sha256'][:12]}]"
        assert s["name_shared_with"] == [other["code"]]
        assert "cannot say which" in s["name_note"]
    article = next(x for x in data["articles"] if x["article"] == "26(4)")
    assert "carry the source_id 'data'" in article["why"]
    assert any("share a source_id" in c for c in article["cannot_show"])

    # the drawing has a node per file (it had one node standing for both)
    graph = report.lineage_graph()
    nodes = [n for n in graph["nodes"] if n["kind"] == "source"]
    assert sorted(n["label"] for n in nodes) == sorted(labels)
    assert {n["id"] for n in nodes} == {f"source:{s['code']}" for s in sources}
    fed = {src for src, _ in graph["edges"]}
    assert {n["id"] for n in nodes} <= fed

    html = report.to_html(tmp_path / "report.html")
    assert all(label in html for label in labels)
    assert verify(tmp_path / "report.json") is True


def test_distinct_names_keep_the_report_as_it_was(tmp_path):
    a = _write(tmp_path / "a" / "alpha.csv", 12, 0)
    b = _write(tmp_path / "b" / "beta.csv", 9, 1)
    data = _report(tmp_path, [a, b]).to_dict()
    for s in data["sources"]:
        assert not {"label", "name_shared_with", "parent_codes", "name_note"} & set(s)
    article = next(x for x in data["articles"] if x["article"] == "26(4)")
    assert not any("share a source_id" in c for c in article["cannot_show"])


def _scaled_on_a_and_unlearned(tmp_path):
    """a/data.csv and b/data.csv (both "data"), a scaler fitted on a's rows only before
    the concat, a logged model on both, and 2 rows of b removed."""
    a = _write(tmp_path / "a" / "data.csv", 30, 2)
    b = _write(tmp_path / "b" / "data.csv", 20, 3)
    A, B = stp.read_csv(a), stp.read_csv(b)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = pd.concat([scaler.fit_transform(A[["x1", "x2"]]), B[["x1", "x2"]]])
    y = pd.concat([A["y"], B["y"]])
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    unlearner = stp.GradientCorrectionUnlearner(pipe).fit(X, y)
    from_b = (stp.row_lineage(X)["uri"] == b.resolve().as_uri()).to_numpy()
    unlearner.unlearn(sample_id=stp.row_ids(X)[from_b][:2])
    report = stp.compliance_report(
        store=store,
        run_id=unlearner.run_id_,
        system_name="Scorer",
        system_version="1.0.0",
        deployer_name="Bank",
        high_risk_category="creditworthiness",
        intended_purpose="credit decisions",
        human_oversight=["risk officer"],
        output_path=tmp_path / "report.json",
    )
    return a, b, store, unlearner, report


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_op_fitted_on_one_file_is_listed_for_that_file_only(tmp_path):
    # the op named "data" only: both files' entries listed it, and the drawing fed it
    # from both files
    a, b, store, _, report = _scaled_on_a_and_unlearned(tmp_path)
    data = report.to_dict()
    by_uri = {s["uri"]: s for s in data["sources"]}
    uri_a, uri_b = a.resolve().as_uri(), b.resolve().as_uri()
    assert {u: s["sha256"] for u, s in by_uri.items()} == {uri_a: _sha(a), uri_b: _sha(b)}
    scaler = data["model"]["ops"][0]
    assert scaler["name"] == "standardscaler@data" and scaler["sources"] == ["data"]
    assert "standardscaler@data" in by_uri[uri_a]["ops"]
    assert "standardscaler@data" not in by_uri[uri_b]["ops"]
    assert by_uri[uri_b]["ops"] == [op["name"] for op in data["model"]["ops"][1:]]
    assert scaler["source_keys"] == [{"source_id": "data", "sha256": _sha(a)}]
    assert all("source_keys" not in op for op in data["model"]["ops"][1:])  # every row
    for s in by_uri.values():
        assert "matched to it by SHA-256" in s["name_note"]
    article = next(x for x in data["articles"] if x["article"] == "26(4)")
    assert "the ops fitted on some of them name their SHA-256" in article["why"]
    assert not any("each op was fitted on" in c for c in article["cannot_show"])
    # the drawing feeds the scaler from a's node only
    graph = report.lineage_graph()
    node = {s["uri"]: f"source:{s['code']}" for s in data["sources"]}
    into = {src for src, dst in graph["edges"] if dst == "op:standardscaler@data"}
    assert into == {node[uri_a]}
    assert verify(tmp_path / "report.json") is True
    assert report.verify(store=store)


def test_the_removals_summary_names_each_widened_sources_content(tmp_path):
    # only /events showed source_contents; /record_keeping/removals had the labels alone
    a, b, store, unlearner, report = _scaled_on_a_and_unlearned(tmp_path)
    event = unlearner.unlearning_log_[-1]
    (removal,) = report.to_dict()["record_keeping"]["removals"]
    label = f"data [{_sha(b)[:12]}]"
    assert removal["sources"] == {label: 2}
    assert removal["source_contents"] == {
        label: {"source_id": "data", "uri": b.resolve().as_uri(), "sha256": _sha(b)}
    }
    assert removal["source_contents"] == event["source_contents"]
    assert report.verify(store=store)


def test_a_format_5_report_without_source_contents_still_verifies(tmp_path):
    # format 6 added them: a report made before, of the same store, verifies as it was;
    # one of format 6 that lost them does not
    _, _, store, _, report = _scaled_on_a_and_unlearned(tmp_path)
    data = report.to_dict()
    assert data["report"]["format_version"] >= 6
    for removal in data["record_keeping"]["removals"]:
        del removal["source_contents"]
    for source in data["sources"]:  # (format 7 added it: a format 5 report has none,
        source.pop("changes_after_loading", None)  # nor the statements made from it)
    data["articles"] = articles(data)
    data["integrity"] = seal(body_of(data))
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReportVerificationError, match="removals"):
        verify(cut, store=store)
    before_format_8(data)  # (nor had it each removal's source_rows)
    data["report"]["format_version"] = 5
    data["articles"] = articles(data)
    data["integrity"] = seal(body_of(data))
    old = tmp_path / "format5.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    assert verify(old, store=store)
