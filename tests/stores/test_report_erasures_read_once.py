"""A compliance report finds the erasures a model's rows are held after in its own read
of the chain.

The report read every event of the store (its record), and before that the check for
erased rows held (``ErasedRowsHeldWarning``) read the store's erasure events and the
run's redactions again. The erasure events now come from the report's read, and
elsewhere (a logged call's check) from the store's kept removal events
(:mod:`sktraceprop._removal_events`). Truth: the same check over every event of the
store read in full, and the report made with the check reading the store itself, as
before: the same warning and the same report, byte for byte.
"""

import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
import sktraceprop.compliance._compliance_report as made
from sktraceprop._erased_held import warn_erased_held
from sktraceprop._lineage._source import utc_now
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores._erased_rows import erased_rows
from tests.compliance.conftest import DEPLOYER


def _fitted(store, tmp_path):
    rng = np.random.default_rng(5)
    lines = ["a,b,label"] + [
        f"{a:.6f},{b:.6f},{i % 2}" for i, (a, b) in enumerate(rng.normal(size=(30, 2)))
    ]
    (tmp_path / "once.csv").write_text("\n".join(lines) + "\n")
    df = stp.read_csv(tmp_path / "once.csv", source_id="once_rows")
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(df[["a", "b"]], df["label"])
    for i in range(5):
        pipe.predict(df[["a", "b"]].iloc[i : i + 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the erasure names this process's pipeline)
        store.erase_rows(sample_id=stp.row_ids(df.iloc[[2, 7, 11]]), reason="art. 17")
    return pipe


def _report(pipe, store, monkeypatch, now):
    monkeypatch.setattr(made, "utc_now", lambda: now)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = compliance_report(pipe, store=store, **DEPLOYER)
    said = [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]
    return json.dumps(report.to_dict(), sort_keys=True), said


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_report_finds_erasures_in_its_read_of_the_chain(backend, tmp_path, monkeypatch):
    store = backend.make()
    pipe = _fitted(store, tmp_path)
    run = pipe.lineage_
    every = store.events(include_store_events=True)
    found = erased_rows(store, run)
    assert found == erased_rows(store, run, every)
    assert sorted(found) == [2, 7, 11]  # the rows named, by training position
    cls, reads = type(store), []
    for name in ("events", "_raw_events", "_raw_events_of_kinds"):
        original = getattr(cls, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            reads.append((_name, args, kwargs.get("kind")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    now = utc_now()  # (both reports made at one time)
    text, said = _report(pipe, store, monkeypatch, now)
    assert len(said) == 1 and "holds 3 training row(s)" in said[0]
    # every event read once in full (store.verify()'s check of the chain, which hands
    # the report what it reads: tests/compliance/test_report_reads_chain_once.py), and no
    # run's events besides: loading the run read its whole prediction log, payloads and
    # all, to find its redactions (three times)
    assert [r for r in reads if r[0] == "_raw_events"] == [("_raw_events", (), None)]
    erasures = ("store.erasure", "store.redaction")
    assert [r for r in reads if r[2] in erasures or any(erasures[0] in a for a in r[1])] == []
    # before: the check read the store's erasure and redaction events itself
    monkeypatch.setattr(
        made, "warn_erased_held", lambda model, store, events: warn_erased_held(model, store)
    )
    reads.clear()
    before, said_before = _report(pipe, store, monkeypatch, now)
    assert [r[2] for r in reads if r[0] == "events"].count("store.redaction") == 1
    assert before == text and said_before == said
