"""What a store's check says about its schema upgrades: each one found in its
``schema_version`` table, and whether the hash chain records it.

The ``schema_version`` table (one row per version the store was created at or upgraded
to, with the time) is outside the chain. Since session 61 each upgrade also appends a
``store.upgrade`` event in its own transaction (:mod:`._upgrade_event`); a store upgraded
by an earlier sktraceprop has the table's row and no event, so when, from which version
and by which release it was upgraded is not under the chain. The check says so rather
than let a store whose chain verifies read as one whose upgrades are all recorded.

Where the events and the table disagree, the history is inconsistent: a row deleted, or
the version set back, outside sktraceprop (both are append-only, and every upgrade
writes its row and its event in one transaction). That is a problem of the check
(``verify()`` fails), not a note: an audit must not say "verified" of a history it
knows to be wrong.
"""

from ._sqlite_schema import SCHEMA_VERSION
from ._upgrade_event import UPGRADE_EVENT, not_upgraded, recorded_upgrade
from ._upgrade_repair import REPAIR_EVENT, repair_notes

__all__ = ["notes", "upgrade_history"]


def _recorded_upgrades(store):
    """``(seq, from_version, to_version)`` of each of the store's ``store.upgrade``
    events, oldest first."""
    found = (
        recorded_upgrade(seq, payload)
        for seq, *_, payload, _prev, _hash in store._raw_events_of_kinds((UPGRADE_EVENT,))
    )
    # (one that records no version: the chain check names the edited event)
    return [upgrade for upgrade in found if upgrade is not None]


def _inconsistent(versions, recorded):
    """A sentence for each way the ``store.upgrade`` events and the ``schema_version``
    rows (``versions``) disagree: two events upgrading to one version (a store upgraded
    again: its row of that version was deleted and its version set back), or an event
    whose versions have no row (a row deleted)."""
    out = []
    by_version = {}
    for seq, _, after in recorded:
        by_version.setdefault(after, []).append(seq)
    for after, seqs in sorted(by_version.items()):
        if len(seqs) > 1:
            out.append(
                f"the store's upgrade history is inconsistent: {len(seqs)} store.upgrade "
                f"events (seqs {', '.join(map(str, seqs))}) each record an upgrade to "
                f"schema version {after}; one upgrade writes one, so the store was upgraded "
                "to it again after its schema_version row or its version was altered "
                "outside sktraceprop"
            )
    for seq, before, after in recorded:
        missing = [v for v in (before, after) if v not in versions]
        if missing:
            out.append(
                f"the store's upgrade history is inconsistent: store.upgrade event {seq} "
                f"records an upgrade from schema version {before} to {after}, but the "
                f"schema_version table has no row of version {' or '.join(map(str, missing))} "
                "(the upgrade writes both in one transaction: a row was deleted outside "
                "sktraceprop)"
            )
    return out


def notes(store):
    """The report's ``notes`` on the store's schema: a store of version 3 or 4 (what it
    lacks until a writable handle's first write upgrades it), and a sentence for each
    ``store.repair`` event (see :meth:`repair_upgrade`)."""
    version = getattr(store, "schema_version", None)
    said = []
    if version in (3, 4):
        said.append(
            f"the store has schema version {version}, not {SCHEMA_VERSION}: "
            f"{not_upgraded(store)} A writable handle upgrades it at its first write "
            "(opening, reading and checking never alter it)."
        )
    return said + repair_notes(
        (seq, created_at, payload)
        for seq, _, created_at, _, payload, *_ in store._raw_events_of_kinds((REPAIR_EVENT,))
    )


def upgrade_history(store):
    """``(upgrades, not_shown, problems)`` of ``store``, read inside the audit's snapshot.

    ``upgrades``: one dict per row of the ``schema_version`` table after the first (the
    version the store was created at), oldest first: ``from_version``, ``to_version``,
    ``applied_at`` (the table's time, outside the chain) and ``event_seq`` (the first
    ``store.upgrade`` event recording it, or None where there is none). ``not_shown``:
    a sentence for each upgrade that no event records. ``problems``: a problem
    (``check`` ``"upgrades"``) for each way the events and the table disagree (the
    history is then said to be inconsistent, never recorded).
    """
    rows = sorted((int(v), str(t)) for v, t in store._raw_schema_versions())
    recorded = _recorded_upgrades(store) if rows else []
    first = {}
    for seq, _, after in recorded:
        first.setdefault(after, seq)
    upgrades, not_shown = [], []
    for (before, _), (after, applied_at) in zip(rows, rows[1:], strict=False):
        seq = first.get(after)
        upgrades.append(
            {
                "from_version": before,
                "to_version": after,
                "applied_at": applied_at,
                "event_seq": seq,
            }
        )
        if seq is None:
            not_shown.append(
                f"the upgrade from schema version {before} to {after} (applied at "
                f"{applied_at}, says the schema_version table, which is outside the hash "
                "chain) has no store.upgrade event: it was made by an sktraceprop that "
                "recorded none, so the store's upgrade history is not recorded under the "
                "chain (when, and by which release, it was upgraded is not shown)"
            )
    problems = [
        {"check": "upgrades", "message": message}
        for message in _inconsistent({v for v, _ in rows}, recorded)
    ]
    return upgrades, not_shown, problems
