"""Rows a store records as removed (unlearned in any process, or erased), so that a fit
writing to that store on them is said (:mod:`._removed_rows` holds this process's).

A removal made in another process, or before a restart, is in the store alone: its
``"unlearning"`` events (the training row ids removed, packed with the codes of the
process that made them, read through their run's stored sources) and its erasure
requests (``store.erasure``: sources, or rows by source identity and line). Both are
matched by source identity (``source_id`` and SHA-256) and line, never by a packed id,
whose code belongs to the process that read the source. One query of the store's
events of those two kinds per fit (never its prediction log); the runs of the unlearning
events are loaded, once each, to read their sources.
"""

import json
import warnings

import numpy as np

from ._lineage._ids import codes_of, distinct_codes, lines_of, pack
from ._lineage._source import REGISTRY
from .exceptions import LineageWarning, StoreError

__all__ = ["removed_in_store"]

_ERASURE = "store.erasure"  # (stores._erase_rows.ERASURE_EVENT, not imported: a cycle)


def _keys_here(ids):
    """``{(source_id, sha256): code}`` of the sources of packed row ids ``ids``."""
    out = {}
    for code in distinct_codes(ids).tolist():
        if REGISTRY.has_code(code):
            source = REGISTRY.by_code(code)
            out[(source.source_id, source.sha256)] = int(code)
    return out


def _run_sources(store, run_id):
    """``{code: (source_id, sha256)}`` of a stored run: read from its record (a sealed
    record keeps each source's code, id and SHA-256 in the clear), without decoding its
    row ids; a store whose runs are not kept as records loads the run."""
    row = store._raw_run(run_id)
    try:
        entries = json.loads(row[0])["sources"]
        return {int(e["code"]): (e["source_id"], e["sha256"]) for e in entries}
    except (TypeError, ValueError, KeyError, IndexError):
        sources = store.load_run(run_id).sources
        return {code: (s.source_id, s.sha256) for code, s in sources.items()}


def _unlearned(store, event, keys, runs, stacklevel):
    """``{key: lines}`` of the rows of sources ``keys`` an unlearning event removed."""
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    ids = np.asarray(payload.get("row_ids") or [], dtype=np.int64)
    run_id = event["run_id"]
    if not ids.size or run_id is None:
        return {}
    if run_id not in runs:
        try:
            runs[run_id] = _run_sources(store, run_id)
        except StoreError as exc:
            runs[run_id] = None
            warnings.warn(
                f"the rows of unlearning event {event['seq']} in {store!r} were not "
                f"checked against this fit: its run {run_id} cannot be read ({exc})",
                LineageWarning,
                stacklevel=stacklevel + 1,
            )
    sources = runs[run_id]
    if sources is None:
        return {}
    out = {}
    codes = codes_of(ids)
    for code in np.unique(codes).tolist():
        key = sources.get(int(code))
        if key in keys:
            out[key] = lines_of(ids[codes == code])
    return out


def _erased(event, keys):
    """``{key: lines or None (every line)}`` of the rows of ``keys`` an erasure named."""
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    if payload.get("source_ids") is not None:
        named = set(payload["source_ids"])
        return {key: None for key in keys if key[0] in named}
    out = {}
    for r in payload.get("rows") or ():
        key = (r.get("source_id"), r.get("sha256"))
        if key in keys:
            out[key] = np.asarray(r.get("lines", ()), dtype=np.int64)
    return out


def _events(store):
    """The store's unlearning and erasure events, oldest first: one query of those kinds."""
    from .stores._chain import EVENT_COLUMNS
    from .stores._events import decoded

    with store._snapshot():
        rows = list(store._raw_events_of_kinds(("unlearning", _ERASURE)))
    for row in rows:
        yield decoded(store, dict(zip(EVENT_COLUMNS, row)))


def removed_in_store(store, ids, stacklevel=2):
    """``[(row ids hit, {row id: "source line n"}, what removed them)]``: the rows of
    ``ids`` (a fit's training rows) that ``store`` records as unlearned or erased."""
    ids = np.asarray(ids, dtype=np.int64)
    keys = _keys_here(ids) if ids.size else {}
    if not keys:
        return []
    out, runs = [], {}
    for event in _events(store):
        if event["kind"] == "unlearning":
            found = _unlearned(store, event, keys, runs, stacklevel + 1)
            what = f"unlearning event {event['seq']} of run {event['run_id']}"
        elif event["kind"] == _ERASURE:
            found, what = _erased(event, keys), f"erasure event {event['seq']}"
        else:
            continue
        hit = []
        for key, lines in found.items():
            here = ids[codes_of(ids) == keys[key]]
            hit.append(here if lines is None else here[np.isin(here, pack(keys[key], lines))])
        hit = np.unique(np.concatenate([np.zeros(0, np.int64), *hit]))
        if hit.size:
            words = {
                int(i): f"{REGISTRY.by_code(c).source_id} line {int(n)}"
                for i, c, n in zip(hit.tolist(), codes_of(hit).tolist(), lines_of(hit).tolist())
            }
            out.append((hit, words, f"{what} in {store!r} at {event['created_at']}"))
    return out
