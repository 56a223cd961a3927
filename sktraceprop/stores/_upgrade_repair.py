"""The one way out of a refused upgrade: :meth:`repair_upgrade`, for a store whose
version was set back (or whose ``schema_version`` row was deleted) outside sktraceprop
after its hash chain recorded the upgrade.

Such a store fails ``verify()`` and refuses to be upgraded again (a second
``store.upgrade`` event would say it was upgraded twice, see :mod:`._upgrade_event`),
so it stays at its older version, refusing writes. Its records are all there: only
the layout and the ``schema_version`` rows (outside the chain) disagree with the chain.
The repair brings them back to what the chain records: the version's additions made
again where they are missing, the version in ``stp_meta``, and each deleted
``schema_version`` row written again with the time of the ``store.upgrade`` event that
recorded it (the upgrade wrote both in one transaction: the row's own time, deleted,
was microseconds from it). It deletes and rewrites nothing, and appends a
``store.repair`` event, under the chain, naming what it did and why; ``check()``
lists it in ``notes``.

What cannot be repaired by appending is refused with the reason: two events upgrading
to one version (the history already says the store was upgraded twice), a row whose
time no event records, damage of any other kind (the repair reads ``verify()``'s
problems first and mends only the upgrade history).
"""

import json

from .._version import __version__
from ..exceptions import CorruptStoreError, StoreError
from ._append import _Chain
from ._integrity import describe
from ._upgrade_event import recorded_upgrade

__all__ = ["REPAIR_EVENT", "UpgradeRepairMixin", "plan_repair", "repair_notes"]

REPAIR_EVENT = "store.repair"


class UpgradeRepairMixin:
    """:meth:`repair_upgrade` of a SQLite or PostgreSQL store (see the module notes)."""

    def repair_upgrade(self):
        """Bring a store whose upgrade was refused back to the version its hash chain
        records, losing nothing, and record the repair under the chain.

        A store upgraded by sktraceprop records each upgrade twice: a
        ``store.upgrade`` event in its hash chain and a row of its ``schema_version``
        table, in one transaction. Where the version was later set back, or the row
        deleted, outside sktraceprop (a partial restore, a hand edit), ``verify()``
        fails (``check`` ``"upgrades"``) and a writable handle refuses its first write
        rather than upgrade it a second time. This repair, in one transaction: makes
        again what the recorded versions add (the ``prediction_salts`` table, the
        ``events_kind`` index) where it is missing, sets the version in ``stp_meta``
        to the one recorded, writes each missing ``schema_version`` row with the time
        of the ``store.upgrade`` event that recorded it, and appends a
        ``store.repair`` event with ``repaired`` (``"store.upgrade"``),
        ``upgrade_events`` (their seqs), ``from_version``, ``to_version``,
        ``rows_restored``, ``why`` and ``by``. No record is deleted or changed.
        ``verify()`` and ``check()`` then pass, and the report's ``notes`` names the
        repair. This handle then writes, as a new one would (where it refused writes
        for the upgrade history only; the repaired store is verified first).

        Returns
        -------
        event : dict or None
            The ``store.repair`` event appended; None where the upgrade history is
            consistent (nothing is written).

        Raises
        ------
        StoreError
            If the handle is read-only, or the history cannot be mended by appending
            (two ``store.upgrade`` events to one version; a ``schema_version`` row whose
            time no event records; an upgrade to a version newer than this
            sktraceprop knows). Nothing is written.
        CorruptStoreError
            If ``verify()`` finds damage other than the upgrade history (named); nothing
            is written.
        """
        if getattr(self, "mode", "rw") != "rw":
            raise StoreError(f"{self!r} is read-only: open it with mode='rw' to repair it")
        # the refusals the repair mends: this handle's refused upgrade, and what the
        # check below refuses writes for; a refusal for anything else stays
        mended = {None, getattr(self, "_upgrade_refusal", None)}
        try:
            self.check_integrity()
        except CorruptStoreError as exc:
            other = [p for p in getattr(exc, "problems", []) if p.get("check") != "upgrades"]
            if other or not getattr(exc, "problems", None):
                raise CorruptStoreError(
                    f"{self!r} was not repaired: repair_upgrade() mends only an "
                    f"inconsistent upgrade history, and the store has other damage:\n{exc}"
                ) from None
            mended |= {describe(p) for p in exc.problems}
        event = self._repair_upgrade()
        if event is not None:
            self._read_schema_after_repair()
            if getattr(self, "_integrity_failure", None) in mended:
                # writes again once the repaired store passes verify() (which refuses
                # writes again, and raises, where it does not)
                self._integrity_failure = self._upgrade_refusal = None
                self.check_integrity()
        return event


def plan_repair(store, version, rows, recorded, newest):
    """What :meth:`repair_upgrade` does, or None where nothing is to be done.

    ``version``: the store's version in ``stp_meta``; ``rows``: its ``schema_version``
    rows (``{version: applied_at}``); ``recorded``: ``(seq, payload, created_at)`` of
    its ``store.upgrade`` events; ``newest``: the newest version this sktraceprop
    knows. Returns ``(target, restore, seqs)``: the version the chain records, the rows
    to write (``(version, applied_at, seq)``) and the upgrade events read.
    """
    upgrades = []
    for seq, payload, created_at in recorded:
        found = recorded_upgrade(seq, payload)
        if found is not None:
            upgrades.append((*found, str(created_at)))
    by_version = {}
    for seq, _, after, _ in upgrades:
        by_version.setdefault(after, []).append(seq)
    twice = {v: s for v, s in by_version.items() if len(s) > 1}
    if twice:
        v, seqs = min(twice.items())
        raise StoreError(
            f"{store!r} was not repaired: store.upgrade events {', '.join(map(str, seqs))} "
            f"each record an upgrade to schema version {v}; the history already says it "
            "was upgraded twice, and nothing appended can make that one upgrade. Its "
            "records are intact; keep it as it is for the audit (verify() names the "
            "events) and write new runs to another store"
        )
    if not upgrades:
        return None
    target = max(after for _, _, after, _ in upgrades)
    if target > newest:
        raise StoreError(
            f"{store!r} was not repaired: its chain records an upgrade to schema version "
            f"{target}, newer than this sktraceprop knows ({newest}); use a newer release"
        )
    restore = [(after, at, seq) for seq, _, after, at in upgrades if after not in rows]
    known = set(rows) | {v for v, _, _ in restore}
    unknown = sorted({before for _, before, _, _ in upgrades if before not in known})
    if unknown:
        raise StoreError(
            f"{store!r} was not repaired: its schema_version table has no row of version "
            f"{', '.join(map(str, unknown))}, and no store.upgrade event records when that "
            "version was applied (a row cannot be written with a time nothing records)"
        )
    if version >= target and not restore:
        return None
    return target, restore, [seq for seq, *_ in upgrades]


def record_repair(store, writer, version, plan):
    """Append the :data:`REPAIR_EVENT` of ``plan`` (see :func:`plan_repair`) through
    ``writer`` inside the repair's transaction; return the event."""
    target, restore, seqs = plan
    chain = _Chain(store, writer)
    event = chain.append(
        REPAIR_EVENT,
        {
            "repaired": "store.upgrade",
            "upgrade_events": seqs,
            "from_version": int(version),
            "to_version": int(max(target, version)),
            "rows_restored": [
                {"version": v, "applied_at": at, "from_event": seq} for v, at, seq in restore
            ],
            "why": (
                "the chain records these upgrades, but the store's version was set back "
                "or its schema_version rows deleted outside sktraceprop; its layout and "
                "rows were brought back to what the chain records, nothing deleted"
            ),
            "by": f"sktraceprop {__version__}",
        },
    )
    chain.confirm()
    return event


def repair_notes(events):
    """A sentence for each ``(seq, created_at, payload)`` of a :data:`REPAIR_EVENT`."""
    out = []
    for seq, created_at, payload in events:
        try:
            p = json.loads(payload)
            restored = ", ".join(str(r["version"]) for r in p["rows_restored"]) or "none"
            out.append(
                f"store.repair event {seq} ({created_at}) repaired the store's upgrade "
                f"history: the store.upgrade events {p['upgrade_events']} recorded schema "
                f"version {p['to_version']}, its version had been set back to "
                f"{p['from_version']} or its rows deleted outside sktraceprop; "
                f"schema_version rows written again: {restored}"
            )
        except (TypeError, ValueError, KeyError):
            out.append(f"store.repair event {seq} ({created_at}) records no readable repair")
    return out
