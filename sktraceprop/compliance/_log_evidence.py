"""The report's record-keeping: the prediction log summarised by month with its digest,
explanations and removals copied, the store's checkpoints, counts and location."""

import contextlib
import hashlib

from .._lineage._fingerprint import json_safe
from ..exceptions import ComplianceError
from ._erasure_evidence import erasure_section
from ._evidence import audit_events, included, is_store_event, parse_time
from ._exact_ints import event_copy
from ._model_calls import calls_by_model
from ._told_apart import logged_before_told_apart, may_be_unchecked

__all__ = ["checkpoints_of", "prediction_digest", "record_keeping", "store_location"]


def prediction_digest(events):
    """SHA-256 over ``seq:hash`` lines of the given events, in order."""
    h = hashlib.sha256()
    for event in events:
        h.update(f"{event['seq']}:{event['hash']}\n".encode())
    return h.hexdigest()


@contextlib.contextmanager
def _reading(event):
    """Name the event whose payload holds what sktraceprop never writes there."""
    try:
        yield
    except (TypeError, ValueError, AttributeError) as exc:
        raise ComplianceError(
            f"audit event {event['seq']} ({event['kind']}) holds a payload sktraceprop does "
            f"not write ({exc}). The store's chain verifies, so it was appended by other "
            "code or written with the chain's hashes re-computed: check the store with the "
            "key that signs its checkpoints (verify(public_key))."
        ) from None


def _rows_of(event):
    if getattr(event, "n_rows", None) is not None:  # a call read by chain_events
        return event.n_rows
    with _reading(event):
        return int((event["payload"] or {}).get("n_rows") or 0)


def rows_or_none(event):
    """The call's row count as :func:`_rows_of` reads it, or None where it cannot."""
    try:
        return _rows_of(event)
    except ComplianceError:
        return None


class PredictionFigures:
    """The record-keeping figures of a run's calls (``record_keeping/predictions``),
    summed one call at a time (:meth:`add`, in seq order); :meth:`summary` gives them."""

    def __init__(self):
        self.by_method, self.by_month, self.classes = {}, {}, {}
        self.rows = self.flagged = self.unchecked = self.untold = self.n_calls = 0
        self.old_scheme = self.scheme_2 = self.scheme_3 = self.scheme_4 = self.scheme_5 = 0
        self.first = self.last = None
        self.digest = hashlib.sha256()

    def add(self, event):
        with _reading(event):
            payload = event["payload"] if isinstance(event["payload"], dict) else {}
            n = int(payload.get("n_rows") or 0)
            self.rows += n
            method = str(payload.get("method", "unknown"))
            entry = self.by_method.setdefault(method, {"calls": 0, "rows": 0})
            entry["calls"] += 1
            entry["rows"] += n
            month = parse_time(event["created_at"]).strftime("%Y-%m")
            entry = self.by_month.setdefault(month, {"calls": 0, "rows": 0})
            entry["calls"] += 1
            entry["rows"] += n
            outputs = payload.get("outputs") or {}
            for label, count in zip(outputs.get("classes") or [], outputs.get("counts") or []):
                self.classes[str(label)] = self.classes.get(str(label), 0) + int(count)
            if payload.get("replaced_since_fit"):
                self.flagged += 1
            elif payload.get("changed_since_fit"):
                # logged before the steps that cannot be checked were told apart:
                # changed, or not checkable where the run's scheme could not check
                # them (see summary; the rule is _told_apart's)
                untold = logged_before_told_apart(payload)
                self.flagged += not untold
                self.untold += untold
            if payload.get("unchecked_since_fit"):
                self.unchecked += 1
            if payload.get("matched_by_old_fingerprint_scheme"):
                # events from before scheme 3 name no schemes: theirs is scheme 1
                schemes = payload.get("old_fingerprint_schemes") or [1]
                self.old_scheme += 1 in schemes
                self.scheme_2 += 2 in schemes
                self.scheme_3 += 3 in schemes
                self.scheme_4 += 4 in schemes
                self.scheme_5 += 5 in schemes
        self.n_calls += 1
        self.first = self.first or (event["created_at"], event["seq"])
        self.last = (event["created_at"], event["seq"])
        self.digest.update(f"{event['seq']}:{event['hash']}\n".encode())

    def summary(self, fingerprint_scheme):
        """The figures, of a run recorded with ``fingerprint_scheme`` (None: not recorded)."""
        first, last = self.first or (None, None), self.last or (None, None)
        # events logged before unchecked_since_fit was said name in changed_since_fit the
        # steps a run of scheme 1 (or none) cannot check too: theirs are not said changed
        untold = self.untold if may_be_unchecked(fingerprint_scheme) else 0
        return {
            "n_calls": self.n_calls,
            "n_rows": self.rows,
            "first": first[0],
            "last": last[0],
            "first_seq": first[1],
            "last_seq": last[1],
            "by_method": self.by_method,
            "by_month": dict(sorted(self.by_month.items())),
            "predicted_classes": self.classes,
            "calls_by_a_model_changed_since_fit": self.flagged + self.untold - untold,
            # format 16, later: whose steps cannot be checked against a run of scheme 1
            "calls_by_a_model_unchecked_since_fit": self.unchecked,
            # format 18: ... or changed, logged before the two were told apart
            "calls_by_a_model_changed_or_unchecked_since_fit": untold,
            # format 9: answered by a model that matched its run only by fingerprint scheme 1
            "calls_matched_by_old_fingerprint_scheme": self.old_scheme,
            # format 12: ... only by scheme 2 (functions and classes named, not hashed)
            "calls_matched_by_fingerprint_scheme_2": self.scheme_2,
            # format 13: ... only by scheme 3 (user classes' constants named, not hashed)
            "calls_matched_by_fingerprint_scheme_3": self.scheme_3,
            # format 14: ... only by scheme 4 (a class cache hashed, index packages named)
            "calls_matched_by_fingerprint_scheme_4": self.scheme_4,
            # format 15: ... only by scheme 5 (a user function's module named, its helpers not)
            "calls_matched_by_fingerprint_scheme_5": self.scheme_5,
            "digest": self.digest.hexdigest(),
        }


def _predictions(events, fingerprint_scheme):
    figures = PredictionFigures()
    for event in events:
        figures.add(event)
    return figures.summary(fingerprint_scheme)


def _explanations(events):
    return {
        "n_calls": len(events),
        "n_rows": sum(_rows_of(e) for e in events),
        "first": events[0]["created_at"] if events else None,
        "last": events[-1]["created_at"] if events else None,
        "seqs": [e["seq"] for e in events],
    }


def _caveat_and_note(payload):
    """An event's caveat and note, one text (None if it has neither)."""
    said = [t for t in (payload.get("caveat"), payload.get("note")) if t]
    if not said:
        return None
    if len(said) == 1 or not all(isinstance(t, str) for t in said):
        return said[0]
    return "; ".join(said)


def _removals(events):
    out = []
    for event in events:
        p = event["payload"] if isinstance(event["payload"], dict) else {}
        out.append(
            {
                "seq": event["seq"],
                "created_at": event["created_at"],
                "method": json_safe(p.get("method")),
                "n_removed": json_safe(p.get("n_removed")),
                "sources": json_safe(p.get("sources")),
                # the distinct source rows behind them (null: the event did not count
                # them, logged by an older sktraceprop), and what tells the two apart
                "source_rows": json_safe(p.get("source_rows")),
                **({"counts_note": json_safe(p["counts_note"])} if "counts_note" in p else {}),
                **(
                    {"source_contents": json_safe(p["source_contents"])}
                    if "source_contents" in p
                    else {}
                ),
                "certificate": json_safe(p.get("certificate")),
                # the certificate's float64 rounding bound (events since it was measured):
                # the removal is certified only where the two together are within tol
                **(
                    {"certificate_rounding": json_safe(p["certificate_rounding"])}
                    if "certificate_rounding" in p
                    else {}
                ),
                "preprocessing": json_safe(p.get("preprocessing")),
                "caveat": json_safe(_caveat_and_note(p)),
                "hash": event["hash"],
            }
        )
        if "model_fingerprint_after" in p:  # (events of removals made before it was kept)
            out[-1]["model_fingerprint_after"] = json_safe(p["model_fingerprint_after"])
    return out


def checkpoints_of(store, head_seq, public_key=None):
    """The store's signed checkpoints, and (with ``public_key``) what their signatures cover.

    Without a key the checkpoints are counted (``store.verify()`` has checked that they
    match the chain), but nothing says who signed them: ``signed`` stays False.
    """
    items = store.checkpoints()
    out = {
        "signed": False,
        "n_checkpoints": len(items),
        "signatures_checked": public_key is not None,
        "signed_through": None,
        "key_fingerprint": None,
    }
    if items:
        out["latest"] = json_safe(items[-1])
    if public_key is not None:
        checked = store.check_integrity(public_key, allow_unsigned_tail=True)
        out["signed_through"] = checked["signed_through"]
        out["key_fingerprint"] = checked["key_fingerprint"]
        out["signed"] = checked["signed_through"] is not None
    out["note"] = checkpoint_note(out, head_seq)
    return out


def checkpoint_note(checkpoints, head_seq):
    """In words, what a report's ``checkpoints`` (without its note) say of the chain."""
    if checkpoints["signatures_checked"]:
        through = checkpoints["signed_through"]
        later = head_seq - (through or 0)
        return (
            f"signatures checked with key {str(checkpoints['key_fingerprint'])[:16]}...: the "
            f"chain is signed through event {through}"
            + (f"; the {later} later event(s) are not signed yet" if later else "")
        )
    if checkpoints["n_checkpoints"]:
        return (
            f"{checkpoints['n_checkpoints']} checkpoint(s) stored, the latest signing event "
            f"{checkpoints['latest'].get('event_seq')}; their signatures were not checked "
            "(make the report with checkpoint_key= to check them)"
        )
    return "no checkpoint of the chain has been signed: the chain is unsigned"


def store_location(store):
    path = getattr(store, "path", None)
    return {"type": type(store).__name__, "location": None if path is None else str(path)}


def record_keeping(store, run, events, now, checkpoint_key=None, calls=None, times=None):
    """Runs, the chain, the prediction log, explanations and removals of the run.

    ``calls``: the :class:`~._chain_read.Tally` of the run's calls where
    ``events`` holds them without their payloads (:func:`~._chain_read.chain_events`);
    ``times``: the events' times, where already read.
    """
    mine = [e for e in events if e["run_id"] == run.run_id]
    predictions = [e for e in mine if e["kind"] == "prediction"]
    keys = {(s.source_id, s.sha256) for s in run.sources.values()}
    copied = [e for e in events if included(e, run.run_id, keys)]
    head = events[-1]
    runs = store.list_runs()
    return {
        "store": {
            **store_location(store),
            "n_runs": len(runs),
            "n_chain_events": len(events),
            "n_audit_events": len(audit_events(events)),
            "n_store_events": sum(map(is_store_event, events)),
            "chain_verified_at": now,
            "chain_head": {
                "seq": head["seq"],
                "hash": head["hash"],
                "created_at": head["created_at"],
            },
            "checkpoints": checkpoints_of(store, head["seq"], checkpoint_key),
        },
        "runs": [
            {
                "run_id": r.run_id,
                "created_at": r.created_at,
                "estimator": r.estimator,
                "n_samples": int(r.n_samples),
                "sources": [str(s) for s in r.sources],
                "purpose": r.purpose,
                "search_role": r.search_role,
                "search_id": r.search_id,
            }
            for r in runs.itertuples()
        ],
        "events_of_run": len(mine),
        "events_by_kind": _count_kinds(mine),
        "predictions": (
            _predictions(predictions, run.fingerprint_scheme)
            if calls is None
            else calls.summary(run.fingerprint_scheme)
        ),
        # format 17: every model's calls in time, measured apart (their gaps)
        "calls_by_model": calls_by_model(events, now, times),
        "explanations": _explanations([e for e in mine if e["kind"] == "explanation"]),
        # format 16: the calls erased at request (erase_predictions), their erasures
        "prediction_erasures": erasure_section(store, run.run_id, events, now, _rows_of),
        "removals": _removals([e for e in mine if e["kind"] == "unlearning"]),
        "included_seqs": [e["seq"] for e in copied],
    }, [event_copy(e) for e in copied]


def _count_kinds(events):
    out = {}
    for event in events:
        out[event["kind"]] = out.get(event["kind"], 0) + 1
    return dict(sorted(out.items()))
