"""A store whose two records of its schema version (``stp_meta`` and the
``schema_version`` table) disagree, or name a newer format, is refused untouched."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import CorruptStoreError, StoreError
from sktraceprop.stores._sqlite_schema import SCHEMA_VERSION as V
from tests.stores._store_helpers import Backend

KINDS = ["sqlite", "postgres"]


def _state(backend):
    """What the store holds, read past sktraceprop (to see that nothing was written)."""
    tables = ("stp_meta", "schema_version", "events", "runs")
    if backend.kind == "sqlite":
        return backend.path.read_bytes()  # (the -wal file holds nothing after a close)
    return [backend.sql(f"SELECT * FROM {t} ORDER BY 1", fetch=True) for t in tables]


def _made(backend):
    store = backend.make()
    store.append_event("review", {"i": 1})
    store.close()
    return _state(backend)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_a_newer_version_in_the_schema_version_table_is_refused(kind, mode, tmp_path, request):
    # the audit trial's case: a schema_version row 99 while stp_meta says 4 (now 5) opened (and
    # then, until session 58, was refused as a store of a newer release, not a corrupt one)
    backend = Backend(kind, tmp_path, request)
    _made(backend)
    backend.sql("INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00+00:00')")
    before = _state(backend)
    # a corrupt store (exit code 1 of `sktraceprop check`): every release writes both
    # records in one transaction, so a newer release cannot have left them disagreeing
    with pytest.raises(
        CorruptStoreError,
        match=rf"schema version 99 .*stp_meta table says {V}.*up to {V}.*altered",
    ) as info:
        backend.make(mode=mode)
    assert info.value.problems[0]["check"] == "schema"
    assert _state(backend) == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kept", [[3], [], [2, 3]])
def test_a_schema_version_table_that_disagrees_with_stp_meta_is_refused(
    kind, kept, tmp_path, request
):
    backend = Backend(kind, tmp_path, request)
    _made(backend)
    backend.sql("DELETE FROM schema_version")
    for version in kept:
        backend.sql(
            "INSERT INTO schema_version VALUES (?, '2025-01-01T00:00:00+00:00')", (version,)
        )
    before = _state(backend)
    latest = str(max(kept)) if kept else "no version"
    with pytest.raises(
        CorruptStoreError, match=rf"has {latest} as the latest row .* says schema version {V}"
    ) as info:
        backend.make()
    assert info.value.problems[0]["check"] == "schema"
    assert _state(backend) == before
    backend.sql("INSERT INTO schema_version VALUES (?, '2025-01-02T00:00:00+00:00')", (V,))
    assert [e["payload"] for e in backend.make().events(kind="review")] == [{"i": 1}]


def test_a_store_upgraded_from_version_3_keeps_both_rows_and_opens(tmp_path, request):
    # an upgrade adds a row: [3, 4, 5] with stp_meta 5 is what a real upgrade leaves
    backend = Backend("sqlite", tmp_path, request)
    _made(backend)
    for version in (3, 4):
        backend.sql(
            "INSERT INTO schema_version VALUES (?, '2024-01-01T00:00:00+00:00')", (version,)
        )
    assert backend.make().schema_version == V


@settings(deadline=None, max_examples=25)
@given(st.sets(st.integers(1, 120), max_size=4))
@example({V, 99})
@example({V})
def test_a_store_opens_exactly_when_its_latest_recorded_version_is_stp_metas(
    tmp_path_factory, versions
):
    tmp_path = tmp_path_factory.mktemp("v")
    backend = Backend("sqlite", tmp_path, None)
    _made(backend)
    backend.sql("DELETE FROM schema_version")
    for version in versions:
        backend.sql("INSERT INTO schema_version VALUES (?, 'x')", (version,))
    before = _state(backend)
    if versions and max(versions) == V:
        assert backend.make().schema_version == V
        return
    with pytest.raises(StoreError) as info:
        stp.stores.SQLiteStore(backend.path)
    said = str(max(versions)) if versions else "no version"
    assert re.search(rf"\b{said}\b.*\b{V}\b", str(info.value))
    assert isinstance(info.value, CorruptStoreError)
    assert _state(backend) == before
