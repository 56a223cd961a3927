"""The rows of an erasure request matched in one stored run: by source identity and line
(never by a packed id, whose code belongs to the process that made it), and what the
run holds of them."""

import numpy as np

from .._lineage._depends_on import depends_on
from .._lineage._ids import codes_of, lines_of, pack
from .._lineage._merged_parents import expand, levels, rows_behind
from ..exceptions import LineageError, StoreError, UnknownSourceError


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


def rows_merged_into(runs, source_ids=None, rows=None):
    """``{source key: lines}`` of the rows the merged rows a request names were built
    from, at every level of the merges (the merged rows of an inner merge and the file
    lines alike): read through the stored ``runs`` that hold those merges' sources.

    A merged row holds the values of the rows it was built from: erasing it erases
    them, from every run given them (as a later fit on them is said, see
    :mod:`sktraceprop._removed_in_store`, and as this process's kept values of them are
    dropped). A request by ``source_ids`` names every row of a merge source it names.
    """
    out = {}
    for run in runs:
        named = []
        for code, source in run.sources.items():
            if source.kind != "merge":
                continue
            if source_ids is not None and source.source_id in source_ids:
                named.append(pack(code, np.arange(1, source.n_rows + 1, dtype=np.int64)))
            elif rows is not None and source.key in rows:
                named.append(pack(code, rows[source.key]))
        if not named:
            continue
        try:
            behind, _ = rows_behind(np.concatenate(named), run.sources.__getitem__)
        except (KeyError, LineageError) as exc:
            raise StoreError(
                f"the rows merged rows of the request were built from cannot be read "
                f"through stored run {run.run_id} ({exc!r}): they would be left in the "
                "runs given them directly. Nothing was changed."
            ) from exc
        codes = codes_of(behind)
        for code in np.unique(codes).tolist():
            key = run.sources[code].key
            lines = lines_of(behind[codes == code])
            out[key] = np.union1d(out.get(key, lines[:0]), lines)
    return out


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
