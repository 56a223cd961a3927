"""SQLite's own check of a store file's pages, and which table or index a damaged page
belongs to.

The audit behind ``verify()`` reads every event, run and source through their tables,
never through an index: a zeroed or altered index page passes it, and a later read that
goes through the index (the events of one run) returns wrong rows. SQLite's
``integrity_check`` reads every page of every b-tree and matches each index to its
table, so ``verify()`` runs it too (see :func:`page_problems`).
"""

import re
import sqlite3

from ._sqlite_index_sums import index_problems

_PAGE = re.compile(r"\b[Pp]age (\d+)")


def _locked(exc):
    """Whether ``exc`` is another connection's lock, which says nothing of the pages."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc).lower()


def _run(con, pragma):
    """The pragma's messages (``["ok"]`` when it found nothing), and whether it stopped
    on the damage (SQLite raised rather than list it). A lock that kept it from reading
    is raised as it came: listed, it would call a sound file damaged."""
    try:
        return [r[0] for r in con.execute(f"PRAGMA {pragma}")], False
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        if _locked(exc):
            raise
        return [str(exc)], True


def _trees(con):
    """Each b-tree's name, as ``"index events_run_id"`` or ``"table events"``."""
    return {
        name: f"{kind} {name}"
        for name, kind in con.execute(
            "SELECT name, type FROM sqlite_master WHERE rootpage > 0 "
            "UNION ALL SELECT 'sqlite_schema', 'table'"
        )
    }


def _damaged_trees(con, messages):
    """The tables and indexes that hold a page the messages name, or that SQLite's
    ``dbstat`` finds unreadable; ``[]`` where the schema or ``dbstat`` (a compile-time
    option of SQLite) cannot be read, as the messages then say all that is known."""
    pages = {int(n) for message in messages for n in _PAGE.findall(message)}
    try:
        trees = _trees(con)
        rows = con.execute("SELECT name, pageno, pagetype FROM dbstat").fetchall()
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        return []
    found = {n for n, page, kind in rows if page in pages or kind == "corrupted"}
    return sorted(trees.get(n, n) for n in found)


def page_problems(con, full=True):
    """What SQLite's ``integrity_check`` (``full``) or ``quick_check`` finds in the file
    ``con`` reads, as problems (``[]`` when nothing): each with ``check`` (the pragma)
    and ``message``; the first also names the ``damaged`` tables and indexes where
    they can be told (in its message too).

    ``integrity_check`` raises, rather than lists, on some damage (an index page zeroed
    under a table it matches): ``quick_check`` then lists the pages. ``quick_check``,
    which matches no index to its table, is followed (where it finds nothing) by a
    cheaper match of each index's entries to its table (:mod:`._sqlite_index_sums`).
    """
    pragma = "integrity_check" if full else "quick_check"
    messages, stopped = _run(con, pragma)
    if messages == ["ok"]:
        return [] if full else index_problems(con, _locked)
    if stopped and full:
        more, _ = _run(con, "quick_check")
        messages += [m for m in more if m != "ok"]
    problems = [{"check": pragma, "message": m} for m in messages]
    damaged = _damaged_trees(con, messages)
    if damaged:
        problems[0]["damaged"] = damaged
        problems[0]["message"] += f" (damaged: {', '.join(damaged)})"
    return problems
