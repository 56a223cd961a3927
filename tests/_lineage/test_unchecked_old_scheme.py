"""A run that records no fingerprint scheme (stored before 4 December 2026), or scheme 1
(sktraceprop 0.1 stores), may hold
fingerprints of scheme 1 as it was before 1 December (c4997b1), which did not see what a
tree, a KNN model or a histogram boosting model learnt: no scheme of now reproduces such
a record, changed or not. Checked, the step 'cannot be checked'; before, it was said to
have been 'refitted, replaced, given other parameters or modified in place' (an
unchanged tree of the de48847 fixture too). Steps such a form saw, and runs that record
their scheme, are still said to have changed."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import sktraceprop as stp
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ComplianceError, LineageError, LineageWarning
from sktraceprop.stores import MemoryStore
from tests._earlier_pickles import NEEDS_NUMPY_2
from tests.compliance.conftest import DEPLOYER

HERE = Path(__file__).parent / "data" / "scheme1_forms"
#: A fingerprint no model of these tests has (a record of another scheme, or another model).
OTHER = "ab" * 32


def _old_record(final, scheme=None):
    """A pipeline fitted now, its final step's op given a fingerprint of another scheme
    (``OTHER``) and its run ``scheme`` (None: not recorded, as before 4 December)."""
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(40, 3)), source_id=f"unchecked_{type(final).__name__}")
    pipe = stp.make_traced_pipeline(StandardScaler(), final).fit(X, np.arange(40) % 2)
    run = pipe.lineage_
    run.ops[-1].fingerprint = OTHER
    run.fingerprint_scheme = scheme
    return pipe, run.ops[-1].name


@pytest.mark.parametrize(
    "final, scheme",
    [
        (DecisionTreeClassifier(max_depth=2, random_state=0), None),
        (KNeighborsClassifier(n_neighbors=3), None),
        (HistGradientBoostingClassifier(max_iter=3), None),
        (DecisionTreeClassifier(max_depth=2, random_state=0), 1),  # (sktraceprop 0.1 stores)
    ],
)
def test_a_model_the_early_forms_did_not_see_cannot_be_checked(final, scheme):
    pipe, name = _old_record(final, scheme)
    with pytest.raises(LineageError) as raised:
        pipe.trace([0])
    said = str(raised.value)
    assert said.startswith(
        f"the fitted TracedPipeline cannot be checked against its run {pipe.lineage_.run_id}: "
        f"step(s) {name}: the run records no fingerprint scheme (stored before runs "
        "recorded it) or scheme 1"
    )
    assert "whether the step changed since cannot be told" in said
    assert "changed since its run" not in said and "refitted, replaced" not in said


@pytest.mark.parametrize(
    "final, scheme",
    [
        (LogisticRegression(), None),
        (LogisticRegression(), 1),
        (DecisionTreeClassifier(max_depth=2), 2),
        (DecisionTreeClassifier(max_depth=2), 6),
    ],
)
def test_a_step_that_can_be_checked_is_still_changed(final, scheme):
    pipe, name = _old_record(final, scheme)
    with pytest.raises(LineageError, match=f"changed since its run .*: step\\(s\\) {name} were"):
        pipe.trace([0])
    with pytest.raises(LineageError) as raised:
        pipe.trace([0])
    assert "cannot be checked" not in str(raised.value)


def test_the_report_says_cannot_be_checked():
    pipe, name = _old_record(DecisionTreeClassifier(max_depth=2, random_state=0))
    store = MemoryStore()
    store.save_run(pipe.lineage_)
    with pytest.raises(ComplianceError) as raised:
        compliance_report(pipe, store=store, **DEPLOYER)
    said = str(raised.value)
    assert f"cannot be checked against its recorded run {pipe.lineage_.run_id}" in said
    assert f"step(s) {name}:" in said and "differs from its recorded run" not in said


@NEEDS_NUMPY_2
def test_the_unchanged_tree_of_de48847_cannot_be_checked():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open(HERE / "tree_de48847.pkl", "rb") as f:
            pipe = pickle.load(f)
    assert pipe.lineage_.fingerprint_scheme is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        with pytest.raises(LineageError, match="cannot be checked against its run") as raised:
            pipe.trace([0])
    assert "decisiontreeclassifier" in str(raised.value)
    assert "refitted, replaced" not in str(raised.value)
