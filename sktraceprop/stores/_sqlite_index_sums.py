"""A cheap match of each index of a SQLite store to its table, for ``check(full=False)``.

``PRAGMA quick_check`` reads every page but matches no index to its table, so an index
entry that points at another row (one rowid changed in an index page, every page still
well formed) passes it, while a read through that index (the events of one run, a run
by its id) returns the wrong row. ``integrity_check`` finds it by looking every entry up;
here each index is read once in full and its table once, and the count and the sum of
the rowids they hold are compared: an entry moved to another row changes the sum. Two
entries swapped (a change made on purpose, not damage) keep both, so ``full=True``
(``integrity_check``) stays the thorough check.
"""

import sqlite3


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


def _indexes(con):
    """(index, table) for every index of a table with rowids, in name order; not a
    partial index (one added outside sktraceprop), which holds only some rows."""
    rows = con.execute(
        "SELECT i.name, t.name FROM sqlite_master AS t, pragma_index_list(t.name) AS i "
        "WHERE t.type = 'table' AND t.sql NOT LIKE '%WITHOUT ROWID%' AND i.partial = 0 "
        "ORDER BY i.name"
    )
    return rows.fetchall()


def index_problems(con, locked):
    """Problems (``check``: ``"index_sums"``) for each index whose entries' count or
    rowid sum differs from its table's; ``[]`` when all match. An error reading one
    (damage a page check missed) is its problem; ``locked(exc)``: a lock, raised."""
    problems, tables = [], {}
    for index, table in _indexes(con):
        if table not in tables:
            tables[table] = _sums(con, f"{_quoted(table)} NOT INDEXED", locked)
        via = _sums(con, f"{_quoted(table)} INDEXED BY {_quoted(index)}", locked)
        if via != tables[table]:
            readable = isinstance(via, tuple) and isinstance(tables[table], tuple)
            problems.append(
                {
                    "check": "index_sums",
                    "message": f"index {index} does not match table {table}: "
                    f"{_counted(via)} through the index, {_counted(tables[table])} in "
                    "the table"
                    + (
                        " (an index entry points at another row, or is missing)"
                        if readable
                        else ""
                    ),
                    "damaged": [f"index {index}"]
                    + ([] if isinstance(tables[table], tuple) else [f"table {table}"]),
                }
            )
    return problems


def _sums(con, rows, locked):
    """``(count, rowid sum)`` of ``SELECT ... FROM rows``, or the error that reading it
    raised (damage a page check missed); a lock is raised."""
    try:
        return con.execute(f"SELECT count(*), sum(rowid) FROM {rows}").fetchone()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        if locked(exc):
            raise
        return str(exc)


def _counted(found):
    if not isinstance(found, tuple):
        return f"unreadable ({found})"
    return f"{found[0]} rows with rowid sum {found[1]}"
