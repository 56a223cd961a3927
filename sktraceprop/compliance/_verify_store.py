"""A report checked against its store: the chain verifies and still holds the recorded
head, the events agree, and the record keeping, retention and checkpoints rebuilt from
the log up to that head are what the report says."""

import numpy as np

from .._lineage._fingerprint_match import OLD_SCHEME_NOTES
from .._lineage._fingerprint_schemes import EARLIER_NOTES
from ..exceptions import ComplianceError, CorruptStoreError, StoreError
from ..stores._chain import RUN_EVENT
from ..stores._prediction_salts import PREDICTION_ERASURE_EVENT
from ..stores._sealed import REDACTION_EVENT
from ._after_removal import after_removal_problems, removal_features
from ._chain_read import verified_chain_events
from ._digest_schemes import SOURCE_KEYS_9
from ._erasure_evidence import erasures_problems, lost_erasure_problems
from ._evidence import included, retention_section, sources_section
from ._feature_evidence import features_section
from ._log_evidence import checkpoint_note, prediction_digest, record_keeping
from ._model_evidence import model_section
from ._report_formats import (
    _FEATURE_KEYS_11,
    _MODEL_KEYS_3,
    _MODEL_KEYS_4,
    _MODEL_KEYS_10,
    _PREDICTION_KEYS_9,
    _PREDICTION_KEYS_12,
    _PREDICTION_KEYS_13,
    _PREDICTION_KEYS_14,
    _PREDICTION_KEYS_15,
    _PREDICTION_KEYS_17,
    _PREDICTION_KEYS_18,
    _RECORD_KEYS_17,
    _REMOVAL_KEYS_6,
    _REMOVAL_KEYS_8,
    _RUN_KEYS_3,
    _SOURCE_KEYS_7,
    _as_written,
    _without,
)
from ._report_time import store_time_problems
from ._source_evidence import as_format_13, as_format_15
from ._verify_retention import required_problems, set_back_problems


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
    head = report["record_keeping"]["store"]["chain_head"]
    run_id = report["model"]["run_id"]
    # the calls of the report's run up to its head summed as read, not held; the chain
    # read once, as store.verify() checks it
    try:
        events, calls = verified_chain_events(store, run_id, upto=head["seq"])
    except CorruptStoreError as exc:
        return [f"the store's hash chain is broken: {exc}"]
    by_seq = {e["seq"]: e for e in events}
    stored_head = by_seq.get(head["seq"])
    if stored_head is None:
        problems.append(
            f"the store's chain no longer matches the report: it has {len(events)} events, "
            f"the report was made at event seq {head['seq']} (the log was truncated or "
            "replaced, this is an older copy of the store, such as a SQLite file copied "
            "while open without its -wal file, or this is another store)"
        )
    elif stored_head["hash"] != head["hash"]:
        problems.append(
            f"the store's chain no longer matches the report: event seq {head['seq']} in the "
            f"store has hash {stored_head['hash'][:16]}..., the report recorded "
            f"{head['hash'][:16]}... (the log was rewritten, or this is another store)"
        )
    problems += lost_erasure_problems(report, by_seq)
    for event in report["events"]:
        stored = by_seq.get(event["seq"])
        if stored is None:
            last = max(by_seq, default=None)
            ends = "it holds no events" if last is None else f"its chain ends at event seq {last}"
            problems.append(
                f"event seq {event['seq']} ({event['kind']}) of the report is not in the "
                f"store ({ends})"
            )
        elif stored["hash"] != event["hash"]:
            problems.append(
                f"event seq {event['seq']} ({event['kind']}) differs between the report and "
                "the store"
            )
    problems += store_time_problems(report, events, head["seq"])
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
            later = [
                e
                for e in events
                if e["seq"] > head["seq"] and e["kind"] == PREDICTION_ERASURE_EVENT
            ]
            problems += _record_keeping_problems(report, store, run, upto, later, calls)
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
    # (format 18 and earlier: an entry per code, an alias's apart)
    sources = sources_section(
        run, op_counts=_counts_ops(report), per_code=report["report"]["format_version"] < 19
    )
    if report["report"]["format_version"] < 7:
        sources = [_without(s, _SOURCE_KEYS_7) for s in sources]
    if report["report"]["format_version"] < 9:
        sources = [_without(s, SOURCE_KEYS_9) for s in sources]
    if report["report"]["format_version"] < 14:
        sources = [as_format_13(s) for s in sources]
    if report["report"]["format_version"] < 16:
        sources = [as_format_15(s) for s in sources]
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


def _counts_ops(report):
    """Whether the report's sources count their rows through each op
    (``op_training_rows``): format 6 gained them without a version bump, so a format-6
    (or earlier) report made before lists its ops by the sources each was fitted on."""
    if report["report"]["format_version"] > 6 or not isinstance(report["sources"], list):
        return True
    return any(isinstance(s, dict) and "op_training_rows" in s for s in report["sources"])


def _signed_problems(kept, store, head_seq):
    """What the report says is signed, against the checkpoints the store held when it
    was made (numbered up to its count).

    Whether signatures were checked, and with which key, was seen when the report was
    made (``checkpoint_key=``): the store cannot show it. But what was signed follows
    from the store: unchecked, nothing counts as signed; checked, the chain is signed
    through the last event a checkpoint of that key signs (a report is refused where
    one of them is signed by another key), and the note says so in words.
    """
    if "signatures_checked" not in kept:  # (reports made before it was recorded)
        return []
    where = "/record_keeping/store/checkpoints"
    held = [cp for cp in store.checkpoints() if cp.get("checkpoint", 0) <= kept["n_checkpoints"]]
    expected = {"signed_through": None, "key_fingerprint": None}
    problems = []
    if kept["signatures_checked"]:
        key = kept["key_fingerprint"]
        expected["key_fingerprint"] = key
        others = [cp.get("checkpoint") for cp in held if cp.get("key_fingerprint") != key]
        if others:
            problems.append(
                f"{where}/key_fingerprint was altered: the store's checkpoint(s) {others} "
                "are signed by another key, and a report checked with a key that did not "
                "sign every checkpoint is refused"
            )
        signed = [cp["event_seq"] for cp in held if cp.get("key_fingerprint") == key]
        expected["signed_through"] = max(signed) if signed else None
    expected["signed"] = expected["signed_through"] is not None
    problems += [
        f"{where}/{field} says {kept[field]!r}, but by the store's checkpoints it is "
        f"{value!r}: it was altered"
        for field, value in expected.items()
        if _differences(kept[field], value)
    ]
    if not problems:
        try:
            note = checkpoint_note(kept, head_seq)
        except (KeyError, AttributeError, TypeError):
            note = None  # a part the note is made of was removed or altered (named below)
        if kept["note"] != note:
            problems.append(f"{where}/note does not follow from the checkpoints: it was altered")
    return problems


def _checkpoint_problems(kept, store, written, head_seq):
    """The report's latest checkpoint must be the store's, their count its number, and
    what it says is signed what those checkpoints sign.

    Whether signatures were checked, and by which key, was seen when the report was
    made (``checkpoint_key=``); it is under the report's signature only.
    """
    where = "/record_keeping/store/checkpoints"
    signed = _signed_problems(kept, store, head_seq)
    latest = kept.get("latest")
    if latest is None:
        if kept["n_checkpoints"] == 0:
            return signed
        return [f"{where}/latest is missing (removed), or {where}/n_checkpoints was altered"]
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
    return problems + signed


def _record_keeping_problems(report, store, run, upto, later=(), calls=None):
    """What the report says of the store's log, against the log up to its chain head
    (``later``: the prediction erasure events past it; ``calls``: the
    :class:`~._chain_read.Tally` of the run's calls in ``upto``, where ``upto`` holds
    them without their payloads)."""
    kept = report["record_keeping"]
    written = _as_written(report)
    rebuilt, _ = record_keeping(store, run, upto, kept["store"]["chain_verified_at"], None, calls)
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
    if report["report"]["format_version"] < 18:
        # as format 17 and earlier counted them: the calls logged before the steps that
        # cannot be checked were told apart, among those by a model changed since fit
        predictions = rebuilt["predictions"]
        for key in _PREDICTION_KEYS_18:
            predictions["calls_by_a_model_changed_since_fit"] += predictions.pop(key)
    if report["report"]["format_version"] < 17:
        # not of those formats: compared in neither (as record_keeping keys a format
        # does not hold are not compared), so a report lowered from format 17 verifies
        rebuilt = _without(rebuilt, _RECORD_KEYS_17)
        rebuilt["predictions"] = _without(rebuilt["predictions"], _PREDICTION_KEYS_17)
        kept = {**kept, "predictions": _without(kept["predictions"], _PREDICTION_KEYS_17)}
    rebuilt["store"]["n_runs"] = len(rebuilt["runs"])
    erased, rebuilt["prediction_erasures"] = erasures_problems(
        report, rebuilt["prediction_erasures"], later
    )
    if rebuilt["prediction_erasures"] is None:
        del rebuilt["prediction_erasures"]
    runs = store.list_runs()
    retention = written(
        retention_section(
            store,
            run,
            upto,
            report["retention"]["report_time"],
            runs=runs[runs["run_id"].isin(at_head)],
            run_times=report["report"]["format_version"] < 4,
            clamped=report["report"]["format_version"] < 16,
            chain_order=report["report"]["format_version"] >= 16,
        )
    )
    erased += required_problems(report["retention"], retention)
    erased += set_back_problems(report["retention"], retention)
    problems = erased + [
        f"{pointer} differs from the store's log up to the chain head"
        for pointer in _differences(report["retention"], retention, "/retention")
    ]
    for key in ("n_runs", "n_chain_events", "n_audit_events", "n_store_events", "chain_head"):
        if _differences(kept["store"][key], rebuilt["store"][key]):
            problems.append(
                f"/record_keeping/store/{key} differs from the store's log up to the chain head"
            )
    problems += _checkpoint_problems(
        kept["store"]["checkpoints"], store, written, kept["store"]["chain_head"]["seq"]
    )
    for key, value in rebuilt.items():
        if key == "store":  # where it was and when: as made
            continue
        for pointer in _differences(kept[key], value, f"/record_keeping/{key}"):
            problems.append(f"{pointer} differs from the store's log up to the chain head")
    return problems
