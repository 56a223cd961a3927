"""verify()'s warnings point at the user's call (this file), not into sktraceprop."""

import inspect

import pytest

from sktraceprop.compliance import compliance_report, verify

from .conftest import DEPLOYER


def test_content_only_warning_points_at_the_verify_call(fitted, tmp_path):
    pipe, _, _, _ = fitted
    path = tmp_path / "unsigned.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    with pytest.warns(UserWarning, match="only the report's own content") as record:
        line = inspect.currentframe().f_lineno + 1
        verify(path)
    assert [(w.filename, w.lineno) for w in record] == [(__file__, line)]
