"""A format-6 report written before sources counted their rows through each op
(``op_training_rows``, added to format 6 without a version bump) still verifies against
its untouched store: ``data/format6`` was written by sktraceprop at commit 4402dc5 (see
``data/README.md``). Its sources list a scaler fitted on files a and b among the ops of
both, though only 5 rows of a went through it, as that version did."""

import json
import shutil
import warnings
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER

FORMAT6 = Path(__file__).parent / "data" / "format6"


def _store(tmp_path):
    shutil.copyfile(FORMAT6 / "audit.db", tmp_path / "audit.db")
    return stp.stores.SQLiteStore(tmp_path / "audit.db", mode="ro")


def _verify(path, store):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "the report is of format 6", UserWarning)
        return verify(path, store=store, public_key=FORMAT6 / "public.pem")


def test_a_format_6_report_without_op_counts_verifies_against_its_store(tmp_path):
    store = _store(tmp_path)
    written = json.loads((FORMAT6 / "report.json").read_text(encoding="utf-8"))
    assert written["report"]["format_version"] == 6
    by_id = {s["source_id"]: s for s in written["sources"]}
    assert all("op_training_rows" not in s for s in by_id.values())
    (scaler,) = [op for op in by_id["b"]["ops"] if op != "logisticregression"]
    assert by_id["a"]["ops"] == by_id["b"]["ops"] == [scaler, "logisticregression"]
    # before: '/sources/0/op_training_rows differs from the store's run record'
    assert _verify(FORMAT6 / "report.json", store)
    # the same run reported now lists the scaler for a only, with counts
    now = compliance_report(store=store, run_id=written["model"]["run_id"], **DEPLOYER)
    counted = {s["source_id"]: s for s in now.to_dict()["sources"]}
    assert counted["a"]["op_training_rows"] == [5, 12]
    assert counted["b"]["ops"] == ["logisticregression"]


@pytest.mark.parametrize(
    "edit, pointer",
    [
        (lambda s: s[1]["ops"].remove(s[1]["ops"][0]), "/sources/1/ops"),
        (lambda s: s[0].update(op_training_rows=[5, 12]), "/sources/1/ops"),
        (lambda s: s[0]["ops"].reverse(), "/sources/0/ops"),
    ],
)
def test_its_ops_are_still_checked(tmp_path, edit, pointer):
    """Edited and re-hashed (as someone without the key could): the old listing is
    rebuilt from the store, so an op taken away, or counts added (read by the new
    rule, which lists the scaler for a only), are named."""
    store = _store(tmp_path)
    data = json.loads((FORMAT6 / "report.json").read_text(encoding="utf-8"))
    edit(data["sources"])
    body = body_of(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps({**body, "integrity": seal(body)}), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "the report is of format 6", UserWarning)
        with pytest.raises(ReportVerificationError, match=pointer):
            verify(path, store=store)
