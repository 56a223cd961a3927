"""The indexes a store's schema holds, checked against those of its version (SQLite
and PostgreSQL), for :meth:`check`.

An index changes no row. One that sktraceprop made and that was dropped or redefined
outside it is a change of the store's layout, as a dropped trigger is: a dropped
``events_kind`` makes every traced fit scan the whole log, and a redefined one (other
columns, UNIQUE dropped or added) is not the store sktraceprop made; those are
problems, and the handle refuses writes. An index a DBA *added* (``CREATE INDEX`` on
``events (created_at)`` to speed their own queries) changes neither a stored record
nor what sktraceprop reads (a damaged one is found by the page check, as any index
is), so it is a note that names it, never a refusal: refusing it would only make
operators drop their indexes. A unique one can refuse a later write, with the
database's error naming it, never silently. The indexes a primary key makes are
checked too on PostgreSQL (they are named there); SQLite's (``sqlite_autoindex_*``,
without SQL) cannot be dropped alone.
"""

import re

from ._sqlite_schema import SCHEMA


#: SQLite: the named indexes of each schema version, as their CREATE statements.
def _sqlite_form(sql):
    """``sql`` (a CREATE INDEX) in one form: SQLite keeps the text as it was typed, and
    keywords and names are case-insensitive, so ``create index events_kind on
    events(kind)`` is the index sktraceprop made, not one redefined."""
    return re.sub(r"\s*([(),])\s*", r"\1", " ".join(str(sql).lower().split()))


_SQLITE_4 = {
    s.split()[2]: " ".join(s.split())
    for s in SCHEMA
    if s.startswith("CREATE INDEX") and "events_kind" not in s
}
_SQLITE = {
    **_SQLITE_4,
    "events_kind": " ".join(next(s for s in SCHEMA if "events_kind" in s).split()),
}

#: PostgreSQL: the columns of each table's primary key, and the two indexes on events.
_PRIMARY_KEYS = {
    "stp_meta": "key",
    "schema_version": "version",
    "sources": "source_id, sha256",
    "runs": "run_id",
    "events": "seq",
    "checkpoints": "seq",
    "run_leaves": "run_id, leaf",
    "prediction_salts": "seq",
}
_POSTGRES_EVENTS = {"events_run_id_idx": "run_id", "events_kind": "kind, seq"}

_INDEXES = """SELECT c.relname, pg_get_indexdef(i.indexrelid), quote_ident(n.nspname)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s"""


def sqlite_index_problems(found, version):
    """``(problems, notes)``: what was done to a SQLite store's indexes outside
    sktraceprop, one sentence per kind of change (dropped or redefined: problems;
    added: a note). ``found`` maps each index's name to its CREATE statement (None for
    SQLite's own); ``version`` is the store's schema version (2 to 5)."""
    expected = _SQLITE if version >= 5 else _SQLITE_4
    found = {n: " ".join(str(sql).split()) for n, sql in found.items() if sql is not None}
    return _problems(expected, found, _sqlite_form)


def postgres_index_problems(con, schema, tables, version):
    """``(problems, notes)``: what was done to a PostgreSQL store's indexes outside
    sktraceprop (see :func:`sqlite_index_problems`); ``con`` reads the catalog, ``schema`` is the
    store's (unquoted), ``tables`` those of its ``version``."""
    rows = con.execute(_INDEXES, (schema,)).fetchall()
    found = {name: definition for name, definition, _ in rows}
    quoted = rows[0][2] if rows else schema
    expected = {
        f"{t}_pkey": f"CREATE UNIQUE INDEX {t}_pkey ON {quoted}.{t} USING btree ({c})"
        for t, c in _PRIMARY_KEYS.items()
        if t in tables
    }
    events = dict(_POSTGRES_EVENTS) if version >= 5 else {"events_run_id_idx": "run_id"}
    expected.update(
        (n, f"CREATE INDEX {n} ON {quoted}.events USING btree ({c})") for n, c in events.items()
    )
    return _problems(expected, found)


def _problems(expected, found, form=str):
    """``(problems, notes)``; definitions are compared in ``form`` and named as found."""
    gone = sorted(set(expected) - set(found))
    added = sorted(set(found) - set(expected))
    redefined = sorted(
        n for n in set(found) & set(expected) if form(found[n]) != form(expected[n])
    )
    problems, notes = [], []
    if gone:
        problems.append(
            f"index(es) {', '.join(gone)} were dropped outside sktraceprop (what they find "
            "is then found by reading whole tables: slower, never different)"
        )
    if redefined:
        problems.append(
            f"index(es) {', '.join(redefined)} were redefined outside sktraceprop "
            "(not the definition its schema version has: "
            + "; ".join(f"{n}: {found[n]!r}, expected {expected[n]!r}" for n in redefined)
            + ")"
        )
    if added:
        notes.append(
            f"index(es) {', '.join(added)} were added outside sktraceprop: they change no "
            "stored record and are not refused (a unique one can refuse a later write, "
            "with the database's error naming it): " + "; ".join(repr(found[n]) for n in added)
        )
    return problems, notes
