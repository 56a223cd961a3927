"""Signed checkpoints: an Ed25519 signature over a store's chain head.

A checkpoint says "the key's owner saw this store's audit log end at event ``event_seq``
with hash ``chain_head``". Signed over the canonical JSON of every field but
``signature``, with the store's id, so it cannot be replayed onto another store. Kept
in the store and, for truncation to be detectable, elsewhere (a file, a ticket): events
cut from the end of a log, with the checkpoints that covered them, leave a shorter log
that is valid on its own; only a checkpoint kept elsewhere shows that it was longer.
:func:`sign_store` signs a store's head once the whole store verifies, and stores the
checkpoint in it.
"""

import base64
import json
import os
import re
import secrets
from pathlib import Path

from .. import signing
from .._lineage._source import utc_now
from ..exceptions import StoreError
from ._chain import canonical_json, loads_stored

FORMAT = "sktraceprop-checkpoint-1"
_FIELDS = (
    "format",
    "store_id",
    "checkpoint",
    "event_seq",
    "chain_head",
    "created_at",
    "key_fingerprint",
)


def message(checkpoint):
    """The bytes a checkpoint's signature is over."""
    return canonical_json({k: checkpoint[k] for k in _FIELDS}).encode("utf-8")


def make_checkpoint(private_key, store_id, number, event_seq, chain_head):
    key = signing.load_private_key(private_key)
    body = {
        "format": FORMAT,
        "store_id": store_id,
        "checkpoint": int(number),
        "event_seq": int(event_seq),
        "chain_head": chain_head,
        "created_at": utc_now(),
        "key_fingerprint": signing.fingerprint(key.public_key()),
    }
    return {**body, "signature": signing.sign(key, message(body))}


def write_checkpoint(checkpoint, path):
    """Write a checkpoint as JSON; an existing file is never overwritten."""
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as fh:
        json.dump(checkpoint, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _draft(checkpoint, path):
    """Write ``checkpoint`` to a new file beside ``path`` and return its name: written
    in full (and synced) before the checkpoint is committed to the store, so that a
    full disk or an I/O error stops the transaction instead of leaving a checkpoint
    stored whose copy is missing or cut short."""
    path = os.fspath(path)
    draft = os.path.join(
        os.path.dirname(path), f".{os.path.basename(path)}.{secrets.token_hex(6)}.draft"
    )
    try:
        write_checkpoint(checkpoint, draft)
    except BaseException:
        _remove(draft)
        raise
    return draft


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass  # (absent, or the error that matters is on its way)


def read_checkpoints(given):
    """Checkpoints from a dict, a JSON file path, or a list of them."""
    if given is None:
        return []
    if isinstance(given, dict | str | os.PathLike):
        given = [given]
    out = []
    for item in given:
        where = ""  # the file named in an error
        if not isinstance(item, dict):
            where = f"{os.fspath(item)}: "
            try:
                item = loads_stored(Path(item).read_text(encoding="utf-8"))
            except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError included)
                raise ValueError(
                    f"{where}not a checkpoint file (not JSON as a checkpoint is written: {exc})"
                ) from None
            if not isinstance(item, dict):
                raise ValueError(f"{where}not a checkpoint file (a JSON {type(item).__name__})")
        missing = [k for k in (*_FIELDS, "signature") if k not in item]
        if missing or item.get("format") != FORMAT:
            raise ValueError(
                f"{where}not a sktraceprop checkpoint (format {item.get('format')!r}; missing "
                f"{', '.join(missing) or 'nothing'})"
            )
        added = sorted(map(str, set(item) - {*_FIELDS, "signature"}))
        if added:
            # the signature covers _FIELDS only: a field added would be read as part of
            # a signed checkpoint ("approved_by": ...) while nothing signs it
            raise ValueError(
                f"{where}not a checkpoint sktraceprop made: field(s) {', '.join(added)} "
                "are in no checkpoint and not under its signature (added to it)"
            )
        wrong = _shape_problem(item)
        if wrong is not None:
            raise ValueError(f"{where}not a checkpoint sktraceprop made: {wrong}")
        out.append(item)
    return out


def _whole(value, least):
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _shape_problem(checkpoint):
    """What no checkpoint made by :func:`make_checkpoint` holds (None if nothing).

    What can be told without the key: a number that is not a whole number, a hash or
    signature that is not one (checked before anything is compared or converted).
    """
    if not _whole(checkpoint["checkpoint"], 1):
        return f"checkpoint {checkpoint['checkpoint']!r} is not a number from 1"
    if not _whole(checkpoint["event_seq"], 0):
        return f"event_seq {checkpoint['event_seq']!r} is not an event number"
    for field in ("chain_head", "key_fingerprint"):
        value = checkpoint[field]
        if not isinstance(value, str) or re.fullmatch("[0-9a-f]{64}", value) is None:
            return f"{field} {str(value)[:70]!r} is not a SHA-256 (64 hex digits)"
    for field in ("store_id", "created_at"):
        if not isinstance(checkpoint[field], str):
            return f"{field} {checkpoint[field]!r} is not text"
    try:
        valid = len(base64.b64decode(checkpoint["signature"], validate=True)) == 64
    except (TypeError, ValueError):
        valid = False
    if not valid:
        return "signature is not an Ed25519 signature (64 bytes, base64)"
    return None


def signature_problem(checkpoint, public_key, fingerprint):
    """Why ``checkpoint`` is not signed by ``public_key`` (None when it is)."""
    if checkpoint["key_fingerprint"] != fingerprint:
        return (
            f"was signed by another key (fingerprint {str(checkpoint['key_fingerprint'])[:16]}"
            f"..., not {fingerprint[:16]}...)"
        )
    if not signing.verify(public_key, message(checkpoint), str(checkpoint["signature"])):
        return "has a signature that does not verify with the given key (forged or altered)"
    return None


def sign_store(store, private_key, path=None):
    """See :meth:`BaseStore.checkpoint`."""
    key = signing.load_private_key(private_key)
    if path is not None and os.path.lexists(path):
        # refused before anything is stored: a checkpoint in the store whose copy
        # could not be written would be one the caller believes was never made
        raise FileExistsError(f"{os.fspath(path)} exists; nothing was signed or stored")
    store._check_writable()
    report = store.check_integrity()
    texts, drafts = [], []

    def write(writer):
        number = writer.next_checkpoint_seq()
        made = make_checkpoint(
            key, store.store_id, number, report["last_seq"], report["chain_head"]
        )
        texts.append(canonical_json(made))
        writer.insert_checkpoint(number, texts[-1])
        if path is not None:
            try:
                drafts.append(_draft(made, path))
            except OSError as exc:  # (raised inside: the transaction is rolled back)
                raise StoreError(
                    f"{store!r}: the checkpoint's copy could not be written beside "
                    f"{os.fspath(path)} ({exc}); nothing was signed or stored (the store's "
                    "transaction was rolled back), and no file was left there. Free space "
                    "or fix the folder, then retry."
                ) from exc
        return made

    def committed():
        return json.loads(texts[-1]) if texts and texts[-1] in store._raw_checkpoints() else None

    try:
        made = store._transact(write, committed)
    finally:
        for draft in drafts[:-1]:  # (a transaction tried again wrote another)
            _remove(draft)
    if path is not None:
        _publish(store, made, drafts[-1] if drafts else None, path)
    return made


def _publish(store, made, draft, path):
    """Put the checkpoint's copy at ``path`` (by a hard link of its draft: an existing
    file is never overwritten, and no reader sees it half-written), or raise a
    :class:`StoreError` saying that it is stored but has no copy there."""
    try:
        try:
            if draft is None:  # (the store found it committed after a lost connection)
                raise OSError("no draft")
            os.link(draft, path)
        except FileExistsError:
            raise
        except OSError:  # (a file system without hard links) written in place
            try:
                write_checkpoint(made, path)
            except FileExistsError:
                raise
            except BaseException:
                _remove(path)  # (created by write_checkpoint: O_EXCL)
                raise
    except OSError as exc:
        raise StoreError(
            f"{store!r}: checkpoint {made['checkpoint']} is signed and stored in the store, "
            f"but its copy could not be written to {os.fspath(path)} ({exc}); nothing is "
            "left there. Write it from store.checkpoints()[-1] (json.dump), and keep it "
            "outside the store."
        ) from exc
    finally:
        if draft is not None:
            _remove(draft)


def stored_checkpoints(store):
    """See :meth:`BaseStore.checkpoints`."""
    out = []
    with store._snapshot():
        texts = store._raw_checkpoints()
    for text in texts:
        try:
            out.append(json.loads(text))
        except (TypeError, ValueError) as exc:
            raise store._corrupt(f"a stored checkpoint is not readable: {exc}") from None
    return out
