"""A compliance report, and a report's check against its store, read the chain once.

Both ran ``store.verify()``, whose integrity check reads every event of the chain, then
read every event again for the report's own record. The check now hands each event it
reads to the report (``stores._audit_chain.watching_chain``). Truth: the report made
the old way (``verify()``, then a read of its own), byte for byte, and the reads of the
store counted by a spy on every method that reads events.
"""

import json
import warnings

import pytest

import sktraceprop.compliance._chain_read as chain_read
import sktraceprop.compliance._compliance_report as made
from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.exceptions import CorruptStoreError
from tests.compliance.conftest import DEPLOYER
from tests.stores.test_report_erasures_read_once import _fitted

#: Every method of a store that reads audit events.
READS = ("events", "_raw_events", "_raw_events_of_kinds", "_raw_event", "_raw_events_mark")


def _spied(store, monkeypatch):
    cls, reads = type(store), []
    for name in READS:
        original = getattr(cls, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            reads.append((_name, args, kwargs.get("kind")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    return reads


def _old_read(store, run_id, upto=None):
    """As the report read before: the check's read, then one of its own."""
    with store._snapshot():
        store.verify()
        return chain_read.chain_events(store, run_id, upto)


def _report(pipe, store, now):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the erased rows the pipeline holds: said once)
        return compliance_report(pipe, store=store, **DEPLOYER)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"], indirect=True)
def test_a_report_reads_the_chain_once(backend, tmp_path, monkeypatch):
    store = backend.make()
    pipe = _fitted(store, tmp_path)
    now = utc_now()
    monkeypatch.setattr(made, "utc_now", lambda: now)
    reads = _spied(store, monkeypatch)
    report = _report(pipe, store, now)
    whole = [r for r in reads if r[0] == "_raw_events" and r[1] == ()]
    assert len(whole) == 1  # (was 2: verify()'s check, then the report's read)
    # the report as the old read made it, byte for byte
    monkeypatch.setattr(made, "verified_chain_events", _old_read)
    reads.clear()
    before = _report(pipe, store, now)
    assert [r for r in reads if r[0] == "_raw_events" and r[1] == ()] == whole * 2
    assert json.dumps(report.to_dict(), sort_keys=True) == json.dumps(
        before.to_dict(), sort_keys=True
    )
    # its check against the store reads the chain once, and finds it as made
    path = tmp_path / "report.json"
    report.save(path)
    reads.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert verify(path, store=store) is not None
    assert len([r for r in reads if r[0] == "_raw_events" and r[1] == ()]) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_an_altered_chain_is_still_refused(backend, tmp_path):
    """The report's read is the check's: a call's payload altered is refused, and no
    report made of it."""
    store = backend.make()
    pipe = _fitted(store, tmp_path)
    (seq,) = [e["seq"] for e in store.events(kind="prediction")][:1]
    backend.sql(
        "UPDATE events SET payload = replace(payload, '\"n_rows\":3', '\"n_rows\":2') "
        "WHERE seq = ?",
        (seq,),
    )
    with pytest.raises(CorruptStoreError, match=f"audit event {seq}"):
        _report(pipe, type(store)(store.path) if backend.kind == "sqlite" else store, None)


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
def test_a_check_that_reads_no_chain_leaves_the_report_to_read_it(backend, tmp_path, monkeypatch):
    """A store whose verify() hands over no walk of the chain (its own check): the
    report reads the chain itself, and is the report it was."""
    store = backend.make()
    pipe = _fitted(store, tmp_path)
    now = utc_now()
    monkeypatch.setattr(made, "utc_now", lambda: now)
    handed = _report(pipe, store, now).to_dict()
    monkeypatch.setattr(type(store), "verify", lambda self, *args, **kwargs: True)
    reads = _spied(store, monkeypatch)
    assert _report(pipe, store, now).to_dict() == handed
    assert len([r for r in reads if r[0] == "_raw_events" and r[1] == ()]) == 1
