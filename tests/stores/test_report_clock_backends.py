"""The compliance report on a store whose clock was set back, on every backend
(MemoryStore, SQLiteStore, PostgreSQL): an event written after the fit but stamped 200
days early no longer makes the report claim six months of logs; it names the event,
and ``verify(report, store=...)`` rebuilds that account (a re-sealed edit fails).
The independent truth is this test's own record of which event it stamped early."""

import json
import sys
from datetime import datetime, timedelta, timezone

import pytest

from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ClockWarning, ReportVerificationError
from sktraceprop.stores._base import make_event
from tests.stores.test_erase_predictions import _X, _model
from tests.stores.test_report_erasures import DEPLOYER

CLOCK = sys.modules[make_event.__module__]


def test_a_set_back_event_is_named_and_claims_no_six_months(backend, tmp_path, monkeypatch):
    store = backend.make()
    pipe = _model(store)
    early = (datetime.now(timezone.utc) - timedelta(days=200)).isoformat()
    with monkeypatch.context() as m:
        m.setattr(CLOCK, "utc_now", lambda: early)
        with pytest.warns(ClockWarning):
            pipe.predict(_X.iloc[:2])  # the first logged use, stamped early
    pipe.predict(_X.iloc[2:4])
    (first_call,) = [e["seq"] for e in store.events() if e["kind"] == "prediction"][:1]
    path = tmp_path / "r.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    r = data["retention"]
    assert [e["seq"] for e in r["times_set_back"]] == [first_call]
    assert r["stored_logs_cover_six_months"] is False
    assert r["first_logged_use_contradicted"] is True
    assert r["coverage_from"] > r["earliest_logged"]
    statements = {a["article"]: a for a in data["articles"]}
    assert statements["26(6), 19(1)"]["status"] == "partly evidenced"
    assert statements["12"]["status"] == "partly evidenced"
    assert "first logged use" in statements["12"]["why"]
    assert verify(path, store=store) is True
    d = json.loads(path.read_text())
    d["retention"]["times_set_back"] = []
    d["articles"] = articles(d)
    d["integrity"] = seal(body_of(d))
    path.write_text(json.dumps(d))
    with pytest.raises(ReportVerificationError, match="/retention/times_set_back"):
        verify(path, store=store)
