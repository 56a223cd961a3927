"""A report of a model trained on a copy of a file read under the same source_id names
the copy; one trained on rows of both copies lists every path and says which one gave
the rows is not recorded."""

import shutil
import warnings

import jsonschema
import numpy as np
import pandas as pd

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import LineageWarning

from .conftest import DEPLOYER, before_format_16, logged_pipeline


def _copies(tmp_path):
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
    return first, second


def _report(tmp_path, frame, keep=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        store = stp.stores.SQLiteStore(tmp_path / "audit.db")
        pipe = logged_pipeline(store, frame[["age", "sex", "bp"]], frame["label"])
        pipe.predict(frame[["age", "sex", "bp"]].iloc[:3])
        data = compliance_report(pipe, **DEPLOYER).to_dict()
        html = compliance_report(pipe, **DEPLOYER).to_html()
    jsonschema.validate(data, stp.compliance.report_schema())
    assert store.verify()
    assert stp.compliance.verify(data, store=store)  # made again from the store: the same
    if keep is not None:
        keep["store"] = store
    return data, html


def test_the_report_of_a_model_on_the_copy_names_the_copy(tmp_path):
    """Before: the report named a.csv (the first path read) as the source's uri for a
    model fitted on the rows read from moved/a_copy.csv."""
    first, second = _copies(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        stp.read_csv(first, source_id="clinic")
        df = stp.read_csv(second, source_id="clinic")
    data, html = _report(tmp_path, df)
    (s,) = data["sources"]
    read = second.resolve().as_uri()  # the truth: the path this model's frame came from
    assert s["uri"] == read
    assert "uris" not in s and "other_reads" not in s and "reads_note" not in s
    assert read in html and first.resolve().as_uri() not in html


def test_the_report_lists_every_path_the_rows_may_come_from(tmp_path):
    """A model fitted on rows of both copies (a concat): which copy a row came from is
    not known; the report lists both paths and says so."""
    first, second = _copies(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        da = stp.read_csv(first, source_id="clinic")
        df = stp.read_csv(second, source_id="clinic")
    data, html = _report(tmp_path, pd.concat([da.iloc[:15], df.iloc[15:]]))
    (s,) = data["sources"]
    both = [first.resolve().as_uri(), second.resolve().as_uri()]
    assert s["uris"] == both
    assert s["uri"] == ""  # before: the first path read, as if it had given the rows
    assert "uri is empty" in s["reads_note"]
    assert "not known: one of" in html
    assert [r.get("uri") for r in s["other_reads"]] == both[1:]
    assert all(u in s["reads_note"] for u in both) and "not recorded" in s["reads_note"]
    assert [r["uri"] for r in s["rows_by_read"]] == s["uris"]
    assert all(u in html for u in both)


def test_a_report_of_format_13_on_both_copies_verifies_as_written(tmp_path):
    """Format 13 named the first path read as uri where the rows' path is not known; a
    report written then still verifies against its store, and one edited to name the
    other path does not."""
    import copy
    import json

    import pytest

    from sktraceprop.compliance._integrity import body_of, seal
    from sktraceprop.compliance._sections import articles
    from sktraceprop.compliance._source_evidence import PATHS_NOTE_13, PATHS_NOTE_TAIL
    from sktraceprop.exceptions import ReportVerificationError

    first, second = _copies(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        da = stp.read_csv(first, source_id="clinic")
        df = stp.read_csv(second, source_id="clinic")
    keep = {}
    data, _ = _report(tmp_path, pd.concat([da.iloc[:15], df.iloc[15:]]), keep)

    def written(uri):
        old = copy.deepcopy(data)
        old["report"]["format_version"] = 13
        before_format_16(old)  # (format 16 counts six months at a month's end otherwise)
        # (formats 14 and 15 also added the counts of calls matched by fingerprint
        # schemes 4 and 5 only)
        old["record_keeping"]["predictions"].pop("calls_matched_by_fingerprint_scheme_4", None)
        old["record_keeping"]["predictions"].pop("calls_matched_by_fingerprint_scheme_5", None)
        (s,) = old["sources"]
        s["uri"] = uri
        s["reads_note"] = s["reads_note"].replace(PATHS_NOTE_TAIL, PATHS_NOTE_13)
        old["articles"] = articles(old)
        old["integrity"] = seal(body_of(old))
        path = tmp_path / f"old{len(uri)}.json"
        path.write_text(json.dumps(old))
        return path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (an older format: said)
        assert stp.compliance.verify(written(first.resolve().as_uri()), store=keep["store"])
        with pytest.raises(ReportVerificationError):
            stp.compliance.verify(written(second.resolve().as_uri()), store=keep["store"])
