"""A report of a model trained on a copy of a file read under the same source_id lists
every path read and says which one gave the rows is not recorded."""

import shutil
import warnings

import jsonschema
import numpy as np
import pandas as pd

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import LineageWarning

from .conftest import DEPLOYER, logged_pipeline


def test_the_report_lists_every_path_the_bytes_were_read_from(tmp_path):
    rng = np.random.default_rng(3)
    n = 30
    first = tmp_path / "a.csv"
    pd.DataFrame(
        {
            "age": rng.integers(20, 80, n),
            "sex": rng.choice(["f", "m"], n),
            "bp": rng.normal(120, 10, n),
            "label": [0, 1] * (n // 2),
        }
    ).to_csv(first, index=False)
    second = tmp_path / "moved" / "a_copy.csv"
    second.parent.mkdir()
    shutil.copy(first, second)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        stp.read_csv(first, source_id="clinic")
        df = stp.read_csv(second, source_id="clinic")
        store = stp.stores.SQLiteStore(tmp_path / "audit.db")
        pipe = logged_pipeline(store, df[["age", "sex", "bp"]], df["label"])
        pipe.predict(df[["age", "sex", "bp"]].iloc[:3])
        data = compliance_report(pipe, **DEPLOYER).to_dict()
    jsonschema.validate(data, stp.compliance.report_schema())
    (s,) = data["sources"]
    read = second.resolve().as_uri()  # the truth: the path this model's frame came from
    assert read in s["uris"] and first.resolve().as_uri() in s["uris"]
    assert [r.get("uri") for r in s["other_reads"]] == [read]
    assert read in s["reads_note"] and "not recorded" in s["reads_note"]
    assert [r["uri"] for r in s["rows_by_read"]] == s["uris"]
    assert read in compliance_report(pipe, **DEPLOYER).to_html()
    assert store.verify()
    assert stp.compliance.verify(data, store=store)  # made again from the store: the same
