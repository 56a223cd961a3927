"""A report re-hashed to say its store's chain is signed, or signed further, than the
store's checkpoints sign is caught against the store."""

import copy
import json

import pytest

from sktraceprop import signing
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER


def _forged(data, **checkpoints):
    """The report with its checkpoints edited, its articles rebuilt and re-hashed, as
    someone who can run sktraceprop would forge it."""
    data = copy.deepcopy(data)
    data["record_keeping"]["store"]["checkpoints"].update(checkpoints)
    data["articles"] = articles(body_of(data))
    data["integrity"] = seal(body_of(data))
    assert verify(data) is True  # consistent on its own: only the store shows it
    return data


def _report(pipe, **kwargs):
    return compliance_report(pipe, **DEPLOYER, **kwargs).to_dict()


@pytest.mark.filterwarnings("ignore:only the report's own content:UserWarning")
def test_an_unsigned_chain_reported_as_signed_is_caught(fitted):
    pipe, store, _, _ = fitted
    data = _report(pipe)
    assert verify(data, store=store) is True
    head = data["record_keeping"]["store"]["chain_head"]["seq"]
    claim = {"signed": True, "signatures_checked": True, "signed_through": head}
    claim["key_fingerprint"] = "ab" * 32
    claim["note"] = (
        f"signatures checked with key {'ab' * 8}...: the chain is signed through event {head}"
    )
    with pytest.raises(ReportVerificationError, match="signed_through says"):
        verify(_forged(data, **claim), store=store)
    # an unchecked report may not say anything is signed either
    with pytest.raises(ReportVerificationError, match="signed_through says"):
        verify(_forged(data, signed_through=head), store=store)
    with pytest.raises(ReportVerificationError, match="note does not follow"):
        verify(_forged(data, note="the chain is signed"), store=store)


@pytest.mark.filterwarnings("ignore:only the report's own content:UserWarning")
def test_a_signed_chain_reported_signed_further_or_by_another_key_is_caught(fitted, tmp_path):
    pipe, store, X, _ = fitted
    key = signing.generate_key()
    made = store.checkpoint(key)
    pipe.predict(X.iloc[:2])  # one event after the checkpoint, not signed
    data = _report(pipe, checkpoint_key=key.public_key())
    checkpoints = data["record_keeping"]["store"]["checkpoints"]
    assert checkpoints["signed_through"] == made["event_seq"]
    assert verify(data, store=store) is True
    unchecked = _report(pipe)
    assert verify(unchecked, store=store) is True
    assert (
        "their signatures were not checked"
        in unchecked["record_keeping"]["store"]["checkpoints"]["note"]
    )

    head = data["record_keeping"]["store"]["chain_head"]["seq"]
    note = checkpoints["note"].replace(
        f"through event {made['event_seq']}; the 1 later event(s) are not signed yet",
        f"through event {head}",
    )
    further = _forged(data, signed_through=head, note=note)
    with pytest.raises(ReportVerificationError, match=f"it is {made['event_seq']}"):
        verify(further, store=store)
    other = signing.fingerprint(signing.generate_key().public_key())
    with pytest.raises(ReportVerificationError, match="signed by another key"):
        verify(_forged(data, key_fingerprint=other), store=store)
    # an unchecked report's checkpoints said to be signed
    with pytest.raises(ReportVerificationError, match="signed says True"):
        verify(_forged(unchecked, signed=True), store=store)
    # a later checkpoint, made after the report, is not the report's
    pipe.predict(X.iloc[:1])
    store.checkpoint(key)
    assert verify(data, store=store) is True
    assert verify(json.loads(json.dumps(unchecked)), store=store) is True
