"""Training rows given to fit more than once (oversampling) are counted as what they are.

A source oversampled with ``sample(replace=True)`` (a common balancing step) reached the
model as 120 training rows drawn from fewer distinct lines of its 60: the report's
``training_rows`` (and its label balance, Art. 26(4)'s evidence of representativeness)
said 120 rows of a 60-row file, and nothing in the report or the run's notes said that
rows repeat, or how many distinct lines were used.
"""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER


def test_an_oversampled_source_says_its_rows_repeat(tmp_path):
    rng = np.random.default_rng(0)
    small = stp.from_pandas(
        pd.DataFrame({"x": rng.normal(size=60), "y": rng.integers(0, 2, 60)}), "rep_small"
    )
    large = stp.from_pandas(
        pd.DataFrame({"x": rng.normal(size=120), "y": rng.integers(0, 2, 120)}), "rep_large"
    )
    df = pd.concat([large, small.sample(n=120, replace=True, random_state=0)])
    distinct = np.unique(stp.row_ids(df)[stp.row_lineage(df)["source_id"].eq("rep_small")])
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(df[["x"]], df["y"])
    pipe.predict(df[["x"]].iloc[:2])
    path = tmp_path / "r.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    report = json.loads(path.read_text())
    small_source = [s for s in report["sources"] if s["source_id"] == "rep_small"][0]
    assert small_source["training_rows"] == 120  # copies, as given to fit
    said = json.dumps(small_source) + json.dumps(report["model"]["notes"])
    assert f"{distinct.size} distinct" in said and "repeat" in said
    assert small_source["repeated_rows"]["distinct_rows"] == distinct.size
    assert small_source["repeated_rows"]["copies"] == 120 - distinct.size
    labels = small_source["statistics"]["labels"]
    assert sum(labels["counts"].values()) == 120  # every copy counted, as the note says
    (large_source,) = [s for s in report["sources"] if s["source_id"] == "rep_large"]
    assert "repeated_rows" not in large_source
    article = next(a for a in report["articles"] if a["article"] == "26(4)")
    assert "Rows repeat" in article["why"] and f"{distinct.size} distinct" in article["why"]
    assert stp.compliance.verify(path, store=store)
    html = compliance_report(pipe, **DEPLOYER).to_html()
    assert f"120 ({distinct.size} distinct: rows repeat)" in html
    # the mark is rebuilt from the stored run: a report without it is found
    edited = copy.deepcopy(report)
    for source in edited["sources"]:
        source.pop("repeated_rows", None)
    edited["articles"] = articles(edited)
    edited["integrity"] = seal(body_of(edited))
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    with pytest.raises(ReportVerificationError) as info:
        stp.compliance.verify(tmp_path / "edited.json", store=store)
    assert any("repeated_rows" in p for p in info.value.problems)
