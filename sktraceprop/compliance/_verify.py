"""Checking a compliance report: schema, content hash, events, signature, and its store."""

import base64
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np

from .._lineage._fingerprint_match import OLD_SCHEME_NOTES
from .._lineage._fingerprint_schemes import EARLIER_NOTES
from ..exceptions import ComplianceError, CorruptStoreError, ReportVerificationError, StoreError
from ..stores._chain import RUN_EVENT, unique_keys
from ..stores._sealed import REDACTION_EVENT
from ..utils._exact_ints import exact_view
from ._after_removal import after_removal_problems, removal_features
from ._categories import REGULATION, annex_iii_category
from ._digest_schemes import INEXACT, SOURCE_KEYS_9, scheme_problems
from ._evidence import all_events, included, retention_section, sources_section
from ._exact_ints import PAYLOAD_JSON, exact_problems, stored_payload
from ._feature_evidence import features_section
from ._integrity import (
    altered_pointers,
    body_of,
    canonical_bytes,
    canonicalization,
    digests,
    event_hash,
    sha256_of,
)
from ._log_evidence import prediction_digest, record_keeping
from ._model_evidence import model_section
from ._report_time import store_time_problems, time_problems
from ._schema import schema_problems
from ._sections import articles
from ._source_evidence import as_format_13

_MAX_LISTED = 25  # problems named in the message (all are in .problems)
_EVENT_FIELDS = ("seq", "run_id", "created_at", "kind", "payload", "prev_hash", "hash")
#: The format of the reports written; version 1 (every integer a JSON number, payloads
#: as stored) is still read and checked.
FORMAT_VERSION = 15
#: What format 3 added: the model's and each listed run's purpose and model selection.
_MODEL_KEYS_3 = ("purpose", "selection", "selection_note")
#: What format 4 added: the model's fit parameters (sample weights), as its run records.
_MODEL_KEYS_4 = ("fit_params",)
_RUN_KEYS_3 = ("purpose", "search_role", "search_id")
#: What format 6 added: each removal's source_contents, as its event records it.
_REMOVAL_KEYS_6 = ("source_contents",)
#: What format 7 added: whether each source's values given to fit were compared with
#: what was loaded (changes_after_loading).
_SOURCE_KEYS_7 = ("changes_after_loading", "repeated_rows")
#: What format 8 added: each removal's source_rows (the distinct rows of each source
#: behind the training rows removed) and counts_note, as its event records them.
_REMOVAL_KEYS_8 = ("source_rows", "counts_note")
#: What format 9 added: each source's digest_scheme and digest_note (what its sha256
#: names; see _digest_schemes), SOURCE_KEYS_9, and the count of logged calls whose model
#: matched its run only by fingerprint scheme 1.
_PREDICTION_KEYS_9 = ("calls_matched_by_old_fingerprint_scheme",)
#: What format 10 added: the scheme of the model's fingerprint, as its run records it.
_MODEL_KEYS_10 = ("fingerprint_scheme", "fingerprint_scheme_note")
#: What format 11 added: the inputs a removal left the model, where they differ from the
#: fit's (feature_lineage/after_removal).
_FEATURE_KEYS_11 = ("after_removal",)
#: What format 12 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 2 (functions and classes named by name, not hashed by code).
_PREDICTION_KEYS_12 = ("calls_matched_by_fingerprint_scheme_2",)
#: What format 13 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 3 (user classes' attributes other than functions named).
_PREDICTION_KEYS_13 = ("calls_matched_by_fingerprint_scheme_3",)
#: What format 14 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 4 (a class cache's contents hashed, index packages named).
_PREDICTION_KEYS_14 = ("calls_matched_by_fingerprint_scheme_4",)
#: What format 15 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 5 (a module a user function holds named, its helpers not hashed).
_PREDICTION_KEYS_15 = ("calls_matched_by_fingerprint_scheme_5",)
#: What each format version added, in words: what a report of an older one cannot show.
_ADDED_IN = {
    2: "integers beyond 2**53 written exactly (as decimal strings)",
    3: "the model's and each run's purpose and model selection",
    4: "the model's fit parameters (sample weights: digest and exact counts)",
    5: "a hash over RFC 8785 (JCS), kept by any JSON tool's re-save",
    6: "each removal's source_contents",
    7: "whether each source's values given to fit were compared with what was loaded "
    "(changes_after_loading) and its repeated rows",
    8: "each removal's source rows behind its training rows (source_rows, counts_note)",
    9: "what each source's sha256 names (digest_scheme, digest_note): a frame registered "
    "by an earlier sktraceprop holds a digest that names some different frames alike; "
    "the logged calls whose model matched its run only by fingerprint scheme 1",
    10: "the scheme of the model's fingerprint, as its run records it "
    "(fingerprint_scheme, fingerprint_scheme_note): scheme 1 could not tell some "
    "different models apart",
    11: "the inputs a removal left the model where they differ from the fit's "
    "(feature_lineage/after_removal): a term a limit let in after a removal",
    12: "the logged calls whose model matched its run only by fingerprint scheme 2, "
    "which named functions and classes by name and could not tell apart models that "
    "differ in their code",
    13: "the logged calls whose model matched its run only by fingerprint scheme 3, "
    "which named the attributes of user classes other than functions and the code of "
    "packages installed from a folder, and could not tell apart models that differ there",
    14: "the logged calls whose model matched its run only by fingerprint scheme 4, "
    "which named the code of packages installed from a package index and of user modules "
    "named like standard library ones, and could not tell apart models that differ there; "
    "and an empty uri for a source whose bytes were read from several paths (copies) "
    "where the training rows' path is not known: format 13 named the first path read "
    "there (listing every path in uris)",
    15: "the logged calls whose model matched its run only by fingerprint scheme 5, "
    "which named a module a user function holds as a global and not the helpers it calls "
    "through it (mymod.helper), and could not tell apart models that differ there",
}


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


def _version(report):
    """The format version of a report (or of its body)."""
    return report["report"]["format_version"]


def _event_record(event):
    record = {k: event[k] for k in ("seq", "run_id", "created_at", "kind")}
    return {**record, "payload": stored_payload(event)}


def _without(section, keys):
    return {k: v for k, v in section.items() if k not in keys}


def _as_written(report):
    """What a report of this one's format version makes of a value it holds."""
    if report["report"]["format_version"] == 1:
        return lambda value: value
    return exact_view


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


def _fixed_problems(report):
    """What a report states that follows from one key or is the same in every report."""
    problems = []
    if report["report"]["regulation"] != REGULATION:
        problems.append(f"/report/regulation was altered: every report says {REGULATION!r}")
    category = report["system"]["high_risk_category"]
    try:
        expected = annex_iii_category(category.get("key"))
    except ComplianceError:
        return [*problems, "/system/high_risk_category/key names no Annex III area"]
    for pointer in _differences(category, expected, "/system/high_risk_category"):
        problems.append(f"{pointer} is not what Annex III says for {category.get('key')!r}")
    return problems


def _is_signature(value):
    try:
        return len(base64.b64decode(value, validate=True)) == 64
    except (ValueError, TypeError):
        return False


def _signature_problems(body, signature, public_key):
    from .. import signing

    if signature is not None and not _is_signature(signature["value"]):
        # what can be told without the key: it is not a signature at all
        return ["integrity.signature.value is not an Ed25519 signature (64 bytes, base64)"]
    if public_key is None:
        if signature is not None:
            warnings.warn(
                "the report is signed (key "
                f"{signature['public_key_sha256'][:16]}...); pass public_key= to check "
                "the signature",
                UserWarning,
                stacklevel=3,
            )
        return []
    if signature is None:
        return ["the report is not signed, but a public key was given to check it with"]
    key = signing.load_public_key(public_key)
    given = signing.fingerprint(key)
    if given != signature["public_key_sha256"]:
        return [
            f"the report is signed by key {signature['public_key_sha256'][:16]}..., not by "
            f"the given key {given[:16]}..."
        ]
    if not signing.verify(key, canonical_bytes(body, _version(body)), signature["value"]):
        return ["the Ed25519 signature does not match the report's content"]
    return []


def _differences(a, b, pointer=""):
    """JSON pointers where two JSON values differ (the deepest ones)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{pointer}/{key}")
            else:
                out.extend(_differences(a[key], b[key], f"{pointer}/{key}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(_differences(x, y, f"{pointer}/{i}"))
        return out
    # false == 0 and true == 1 in Python, not in JSON (12 and 12.0 are one JSON number)
    same = a == b and isinstance(a, bool | np.bool_) == isinstance(b, bool | np.bool_)
    return [] if same else [pointer or "/"]


def _store_problems(report, store):
    problems = []
    try:
        store.verify()
    except CorruptStoreError as exc:
        return [f"the store's hash chain is broken: {exc}"]
    events = all_events(store)
    by_seq = {e["seq"]: e for e in events}
    head = report["record_keeping"]["store"]["chain_head"]
    stored_head = by_seq.get(head["seq"])
    if stored_head is None:
        problems.append(
            f"the store's chain no longer matches the report: it has {len(events)} events, "
            f"the report was made at event seq {head['seq']} (the log was truncated or replaced)"
        )
    elif stored_head["hash"] != head["hash"]:
        problems.append(
            f"the store's chain no longer matches the report: event seq {head['seq']} in the "
            f"store has hash {stored_head['hash'][:16]}..., the report recorded "
            f"{head['hash'][:16]}... (the log was rewritten)"
        )
    for event in report["events"]:
        stored = by_seq.get(event["seq"])
        if stored is None or stored["hash"] != event["hash"]:
            problems.append(
                f"event seq {event['seq']} ({event['kind']}) differs between the report and "
                "the store"
            )
    problems += store_time_problems(report, events, head["seq"])
    run_id = report["model"]["run_id"]
    upto = [e for e in events if e["seq"] <= head["seq"]]
    keys = {(s["source_id"], s["sha256"]) for s in report["sources"]}
    expected = [e["seq"] for e in upto if included(e, run_id, keys)]
    for seq in sorted(set(expected) - set(report["record_keeping"]["included_seqs"])):
        problems.append(f"store event seq {seq} of this run is missing from the report")
    predictions = [e for e in upto if e["run_id"] == run_id and e["kind"] == "prediction"]
    logged = report["record_keeping"]["predictions"]
    if prediction_digest(predictions) != logged["digest"]:
        problems.append(
            f"the prediction log in the store ({len(predictions)} calls up to event seq "
            f"{head['seq']}) does not match the report's ({logged['n_calls']} calls)"
        )
    try:
        run = store.load_run(run_id)
    except StoreError as exc:
        problems.append(f"/model/run_id: the report's run cannot be loaded from the store: {exc}")
        return problems
    if upto:
        try:
            problems += _record_keeping_problems(report, store, run, upto)
        except ComplianceError as exc:  # an event of the store sktraceprop did not write
            problems.append(f"/record_keeping cannot be rebuilt from the store: {exc}")
    # whether the fitted object matched its run was seen when the report was made, not
    # stored: the rest of the model section is the run record's
    matches = report["model"].get("fitted_object_matches_run")
    after = report["model"].get("fitted_object_after_removal")
    if isinstance(after, dict):
        problems += after_removal_problems(after, upto, run_id)
    else:
        after = None  # (anything else differs from the rebuilt section, and is named)
    # what a match rested on (fingerprints of an earlier scheme only), seen when made
    caveat = report["model"].get("fitted_object_match_caveat")
    if not (
        isinstance(caveat, str) and any(caveat.endswith(n) for n in OLD_SCHEME_NOTES.values())
    ):
        caveat = None  # (anything else differs from the rebuilt section, and is named)
    written = _as_written(report)
    model = model_section(run, matches, after, caveat)
    if report["report"]["format_version"] < 3:
        model = _without(model, _MODEL_KEYS_3)
    if report["report"]["format_version"] < 4:
        model = _without(model, _MODEL_KEYS_4)
    if report["report"]["format_version"] < 10:
        model = _without(model, _MODEL_KEYS_10)
    elif report["model"].get("fingerprint_scheme_note") in EARLIER_NOTES.get(
        run.fingerprint_scheme, ()
    ):
        # written by an sktraceprop that described this scheme in other words (scheme
        # 2's note before scheme 3 said what it cannot tell apart): the report as made
        model["fingerprint_scheme_note"] = report["model"]["fingerprint_scheme_note"]
    sources = sources_section(run)
    if report["report"]["format_version"] < 7:
        sources = [_without(s, _SOURCE_KEYS_7) for s in sources]
    if report["report"]["format_version"] < 9:
        sources = [_without(s, SOURCE_KEYS_9) for s in sources]
    if report["report"]["format_version"] < 14:
        sources = [as_format_13(s) for s in sources]
    changed = removal_features(upto, run_id, after)
    features = features_section(run, None if changed is None else (after["seq"], changed))
    if report["report"]["format_version"] < 11:
        features = _without(features, _FEATURE_KEYS_11)
    differ = []
    for name, rebuilt in (
        ("model", model),
        ("sources", sources),
        ("feature_lineage", features),
    ):
        for pointer in _differences(report[name], written(rebuilt), f"/{name}"):
            differ.append(f"{pointer} differs from the store's run record")
    erased = [
        e
        for e in events
        if e["seq"] > head["seq"] and e["kind"] == REDACTION_EVENT and e["run_id"] == run_id
    ]
    if differ and erased:
        # a lawful erasure after the report, not an edit of it: said first
        named = "; ".join(
            f"event seq {e['seq']} ({e['payload'].get('reason', 'no reason recorded')})"
            for e in erased
        )
        problems.append(
            f"values of run {run_id} were erased from the store after this report was made "
            f"({named}): the report's figures below that the store held can no longer be "
            "checked against it; they differ for that reason, not because the report was "
            "altered"
        )
    return problems + differ


def _checkpoint_problems(kept, store, written):
    """The report's latest checkpoint must be the store's, and their count its number.

    Whether signatures were checked, and by which key, was seen when the report was
    made (``checkpoint_key=``); it is under the report's signature only.
    """
    where = "/record_keeping/store/checkpoints"
    latest = kept.get("latest")
    if latest is None:
        return [] if kept["n_checkpoints"] == 0 else [f"{where}/n_checkpoints was altered"]
    number = latest.get("checkpoint")
    stored = [cp for cp in store.checkpoints() if cp.get("checkpoint") == number]
    problems = []
    if not stored:
        problems.append(f"{where}/latest: the store holds no checkpoint {number!r}")
    else:
        problems += [
            f"{pointer} differs from the store's checkpoint {number}"
            for pointer in _differences(latest, written(stored[0]), f"{where}/latest")
        ]
    if kept["n_checkpoints"] != number:  # numbered 1, 2, ... as they are made
        problems.append(
            f"{where}/n_checkpoints says {kept['n_checkpoints']}, but the latest checkpoint "
            f"is number {number}"
        )
    return problems


def _record_keeping_problems(report, store, run, upto):
    """What the report says of the store's log, against the log up to its chain head."""
    kept = report["record_keeping"]
    written = _as_written(report)
    rebuilt, _ = record_keeping(store, run, upto, kept["store"]["chain_verified_at"])
    rebuilt = written(rebuilt)
    at_head = {e["run_id"] for e in upto if e["kind"] == RUN_EVENT}
    rebuilt["runs"] = [r for r in rebuilt["runs"] if r["run_id"] in at_head]
    if report["report"]["format_version"] < 3:
        rebuilt["runs"] = [_without(r, _RUN_KEYS_3) for r in rebuilt["runs"]]
    if report["report"]["format_version"] < 6:
        rebuilt["removals"] = [_without(r, _REMOVAL_KEYS_6) for r in rebuilt["removals"]]
    if report["report"]["format_version"] < 8:
        rebuilt["removals"] = [_without(r, _REMOVAL_KEYS_8) for r in rebuilt["removals"]]
    if report["report"]["format_version"] < 9:
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_9)
    if report["report"]["format_version"] < 12:
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_12)
    if report["report"]["format_version"] < 13:
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_13)
    if report["report"]["format_version"] < 14:
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_14)
    if report["report"]["format_version"] < 15:
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_15)
    rebuilt["store"]["n_runs"] = len(rebuilt["runs"])
    runs = store.list_runs()
    retention = written(
        retention_section(
            store,
            run,
            upto,
            report["retention"]["report_time"],
            runs=runs[runs["run_id"].isin(at_head)],
            run_times=report["report"]["format_version"] < 4,
        )
    )
    problems = [
        f"{pointer} differs from the store's log up to the chain head"
        for pointer in _differences(report["retention"], retention, "/retention")
    ]
    for key in ("n_runs", "n_chain_events", "n_audit_events", "n_store_events", "chain_head"):
        if _differences(kept["store"][key], rebuilt["store"][key]):
            problems.append(
                f"/record_keeping/store/{key} differs from the store's log up to the chain head"
            )
    problems += _checkpoint_problems(kept["store"]["checkpoints"], store, written)
    for key, value in rebuilt.items():
        if key == "store":  # where it was and when: as made
            continue
        for pointer in _differences(kept[key], value, f"/record_keeping/{key}"):
            problems.append(f"{pointer} differs from the store's log up to the chain head")
    return problems


def verify_report(source, *, store=None, public_key=None):
    """Check a compliance report; True, or an error naming everything that was altered.

    The checks, in order: the report follows the JSON Schema shipped with
    sktraceprop; its content matches ``integrity.sha256`` (when not, the per-field
    digests name each field that changed, was added or was removed); every event in it
    matches its hash, the events are in chain order, none was removed or added, and
    none lies past the recorded chain head; the Ed25519 signature matches (when
    ``public_key`` is given); and, with ``store``, the store's chain verifies, still
    holds the recorded chain head, and agrees with the report's events, its run record
    (the model section, sources, feature lineage) and its record keeping up to the
    chain head (counts, prediction log, explanations, removals, runs).

    A content hash alone detects edits made without recomputing it. A report re-hashed
    after an edit is detected by its signature; without one, a check against the store
    detects it wherever the store records what was edited, but not in what the deployer
    gave (``system``, ``human_oversight``, where the articles do not quote it) or what
    was seen when the report was made (its time and generator, the store's location,
    whether checkpoint signatures were checked, ``fitted_object_matches_run``).

    A report of an older format version is checked as that version was written, so
    it shows none of what later versions added; its signature not checked, a newer
    report lowered to an older format with those parts removed and re-hashed cannot
    be told from one an older sktraceprop wrote: a ``UserWarning`` says so.

    Parameters
    ----------
    source : str, path-like, dict or ComplianceReport
        The report (a path to its JSON file).
    store : BaseStore, default=None
        The store the report was made from.
    public_key : Ed25519PublicKey or path, default=None
        Checks the report's signature (an unsigned report then fails).

    Returns
    -------
    True
        Given neither ``public_key`` nor ``store`` for an unsigned report, ``True``
        means only that the report agrees with itself, and a ``UserWarning`` says so.

    Raises
    ------
    ReportVerificationError
        Listing every problem found (also in its ``problems`` attribute).
    """
    report, name = read_report(source)
    try:
        canonical_bytes(report, 1)
    except (ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
        try:
            found = _unwritable(report)
        except RecursionError:
            found = None
        where, what = found or ("/", "nested too deeply to be written as canonical JSON")
        raise _failure(
            name,
            "holds a value no report holds (its canonical form cannot be computed)",
            [f"{where}: {what}"],
        ) from None
    problems = schema_problems(report)
    if problems:
        raise _failure(name, "does not follow the compliance report schema", problems)
    version = _version(report)
    try:
        canonical_bytes(report, version)
    except (ValueError, RecursionError) as exc:  # RFC 8785: an integer beyond every double
        raise _failure(
            name,
            "holds a value no report holds (its canonical form cannot be computed)",
            [str(exc) if isinstance(exc, ValueError) else "/: nested too deeply"],
        ) from None
    body = body_of(report)
    integrity = report["integrity"]
    recorded = None
    if sha256_of(body, version) != integrity["sha256"]:
        recorded = integrity["digests"]
        changes = altered_pointers(body, recorded, version)
        # Events are named by seq below: by position, one removed event would make
        # every later one look changed.
        outside = [(p, what) for p, what in changes if not p.startswith("/events/")]
        problems += [f"{where} was {what} after the report was made" for where, what in outside]
        if not changes:
            problems.append(
                "the content matches every recorded field digest but not integrity.sha256: "
                "integrity.sha256 itself was altered"
            )
    elif digests(body, version) != integrity["digests"]:
        problems.append("integrity.digests was altered")
    try:
        stated = articles(body)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        stated = None
        problems.append(f"/articles cannot be rebuilt from the report's sections ({exc!r})")
    if stated is not None:
        # each statement is made from the other sections: a changed one was edited
        problems += [
            f"{pointer} does not follow from the report's other sections: it was altered"
            for pointer in _differences(report["articles"], stated, "/articles")
        ]
    problems += _fixed_problems(report)
    problems += scheme_problems(report)
    problems += time_problems(report)
    if integrity["canonicalization"] != canonicalization(version):
        # it says how integrity.sha256 was computed: a report saying otherwise is altered
        problems.append(
            "integrity.canonicalization was altered: it no longer describes the canonical "
            "form integrity.sha256 is computed over"
        )
    problems += exact_problems(report)
    found = _event_problems(report, recorded)
    if recorded is not None and not found:
        # an edit of the events that matching them by seq does not explain
        found = [
            f"{where} was {what} after the report was made"
            for where, what in changes
            if where.startswith("/events/")
        ]
    problems += found
    problems += _signature_problems(body, integrity["signature"], public_key)
    if store is not None:
        problems += _store_problems(report, store)
    if problems:
        raise _failure(name, "failed verification", problems)
    if public_key is None and store is None and integrity["signature"] is None:
        _warn_content_only()
    if version < FORMAT_VERSION and public_key is None:
        _warn_older_format(version)
    if store is not None and version < 9:
        _warn_inexact_digests(report, store)
    return True


def _warn_content_only():
    """Say that True here means only that the report agrees with itself."""
    warnings.warn(
        "only the report's own content was checked: a report edited and then re-hashed "
        "(integrity.sha256 recomputed) passes these checks; sign reports "
        "(compliance_report(..., private_key=)) and check them with public_key=, or "
        "check the report against its store (store=)",
        UserWarning,
        stacklevel=3,
    )


def _warn_older_format(version):
    """Say what a report of an older format cannot show, and that, its signature not
    checked, it may be a newer report lowered to that format (the downgrade no content
    hash or store shows: a format's checks are those of its version)."""
    added = "; ".join(
        f"format {v}: {_ADDED_IN[v]}" for v in range(version + 1, FORMAT_VERSION + 1)
    )
    warnings.warn(
        f"the report is of format {version}; this sktraceprop writes format "
        f"{FORMAT_VERSION}, and later formats add what it does not hold ({added}): none "
        "of that is in this report or was checked. Its signature not checked "
        "(public_key=), a report of a later format lowered to format "
        f"{version} (those parts removed, then re-hashed) cannot be told from one an "
        "older sktraceprop wrote",
        UserWarning,
        stacklevel=3,
    )


def _warn_inexact_digests(report, store):
    """Say which sources of a report older than format 9 (which does not say what a
    sha256 names) hold, by their store record, a digest that names some different data
    alike: the report shows it as any other SHA-256."""
    sources = sources_section(store.load_run(report["model"]["run_id"]))
    inexact = [
        f"{s.get('label', s['source_id'])} (sha256 {s['sha256'][:12]}...: "
        f"{s['digest_scheme']}, {s['digest_note']})"
        for s in sources
        if s["digest_scheme"] in INEXACT
    ]
    if inexact:
        warnings.warn(
            f"the report is of format {_version(report)}, which does not say what a "
            "source's sha256 names; by the store's record, the digest of "
            f"{'; '.join(inexact)}. The report shows it as any other SHA-256: it does "
            "not show that the data fitted on is exactly the data it names (a report "
            "made now says so, in digest_scheme and Art. 26(4))",
            UserWarning,
            stacklevel=3,
        )


def _failure(name, what, problems):
    lines = problems[:_MAX_LISTED]
    if len(problems) > _MAX_LISTED:
        lines.append(f"... and {len(problems) - _MAX_LISTED} more")
    return ReportVerificationError(
        f"{name} {what} ({len(problems)} problem(s)):\n  - " + "\n  - ".join(lines), problems
    )
