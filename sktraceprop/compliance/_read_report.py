"""Reading a compliance report: from a path, a dict or a report object, as JSON a report
is written in (no repeated keys, no NaN), and where a value cannot be canonical JSON."""

import json
import math
import os
from pathlib import Path

from ..exceptions import ReportVerificationError
from ..stores._chain import unique_keys


def read_report(source):
    """``(report dict, name)`` from a path, a dict or a :class:`ComplianceReport`."""
    if hasattr(source, "to_dict"):
        return source.to_dict(), "the report"
    if isinstance(source, dict):
        return source, "the report"
    path = Path(os.fspath(source))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no report at {path}") from None
    if raw.startswith(b"SQLite format 3\x00"):
        # (a store given where its report was meant: not verified, and said so)
        raise ReportVerificationError(
            f"{path} is an SQLite database (a store?), not a compliance report: check a "
            "store with SQLiteStore(path).verify() (command line: sktraceprop check "
            "STORE), and a report made from it with verify(report, store=...) "
            "(sktraceprop verify REPORT --db STORE)"
        )
    if raw.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html")):
        # (a page is rendered from the report's data: nothing in it is under the hash)
        raise ReportVerificationError(
            f"{path} is an HTML page, which is not verified: verify the JSON report it "
            "was rendered from (sktraceprop verify REPORT.json), then compare the page "
            "with ComplianceReport.load(REPORT.json).to_html(), which this sktraceprop "
            "renders byte for byte from the verified data"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportVerificationError(f"{path} is not UTF-8 text: {exc}") from None
    try:
        report = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ReportVerificationError(
            f"{path} is not JSON as a report is written: {exc}"
        ) from None
    if not isinstance(report, dict):
        raise ReportVerificationError(f"{path} holds a JSON {type(report).__name__}, not a report")
    return report, str(path)


def _unique_members(pairs):
    # Python keeps the last of two equal keys, other readers the first: the report
    # would verify here and read otherwise elsewhere. A report never holds one.
    return unique_keys(pairs, "member")


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number (a report holds no NaN or infinity)")


def _unwritable(value, pointer=""):
    """The first JSON pointer holding what canonical JSON cannot hold (None if none):
    NaN or infinity, or text that is not Unicode (a lone surrogate such as \\ud800)."""
    if isinstance(value, float) and not math.isfinite(value):
        return pointer or "/", f"{value!r} is not a JSON number"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return pointer or "/", "holds a lone surrogate: not Unicode text"
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _unwritable(key, pointer) if isinstance(key, str) else None
        found = found or _unwritable(item, f"{pointer}/{key}")
        if found:
            return found
    return None
