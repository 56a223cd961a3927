"""Checking a SQLite store's file: SQLite's own check of its pages (see
:mod:`._sqlite_pages`), then the audit of what it holds (:mod:`._integrity`), on a
read-only connection of their own, so the file is never modified whatever they find."""

import sqlite3

from ..exceptions import CorruptStoreError, StoreError
from ._integrity import check_with, raise_problems
from ._schema_indexes import sqlite_index_problems
from ._sqlite_errors import SQLITE_ERRORS
from ._sqlite_files import file_id
from ._sqlite_pages import page_problems
from ._sqlite_schema import trigger_problem


def check_file(store, full, *, triggers, audit_here, where, public_key, checkpoint, tail):
    """The report of ``store``'s :meth:`check_integrity`, after SQLite's check of the
    file's pages (``full``: ``integrity_check``, else ``quick_check``) and, with
    ``triggers``, of its append-only triggers; all problems found raised together.

    ``audit_here``: the audit reads through the same read-only connection as the page
    check (``check()``), rather than the handle's own (``verify()``).
    """
    opened = getattr(store._local, "file", None)
    if file_id(store.path) is None or (opened is not None and file_id(store.path) != opened):
        raise store._not_the_file_opened()
    con = store._open_readonly()
    try:
        # the file at the path must hold this handle's store: another one's checks
        # would be reported under this handle's name (and its store_id)
        changed = store._schema_changed(con)
        if changed is not None:
            raise changed
        try:
            problems = page_problems(con, full)
        except SQLITE_ERRORS as exc:  # (a lock: not damage)
            raise store._translate(exc) from None
        notes = []
        if triggers:
            found, notes = _schema_problems(store, con)
            problems += found
        con.isolation_level = None
        store._local.pages_checked = True
        if audit_here:
            store._local.override = con
        try:
            report = check_with(store, problems, where, public_key, checkpoint, tail, notes)
        except StoreError as exc:
            # a schema-1 store's audit raises StoreError even when it finds nothing, and
            # a lock can stop it: the damage the pages showed must still be reported
            if not problems or isinstance(exc, CorruptStoreError):
                raise
            store._refuse_writes(problems[0]["message"])
            raise_problems(where, problems)
        finally:
            store._local.override = None
            store._local.pages_checked = False
        store._check_read(con)
    finally:
        con.close()
    return report


def _schema_problems(store, con):
    """``(problems, notes)`` of the store's triggers and indexes (an index added outside
    sktraceprop is a note, see :mod:`._schema_indexes`)."""
    try:
        names = store._schema_names(con)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return [{"check": "schema", "message": f"unreadable: {exc}"}], []
    if store._legacy or not names:
        return [], []
    wrong = trigger_problem(
        {n: sql for n, kind, sql in names if kind == "trigger"}, store.schema_version
    )
    wrong = [wrong] if wrong else []
    indexes, notes = sqlite_index_problems(
        {n: sql for n, kind, sql in names if kind == "index"}, store.schema_version
    )
    return [{"check": "schema", "message": m} for m in wrong + indexes], notes
