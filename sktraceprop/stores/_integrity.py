"""What an integrity check reports: every problem found, in one :class:`CorruptStoreError`.

:func:`check_integrity` runs the whole-store audit (:mod:`._audit`) behind ``verify()``
and ``check()``; :func:`check_with` adds what a store's own checks found (SQLite's
pages, PostgreSQL's guards). Damage found makes the handle refuse writes; a checkpoint
not signed by a given key does not (it may be the wrong key, or work not signed yet).
"""

from ..exceptions import CorruptStoreError

_MAX_LISTED = 20  # problems named in a CorruptStoreError message (all are in .problems)


def describe(problem):
    """One line naming a problem (a dict with ``check`` and ``message``) and where it is."""
    where = ""
    if problem.get("seq") is not None:
        where = f" audit event {problem['seq']}"
    elif problem.get("run_id") is not None:
        where = f" run {problem['run_id']}"
    elif problem.get("source_id") is not None:
        where = f" source {problem['source_id']!r}"
    elif problem.get("checkpoint") is not None:
        where = f" checkpoint {problem['checkpoint']}"
    return f"{problem['check']}:{where} {problem['message']}"


def raise_problems(where, problems):
    """Raise a :class:`CorruptStoreError` listing ``problems`` (all in its ``problems``)."""
    lines = [describe(p) for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"... and {len(problems) - _MAX_LISTED} more")
    if all(p.get("signature") for p in problems):
        # the chain, runs and sources passed: only what the key signs is in question
        head = (
            f"{where}: the given key's signatures do not cover all of it "
            f"({len(problems)} problem(s)); its hash chain, runs and sources check out, "
            "and it was not modified"
        )
    else:
        head = (
            f"{where} failed its integrity check ({len(problems)} problem(s)); it was not modified"
        )
    error = CorruptStoreError(head + ":\n  - " + "\n  - ".join(lines))
    error.problems = problems
    raise error


def schema_error(message, problem):
    """A :class:`CorruptStoreError` for a store whose layout was altered, with the
    ``problems`` entry ``check`` would list (``problem``: what is wrong, briefly)."""
    error = CorruptStoreError(message)
    error.problems = [{"check": "schema", "message": problem}]
    return error


def _refuse_on_damage(store, problems):
    damage = [p for p in problems if not p.get("signature")]
    if damage:
        store._refuse_writes(describe(damage[0]))


def check_integrity(store, public_key=None, *, checkpoint=None, allow_unsigned_tail=False):
    """See :meth:`BaseStore.check_integrity`."""
    from ._audit import audit

    report, problems = audit(store, public_key, checkpoint, allow_unsigned_tail)
    if problems:
        _refuse_on_damage(store, problems)
        raise_problems(repr(store), problems)
    return report


def check_with(store, problems, where, public_key, checkpoint, allow_unsigned_tail, notes=()):
    """:meth:`BaseStore.check_integrity`'s report, after a store's own checks found
    ``problems``: raise them all together with what it finds (refusing writes on damage,
    not on signatures alone), or return the report with ``notes`` (what those checks
    found that is no damage, in words) added to its ``notes``."""
    try:
        report = store.check_integrity(
            public_key, checkpoint=checkpoint, allow_unsigned_tail=allow_unsigned_tail
        )
    except CorruptStoreError as exc:
        problems = problems + getattr(exc, "problems", [{"check": "read", "message": str(exc)}])
        report = None
    if problems:
        _refuse_on_damage(store, problems)
        raise_problems(where, problems)
    report["notes"] = [*notes, *report["notes"]]
    return report
