"""A report's events checked: each against its hash, in chain order, none removed, added
or past the recorded chain head; with the recorded per-field digests, which event and
which field was edited."""

from ._exact_ints import PAYLOAD_JSON, stored_payload
from ._integrity import (
    event_hash,
    sha256_of,
)
from ._report_formats import _version

_EVENT_FIELDS = ("seq", "run_id", "created_at", "kind", "payload", "prev_hash", "hash")


def _event_record(event):
    record = {k: event[k] for k in ("seq", "run_id", "created_at", "kind")}
    return {**record, "payload": stored_payload(event)}


def _aligned(report, recorded):
    """Match the report's events to the events recorded when it was made.

    Events are matched by content (the recorded digest of each event), not by position:
    removing or reordering events must not make every later event look edited. Events
    left unmatched on both sides are paired in order, as edits.

    Returns
    -------
    edited : list of (position, recorded position)
    removed : list of recorded positions
    added : list of positions
    """
    events = report["events"]
    n_recorded = sum(1 for p in recorded if p.count("/") == 2 and p.startswith("/events/"))
    left = {}
    for i in range(n_recorded):
        left.setdefault(recorded[f"/events/{i}"], []).append(i)
    new = []
    for position, event in enumerate(events):
        same = left.get(sha256_of(event, _version(report)))
        if same:
            same.pop(0)
        else:
            new.append(position)
    gone = sorted(i for positions in left.values() for i in positions)
    paired = min(len(new), len(gone))
    return list(zip(new[:paired], gone[:paired])), gone[paired:], new[paired:]


def _recorded_seq(report, i):
    seqs = report["record_keeping"]["included_seqs"]
    return seqs[i] if i < len(seqs) else None


def _edits(report, recorded):
    """Events edited, removed or added since the report was made, named by seq."""
    events = report["events"]
    edited, removed, added = _aligned(report, recorded)
    problems = []
    for position, i in edited:
        event = events[position]
        fields = [
            f"/events/{position}/{k}"
            for k in sorted(event)
            if sha256_of(event[k], _version(report)) != recorded.get(f"/events/{i}/{k}")
        ]
        seq = _recorded_seq(report, i)
        rehashed = event_hash(event["prev_hash"], _event_record(event)) == event["hash"]
        problems.append(
            f"event seq {seq if seq is not None else event['seq']} ({event['kind']}, "
            f"/events/{position}) was changed after the report was made: "
            f"{', '.join(fields) or f'/events/{position}'}"
            + ("" if rehashed else "; it no longer matches its hash")
        )
    for i in removed:
        problems.append(
            f"event seq {_recorded_seq(report, i)} was removed from the report's events"
        )
    for position in added:
        problems.append(f"event seq {events[position]['seq']} was added to the report's events")
    return problems, {position for position, _ in edited}


def _event_problems(report, recorded=None):
    """Altered, reordered, removed and added events, each named by its ``seq``.

    ``recorded`` (the report's per-field digests, given when its content hash does not
    match) tells which event was edited, removed or added, and which of its fields.
    Without it (the content matches its hash), each event is checked against its own
    hash and the events against ``included_seqs``.
    """
    events = report["events"]
    problems, named = _edits(report, recorded) if recorded is not None else ([], set())
    fields = _EVENT_FIELDS
    if report["report"]["format_version"] != 1:
        fields += (PAYLOAD_JSON,)
    previous = None
    for position, event in enumerate(events):
        seq = event["seq"]
        extra = sorted(set(event) - set(fields))
        if extra:
            problems.append(
                f"event seq {seq} (/events/{position}) has field(s) {', '.join(extra)} that "
                "no audit event has: added after it was logged"
            )
        if position not in named and (
            event_hash(event["prev_hash"], _event_record(event)) != event["hash"]
        ):
            problems.append(
                f"event seq {seq} ({event['kind']}, /events/{position}) does not match its "
                "hash: the event was altered"
            )
        if previous is not None:
            if seq <= previous["seq"]:
                problems.append(
                    f"event seq {seq} is listed after event seq {previous['seq']}: the "
                    "events were reordered"
                )
            elif seq == previous["seq"] + 1 and event["prev_hash"] != previous["hash"]:
                problems.append(
                    f"event seq {seq} is not linked to event seq {previous['seq']} before it"
                )
        previous = event
    if recorded is None:
        listed = [e["seq"] for e in events]
        recorded_seqs = report["record_keeping"]["included_seqs"]
        for seq in sorted(set(recorded_seqs) - set(listed)):
            problems.append(f"event seq {seq} was removed from the report's events")
        for seq in sorted(set(listed) - set(recorded_seqs)):
            problems.append(f"event seq {seq} was added to the report's events")
    head = report["record_keeping"]["store"]["chain_head"]
    for event in events:
        if event["seq"] > head["seq"]:
            problems.append(
                f"event seq {event['seq']} comes after the chain head the report was made "
                f"at (seq {head['seq']})"
            )
        elif event["seq"] == head["seq"] and event["hash"] != head["hash"]:
            problems.append(f"event seq {event['seq']} is not the recorded chain head")
    return problems
