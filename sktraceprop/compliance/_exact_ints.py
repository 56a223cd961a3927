"""Integers beyond 2**53 in a report's audit events, written exactly for every reader.

A report (format version 2) holds no integer beyond 2**53 - 1 as a JSON number (see
:mod:`sktraceprop.utils._exact_ints`): such an integer, a row id above all, is its
decimal string. An audit event's payload is hash-chained as stored, so an event whose
payload held one keeps the stored payload exactly in ``payload_json`` (its canonical
JSON text, what the event's hash covers), next to ``payload`` as written (the decimal
strings). A check recomputes the event's hash from ``payload_json``, and requires
``payload`` to be exactly what :func:`exact_view` makes of it.

From format version 5, a payload holding a float that JavaScript writes otherwise than
Python (``1.0`` as ``1``, ``-0.0`` as ``0``, ``1e-05`` as ``0.00001``, ``1e-07`` as
``1e-7``) keeps ``payload_json`` too: after another JSON writer (JavaScript's, jq's) has
saved the report again, such a payload as read is no longer the text its hash covers,
and a checker without Python could not rebuild that text; ``payload_json`` is a string,
which every writer keeps as it is. Every other payload's hashed text is rebuilt from it
by JavaScript alone (see doc/compliance.rst). The payload and ``payload_json`` are then
compared by their RFC 8785 bytes, in which ``1`` and ``1.0`` are one number.
"""

import json
import math

from ..stores._chain import unique_keys
from ..utils._exact_ints import exact_view, rounded_pointers
from ._integrity import JCS_SINCE
from ._jcs import es_number, jcs_bytes

#: What the member holding an event's payload as stored is called.
PAYLOAD_JSON = "payload_json"


def payload_text(payload):
    """The canonical JSON text of a payload, as the event's hash covers it."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def written_otherwise(value):
    """Whether a JSON value holds a float that JavaScript writes otherwise than Python's
    JSON (``1.0``, ``1e-05``: see the module's notes)."""
    if isinstance(value, float):
        return math.isfinite(value) and float.__repr__(value) != es_number(value)
    if isinstance(value, dict):
        return any(written_otherwise(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(written_otherwise(v) for v in value)
    return False


def _kept_as_stored(payload):
    return bool(rounded_pointers(payload, limit=1)) or written_otherwise(payload)


def event_copy(event):
    """An audit event as a report (of the current format) holds it (see the module's
    notes)."""
    out = {k: event[k] for k in ("seq", "run_id", "created_at", "kind", "payload")}
    if _kept_as_stored(event["payload"]):
        out["payload"] = exact_view(event["payload"])
        out[PAYLOAD_JSON] = payload_text(event["payload"])
    out["prev_hash"], out["hash"] = event["prev_hash"], event["hash"]
    return out


def stored_payload(event):
    """An event's payload as stored: from ``payload_json`` where the report keeps it
    (None if that is not JSON, which :func:`exact_problems` names)."""
    if PAYLOAD_JSON not in event:
        return event["payload"]
    try:
        return json.loads(event[PAYLOAD_JSON], object_pairs_hook=unique_keys)
    except (TypeError, ValueError, RecursionError):
        return None


def exact_problems(report):
    """Numbers a reader of JSON numbers as doubles would misread, and events whose
    ``payload`` is not what their ``payload_json`` makes (format version 2 and later)."""
    version = report["report"]["format_version"]
    if version == 1:
        return []
    jcs = version >= JCS_SINCE
    problems = [
        f"{pointer} holds the integer {value} as a JSON number: beyond 2**53 - 1, "
        "JavaScript and every reader of numbers as doubles read another number (a report "
        "writes such an integer as its decimal string)"
        for pointer, value in rounded_pointers(report)
    ]
    for position, event in enumerate(report["events"]):
        if PAYLOAD_JSON not in event:
            continue
        where = f"/events/{position}"
        stored = stored_payload(event)
        if stored is None or payload_text(stored) != event[PAYLOAD_JSON]:
            problems.append(
                f"{where}/{PAYLOAD_JSON} is not the canonical JSON of a payload (keys sorted, "
                "no spaces, each key once): not as a report writes it"
            )
        elif not (rounded_pointers(stored, limit=1) or (jcs and written_otherwise(stored))):
            problems.append(
                f"{where}/{PAYLOAD_JSON} is kept for a payload holding no integer beyond "
                "2**53 - 1"
                + (" and no number JavaScript writes otherwise" if jcs else "")
                + ": not as a report writes it"
            )
        elif not _same(event["payload"], exact_view(stored), jcs):
            problems.append(
                f"{where}/payload differs from the payload as stored ({where}/"
                f"{PAYLOAD_JSON}, which the event's hash covers): one of them was altered"
            )
    return problems


def _same(payload, expected, jcs):
    """Whether a payload as read is the one expected (by RFC 8785 bytes from format 5:
    ``1`` and ``1.0`` are one JSON number)."""
    if not jcs:
        return payload_text(payload) == payload_text(expected)
    try:
        return jcs_bytes(payload) == jcs_bytes(expected)
    except (TypeError, ValueError):
        return False
