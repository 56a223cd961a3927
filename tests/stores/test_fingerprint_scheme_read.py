"""A run's fingerprint scheme read alone (``store._fingerprint_scheme``), for the rule
that tells old "changed" calls apart (``_told_apart.run_schemes``): the same answer as
the whole run's read, checked as it is checked, without building the run.

Truth: ``load_run(run_id).fingerprint_scheme`` and the scheme each run was saved with.
"""

import copy
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sktraceprop._lineage._fingerprint import SCHEME
from sktraceprop.compliance._told_apart import _UNKNOWN, run_schemes
from sktraceprop.exceptions import CorruptStoreError, UnknownRunError
from tests.stores._store_helpers import fit_run

_SCHEMES = st.sampled_from([None, *range(1, SCHEME + 3)])


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(_SCHEMES, st.booleans()), min_size=1, max_size=4))
def test_equals_the_whole_runs_read(store, runs):
    bases = getattr(store, "_scheme_test_bases", None)
    if bases is None:  # (fitted once per store: each example stores new runs of them)
        bases = store._scheme_test_bases = (fit_run(None, n=20), fit_run(None, n=300, seed=1))
    saved = {}
    for scheme, large in runs:
        run = copy.copy(bases[large])
        run.run_id, run.fingerprint_scheme = uuid.uuid4().hex, scheme
        store.save_run(run)
        saved[run.run_id] = scheme
    for run_id, scheme in saved.items():
        assert store._fingerprint_scheme(run_id) == scheme
        assert store.load_run(run_id).fingerprint_scheme == scheme


def test_run_schemes_reads_no_whole_run(store, monkeypatch):
    run = fit_run(store)
    old = {"run_id": run.run_id, "payload": {"changed_since_fit": ["model"]}}
    missing = {"run_id": "no-such-run", "payload": {"changed_since_fit": ["model"]}}

    def whole_run(run_id):
        raise AssertionError(f"run {run_id} was loaded whole")

    monkeypatch.setattr(store, "load_run", whole_run)
    assert run_schemes(store, [old, missing]) == {
        run.run_id: run.fingerprint_scheme,
        "no-such-run": _UNKNOWN,
    }


def test_a_scheme_altered_in_the_store_is_refused(backend):
    store = backend.make()
    run = fit_run(store)

    def edit(text):
        record = json.loads(text)
        record["fingerprint_scheme"] = 1  # (its old calls' steps would read as untold)
        return json.dumps(record)

    backend.edit_run_record(store, run.run_id, edit)
    with pytest.raises(CorruptStoreError, match="was altered"):
        backend.make()._fingerprint_scheme(run.run_id)
    with pytest.raises(CorruptStoreError, match="was altered"):
        backend.make().load_run(run.run_id)


def test_unknown_run(store):
    for run_id in ("no-such-run", None, 3):
        with pytest.raises(UnknownRunError):
            store._fingerprint_scheme(run_id)
