"""Every time a report holds is required by its schema to be UTC (ISO 8601, ``Z`` or
``+00:00``), save the times of audit events copied as their writer stamped them (their
hashes cover them): ``verify()`` refuses a report holding a ``+02:00`` time.

Six times of the retention section (``longest_unlogged_from``/``_to``,
``earliest_logged_use``, ``latest_logged_use``, ``longest_unlogged_use_from``/``_to``)
were any string: a report whose gap was edited to read ``+02:00`` (two hours earlier
than the instant the report measured) verified without its store. Truth: every string
of a real report that reads as a time, found by parsing it, against the schema.
"""

import json
import re
from datetime import datetime

import pytest

from sktraceprop.compliance import compliance_report
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._schema import report_schema
from sktraceprop.compliance._verify import verify_report
from sktraceprop.exceptions import ReportVerificationError
from tests.compliance.conftest import DEPLOYER

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_UTC, _STORED = "#/$defs/utc_time", "#/$defs/stored_time"


def _times(value, pointer=""):
    """``(pointer, text)`` of every string in ``value`` that reads as a time."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _times(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _times(item, f"{pointer}/{i}")
    elif isinstance(value, str) and _TIME.match(value):
        datetime.fromisoformat(value)  # (a time indeed)
        yield pointer, value


def _refs(schema, pointer):
    """The ``$ref`` (or type) the schema gives the value at ``pointer``."""
    node = schema
    for part in pointer.split("/")[1:]:
        if "properties" in node and part in node["properties"]:
            node = node["properties"][part]
        elif "additionalProperties" in node and isinstance(node["additionalProperties"], dict):
            node = node["additionalProperties"]
        elif "items" in node:
            node = node["items"]
        else:
            raise AssertionError(f"{pointer}: no schema for {part!r}")
    options = node.get("anyOf", [node])
    return {o.get("$ref", str(o.get("type"))) for o in options} - {"null"}


#: The times a report copies from audit events as stored (their hash covers them).
STORED = re.compile(
    r"^/(events/\d+/created_at|record_keeping/store/chain_head/created_at"
    r"|record_keeping/(predictions|explanations)/(first|last)"
    r"|record_keeping/removals/\d+/created_at"
    r"|record_keeping/prediction_erasures/erasures/\d+/created_at)$"
)


@pytest.fixture
def made(fitted):
    pipe, store, *_ = fitted
    return compliance_report(pipe, **DEPLOYER).to_dict(), store


def test_every_time_of_a_report_is_required_to_be_utc(made):
    report, _ = made
    schema = report_schema()
    found = dict(_times(report))
    assert "/retention/longest_unlogged_from" in found  # (the store logged 3 calls)
    assert len(found) > 10
    for pointer in found:
        expected = {_STORED} if STORED.match(pointer) else {_UTC}
        assert _refs(schema, pointer) == expected, pointer
    utc = re.compile(schema["$defs"]["utc_time"]["pattern"])
    assert not utc.match("2026-12-06T12:00:00.000000+02:00")
    assert utc.match("2026-12-06T12:00:00.000000+00:00") and utc.match("2026-12-06T12:00:00Z")


def _at_two_hours_east(text):
    """The same instant written as a +02:00 time."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(datetime.strptime("+0200", "%z").tzinfo).isoformat(
        timespec="microseconds"
    )


@pytest.mark.parametrize(
    "pointer",
    [
        "/report/generated_at",
        "/record_keeping/runs/0/created_at",
        "/sources/0/loaded_at",
        "/retention/longest_unlogged_from",
        "/retention/longest_unlogged_use_to",
        "/retention/latest_logged_use",
    ],
)
def test_a_report_with_a_plus_two_hours_time_is_refused(made, tmp_path, pointer):
    report, store = made
    body = body_of(report)
    *path, last = pointer.split("/")[1:]
    node = body
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = _at_two_hours_east(node[last])
    assert node[last].endswith("+02:00")
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    with pytest.raises(ReportVerificationError, match="schema") as caught:
        verify_report(edited)
    assert pointer in str(caught.value)
    with pytest.raises(ReportVerificationError):
        verify_report(edited, store=store)


def test_an_event_time_rewritten_at_plus_two_hours_is_refused(made, tmp_path):
    """An event's time is as its writer stamped it: the same instant at +02:00 is not
    what the store holds, and its hash (under the chain) no longer matches."""
    report, store = made
    body = body_of(report)
    event = body["events"][-1]
    event["created_at"] = _at_two_hours_east(event["created_at"])
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**body, "integrity": seal(body)}))
    with pytest.raises(ReportVerificationError, match=f"event seq {event['seq']}"):
        verify_report(edited, store=store)
