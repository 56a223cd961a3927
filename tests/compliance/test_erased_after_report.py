"""A report made before an erasure request is not said to be altered.

``store.erase_rows`` erases a run's per-source statistics after a report quoted them:
the report, untouched, then "failed verification" with a list of fields that "differ
from the store's run record", which reads as tampering. It still cannot be vouched for
(the store no longer holds those figures), but verify() now says why, naming the
erasure.
"""

import pytest

from sktraceprop.compliance import compliance_report, verify
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER


def test_a_report_older_than_an_erasure_names_it(fitted, tmp_path):
    pipe, store, X, _ = fitted
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    assert verify(path, store=store) is True
    with pytest.warns(UserWarning):
        store.erase_rows(sample_id=X.index.to_numpy()[:2], reason="art. 17 request 9")
    with pytest.raises(ReportVerificationError) as info:
        verify(path, store=store)
    first = info.value.problems[0]
    assert "erased from the store after this report was made" in first
    assert "art. 17 request 9" in first
    # the fields it explains are still listed
    assert any("/sources/" in p for p in info.value.problems[1:])


def test_a_report_made_after_the_erasure_verifies(fitted, tmp_path):
    pipe, store, X, _ = fitted
    with pytest.warns(UserWarning):
        store.erase_rows(sample_id=X.index.to_numpy()[:2], reason="art. 17 request 9")
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    assert verify(path, store=store) is True
