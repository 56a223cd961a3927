"""The schemes whose steps may be unchecked are one definition, written and read alike.

A call's event holds ``unchecked_since_fit`` where its run's fingerprint scheme may be
of the forms that did not see a tree (written by ``_prediction_log``, the steps chosen
by ``unchecked_steps``); the report, ``find_predictions`` and the CLI read an event
without the key by the same set of schemes (``_told_apart.may_be_unchecked``). Were the
two sets to differ, calls written as checked would be read as untold, or the reverse.
Truth: :data:`UNTOLD_SCHEMES` itself, and each side's answer for every scheme.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import sktraceprop as stp
from sktraceprop._lineage import _fingerprint_match
from sktraceprop._lineage._current import unchecked_steps
from sktraceprop._lineage._fingerprint import SCHEME
from sktraceprop._prediction_log import _says_unchecked
from sktraceprop.compliance._told_apart import _UNKNOWN, may_be_unchecked

SCHEMES = [None, *range(1, SCHEME + 3)]


@pytest.fixture(scope="module")
def tree_pipe():
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(30, 3)), source_id="untold_schemes")
    return stp.make_traced_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)).fit(
        X, np.arange(30) % 2
    )


def _sides(pipe, scheme):
    """What the writing side and the reading side say of a run of ``scheme`` whose
    tree step is named changed."""
    run = SimpleNamespace(fingerprint_scheme=scheme)
    step = pipe.lineage_.ops[-1].name
    return {
        "written_key": _says_unchecked([], [step], run),
        "written_unchecked": unchecked_steps(pipe, [step], run) == [step],
        "read": may_be_unchecked(scheme),
    }


@pytest.mark.parametrize("scheme", SCHEMES)
def test_writer_and_reader_agree(tree_pipe, scheme):
    expected = scheme in _fingerprint_match.UNTOLD_SCHEMES
    assert _sides(tree_pipe, scheme) == dict.fromkeys(
        ("written_key", "written_unchecked", "read"), expected
    )
    assert expected == (scheme in (None, 1))  # (the set as documented in UNCHECKED_NOTE)


def test_one_definition(tree_pipe, monkeypatch):
    # Every side follows the one set: a copy on either side would not.
    monkeypatch.setattr(_fingerprint_match, "UNTOLD_SCHEMES", frozenset({None, 1, 2}))
    assert _sides(tree_pipe, 2) == dict.fromkeys(
        ("written_key", "written_unchecked", "read"), True
    )
    monkeypatch.setattr(_fingerprint_match, "UNTOLD_SCHEMES", frozenset({None}))
    assert _sides(tree_pipe, 1) == dict.fromkeys(
        ("written_key", "written_unchecked", "read"), False
    )
    assert may_be_unchecked(_UNKNOWN)  # (a run the store does not hold, either way)
