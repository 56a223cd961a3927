"""Integers beyond 2**53 in a report: written as decimal strings, so no reader rounds them.

JavaScript's ``JSON.parse`` (and every JSON reader that holds numbers as doubles) reads
an integer beyond 2**53 - 1 in magnitude as a neighbouring one, without a word. Row ids
are int64 (``source code << 36 | line``) and mostly beyond it: three removed rows of one
file read back as one id. A report (format version 2) therefore holds no such number:

- every integer beyond the bound is written as its decimal string (read it with
  ``BigInt(x)`` or ``int(x)``, which take numbers and strings alike);
- an audit event's payload is hash-chained as stored, so an event whose payload held
  one keeps the stored payload exactly in ``payload_json`` (its canonical JSON text,
  what the event's hash covers), next to ``payload`` as written (the decimal strings).

A check recomputes the event's hash from ``payload_json``, and requires ``payload`` to
be exactly what :func:`exact_view` makes of it.
"""

import json

from ..stores._chain import unique_keys

#: The largest integer a double holds exactly together with its neighbours.
MAX_EXACT = 2**53 - 1
#: What the member holding an event's payload as stored is called.
PAYLOAD_JSON = "payload_json"


def _beyond(value):
    return type(value) is int and not -MAX_EXACT <= value <= MAX_EXACT


def exact_view(value):
    """A copy of a JSON value with every integer beyond 2**53 - 1 in magnitude written
    as its decimal string (everything else as it is)."""
    if _beyond(value):
        return str(value)
    if isinstance(value, dict):
        return {k: exact_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_view(v) for v in value]
    return value


def rounded_pointers(value, pointer="", limit=5):
    """JSON pointers (at most ``limit``) of the integers in ``value`` that a reader of
    numbers as doubles would read as another number."""
    found = []

    def walk(item, where):
        if len(found) >= limit:
            return
        if _beyond(item):
            found.append((where or "/", item))
        elif isinstance(item, dict):
            for key, v in item.items():
                walk(v, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
        elif isinstance(item, list):
            for i, v in enumerate(item):
                walk(v, f"{where}/{i}")

    walk(value, pointer)
    return found


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
