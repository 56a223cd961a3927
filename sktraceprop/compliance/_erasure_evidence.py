"""The report's account of erased logged calls (``record_keeping/prediction_erasures``).

:meth:`~sktraceprop.stores.BaseStore.erase_predictions` deletes the salt of each erased
call (and appends a ``store.prediction_erasure`` event giving the reason): the call's
event stays under the hash chain (its time, model, row count and outputs), but its
commitment to its input rows can no longer be tested, so whose input it scored is no
longer held. The erased calls are the salted calls without their salt, which the last
erasure event commits to (``store.verify()`` checks it; see
:mod:`sktraceprop.stores._prediction_erasures`). No event says which calls one erasure
erased (by design: the chain must not tie a request's reference to those calls'
outputs), so the report gives the totals, and each erasure's time and reason.

A check of the report against its store (``verify(report, store=...)``) rebuilds these
figures from the chain up to the report's head and the salts held. After a later
erasure (an erasure event past the head) the salts held no longer show which calls were
erased when the report was made: the figures are then checked as bounds (no more than
the calls erased now), and a warning says so.
"""

import warnings

from ..stores._prediction_salts import PREDICTION_ERASURE_EVENT, HeldSalts
from ..utils._stack import user_stacklevel
from ._article import _plural
from ._evidence import parse_time, six_months_before

__all__ = [
    "erasure_section",
    "erasure_words",
    "erasures_problems",
    "inexact_erasure_problems",
    "lost_erasure_problems",
]

#: The figures a later erasure leaves checkable only as upper bounds.
BOUNDED = ("n_calls_erased", "n_rows_erased", "n_explanations_erased", "n_calls_erased_in_window")


def _payload(event):
    return event["payload"] if isinstance(event["payload"], dict) else {}


def _holds(event, key):
    """Whether the event's payload holds ``key`` (a call held without its payload by
    :func:`~._chain_read.chain_events` says so itself)."""
    holds = getattr(event, "holds", None)
    return holds(key) if holds is not None else key in _payload(event)


def _erased(event, held):
    return _holds(event, "input_commitment") and event["seq"] not in held


def erasure_section(store, run_id, events, now, rows_of):
    """What the chain (``events``, up to the head) and the salts held say of the run's
    erased calls; ``now``: the report's time (the six months before it); ``rows_of``:
    an event's row count (an error naming the event where it holds no number)."""
    held = HeldSalts(store._raw_prediction_salt_seqs())  # (the seqs, no salt read)
    erasures = [e for e in events if e["kind"] == PREDICTION_ERASURE_EVENT]
    mine = [e for e in events if e["run_id"] == run_id]
    calls = [e for e in mine if e["kind"] == "prediction" and _erased(e, held)]
    explained = [e for e in mine if e["kind"] == "explanation" and _erased(e, held)]
    limit = six_months_before(parse_time(now))
    return {
        "n_erasures": len(erasures),
        "erasures": [
            {
                "seq": e["seq"],
                "created_at": e["created_at"],
                "reason": _reason(_payload(e).get("reason")),
            }
            for e in erasures
        ],
        "n_calls_erased": len(calls),
        "n_rows_erased": sum(map(rows_of, calls)),
        "n_calls_erased_in_window": sum(parse_time(e["created_at"]) > limit for e in calls),
        "first_erased_call": calls[0]["created_at"] if calls else None,
        "last_erased_call": calls[-1]["created_at"] if calls else None,
        "n_explanations_erased": len(explained),
        "n_calls_unsalted": sum(
            e["kind"] == "prediction" and _holds(e, "input_sha256") for e in mine
        ),
    }


def _reason(value):
    return value if isinstance(value, str) and value else None


def said(pe):
    """Whether a report's ``prediction_erasures`` (None: not in it) has anything to say."""
    return bool(pe) and bool(
        pe["n_erasures"] or pe["n_calls_erased"] or pe["n_explanations_erased"]
    )


def _rows_when(pe):
    """The erased calls' rows and when they were logged, in words."""
    return (
        f"{_plural(pe['n_rows_erased'], 'row')}, logged from {pe['first_erased_call']} to "
        f"{pe['last_erased_call']}"
    )


def _listed(pe):
    shown = [
        f"event {e['seq']} at {e['created_at']}, "
        + (f"reason {e['reason']!r}" if e["reason"] else "no reason recorded")
        for e in pe["erasures"][:10]
    ]
    more = len(pe["erasures"]) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def erasure_words(pe):
    """The record-keeping statement's sentences on erased calls (empty: none)."""
    if not said(pe):
        return ""
    n = pe["n_calls_erased"]
    text = (
        f" The chain records {_plural(pe['n_erasures'], 'prediction erasure')} in the store "
        f"({_listed(pe)}). "
    )
    if n:
        text += f"{_plural(n, 'prediction call')} of this model ({_rows_when(pe)})"
    else:
        text += "No prediction call of this model"
    text += f" and {_plural(pe['n_explanations_erased'], 'logged explanation')} were erased"
    text += (
        ": the store no longer holds what ties those calls to their input rows (the salt "
        "of each call's input commitment is deleted), so whose input they scored cannot "
        "be found from the record; their time, model, row count and outputs stay under "
        "the hash chain. The chain does not say which calls each erasure erased (it must "
        "not tie a request to those calls' outputs), only the total."
        if n or pe["n_explanations_erased"]
        else "."
    )
    unsalted = pe["n_calls_unsalted"]
    if unsalted:
        text += (
            f" {_plural(unsalted, 'call')} of this model {'was' if unsalted == 1 else 'were'} "
            "logged before "
            "calls were salted: each holds the plain SHA-256 of its input rows under the "
            "chain, which no erasure reaches."
        )
    return text


def monitoring_words(predictions, pe):
    """Art. 26(5)'s sentence on what the log holds of each call."""
    if not pe or not pe["n_calls_erased"]:
        return (
            "with the outputs of every call and the SHA-256 of its input rows, so the "
            "system's use can be reviewed."
        )
    n = pe["n_calls_erased"]
    kept = predictions["n_calls"] - n
    return (
        f"with the outputs of every call; of {_plural(kept, 'call')} it also holds the "
        "SHA-256 of the input rows (under a salt, where the call was salted), by which "
        f"a call is found from its input. {_plural(n, 'call')} ({_rows_when(pe)}) "
        "were erased at request: what tied them to their input rows is no longer held, "
        "so the record no longer shows whose input they scored, though their outputs "
        "can still be reviewed."
    )


def retention_words(pe, limit):
    """Art. 26(6)'s sentences on erased calls, and whether they leave the six months
    before the report (``limit``) short of the log of every call."""
    if not pe or not pe["n_calls_erased"]:
        return "", False
    n, window = pe["n_calls_erased"], pe["n_calls_erased_in_window"]
    text = (
        f" But {_plural(n, 'logged call')} of this model ({_rows_when(pe)}) were erased "
        "at request: their events are kept, but not what ties them to their input rows."
    )
    if window:
        text += (
            f" {window} of them {'was' if window == 1 else 'were'} logged after {limit}: "
            "for those calls the stored logs no longer cover the six months before this "
            "report (whose input they scored is gone); what is said above holds for the "
            "other calls."
        )
    else:
        text += " None of them was logged in the six months before this report."
    return text, bool(window)


def inexact_erasure_problems(kept, rebuilt, where):
    """After a later erasure: ``(problems, rebuilt)`` with the bounded figures checked
    against the calls erased now (no more than those) and taken from the report."""
    problems = []
    calls, window = kept.get("n_calls_erased"), kept.get("n_calls_erased_in_window")
    if isinstance(calls, int) and isinstance(window, int) and window > calls:
        problems.append(f"{where}/n_calls_erased_in_window is more than n_calls_erased: altered")
    for key in BOUNDED:
        if not isinstance(kept.get(key), int) or kept[key] > rebuilt[key]:
            problems.append(
                f"{where}/{key} says {kept.get(key)!r}, more than the {rebuilt[key]} the "
                "store shows erased even now: it was altered"
            )
    if kept.get("n_calls_erased"):
        first, last = kept.get("first_erased_call"), kept.get("last_erased_call")
        if not (
            isinstance(first, str)
            and isinstance(last, str)
            and rebuilt["first_erased_call"] is not None
            and parse_time(rebuilt["first_erased_call"]) <= parse_time(first)
            and parse_time(last) <= parse_time(rebuilt["last_erased_call"])
        ):
            problems.append(
                f"{where}/first_erased_call and last_erased_call are not within the "
                "times of the calls the store shows erased now: they were altered"
            )
    elif kept.get("first_erased_call") is not None or kept.get("last_erased_call") is not None:
        problems.append(f"{where}: times of erased calls are given for none erased: altered")
    merged = dict(rebuilt)
    if not problems:
        for key in (*BOUNDED, "first_erased_call", "last_erased_call"):
            merged[key] = kept.get(key)
    return problems, merged


def erasures_problems(report, rebuilt, later):
    """``(problems, expected)``: the report's ``prediction_erasures`` against the one
    ``rebuilt`` from its store (None expected: the report rightly holds none).

    A report of format 15 or earlier holds none, nor one of format 16 written before the
    section was (where the store shows nothing erased up to its head; else its missing
    account is named). After ``later`` erasure events, the counts are bounds, and a
    warning says so.
    """
    where = "/record_keeping/prediction_erasures"
    kept = report["record_keeping"].get("prediction_erasures")
    if kept is None:
        if report["report"]["format_version"] < 16 or not said(rebuilt):
            return [], None
        return [
            f"{where} is missing, and the store records erased calls up to the report's "
            f"chain head ({rebuilt['n_calls_erased']} prediction calls of this run, "
            f"{rebuilt['n_erasures']} erasures): the report does not account for them"
        ], None
    if not later or not isinstance(kept, dict):
        return [], rebuilt
    problems, merged = inexact_erasure_problems(kept, rebuilt, where)
    seqs = ", ".join(str(e["seq"]) for e in later[:10])
    if len(later) > 10:  # (the first ten named, all counted: never a list cut silently)
        seqs += f" and {len(later) - 10} more, {len(later)} in all"
    warnings.warn(
        f"calls were erased from the store after this report was made (erasure event(s) "
        f"{seqs}): which of them were already erased when it was made can no longer be "
        f"told, so {where} was checked only as far as the calls erased now bound it (no "
        "more calls, rows or times outside theirs)",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return problems, merged


def lost_erasure_problems(report, by_seq):
    """The erasures a report records that its store (``by_seq``: its events by seq) no
    longer holds, as a problem: a copy of the store taken before them and put back holds
    the erased calls' salts again with no erasure event, so those calls read as never
    erased there and ``store.verify()`` passes; only a record kept outside the store (this
    report, a checkpoint) shows it."""
    kept = report["record_keeping"].get("prediction_erasures")
    if not isinstance(kept, dict):
        return []
    gone = [e for e in kept.get("erasures") or [] if e.get("seq") not in by_seq]
    if not gone:
        return []
    seqs = ", ".join(str(e.get("seq")) for e in gone[:10]) + (" ..." if len(gone) > 10 else "")
    return [
        f"the report records {len(gone)} erasure(s) at request (event(s) {seqs}, the "
        f"first of {gone[0].get('created_at')}) that the store no longer holds: where it is "
        "a copy taken before them and put back (a backup restored), it holds the salts of "
        "the calls they erased again, so those calls read as never erased there; make the "
        "erasure requests again on this store"
    ]
