"""The append-only guards of a PostgreSQL store, and what was done to them since.

Every table has two triggers calling one PL/pgSQL function that raises: one ``BEFORE
DELETE OR UPDATE`` per row, one ``BEFORE TRUNCATE`` per statement. Finding triggers by
name is not enough: an owner can redefine the function as a no-op (``CREATE OR REPLACE
FUNCTION``), recreate a trigger under its name on ``INSERT`` with another function that
rewrites rows, narrow it to one column (``UPDATE OF``) or to no row (``WHEN (false)``),
switch it to fire only for replication (``ENABLE REPLICA TRIGGER``), hide rows from
readers with row-level security, make a table UNLOGGED (emptied after a crash), or add
rows no trigger guards through a child table (``INHERITS``). :func:`guard_problems`
compares what the server holds, rendered by ``pg_get_triggerdef`` and
``pg_get_functiondef`` (whitespace folded, as SQLite's trigger SQL is), with what
:func:`guard_statements` installs, and names each of the others.
"""

GUARD = "stp_append_only"
#: Body of the guard function (whitespace is folded when it is compared).
GUARD_BODY = "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END"
#: ``(suffix, when)`` of the two triggers of each table.
_TRIGGERS = (
    ("append_only", "BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW"),
    ("no_truncate", "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT"),
)
#: ``(suffix, when)`` of the two triggers of a table whose rows are erased (deleted by
#: sktraceprop, see stores/_sealed.py), never updated.
_ERASABLE_TRIGGERS = (
    ("no_update", "BEFORE UPDATE ON {table} FOR EACH ROW"),
    ("no_truncate", "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT"),
)
#: ``pg_trigger.tgenabled`` of a trigger that fires in ordinary sessions.
_FIRING = ("O", "A")
#: Tables of the schema found by each condition on ``pg_class c`` (constant SQL).
_TABLE_CONDITIONS = {
    "secured": "c.relrowsecurity OR c.relforcerowsecurity "
    "OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)",
    "unlogged": "c.relkind IN ('r', 'p') AND c.relpersistence <> 'p'",
    "inherited": "EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)",
}


def _fold(text):
    return " ".join(str(text).split())


def guard_statements(tables, erasable=()):
    """``(function, triggers)``: the CREATE statements of the guard function and of each
    table's triggers, as ``str.format`` templates over ``{schema}`` (a quoted identifier).
    Tables in ``erasable`` refuse updates and truncation, not deletes."""
    function = (
        f"CREATE FUNCTION {{schema}}.{GUARD}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ {GUARD_BODY} $$"
    )
    triggers = {
        f"{table}_{suffix}": f"CREATE TRIGGER {table}_{suffix} "
        + when.format(table=f"{{schema}}.{table}")
        + f" EXECUTE FUNCTION {{schema}}.{GUARD}()"
        for table in tables
        for suffix, when in (_ERASABLE_TRIGGERS if table in erasable else _TRIGGERS)
    }
    return function, triggers


def expected_definitions(tables, schema, erasable=()):
    """``(function, triggers)`` as ``pg_get_functiondef`` and ``pg_get_triggerdef``
    render what :func:`guard_statements` installs in ``schema`` (a quoted identifier),
    whitespace folded."""
    _, triggers = guard_statements(tables, erasable)
    function = (
        f"CREATE OR REPLACE FUNCTION {schema}.{GUARD}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $function$ {GUARD_BODY} $function$"
    )
    return _fold(function), {name: _fold(t.format(schema=schema)) for name, t in triggers.items()}


def read_guards(con, schema):
    """What the server holds for ``schema``, as a dict: ``quoted`` (its quoted name),
    ``functions`` (the guard function's definitions), ``triggers`` (``{name:
    (definition, tgenabled)}``), and the names of its ``rules``, of the tables under
    row-level security (``secured``), ``unlogged``, or ``inherited`` from (a child table
    anywhere: what it holds is read as the parent's rows, under no trigger), and this
    session's ``replication_role`` (triggers fire only under ``"origin"``).

    Definitions are rendered with ``search_path`` set to ``pg_catalog`` alone, so every
    name in them is schema-qualified whatever the connection's search path.
    """
    with con.transaction():
        con.execute("SELECT set_config('search_path', 'pg_catalog', true)")
        quoted, role = con.execute(
            "SELECT quote_ident(%s), current_setting('session_replication_role')", (schema,)
        ).fetchone()
        functions = [
            r[0]
            for r in con.execute(
                "SELECT pg_get_functiondef(p.oid) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = %s AND p.proname = %s",
                (schema, GUARD),
            )
        ]
        triggers = {
            name: (definition, enabled)
            for name, definition, enabled in con.execute(
                "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND NOT t.tgisinternal",
                (schema,),
            )
        }
        rules = sorted(
            r[0]
            for r in con.execute("SELECT rulename FROM pg_rules WHERE schemaname = %s", (schema,))
        )
        tables = {
            condition: sorted(
                r[0]
                for r in con.execute(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    f"WHERE n.nspname = %s AND ({condition})",
                    (schema,),
                )
            )
            for condition in _TABLE_CONDITIONS.values()
        }
    return {
        "quoted": quoted,
        "replication_role": role,
        "functions": functions,
        "triggers": triggers,
        "rules": rules,
        **{key: tables[condition] for key, condition in _TABLE_CONDITIONS.items()},
    }


def guard_problems(con, schema, tables, erasable=()):
    """What was done to the store's append-only guards outside sktraceprop, one
    sentence per kind of change (an empty list when nothing was).

    Parameters
    ----------
    con : psycopg.Connection
        Autocommit connection; the catalog is read in one transaction of its own.
    schema : str
        The store's schema (unquoted).
    tables : sequence of str
        The store's tables, each guarded by ``<table>_append_only`` and
        ``<table>_no_truncate``.
    erasable : sequence of str
        Those of them guarded by ``<table>_no_update`` and ``<table>_no_truncate``.
    """
    held = read_guards(con, schema)
    quoted, functions, found = held["quoted"], held["functions"], held["triggers"]
    function, expected = expected_definitions(tables, quoted, erasable)
    # (EXECUTE PROCEDURE: the older spelling of EXECUTE FUNCTION, same meaning)
    definitions = {
        name: _fold(d.replace("EXECUTE PROCEDURE", "EXECUTE FUNCTION"))
        for name, (d, _) in found.items()
    }
    gone = sorted(set(expected) - set(found))
    off = sorted(n for n in set(expected) & set(found) if found[n][1] not in _FIRING)
    redefined = sorted(n for n in set(expected) & set(found) if definitions[n] != expected[n])
    added = sorted(set(found) - set(expected)) + held["rules"]
    problems = []
    if gone:
        problems.append(
            f"append-only trigger(s) {', '.join(gone)} were dropped outside sktraceprop"
        )
    if off:
        problems.append(
            f"append-only trigger(s) {', '.join(off)} were disabled outside sktraceprop (or "
            "set to fire only for replication: ordinary sessions can update and delete)"
        )
    if redefined:
        problems.append(
            f"append-only trigger(s) {', '.join(redefined)} were redefined outside sktraceprop "
            "(another event, table, condition or function than the store installed)"
        )
    if [_fold(f) for f in functions] != [function]:
        what = "dropped" if not functions else "redefined"
        problems.append(
            f"the append-only trigger function {quoted}.{GUARD}() was {what} outside "
            "sktraceprop (the triggers may no longer refuse updates and deletes)"
        )
    if added:
        problems.append(
            f"trigger(s) or rule(s) {', '.join(added)} were added outside sktraceprop (a "
            "trigger or rule can change or drop what is written)"
        )
    if held["secured"]:
        problems.append(
            f"row-level security was enabled on {', '.join(held['secured'])} outside "
            "sktraceprop (a policy can hide rows from some readers, or refuse what is written)"
        )
    if held["unlogged"]:
        problems.append(
            f"table(s) {', '.join(held['unlogged'])} were made UNLOGGED outside sktraceprop "
            "(PostgreSQL empties an unlogged table when it recovers from a crash)"
        )
    if held["replication_role"] != "origin":
        problems.append(
            f"sessions start with session_replication_role = {held['replication_role']}, set "
            "outside sktraceprop (for the database, the role or the connection): the "
            "append-only triggers do not fire in them"
        )
    if held["inherited"]:
        problems.append(
            f"a table inheriting from {', '.join(held['inherited'])} was created outside "
            "sktraceprop (its rows are read as the store's, and no trigger guards them)"
        )
    return problems
