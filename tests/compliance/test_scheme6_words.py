"""A report that describes fingerprint scheme 6 in its first words still verifies.

Scheme 6 first said that a module reached through ``getattr``, a closure cell or an
import inside a function, and a method replaced on one instance, were not seen; it now
follows them, and says so (``NOTES[6]``). A report written with the first words
(``EARLIER_NOTES[6]``) verifies against its store as written; any other words do not.
"""

import copy
import json
import warnings

import pytest

import sktraceprop as stp
from sktraceprop._lineage._fingerprint_schemes import EARLIER_NOTES, NOTES
from sktraceprop._lineage._fingerprint_scopes import SCOPE, SCOPE_6
from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.exceptions import ReportVerificationError

from .conftest import DEPLOYER, logged_pipeline, traced_frames


def _resealed(data, path):
    data["integrity"] = seal(body_of(data))
    path.write_text(json.dumps(data))
    return path


def test_scheme_6_words_of_then_still_verify(hospitals, tmp_path):
    _, _, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:3])
    path = tmp_path / "report.json"
    data = compliance_report(pipe, **DEPLOYER, output_path=path).to_dict()
    assert data["model"]["fingerprint_scheme"] == 6
    assert data["model"]["fingerprint_scheme_note"] == NOTES[6]
    assert stp.compliance.verify(path, store=store)
    # the words scheme 6 was first described in: the report as made then
    old = copy.deepcopy(data)
    old["model"]["fingerprint_scheme_note"] = EARLIER_NOTES[6][0]
    assert "getattr(mymod, name), a module in a local variable" in EARLIER_NOTES[6][0]
    assert stp.compliance.verify(_resealed(old, tmp_path / "old.json"), store=store)
    # and those of before it followed defaults and import_module (session 53)
    assert "Not seen: a module held in a default or reached through" in EARLIER_NOTES[6][1]
    assert EARLIER_NOTES[6][1] != NOTES[6]
    old["model"]["fingerprint_scheme_note"] = EARLIER_NOTES[6][1]
    assert stp.compliance.verify(_resealed(old, tmp_path / "old2.json"), store=store)
    # and those of before it followed modules bound by a partial or kw_args
    assert "a partial's arguments or a FunctionTransformer's kw_args" in EARLIER_NOTES[6][2]
    assert EARLIER_NOTES[6][2] != NOTES[6]
    old["model"]["fingerprint_scheme_note"] = EARLIER_NOTES[6][2]
    assert stp.compliance.verify(_resealed(old, tmp_path / "old3.json"), store=store)
    # words of no sktraceprop: found
    edited = copy.deepcopy(data)
    edited["model"]["fingerprint_scheme_note"] = NOTES[6].replace(SCOPE, SCOPE_6[:40])
    with pytest.raises(ReportVerificationError):
        stp.compliance.verify(_resealed(edited, tmp_path / "edited.json"), store=store)
