"""A PostgresStore's writes commit durably (``synchronous_commit`` not ``off``) unless
opened with ``durability="fast"``, whatever the server, database or role sets: the
setting is read on the connection inside each write transaction, where the client's
session set it ``off`` (libpq's ``options``, as a role or database setting would)."""

import pickle
import uuid

import pytest

import sktraceprop as stp
from sktraceprop.stores import _postgres_writer


@pytest.fixture
def levels(monkeypatch):
    seen = []
    insert = _postgres_writer._Writer.insert_event

    def spy(writer, row):
        seen.append(writer.con.execute("SHOW synchronous_commit").fetchone()[0])
        return insert(writer, row)

    monkeypatch.setattr(_postgres_writer._Writer, "insert_event", spy)
    return seen


def _dsn(pg_dsn, level):
    return pg_dsn if level is None else f"{pg_dsn}?options=-csynchronous_commit%3D{level}"


@pytest.mark.parametrize("session", [None, "off", "local", "remote_apply"])
@pytest.mark.parametrize("durability", ["full", "fast"])
def test_writes_commit_durably_unless_fast(pg_dsn, levels, session, durability):
    schema = f"s_{uuid.uuid4().hex[:12]}"
    store = stp.stores.PostgresStore(_dsn(pg_dsn, session), schema=schema, durability=durability)
    store.append_event("review", {"i": 1})
    store.append_event("review", {"i": 2})
    if durability == "fast":
        expected = "off"
    else:  # a stronger level than 'on' is kept; only 'off' is raised
        expected = {None: "on", "off": "on"}.get(session, session)
    assert levels == [expected, expected]
    # the setting is the transaction's own: the session keeps what it had
    con = store._connection()
    assert con.execute("SHOW synchronous_commit").fetchone()[0] == (session or "on")
    events = stp.stores.PostgresStore(pg_dsn, schema=schema, mode="ro").events()
    assert [e["payload"]["i"] for e in events] == [1, 2]


def test_the_opt_out_is_visible_and_travels_with_the_handle(pg_dsn, levels):
    store = stp.stores.PostgresStore(pg_dsn, schema=f"s_{uuid.uuid4().hex[:12]}")
    assert store.durability == "full" and "durability" not in repr(store)
    fast = stp.stores.PostgresStore(pg_dsn, schema=store.schema, durability="fast")
    assert repr(fast).endswith("durability='fast')")
    copy = pickle.loads(pickle.dumps(fast))
    assert copy.durability == "fast" and repr(copy) == repr(fast)
    copy.append_event("review", {})
    assert levels == ["off"]


@pytest.mark.parametrize("durability", ["FULL", "off", None])
def test_an_unknown_durability_is_refused(durability):
    with pytest.raises(ValueError, match="durability must be 'full' or 'fast'"):
        stp.stores.PostgresStore("postgresql://nowhere", durability=durability)
