"""find_predictions and ``sktraceprop predictions`` name the steps of calls logged before
the steps that cannot be checked were told apart from the changed ones as "changed or
unchecked", never "changed", by the report's rule (format 18).

Such an event names in ``changed_since_fit`` the steps of a run of fingerprint scheme 1
(or none) that cannot be checked too (an unchanged tree): find_predictions gave them in
``changed_since_fit`` and the command printed "changed since the run's fit" for every
call, while the report counted the same calls apart. Now those steps are in
``changed_or_unchecked_since_fit``. The events are written as report63's test writes
them (tests/compliance/test_calls_logged_before_unchecked.py: the logging code as it
was, the payload checked against that shape); truth: which calls were logged so.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, find_predictions, hash_rows
from sktraceprop.exceptions import UnknownRunError
from tests.compliance.conftest import DEPLOYER
from tests.compliance.test_calls_logged_before_unchecked import KEYS, _logged

UNTOLD = "changed or unchecked (logged before these were told apart)"
CHANGED = "changed since the run's fit"


def _rows():
    """The rows ``_logged`` predicts (its frame's first three, made again)."""
    return stp.from_numpy(np.random.default_rng(1).normal(size=(40, 3)), source_id="again")[:3]


def _steps(found, key):
    """A column of ``found``, None where it holds none (pandas may hold NaN)."""
    return [value if isinstance(value, list) else None for value in found[key]]


def _command(store, capsys, *args):
    from sktraceprop.cli import main

    assert main(["predictions", str(store.path), *args]) == 0
    return capsys.readouterr().out


def test_an_unchanged_tree_logged_before_is_not_found_changed(tmp_path, monkeypatch, capsys):
    pipe, store, _, step = _logged(
        tmp_path, monkeypatch, DecisionTreeClassifier(max_depth=2), None, 3, 2
    )
    found = find_predictions(store, _rows())
    assert len(found) == 5
    # (was [step] in changed_since_fit for the first 3: the tree never changed)
    assert _steps(found, "changed_since_fit") == [None] * 5
    assert _steps(found, "unchecked_since_fit") == [None] * 3 + [[step]] * 2
    assert _steps(found, "changed_or_unchecked_since_fit") == [[step]] * 3 + [None] * 2
    # the one-row lookup (by the calls' row digests) says the same
    alone = find_predictions(store, _rows()[1:2])
    assert alone["matched_as"].str.startswith("row 0 of X at position(s) 1").all()
    assert _steps(alone, "changed_since_fit") == [None] * 5
    assert _steps(alone, "changed_or_unchecked_since_fit") == [[step]] * 3 + [None] * 2
    # as many as the report counts apart
    report = compliance_report(store=store, run_id=pipe.lineage_.run_id, **DEPLOYER)
    counts = [report.to_dict()["record_keeping"]["predictions"][key] for key in KEYS]
    assert counts == [0, 2, 3]
    digest = hash_rows(_rows())
    for args in ((), ("--sha256", digest), ("--run", pipe.lineage_.run_id)):
        out = _command(store, capsys, *args)
        assert out.count(f"{UNTOLD}: {step}") == 3
        assert CHANGED not in out
        assert out.count(f"cannot be checked against the run (fingerprint scheme 1): {step}") == 2


@pytest.mark.parametrize("scheme", [None, 1, 2, "now"])
def test_a_changed_step_logged_before(tmp_path, monkeypatch, capsys, scheme):
    """A linear model refitted is changed, then as now; logged before, a run of scheme 1
    or none cannot say whether it was a tree's kind of step; a later scheme's run can."""
    pipe, store, _, step = _logged(tmp_path, monkeypatch, LogisticRegression(), scheme, 2, 2)
    found = find_predictions(store, _rows())
    untold = scheme in (None, 1)
    old = [None, [step]] if untold else [[step], None]
    assert _steps(found, "changed_since_fit") == [old[0]] * 2 + [[step]] * 2
    assert _steps(found, "changed_or_unchecked_since_fit") == [old[1]] * 2 + [None] * 2
    out = _command(store, capsys)
    assert out.count(f"{UNTOLD}: {step}") == (2 if untold else 0)
    assert out.count(f"{CHANGED}: {step}") == (2 if untold else 4)


def test_a_run_the_store_cannot_load_is_not_told(tmp_path, monkeypatch):
    """An event of a run the store does not hold (its scheme unknown) that holds no
    ``unchecked_since_fit`` is not said changed either: the run may be of scheme 1.
    (A run of scheme 2 writes the key for no call: loaded, its calls are changed.)"""
    pipe, store, _, step = _logged(tmp_path, monkeypatch, LogisticRegression(), 2, 1, 1)
    assert _steps(find_predictions(store, _rows()), "changed_since_fit") == [[step]] * 2

    def unknown(run_id):
        raise UnknownRunError(f"no run {run_id!r}")

    # (the scheme is read alone, report64: both reads say so)
    monkeypatch.setattr(store, "load_run", unknown)
    monkeypatch.setattr(store, "_fingerprint_scheme", unknown)
    found = find_predictions(store, _rows())
    assert _steps(found, "changed_or_unchecked_since_fit") == [[step]] * 2
    assert _steps(found, "changed_since_fit") == [None] * 2
