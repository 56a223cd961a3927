"""The report's schema and doc/compliance.rst describe the sample weights' summary a
report holds, ``values_sha256`` included (recorded at fit since the explainer and the
unlearner compare weights by it; the schema's text did not name it)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._schema import SCHEMA_FILE

from .conftest import DEPLOYER

_ROOT = Path(__file__).parents[2]


def _weights_summary():
    rng = np.random.default_rng(1)
    df = stp.from_pandas(
        pd.DataFrame({"a": rng.normal(size=30), "y": np.arange(30) % 2}), source_id="w"
    )
    w = pd.Series(np.arange(30) % 3, index=df.index, name="w", dtype=float)
    pipe = stp.make_traced_pipeline(
        StandardScaler(),
        LogisticRegression(),
        store=stp.stores.MemoryStore(),
        log_predictions=True,
    )
    pipe.fit(df[["a"]], df["y"], logisticregression__sample_weight=w)
    pipe.predict(df[["a"]].iloc[:2])
    data = compliance_report(pipe, **DEPLOYER).to_dict()
    (entry,) = data["model"]["fit_params"].values()
    return entry["weights"]


def test_schema_and_doc_describe_values_sha256():
    summary = _weights_summary()
    assert re.fullmatch(r"[0-9a-f]{64}", summary["values_sha256"])
    schema = json.loads((_ROOT / "sktraceprop" / "compliance" / SCHEMA_FILE).read_text())
    said = schema["properties"]["model"]["properties"]["fit_params"]["description"]
    doc = (_ROOT / "doc" / "compliance.rst").read_text(encoding="utf-8")
    start = doc.index("``fit_params`` records them")
    paragraph = " ".join(doc[start : doc.index("format\n    version 4", start)].split())
    for text in (said, paragraph.replace("``", "")):
        assert "values_sha256" in text
        assert "float64 row by row" in text
        assert "index and name do not change" in text
        assert "recorded before" in text
