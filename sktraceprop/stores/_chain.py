"""The hash chain: audit events, and the digests that put every run and source under it.

Every event holds the SHA-256 of its predecessor. Saving a run appends, in the same
transaction, a ``store.source`` event for each source the store did not hold yet and a
``store.run`` event; each holds the digest of what was stored:

- run digest: SHA-256 of ``"sktraceprop-run-2\\n" + record + "\\n" + R + "\\n" + I``, where
  ``record`` is the run's canonical JSON (:func:`canonical_json` of
  :meth:`Lineage.to_dict <sktraceprop.Lineage.to_dict>`, as stored), ``R`` the hex
  SHA-256 of its row ids as little-endian int64 and ``I`` that of its input row ids
  (``-`` when there are none);
- source digest: SHA-256 of ``"sktraceprop-source-2\\n" + record + "\\n" + P``, with ``P``
  the hex SHA-256 of the merge or aggregate parents flattened (offsets, then parent
  ids) as little-endian int64, or ``-``.

So a run, a source, or a row id edited or deleted after it was stored no longer matches
its event, and an event edited or deleted breaks the chain: both are found and named by
``verify()``. What a chain cannot show alone (events cut from its end, a chain
re-computed after an edit) signed checkpoints show (see :mod:`._checkpoint`).
"""

import base64
import hashlib
import json
import math
import sys
import uuid

import numpy as np

from .._lineage._source import utc_now

GENESIS = "0" * 64
#: Kinds of the events the store writes itself (refused from ``append_event``).
RUN_EVENT = "store.run"
SOURCE_EVENT = "store.source"
RESERVED_PREFIX = "store."


def canonical_json(value):
    """The one JSON text of ``value`` that digests and signatures are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def unique_keys(pairs, word="key"):
    """``dict(pairs)`` of a JSON object's members, refusing a key given twice (an
    ``object_pairs_hook``): Python keeps the last, other readers the first."""
    held = dict(pairs)
    if len(held) != len(pairs):
        seen = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"{word} {twice!r} appears twice in one object")
    return held


def loads_stored(text):
    """The JSON value of a stored text, refusing a key that appears twice in one object.

    Python keeps the last of two equal keys, SQLite's ``json_extract`` the first: a
    text holding both could verify here and read otherwise elsewhere. Canonical JSON
    never holds one, so such a text was altered.
    """
    return json.loads(text, object_pairs_hook=unique_keys)


def text_problem(value):
    """Why the string ``value`` cannot be stored as a text column by every store (None
    when it can): PostgreSQL's text holds no NUL character, and neither SQLite nor
    PostgreSQL text holds a lone surrogate (not UTF-8: what ``os.fsdecode`` makes of a
    file name's undecodable bytes). Every store refuses both, so that what one store
    holds can be copied into another."""
    if "\x00" in value:
        return "holds a NUL character (PostgreSQL text cannot hold one)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate, which is not text UTF-8 can store"
    return None


def check_text(value, what):
    """Raise ValueError, naming ``what``, unless ``value`` can be stored as text
    (see :func:`text_problem`); nothing is written."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"{what} {value!r} {problem}; nothing was written")


#: Python type of each column of a stored event row, as every store returns it.
EVENT_TYPES = (int, (str, type(None)), str, str, str, str, str)
EVENT_COLUMNS = ("seq", "run_id", "created_at", "kind", "payload", "prev_hash", "hash")


def event_row_problem(row):
    """Why a stored event row cannot be the one sktraceprop wrote (None if it can be).

    Every column is text (``run_id`` may be NULL) and ``seq`` an integer; a value of
    another type (a BLOB, a number) was written outside sktraceprop.
    """
    seq, run_id, created_at, kind, text, prev_hash, stored = row
    if (
        type(seq) is int
        and (run_id is None or type(run_id) is str)
        and type(created_at) is type(kind) is type(text) is type(prev_hash) is type(stored) is str
    ):  # (what every row is: checked first, as verify() asks it of every event)
        return None
    for name, value, wanted in zip(EVENT_COLUMNS, row, EVENT_TYPES, strict=True):
        if not isinstance(value, wanted) or isinstance(value, bool):
            return f"its {name} is stored as {type(value).__name__}, not as sktraceprop writes it"
    return None


def ids_sha256(ids):
    """Hex SHA-256 of an int64 array as little-endian bytes; ``"-"`` for None."""
    if ids is None:
        return "-"
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8")).hexdigest()


def run_digest(record_text, row_ids, input_row_ids):
    body = f"sktraceprop-run-2\n{record_text}\n{ids_sha256(row_ids)}\n{ids_sha256(input_row_ids)}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def source_digest(record_text, parents_flat):
    body = f"sktraceprop-source-2\n{record_text}\n{ids_sha256(parents_flat)}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_hash(prev_hash, record):
    """SHA-256 linking an event to its predecessor."""
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _spliced_hash(prev_hash, seq, run_id, created_at, kind, text):
    """:func:`event_hash` of an event whose payload's canonical JSON is ``text``.

    The record's canonical JSON is assembled around ``text`` (its keys in sorted
    order) instead of serialising the payload again: for a payload of 200 KB that
    second pass is most of an append's cost. ``text`` must be canonical
    (:func:`payload_text` makes sure of it).
    """
    h = hashlib.sha256(
        f'{prev_hash}{{"created_at":{json.dumps(created_at)},"kind":{json.dumps(kind)},'
        '"payload":'.encode()
    )
    h.update(text.encode("ascii"))
    h.update(f',"run_id":{json.dumps(run_id)},"seq":{json.dumps(seq)}}}'.encode())
    return h.hexdigest()


def payload_text(payload):
    """``(text, copy)``: the payload as stored, and an independent copy of it.

    ``text`` is canonical JSON (:func:`canonical_json`) and stays so when read back:
    serialising the copy gives ``text`` again (a payload with non-string keys is
    canonicalised once more, as JSON turns its keys into strings and may sort them
    differently). The copy is what the event holds, so a caller mutating its dict
    afterwards changes neither the log nor the returned event.
    """
    try:
        copy = json.loads(_serialised(payload))
    except RecursionError:
        raise TypeError(
            "an audit event payload is nested too deeply to be stored and read back "
            f"(over Python's recursion limit, {sys.getrecursionlimit()}); nothing was written"
        ) from None
    text = canonical_json(copy)
    return text, copy


def blob_payload_text(payload, blobs, copy=True):
    """:func:`payload_text` of a payload holding bytes, stored as base64 text.

    ``blobs`` lists where: paths (tuples of keys) to the dicts whose ``"data"`` value
    is bytes. The stored text and the returned copy hold base64 text there. It is
    made once and put into the canonical JSON as it is (base64 needs no escaping)
    instead of being escaped character by character by the JSON encoder: for the
    outputs of a large ``predict_proba`` call, most of the cost of an append.
    ``payload``'s bytes are replaced by their base64 text in place.

    With ``copy=False``, ``payload`` is serialised once and is itself the returned
    payload (no copy): for a payload built by the caller, which keeps no other
    reference to it, of dicts with ``str`` keys, lists, ``str``, ``int``, ``float``,
    ``bool`` and None only, whose canonical JSON reads back to the same text.
    """
    token = uuid.uuid4().hex
    holders = []
    for n, path in enumerate(blobs):
        holder = payload
        for key in path:
            holder = holder[key]
        mark = f"sktraceprop-blob-{token}-{n}"
        holders.append((path, mark, base64.b64encode(holder["data"]).decode("ascii")))
        holder["data"] = mark
    if copy:
        text, held = payload_text(payload)
        targets = (payload, held)
    else:
        text, held = _serialised(payload), payload
        targets = (payload,)
    for path, mark, data in holders:
        for target in targets:
            for key in path:
                target = target[key]
            target["data"] = data
        quoted = f'"{mark}"'
        if text.count(quoted) != 1:  # the marker is also elsewhere in the payload
            return payload_text(payload)
        text = text.replace(quoted, f'"{data}"', 1)
    return text, held


def _serialised(payload):
    """:func:`canonical_json` of a payload, or a TypeError saying what a payload may hold
    (NaN and infinities included: JSON has no such numbers, and a log that holds them
    cannot be read by other JSON readers, nor copied into a compliance report)."""
    try:
        # canonical_json's text, refusing a non-finite number as it goes
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError):
            where = _non_finite_path(payload)
            said = f"{where} is not a finite number" if where else str(exc)
        else:
            mixed = _mixed_keys(payload)
            said = (
                str(exc)
                if mixed is None
                else (
                    f"{mixed[0]} has keys of several types ({mixed[1]}): JSON turns every key "
                    "into a string, where two can become one (1 and '1'); give keys of one type"
                )
            )
        raise TypeError(
            "an audit event payload must be JSON-serialisable (dicts with str keys, "
            f"lists, str, int, float, bool, None; finite numbers): {said}"
        ) from None


def _first_in(value, found_at, path="payload"):
    """The first ``found_at(node, place)`` that is not None, depth first through the
    dicts, lists and tuples of ``value`` (the node itself before its items)."""
    found = found_at(value, path)
    if found is not None:
        return found
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_in(item, found_at, f"{path}[{key!r}]")
        if found is not None:
            return found
    return None


def _mixed_here(value, path):
    if isinstance(value, dict):
        kinds = {str if isinstance(k, str) else type(None) if k is None else float for k in value}
        if len(kinds) > 1:
            return path, ", ".join(sorted({type(k).__name__ for k in value}))
    return None


def _mixed_keys(value, path="payload"):
    """``(place, types)`` of the first dict in ``value`` whose keys cannot be sorted
    together (str with numbers, None or bools), or None."""
    return _first_in(value, _mixed_here, path)


def _non_finite_path(value, path="payload"):
    """The first place in ``value`` holding a NaN or infinite float, or None."""
    return _first_in(
        value, lambda v, p: p if isinstance(v, float) and not math.isfinite(v) else None, path
    )


def make_event(prev_hash, kind, payload, run_id, seq, text=None):
    """The event ``seq`` after ``prev_hash``; ``text`` is the payload's canonical JSON
    from :func:`payload_text` when the caller has it (else it is made here)."""
    if text is None:
        text, payload = payload_text(payload)
    created_at = utc_now()
    return {
        "seq": seq,
        "run_id": run_id,
        "created_at": created_at,
        "kind": kind,
        "payload": payload,
        "prev_hash": prev_hash,
        "hash": _spliced_hash(prev_hash, seq, run_id, created_at, kind, text),
    }


_NOT_AS_WRITTEN = (
    "its text is not the JSON sktraceprop writes of its value (canonical, or keys sorted "
    "as sktraceprop 0.1 wrote it): it was rewritten outside sktraceprop, in a form the "
    "hash does not see and another reader may read otherwise (a number with more digits "
    "than a double holds)"
)


def stored_event_hash(row, checked=False):
    """``(payload, hash)`` of a stored event row, from its payload text as stored.

    The hash is what :func:`event_hash` gives the row's fields and linked
    ``prev_hash``; ``checked`` says :func:`event_row_problem` found nothing already.
    Raises ValueError if the row cannot be an event sktraceprop wrote:
    a column of another type (:func:`event_row_problem`), a payload that is not JSON,
    one holding a key twice in one object (see :func:`loads_stored`), or a text that
    is not what sktraceprop writes of its value. The hash is over the value as Python
    reads it, so a text rewritten to the same value (``0.1`` as ``0.10000000000000001``,
    whitespace, escapes) would match it while PostgreSQL's ``jsonb`` or a decimal
    reader reads another number: sktraceprop writes canonical JSON (stores of
    sktraceprop 0.1 and the first of schema 2, ``json.dumps(payload, sort_keys=True)``),
    and any other text is refused.
    """
    wrong = None if checked else event_row_problem(row)
    if wrong is not None:
        raise ValueError(wrong)
    seq, run_id, created_at, kind, text, prev_hash, _ = row
    try:
        payload = json.loads(text)
        record = {
            "seq": seq,
            "run_id": run_id,
            "created_at": created_at,
            "kind": kind,
            "payload": payload,
        }
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        # the payload's key comes first there: the strings before it (created_at, kind)
        # hold no unescaped quote
        start = body.index('"payload":') + len('"payload":')
        if not (body.startswith(text, start) and body.startswith(',"run_id":', start + len(text))):
            # not canonical as stored: a key held twice (the last read here, the first by
            # json_extract) is named; else only what the first stores wrote is accepted
            loads_stored(text)
            if text != json.dumps(payload, sort_keys=True):
                raise ValueError(_NOT_AS_WRITTEN)
    except RecursionError:
        raise ValueError("nested too deeply to be read") from None
    return payload, hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def stored_event_matches(row):
    """Whether a stored event row ``(seq, run_id, created_at, kind, payload text,
    prev_hash, hash)`` matches its own hash (its link is not checked here)."""
    try:
        return stored_event_hash(row)[1] == row[6]
    except ValueError:
        return False
