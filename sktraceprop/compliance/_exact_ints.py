"""Integers beyond 2**53 in a report's audit events, written exactly for every reader.

A report (format version 2) holds no integer beyond 2**53 - 1 as a JSON number (see
:mod:`sktraceprop.utils._exact_ints`): such an integer, a row id above all, is its
decimal string. An audit event's payload is hash-chained as stored, so an event whose
payload held one keeps the stored payload exactly in ``payload_json`` (its canonical
JSON text, what the event's hash covers), next to ``payload`` as written (the decimal
strings). A check recomputes the event's hash from ``payload_json``, and requires
``payload`` to be exactly what :func:`exact_view` makes of it.
"""

import json

from ..stores._chain import unique_keys
from ..utils._exact_ints import exact_view, rounded_pointers

#: What the member holding an event's payload as stored is called.
PAYLOAD_JSON = "payload_json"


def payload_text(payload):
    """The canonical JSON text of a payload, as the event's hash covers it."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def event_copy(event):
    """An audit event as a report holds it (see the module's notes)."""
    out = {k: event[k] for k in ("seq", "run_id", "created_at", "kind", "payload")}
    if rounded_pointers(event["payload"], limit=1):
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
    if report["report"]["format_version"] == 1:
        return []
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
        elif not rounded_pointers(stored, limit=1):
            problems.append(
                f"{where}/{PAYLOAD_JSON} is kept for a payload holding no integer beyond "
                "2**53 - 1: not as a report writes it"
            )
        elif payload_text(event["payload"]) != payload_text(exact_view(stored)):
            problems.append(
                f"{where}/payload differs from the payload as stored ({where}/"
                f"{PAYLOAD_JSON}, which the event's hash covers): one of them was altered"
            )
    return problems
