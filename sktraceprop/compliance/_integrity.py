"""Tamper evidence of a report: canonical bytes, SHA-256, per-field digests, Ed25519.

The *body* of a report is everything but its ``integrity`` member. Its canonical bytes
are RFC 8785's (JCS, :mod:`._jcs`: what any JSON reader can write back; format version 5
and later) or, in reports of versions 1-4, Python's JSON with keys sorted, no
whitespace, UTF-8, no NaN (which only Python writes back as it was). ``integrity.sha256`` is
the SHA-256 of those bytes; ``integrity.digests`` maps JSON pointers (down to three
levels: ``/sources/0/n_rows``) to the SHA-256 of the canonical bytes of the value
there, so a check can name the field that changed; ``integrity.signature`` is an
optional Ed25519 signature of the canonical bytes.
"""

import hashlib
import json

from ._jcs import jcs_bytes

#: The first format version whose canonical bytes are RFC 8785's.
JCS_SINCE = 5
_PYTHON_JSON = (
    "JSON of the report without its 'integrity' member: keys sorted, separators ',' and "
    "':' without spaces, UTF-8, no NaN or infinity"
)
_JCS = (
    "RFC 8785 JSON Canonicalization Scheme (JCS) of the report without its 'integrity' "
    "member, UTF-8"
)


def canonicalization(version):
    """What ``integrity.canonicalization`` says in a report of format ``version``."""
    return _JCS if version >= JCS_SINCE else _PYTHON_JSON


DIGEST_DEPTH = 3


def event_hash(prev_hash, record):
    """SHA-256 linking an audit event to its predecessor, as the stores' hash chain does.

    ``record`` holds the event's ``seq``, ``run_id``, ``created_at``, ``kind`` and
    ``payload``; the hash is over ``prev_hash`` followed by the record's JSON with keys
    sorted and no whitespace. Written out here so that a report is checked without
    trusting the store's code.
    """
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def canonical_bytes(value, version):
    """The canonical bytes of a value in a report of format ``version``."""
    if version >= JCS_SINCE:
        return jcs_bytes(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_of(value, version):
    return hashlib.sha256(canonical_bytes(value, version)).hexdigest()


def body_of(report):
    """The report without its ``integrity`` member."""
    return {k: v for k, v in report.items() if k != "integrity"}


def _escape(key):
    return str(key).replace("~", "~0").replace("/", "~1")


def digests(body, version, depth=DIGEST_DEPTH):
    """JSON pointer -> SHA-256 of every value down to ``depth`` levels."""
    out = {}

    def walk(value, pointer, level):
        if level:
            out[pointer] = sha256_of(value, version)
        if level == depth:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{pointer}/{_escape(key)}", level + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{pointer}/{i}", level + 1)

    walk(body, "", 0)
    return out


def seal(body, private_key=None):
    """The ``integrity`` member of a report body (signed with ``private_key`` if given),
    in the canonical form of the body's format version."""
    version = body["report"]["format_version"]
    data = canonical_bytes(body, version)
    integrity = {
        "algorithm": "SHA-256",
        "canonicalization": canonicalization(version),
        "sha256": hashlib.sha256(data).hexdigest(),
        "digests": digests(body, version),
        "signature": None,
    }
    if private_key is not None:
        from .. import signing

        key = signing.load_private_key(private_key)
        integrity["signature"] = {
            "algorithm": "Ed25519",
            "public_key_sha256": signing.fingerprint(key.public_key()),
            "value": signing.sign(key, data),
        }
    return integrity


def altered_pointers(body, recorded, version):
    """The deepest JSON pointers whose value differs from the recorded digests.

    Returns
    -------
    changes : list of (str, str)
        ``(pointer, what)`` with ``what`` one of ``"changed"``, ``"removed"``,
        ``"added"``.
    """
    now = digests(body, version)
    found = []
    for pointer in sorted(set(recorded) | set(now)):
        if pointer not in now:
            found.append((pointer, "removed"))
        elif pointer not in recorded:
            found.append((pointer, "added"))
        elif now[pointer] != recorded[pointer]:
            found.append((pointer, "changed"))
    pointers = [p for p, _ in found]
    structural = [p for p, what in found if what != "changed"]
    out = []
    for p, what in found:
        if what == "changed":
            # the deepest: a changed field also changes every value above it
            if not any(q.startswith(p + "/") for q in pointers):
                out.append((p, what))
        elif not any(p.startswith(q + "/") for q in structural):
            # the topmost: a removed item also removes everything below it
            out.append((p, what))
    return out
