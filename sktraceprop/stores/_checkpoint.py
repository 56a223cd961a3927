"""Signed checkpoints: an Ed25519 signature over a store's chain head.

A checkpoint says "the key's owner saw this store's audit log end at event ``event_seq``
with hash ``chain_head``". Signed over the canonical JSON of every field but
``signature``, with the store's id, so it cannot be replayed onto another store. Kept
in the store and, for truncation to be detectable, elsewhere (a file, a ticket): events
cut from the end of a log, with the checkpoints that covered them, leave a shorter log
that is valid on its own; only a checkpoint kept elsewhere shows that it was longer.
"""

import json
import os
from pathlib import Path

from .. import signing
from .._lineage._source import utc_now
from ._chain import canonical_json

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


def read_checkpoints(given):
    """Checkpoints from a dict, a JSON file path, or a list of them."""
    if given is None:
        return []
    if isinstance(given, dict | str | os.PathLike):
        given = [given]
    out = []
    for item in given:
        if not isinstance(item, dict):
            item = json.loads(Path(item).read_text())
        missing = [k for k in (*_FIELDS, "signature") if k not in item]
        if missing or item.get("format") != FORMAT:
            raise ValueError(
                f"not a sktraceprop checkpoint (format {item.get('format')!r}; missing "
                f"{', '.join(missing) or 'nothing'})"
            )
        out.append(item)
    return out


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
