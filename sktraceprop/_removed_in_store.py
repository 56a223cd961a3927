"""Rows a store records as removed (unlearned in any process, or erased), so that a fit
writing to that store on them is said (:mod:`._removed_rows` holds this process's).

A removal made in another process, or before a restart, is in the store alone: its
``"unlearning"`` events (the training row ids removed, packed with the codes of the
process that made them, read through their run's stored sources) and its erasure
requests (``store.erasure``: sources, or rows by source identity and line). Both are
matched by source identity (``source_id`` and SHA-256) and line, never by a packed id,
whose code belongs to the process that read the source. One query of the store's
events of those two kinds per fit (never its prediction log); the records of the runs of
the unlearning events are read, once each, to read their sources.

Removals are seen through merges both ways. The fit's rows come with the rows their
merged rows were built from (:mod:`._removed_rows`), so a merged row whose parent file
line was removed is found; and a removed merged row counts the rows it was built from
as removed (as this process's record does), read through the merge parents its run
stored (the run loaded, once, only where a removed row is a merged one; for an
erasure, through a run it erased from), so a later fit on a parent file line is found.
An unlearner that stored no run (an estimator that is not traced) names its rows'
sources, and the rows behind its merged rows, in its event itself; one such event
recorded before it did cannot be read in any process, and a fit on rows of the sources
it counts its rows under is told so (a :class:`~sktraceprop.exceptions.LineageWarning`
naming the event), never checked against this process's reading of its ids.
"""

import json
import warnings

import numpy as np

from ._lineage._ids import codes_of, distinct_codes, lines_of, pack
from ._lineage._merged_parents import rows_behind
from ._lineage._source import REGISTRY
from ._removal_events import ERASURE as _ERASURE
from ._removal_events import removal_events
from ._removed_batch import EventLines
from ._removed_set import ERASURE_WHAT, RemovedRows
from .exceptions import LineageError, LineageWarning, StoreError

__all__ = ["removed_in_store"]


def _ids(value):
    """Row ids of an event's payload (an array where the events are cached, a list as
    read), as int64; none: empty."""
    if isinstance(value, np.ndarray):
        return value.astype(np.int64, copy=False)
    return np.asarray(value or [], dtype=np.int64)


def _keys_here(ids):
    """``{(source_id, sha256): code}`` of the sources of packed row ids ``ids``."""
    out = {}
    for code in distinct_codes(ids).tolist():
        if REGISTRY.has_code(code):
            source = REGISTRY.by_code(code)
            out[(source.source_id, source.sha256)] = int(code)
    return out


class _NotMerged:
    kind = "unknown"  # a code the run does not name: no rows behind it to follow


class _Run:
    """What the check reads of one stored run, each part once: its sources' codes,
    identities and kinds (from its record), and its sources with their merge parents
    (the run loaded, only for removed rows that a merge made)."""

    def __init__(self, store, run_id):
        self.store, self.run_id, self._sources = store, run_id, None
        row = store._raw_run(run_id)
        try:
            entries = json.loads(row[0])["sources"]
            self.keys = {
                int(e["code"]): (e["source_id"], e["sha256"], e.get("kind")) for e in entries
            }
        except (TypeError, ValueError, KeyError, IndexError):
            self.keys = {
                code: (*s.key, s.kind) for code, s in self.sources().items()
            }  # a store whose runs are not kept as records: the run loaded

    def sources(self):
        if self._sources is None:
            self._sources = self.store.load_run(self.run_id).sources
        return self._sources

    def with_rows_behind(self, ids):
        """``ids`` (rows in this run's codes) and the rows their merged rows were built
        from, at every level of the merges: a merged row removed removes its parents'
        values from the model, and a later fit on a parent row learns them again."""
        codes = np.unique(codes_of(ids)).tolist()
        # a kind the record does not give (a record of an earlier release): the run's
        # sources say it
        kinds = [self.keys.get(c, (0, 0, None))[2] for c in codes]
        if all(k not in ("merge", None) for k in kinds):
            return ids
        sources = self.sources()
        if not any(c in sources and sources[c].kind == "merge" for c in codes):
            return ids
        behind, _ = rows_behind(ids, lambda c: sources.get(int(c), _NotMerged))
        return np.concatenate([ids, behind])

    def lines_by_key(self, ids, keys):
        """``{key: lines}`` of the rows ``ids`` (this run's codes) of sources ``keys``."""
        out = {}
        codes = codes_of(ids)
        for code in np.unique(codes).tolist():
            key = self.keys.get(int(code), (None, None))[:2]
            if key in keys:
                lines = lines_of(ids[codes == code])
                out[key] = np.union1d(out.get(key, lines[:0]), lines)
        return out


class _Runless(_Run):
    """The sources of an unlearning event with no run, read from the event itself
    (``row_sources``, ``rows_behind``: see
    :func:`sktraceprop.unlearning._event_fields.runless_rows`); an event of an earlier
    release has neither, and no process can read its ids (:func:`_unreadable_runless` says
    so)."""

    def __init__(self, payload):
        self.behind = _ids(payload.get("rows_behind"))
        self.keys = {}
        for e in payload.get("row_sources") or ():
            if isinstance(e, dict) and {"code", "source_id", "sha256"} <= e.keys():
                self.keys[int(e["code"])] = (e["source_id"], e["sha256"], e.get("kind"))

    def with_rows_behind(self, ids):
        return np.concatenate([ids, self.behind])


def _read(store, runs, run_id, event, stacklevel):
    """The :class:`_Run` ``run_id`` (read once, into ``runs``), or None where it cannot
    be read (said: the event's rows are then not checked)."""
    if run_id not in runs:
        try:
            runs[run_id] = _Run(store, run_id)
        except (StoreError, LineageError) as exc:
            runs[run_id] = None
            warnings.warn(
                f"the rows of {event['kind']} event {event['seq']} in {store!r} were not "
                f"checked against this fit: its run {run_id} cannot be read ({exc})",
                LineageWarning,
                stacklevel=stacklevel + 1,
            )
    return runs[run_id]


def _behind(store, runs, run, ids, event, stacklevel):
    """``ids`` and the rows behind them in ``run`` (see :meth:`_Run.with_rows_behind`);
    ``ids`` alone, said, where the run holds no merge parents to follow."""
    try:
        return run.with_rows_behind(ids)
    except (StoreError, LineageError) as exc:
        warnings.warn(
            f"the rows merged rows removed by {event['kind']} event {event['seq']} in "
            f"{store!r} were built from were not checked against this fit: the merges of "
            f"run {run.run_id} cannot be followed ({exc})",
            LineageWarning,
            stacklevel=stacklevel + 1,
        )
        return ids


def _unlearned(store, event, keys, runs, stacklevel):
    """``{key: lines}`` of the rows of sources ``keys`` an unlearning event removed (the
    training rows and the rows they were merged from)."""
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    ids = _ids(payload.get("row_ids"))
    run_id = event["run_id"]
    if not ids.size:
        return {}
    if run_id is None:  # an unlearner that stored no run: the event names its sources
        if "row_sources" not in payload:  # recorded before it did: said, never guessed
            _unreadable_runless(store, event, payload, keys, stacklevel + 1)
            return {}
        run = _Runless(payload)
        return run.lines_by_key(run.with_rows_behind(ids), keys)
    run = _read(store, runs, run_id, event, stacklevel + 1)
    if run is None:
        return {}
    return run.lines_by_key(_behind(store, runs, run, ids, event, stacklevel + 1), keys)


def _named_sources(payload):
    """``{label: (source_id, sha256 or None)}`` of the sources an unlearning event counts
    its removed rows under (``sources``; ``source_contents`` where a label is not the
    source_id alone), or None where it names none."""
    counted = payload.get("sources")
    if not isinstance(counted, dict) or not counted:
        return None
    contents = payload.get("source_contents") or {}
    out = {}
    for label in counted:
        entry = contents.get(label) if isinstance(contents, dict) else None
        if isinstance(entry, dict) and "source_id" in entry:
            out[label] = (str(entry["source_id"]), entry.get("sha256"))
        else:
            out[label] = (str(label), None)  # (a label is the source_id where unique)
    return out


def _unreadable_runless(store, event, payload, keys, stacklevel):
    """Say that the rows of a run-less unlearning event recorded before events named
    their sources (``row_sources``) cannot be checked: its row ids are packed with the
    codes of the process that made it, which no run records, so reading them here would
    name this process's rows (another source, or another line). Silent only where the
    event names its sources and none is among the fit's (rows of sources ``keys``)."""
    named = _named_sources(payload)
    if named is not None:
        hit = sorted(
            label
            for label, (sid, sha) in named.items()
            if any(k[0] == sid and (sha is None or k[1] == sha) for k in keys)
        )
        if not hit:
            return
        which = "; ".join(_runless_rows(payload, label) for label in hit)
    else:
        which = f"{payload.get('n_removed', 'some')} row(s) of sources it does not name"
    warnings.warn(
        f"the rows of unlearning event {event['seq']} in {store!r} (at "
        f"{event['created_at']}) were not checked against this fit: an unlearner that "
        "stored no run recorded it before such events named their sources (row_sources), "
        "and its row ids are packed with the codes of the process that made it, which "
        f"nothing here can read. It removed {which}: rows of the fit among them may be "
        "rows that event removed from a model, and are not said to be",
        LineageWarning,
        stacklevel=stacklevel + 1,
    )


def _runless_rows(payload, label):
    """The rows of source ``label`` an old run-less event says it removed, no more
    precisely than it recorded them: the count under it and the first and last line,
    never a range read as every line in it (2 rows at lines 5 and 13 were "lines
    5-13", nine lines to a reader)."""
    counts = payload.get("sources")
    count = counts.get(label) if isinstance(counts, dict) else None
    if not isinstance(count, int):
        count = "some"
    spans = payload.get("lines") if isinstance(payload.get("lines"), dict) else {}
    span = spans.get(label)
    if not (isinstance(span, list | tuple) and len(span) == 2):
        return f"{count} row(s) of {label} (which lines is not recorded)"
    first, last = span
    if first == last:
        return f"{count} row(s) of {label} at line {first}"
    return (
        f"{count} row(s) of {label}, the first at line {first} and the last at line "
        f"{last} (which lines between them is not recorded)"
    )


def _erased(store, event, keys, runs, stacklevel):
    """``{key: [lines, ...] or None (every line)}`` of the rows of ``keys`` an erasure
    named, and the rows those of a merge were merged from (read through a run it erased
    from); the parts of a key are matched together (:mod:`._removed_batch`)."""
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    if payload.get("source_ids") is not None:
        named = set(payload["source_ids"])
        out = {key: None for key in keys if key[0] in named}
        for run_id in payload.get("runs") or ():  # every row of an erased merge source
            run = _read(store, runs, run_id, event, stacklevel + 1)
            merged = [] if run is None else _merges_named(run, named)
            for code in merged:
                n_rows = run.sources()[code].n_rows
                every = pack(code, np.arange(1, n_rows + 1, dtype=np.int64))
                behind = _behind(store, runs, run, every, event, stacklevel + 1)
                for k, more in run.lines_by_key(behind, keys).items():
                    if k not in out or out[k] is not None:
                        out.setdefault(k, []).append(more)
        return out
    out = {}
    for r in payload.get("rows") or ():
        key = (r.get("source_id"), r.get("sha256"))
        given = r.get("lines", ())
        if key in keys:
            out.setdefault(key, []).append(given)
            if REGISTRY.by_code(keys[key]).kind != "merge":
                continue  # (no rows behind a file's rows: no run to read)
        for run_id in payload.get("runs") or ():
            run = _read(store, runs, run_id, event, stacklevel + 1)
            code = None if run is None else _code_in(run, key)
            if code is None:
                continue
            if run.keys[code][2] == "merge":
                lines = np.asarray(given, dtype=np.int64)
                behind = _behind(store, runs, run, pack(code, lines), event, stacklevel + 1)
                for k, more in run.lines_by_key(behind, keys).items():
                    out.setdefault(k, []).append(more)
            break
    return out


def _merges_named(run, named):
    """The codes ``run`` gives the merge sources whose ``source_id`` is in ``named``."""
    return [c for c, (sid, _, kind) in run.keys.items() if sid in named and kind == "merge"]


def _code_in(run, key):
    """The code ``run`` gives the source ``key`` (the first, where it gives it two), or
    None."""
    index = run.__dict__.get("_by_key")
    if index is None:  # (made once a run: every erasure event asks it)
        index = {}
        for code, (source_id, sha256, _) in run.keys.items():
            index.setdefault((source_id, sha256), code)
        run._by_key = index
    return index.get(key)


def removed_in_store(store, ids, stacklevel=2, events=None):
    """``[RemovedRows]`` (:mod:`._removed_set`), one per event that removed some: the
    rows of ``ids`` (a fit's training rows) that ``store`` records as unlearned or
    erased; ``events``: :func:`~._removal_events.removal_events` of ``store`` where
    already read."""
    ids = np.asarray(ids, dtype=np.int64)
    keys = _keys_here(ids) if ids.size else {}
    if not keys:
        return []
    runs, removals = {}, []
    lines = EventLines(ids, keys)
    if events is None:
        events = removal_events(store)
    for event in events:
        if event["kind"] == "unlearning":
            found = _unlearned(store, event, keys, runs, stacklevel + 1)
            run = f" of run {event['run_id']}" if event["run_id"] is not None else ""
            what = f"unlearning event {event['seq']}{run}"
        elif event["kind"] == _ERASURE:
            found = _erased(store, event, keys, runs, stacklevel + 1)
            what = f"{ERASURE_WHAT}{event['seq']}"
        else:
            continue
        lines.add(len(removals), found)
        removals.append((what, event["created_at"]))
    # (the rows of every event matched at once: see _removed_batch)
    named = {code: REGISTRY.by_code(code).source_id for code in keys.values()}
    from .stores._erased_here import store_label

    shown = store_label(store)
    out = []
    for k, hit, codes in lines.rows():
        what, at = removals[k]
        said = f"{what} in {shown} at {at}"  # (as stores._erased_here.erased_what)
        out.append(RemovedRows.of_sorted(hit, said, {c: named[c] for c in codes}))
    return out
