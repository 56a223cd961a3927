"""Each erasure's wipe mark, named by its event, so that a deleted mark is found.

An erasure that deletes values from a SQLite or PostgreSQL store marks, in the same
transaction, that their old bytes are still to be wiped (an ``stp_meta`` key
``wal_scrub:<id>`` or ``vacuum_scrub:<id>``, see :mod:`._sqlite_scrub` and
:mod:`._postgres_scrub`); the wipe that finishes adds ``<key>:done``. Deleting a pending
mark (``stp_meta`` is append-only: only an edit outside sktraceprop can) hid that the
erased values were still in the files: ``check()``, ``verify()`` and every report said
nothing. The erasure event now names its mark (``"wipe": "<id>"`` in its payload, under
the hash chain), and the audit names each mark an event names that ``stp_meta`` no
longer holds. Events written before (no ``"wipe"``) name none; a MemoryStore has nothing
to wipe.
"""

import uuid

__all__ = ["WIPE", "check_wipe_marks", "new_wipe"]

#: The payload key of an erasure event naming its wipe mark.
WIPE = "wipe"


def new_wipe(writer):
    """A new mark id for an erasure written through ``writer`` (None where the store
    keeps nothing to wipe)."""
    return str(uuid.uuid4()) if getattr(writer, "marks_wipes", False) else None


def check_wipe_marks(store, wipes, problems):
    """Append to ``problems`` each erasure event of ``wipes`` (``{seq: mark id}``, read
    from the chain) whose mark ``stp_meta`` does not hold."""
    if not wipes:
        return
    prefix, keys = store._wipe_marks()
    if prefix is None:
        return
    for seq, wipe in sorted(wipes.items()):
        key = f"{prefix}{wipe}"
        if key in keys or f"{key}:done" in keys:  # (pending, or wiped: either is known)
            continue
        problems.append(
            {
                "check": "erasure_wipe",
                "seq": seq,
                "message": (
                    f"erasure event {seq} marked its wipe of the erased values' old bytes "
                    f"({key!r} in stp_meta), and stp_meta holds neither that mark nor its "
                    "':done': it was deleted (stp_meta is append-only), so whether those "
                    "bytes are still in the store's files is not known. The erasure "
                    "request run again through a new handle wipes them"
                ),
            }
        )
