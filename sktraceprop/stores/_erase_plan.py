"""An erasure request planned and checked before anything is erased: what each stored run
given the rows holds of them, and what objects of this process may hold."""

import warnings

import numpy as np

from .._lineage._depends_on import depends_on
from .._lineage._ids import pack
from .._lineage._uri_path import same_file_uri
from ..exceptions import LineageWarning, StoreError, UnknownSourceError
from ..utils._stack import user_stacklevel
from ._erase_holders import run_rows_here, source_rows_here
from ._erase_match import (
    _covered,
    _run_rows,
    keyed_rows,
    removed_in,
    rows_merged_into,
    run_values,
)
from ._sealed import REDACTED_NAME

#: Why a request that found nothing in the store leaves no record there.
NOT_KEPT = (
    " No record of this request is kept: a store records an erasure request with what "
    "it erased from its runs, and this one names nothing a stored run holds (recorded, "
    "a request naming a source by id would mark as erased any later run on a source of "
    "that name). Keep your own record that it was made and found nothing here."
)


def _first(names, shown):
    """``names`` joined, the first ``shown`` of them and how many more (never cut
    without saying so)."""
    more = f" and {len(names) - shown} more ({len(names)} in all)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def plan(store, *, source_id=None, sample_id=None, features=(), registry=None, skip=()):
    """``([(run_id, {"features", "sources", "fit_params"})], (removed, asked), rows,
    kept)``:
    what each stored run given the rows (or the rows merged rows named were built
    from, see :func:`~._erase_match.rows_merged_into`) holds of them (only what it
    still holds),
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
                f"{_first(sorted(map(repr, known)), 10) or 'none'}. Nothing was changed."
                + NOT_KEPT
            )
        rows = None
        _warn_if_several_files(runs, source_ids)
    else:
        rows = keyed_rows(sample_id, stored_sources, registry)
    # the rows merged rows named were built from go too, from the runs given them
    # directly: the merged row held their values
    behind = rows_merged_into(runs, source_ids, rows)
    wanted, unsealed, given, here, kept, asked = [], [], {}, [], {}, set(features)
    for run in runs:
        removed_ids, removed_codes = removed_in(run, source_ids, rows)
        if behind:
            removed_ids = np.union1d(removed_ids, removed_in(run, rows=behind)[0])
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
            (key, lines[~given.get(key, np.zeros(lines.size, bool))])
            for key, lines in rows.items()
        ]
        # every row counted, five named: a list cut at five without its count reads as
        # the whole of what was refused
        count = sum(lines.size for _, lines in never)
        if count:
            named = [f"{key[0]!r} line {int(line)}" for key, lines in never for line in lines]
            more = f" and {count - 5} more ({count} rows in all)" if count > 5 else ""
            raise ValueError(
                f"no run stored in {store!r} was given these rows: {', '.join(named[:5])}"
                f"{more}. Nothing was changed." + NOT_KEPT
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


def _warn_if_several_files(runs, source_ids):
    """Say so when a source id names sources of several files in the stored runs (two
    folders' ``data.csv``, both ``data`` by default): a request by that id erases for
    the rows of all of them. Versions of one file (read again after an edit) are one
    source, erased together by design."""
    for name in source_ids:
        # (one file's URI as an older record wrote it and as a new one does: one file)
        files = {}
        for run in runs:
            for s in run.sources.values():
                if s.source_id == name:
                    files.setdefault(same_file_uri(s.uri), s.uri)
        uris = sorted(files.values())
        if len(uris) > 1:
            warnings.warn(
                f"source_id {name!r} names sources of {len(uris)} files in this store "
                f"({', '.join(uris)}): the rows of every one of them are erased. To erase "
                "one file's rows, pass sample_id= with its row ids (sktraceprop.row_ids "
                "of the frame read from it).",
                LineageWarning,
                stacklevel=user_stacklevel(),
            )


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
