"""Erasing what every stored run holds of some training rows: :meth:`BaseStore.erase_rows`.

An erasure request names rows (or whole sources); the store finds every run that was
given them (as training rows, as rows given to ``fit`` before a sampler, as parents of
merged rows or members of an aggregate joined back) and erases from each what it holds
of them: its statistics of their sources (and of the sources merged from them), its
sample weights' record, and any feature names the request names. The whole request is
planned and checked before anything is erased.

Row ids are packed with a source *code* that is a property of the process that read the
source (derived from its id and content, probed on a collision), so a run stored by
another process may give the same source another code. Rows are therefore matched by
source identity (``source_id`` and SHA-256) and line, never by the raw packed id.
"""

import warnings

import numpy as np

from .._lineage._depends_on import depends_on
from .._lineage._ids import codes_of, lines_of, pack
from .._lineage._merged_parents import expand, levels
from ..exceptions import LineageWarning, StoreError, UnknownSourceError
from ..utils._stack import user_stacklevel
from ._erase_holders import run_rows_here, source_rows_here, warn_held_here
from ._erase_witnesses import forget_erased
from ._prediction_salts import warn_unsalted_inputs
from ._redaction import Request, redact_runs
from ._sealed import REDACTED_NAME, REDACTION_EVENT

#: The audit event that records an erasure request (what was asked, why, which runs).
ERASURE_EVENT = "store.erasure"


def _names(value, what):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    names = list(value)
    wrong = [v for v in names if not isinstance(v, str)]
    if wrong:
        raise TypeError(f"{what} must be strings; got {wrong[0]!r}")
    if not names:
        raise ValueError(f"{what} is empty: name at least one")
    return list(dict.fromkeys(names))


def _ids(sample_id):
    ids = np.asarray(sample_id)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(
            f"sample_id must be a non-empty 1-D array of packed row ids, got shape {ids.shape}"
        )
    if ids.dtype.kind not in "iu":
        raise TypeError(f"sample_id must hold integers (packed row ids), got dtype {ids.dtype}")
    return np.unique(ids.astype(np.int64))


def keyed_rows(ids, stored_sources, registry=None):
    """``{source key: lines}`` of packed row ids ``ids``.

    A code is read through ``registry`` (this process's sources: the ids were made
    here) when it knows it, else through the codes the stored runs give their sources
    (``stored_sources``: ``{code: set of keys}``), which must name one source.
    """
    out = {}
    codes = codes_of(ids)
    for code in np.unique(codes).tolist():
        key = None
        if registry is not None and registry.has_code(code):
            key = registry.by_code(code).key
        else:
            keys = stored_sources.get(code, set())
            if len(keys) > 1:
                names = " and ".join(sorted(f"{k[0]!r} (sha256 {k[1][:12]}...)" for k in keys))
                raise StoreError(
                    f"row ids with source code {code} name {names} in different stored runs "
                    "(codes made by different processes): give the rows in the process that "
                    "read the data, or erase by source_id. Nothing was changed."
                )
            if keys:
                key = next(iter(keys))
        if key is None:
            raise UnknownSourceError(
                f"row ids name source code {code}, which neither this process nor any run "
                "stored here knows; were the ids changed? Nothing was changed."
            )
        lines = lines_of(ids[codes == code])
        out[key] = np.union1d(out.get(key, np.zeros(0, np.int64)), lines)
    return out


def removed_in(run, source_ids=None, rows=None):
    """``(removed_ids, removed_codes)`` of the request in ``run``'s codes."""
    codes_by_key = {s.key: code for code, s in run.sources.items()}
    if source_ids is not None:
        codes = [c for c, s in run.sources.items() if s.source_id in source_ids]
        return np.zeros(0, np.int64), codes
    parts = [pack(codes_by_key[k], lines) for k, lines in rows.items() if k in codes_by_key]
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)), []


def _run_rows(run):
    ids = [run.row_ids] + ([] if run.input_row_ids is None else [run.input_row_ids])
    return np.concatenate(ids) if len(ids) > 1 else ids[0]


def hit_rows(run, ids, removed_ids, removed_codes):
    """Which of ``ids`` (rows of ``run``) are, or were built from, removed rows."""
    hit, _ = depends_on(ids, run.sources.__getitem__, removed_ids, removed_codes)
    return hit


def run_values(run, removed_ids=(), removed_codes=(), features=()):
    """What ``run`` holds of the removed rows (None when it was not given any).

    ``removed_ids`` and ``removed_codes`` are in the run's own codes. Returns
    ``{"features", "sources", "fit_params"}``: the names asked for, the sources whose
    statistics counted removed rows (their sources; the merged and aggregate sources of
    the training rows built from them, and the other sources those rows were built
    from, whose records count the same rows) and the fit parameters recorded per row
    (sample weights).
    """
    removed_ids = np.asarray(removed_ids, dtype=np.int64)
    if not removed_ids.size and not len(removed_codes):
        return None
    ids = _run_rows(run)
    if not ids.size:
        return None
    hit = hit_rows(run, ids, removed_ids, removed_codes)
    if not hit.any():
        return None
    codes = set(codes_of(ids[hit]).tolist())
    codes |= set(codes_of(removed_ids).tolist()) | set(removed_codes)
    _, leaves, _ = expand(ids[hit], run.sources.__getitem__, with_via=False)
    codes |= set(codes_of(leaves).tolist())
    # a source's record counts the training rows built from it (``through_merges`` for
    # the parents of merged rows): the sources of the rows hit and of their leaves hold
    # the removed rows' labels; the other parents of a merge never counted them
    sources = {run.sources[c].source_id for c in codes if c in run.sources}
    weights = [k for k, v in run.fit_params.items() if "weights" in v or "retained" in v]
    return {"features": list(features), "sources": sorted(sources), "fit_params": weights}


def _covered(run, removed_ids):
    """Which of ``removed_ids`` (the run's codes) the run was given, or built rows from."""
    ids = _run_rows(run)
    # the rows themselves, the merged rows they were built from and the leaves: a
    # request may name a training row, which a merge made
    seen = [rows for _, rows in levels(ids, run.sources.__getitem__)]
    for code in np.unique(codes_of(np.concatenate(seen))).tolist():
        source = run.sources.get(code)
        if source is not None and source.kind == "aggregate":
            seen.append(source.require_parents().ids)
    return np.isin(removed_ids, np.concatenate(seen))


def plan(store, *, source_id=None, sample_id=None, features=(), registry=None, skip=()):
    """``([(run_id, {"features", "sources", "fit_params"})], (removed, asked), rows,
    kept)``:
    what each stored run given the rows holds of them (only what it still holds),
    checked before anything changes; what objects of this process (``registry``) may
    hold of them, in its codes (see :mod:`._erase_holders`): the rows given to those
    runs that joined an aggregate over erased rows (``removed``), and the erased rows
    behind the rows given to them at any level of the merges, with, for a request by
    source, every row of those sources objects here hold (``asked``); and the rows
    asked for, ``{source key: lines}`` (None for a request by source); ``kept``: per run
    given the rows, how many of its feature names are made of values (:func:`value_names`)
    and not among ``features``.

    Raises when a source or row is unknown to the store, or when a run given the rows
    was stored unsealed (its record cannot lose a value).
    """
    runs = [store.load_run(r) for r in store.list_runs()["run_id"] if r not in skip]
    stored_sources = {}
    for run in runs:
        for code, source in run.sources.items():
            stored_sources.setdefault(code, set()).add(source.key)
    source_ids = source_id
    if source_ids is not None:
        known = {k[0] for keys in stored_sources.values() for k in keys}
        known |= {row[0] for row in store._raw_sources()}
        unknown = [s for s in source_ids if s not in known]
        if unknown:
            raise UnknownSourceError(
                f"{store!r} holds no source {', '.join(map(repr, unknown))}; its sources: "
                f"{', '.join(sorted(map(repr, known))[:10]) or 'none'}. Nothing was changed."
            )
        rows = None
        _warn_if_several_files(runs, source_ids)
    else:
        rows = keyed_rows(sample_id, stored_sources, registry)
    wanted, unsealed, given, here, kept, asked = [], [], {}, [], {}, set(features)
    for run in runs:
        removed_ids, removed_codes = removed_in(run, source_ids, rows)
        values = run_values(run, removed_ids, removed_codes, features)
        if rows is not None and removed_ids.size:
            for key, lines in rows.items():
                mine = [c for c, s in run.sources.items() if s.key == key]
                if mine:
                    got = _covered(run, pack(mine[0], lines))
                    given[key] = given.get(key, np.zeros(lines.size, bool)) | got
        if values is None:
            continue
        if registry is not None:
            ids = _run_rows(run)
            hit, via_aggregate = depends_on(
                ids, run.sources.__getitem__, removed_ids, removed_codes
            )
            here.append(
                run_rows_here(run, ids, hit, via_aggregate, removed_ids, removed_codes, registry)
            )
        if not store._is_sealed_run(run.run_id):
            unsealed.append(run.run_id)
            continue
        held = store._held_values(run.run_id, **values)
        wanted.append((run.run_id, held))
        kept[run.run_id] = sum(n not in asked for n in value_names(run))
    if rows is not None:
        never = [
            f"{key[0]!r} line {int(line)}"
            for key, lines in rows.items()
            for line in lines[~given.get(key, np.zeros(lines.size, bool))][:5]
        ]
        if never:
            raise ValueError(
                f"no run stored in {store!r} was given these rows: {', '.join(never[:5])}"
                f"{' ...' if len(never) > 5 else ''}. Nothing was changed."
            )
    if unsealed:
        raise StoreError(
            f"runs {', '.join(unsealed)} in {store!r} were given the rows but were stored "
            "with their whole record under the hash chain (a store of schema version 2, or "
            "runs saved before sktraceprop sealed them): no part of them can be erased "
            "without breaking the chain. Nothing was changed."
        )
    named = {f for _, held in wanted for f in held["features"]}
    missing = [f for f in features if f not in named]
    if missing:
        raise ValueError(
            f"no stored run given the rows holds the feature names "
            f"{', '.join(map(repr, missing))} (never there, or erased already). Nothing "
            "was changed."
        )
    if registry is not None and source_ids is not None:
        keys = {k for keys in stored_sources.values() for k in keys if k[0] in source_ids}
        keys |= {(row[0], row[1]) for row in store._raw_sources() if row[0] in source_ids}
        here.append((np.zeros(0, np.int64), source_rows_here(source_ids, keys, registry)))
    held_here = tuple(
        np.unique(np.concatenate([np.zeros(0, np.int64), *(h[i] for h in here)])) for i in (0, 1)
    )
    planned = [(run_id, held) for run_id, held in wanted if any(held.values())]
    return planned, held_here, rows, kept


def _request(source_ids, rows):
    """The request as an erasure event records it: sources by id, rows by source key and
    line (never by a packed id, whose code belongs to this process)."""
    if source_ids is not None:
        return {"source_ids": list(source_ids), "rows": None}
    rows = [
        {"source_id": key[0], "sha256": key[1], "lines": lines.tolist()}
        for key, lines in sorted(rows.items())
    ]
    return {"source_ids": None, "rows": rows}


def erased_rows(store, run):
    """``{training row position: erasure event}``: the rows of ``run`` (a stored run) that
    an erasure request (:meth:`BaseStore.erase_rows`) named, or that were built from
    rows it named; the earliest request for each (carried out, if one was). Each event
    has ``carried_out``: whether a ``store.redaction`` event of the run names it (not so
    where a writer of an older sktraceprop stopped, or failed, between recording the
    request and erasing)."""
    out = {}
    events = store.events(kind=ERASURE_EVENT, include_store_events=True)
    reasons = [
        e["payload"].get("reason", "")
        for e in store.events(run.run_id, kind=REDACTION_EVENT, include_store_events=True)
    ]
    for event in events:
        payload = event["payload"]
        if run.run_id not in payload.get("runs", ()):
            continue
        named = f"(erasure event {event['seq']})"
        event = {**event, "carried_out": any(str(r).endswith(named) for r in reasons)}
        if payload.get("source_ids") is not None:
            ids, codes = removed_in(run, source_ids=set(payload["source_ids"]))
        else:
            rows = {
                (r["source_id"], r["sha256"]): np.asarray(r["lines"], dtype=np.int64)
                for r in payload["rows"]
            }
            ids, codes = removed_in(run, rows=rows)
        if not ids.size and not codes:
            continue
        for position in np.flatnonzero(hit_rows(run, run.row_ids, ids, codes)).tolist():
            if position not in out or (event["carried_out"] and not out[position]["carried_out"]):
                out[position] = event
    return out


def _warn_if_several_files(runs, source_ids):
    """Say so when a source id names sources of several files in the stored runs (two
    folders' ``data.csv``, both ``data`` by default): a request by that id erases for
    the rows of all of them. Versions of one file (read again after an edit) are one
    source, erased together by design."""
    for name in source_ids:
        uris = sorted({s.uri for run in runs for s in run.sources.values() if s.source_id == name})
        if len(uris) > 1:
            warnings.warn(
                f"source_id {name!r} names sources of {len(uris)} files in this store "
                f"({', '.join(uris)}): the rows of every one of them are erased. To erase "
                "one file's rows, pass sample_id= with its row ids (sktraceprop.row_ids "
                "of the frame read from it).",
                LineageWarning,
                stacklevel=user_stacklevel(),
            )


def erase_rows(store, *, source_id, sample_id, reason, features, dry_run):
    """See :meth:`BaseStore.erase_rows`."""
    if (source_id is None) == (sample_id is None):
        raise ValueError("give exactly one of source_id= or sample_id=")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the rows are erased (a non-empty string)")
    source_ids = _names(source_id, "source_id")
    ids = None if sample_id is None else _ids(sample_id)
    features = _names(features, "features") if features else []
    if not dry_run:
        store._check_writable()
    from .._lineage._source import REGISTRY

    planned, given_here, rows, kept = plan(
        store, source_id=source_ids, sample_id=ids, features=features, registry=REGISTRY
    )
    # a dry run names what erasing would not reach; an erasure has valuers drop the rows
    warn_held_here(*given_here, drop=not dry_run)
    if dry_run:
        # the names made of values a real erasure would warn of (counted, never named)
        return [
            {"run_id": run_id, **held, "value_names_kept": kept[run_id]}
            for run_id, held in planned
        ]
    # the process's own copies of the rows' loaded values go, whatever the store held
    forget_erased(source_ids, rows, REGISTRY)
    if not planned:
        # Erased already. The files are wiped again: a writer killed after committing
        # the erasure, before it wiped them (SQLite's write-ahead log folded, PostgreSQL's
        # table rewritten), left the values' old bytes there; the request run again
        # is how that is finished.
        store._scrub()
        warn_unsalted_inputs(store)
        return []
    # The request's event and every run's erasure: one transaction (a writer killed
    # part way leaves all or nothing), re-planned inside it against what the runs still
    # hold (another writer may have erased some of it since).
    payload = {**_request(source_ids, rows), "reason": reason.strip()}
    done, _ = redact_runs(
        store,
        planned,
        lambda event: f"{reason.strip()} (erasure event {event['seq']})",
        request=Request(ERASURE_EVENT, payload),
        held_only=True,
        failed=lambda run_id, held, exc: (
            f"erasing from stored run {run_id} failed: {exc}. Nothing of the request was "
            "erased or recorded, from any run; run store.erase_rows again once that is "
            "resolved."
        ),
    )
    # said once the runs are erased from: an erasure refused (a busy store) erased nothing
    _warn_value_names({run_id: kept[run_id] for run_id, _ in planned})
    warn_unsalted_inputs(store)
    wiped = not store._erasure_left()
    return [{**summary, "wiped": wiped} for summary in done]


def value_names(run):
    """Feature names of ``run`` that are not input column names (after a step's
    ``prefix__``): names made from values, one-hot categories for one (``occupation_x``),
    which may spell a value only some rows had (names erased already are not)."""
    names = []
    for feature, columns in run.feature_lineage.items():
        base = str(feature).rpartition("__")[2]
        if base not in {str(c) for c in columns or ()} and not base.startswith(REDACTED_NAME):
            names.append(feature)
    return names


def _warn_value_names(kept):
    """Warn that the runs erased from keep feature names made from values (one-hot
    categories) that ``features=`` did not name (``kept``: run id -> how many): the
    store holds no data, so it cannot tell whether only the erased rows had a category;
    a category they alone had stays spelled in the stored run. The names themselves are
    not shown (they may be the erased data)."""
    kept = {run_id: n for run_id, n in kept.items() if n}
    if not kept:
        return
    counts = ", ".join(f"{n} in run {run_id}" for run_id, n in kept.items())
    warnings.warn(
        f"the stored runs erased from keep feature names that are not input column names "
        f"({counts}: one-hot categories, for one), which features= did not name. A name "
        "made from a category that only the erased rows had spells their data, and stays "
        "in the store: the store holds no data to tell which do. Erase those names with "
        "store.redact(run_id, features=[...], reason=...) (the run's feature_lineage "
        "lists them), or name them in erase_rows(features=) with the rows; "
        "GradientCorrectionUnlearner.unlearn(redact=) finds them from the data.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
