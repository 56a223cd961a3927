"""Which rows of a fit went through a step fitted outside the pipeline.

:mod:`._upstream_outputs` finds, by the values, which upstream steps a fit's rows went
through. A step applied to some rows of a file only (a scaler per hospital of one file,
before ``pd.concat``) went through those rows and not the others; every ``transform``
notes the ids of the rows it transformed (``OUTPUTS.rows``), and :func:`restrict_rows`
limits each step to them (``Op.rows``), or leaves out a step that transformed none of
the rows given, once the rows it did not transform are accounted for by their values
(as loaded, or another step's kept output). Where they are not (transformed in a worker
process, changed since), the step stays listed for every row of its sources and the
notes say why.
"""

from dataclasses import replace

import numpy as np
import pandas as pd

from ._ids import codes_of
from ._op_rows import leaf_paths, op_codes
from ._row_sets import encode
from ._upstream_outputs import AGREE, OUTPUTS, _names, _witness_rows
from ._witness import WITNESSES, _equal, _take_columns, positions_in


def restrict_rows(found, X, ids, sources):
    """:func:`identify`'s ``found`` with each op limited to the rows it transformed.

    An upstream op that transformed only some of the rows of its sources among ``ids``
    (one hospital's rows of a file, before ``pd.concat``) is limited to those rows
    (``Op.rows``): the ids on the way of the rows (their own, a merge's, the leaf's) it
    transformed in this process. One that transformed none of them is left out. Either
    way the rows it did not transform must be accounted for otherwise: each witness row
    of ``X`` among them agrees on at least :data:`AGREE` of its cells with what was
    loaded or with another op's kept output. Where one does not (it may have been
    transformed in another process: a joblib worker), or where the op's rows are not
    known here (learnt from another process, an array op), the op stays as
    :func:`identify` found it, listed for every row of its sources.

    Returns
    -------
    through, left_out, unchecked : list of Op
        As :func:`identify`'s, the ops of ``through`` (and ``unchecked``) limited.
    notes : list of str
        What the run's notes must add (an op kept for every row, and why).
    """
    through, left_out, unchecked = found
    unchecked_prints = {op.fingerprint for op in unchecked}
    out, dropped, kept_unchecked, notes, paths = [], list(left_out), [], [], None
    unexplained_rows = False  # (found once, when first needed)
    for op in through:
        done = OUTPUTS.rows(op.fingerprint) if op.sources is not None else None
        if done is None or op.rows is not None:
            out.append(op)
            continue
        if paths is None:
            if any(s.kind == "merge" for s in sources.values()):
                pos, _, entry, code, way = leaf_paths(ids, sources.__getitem__)
                own = way == ids[pos[entry]]  # pairs of a row's own id (not a parent's)
            else:  # each row is its own leaf: one pair a row, its own
                pos = entry = own = None
                code, way = codes_of(ids), ids
            paths, by_codes = True, {}
        codes = tuple(sorted(op_codes(op, sources)))
        if codes not in by_codes:
            by_codes[codes] = np.isin(code, codes)
        mine = by_codes[codes]
        went = np.zeros(way.size, dtype=bool)
        went[mine] = _member(done, way[mine])
        missed = mine & ~went
        if not missed.any():
            out.append(op)
            continue
        # rows of its sources, given as they are (not merged), that it did not transform
        if pos is None:
            flag = missed
        else:
            flag = np.zeros(ids.size, dtype=bool)
            flag[pos[entry[own & missed]]] = True
        if unexplained_rows is False:
            unexplained_rows = _unexplained(X, ids, sources)
        if unexplained_rows is None:
            unexplained = int(flag.sum())
        else:
            unexplained = int((flag & unexplained_rows).sum())
        if unexplained:
            notes.append(
                f"step {_names([op])} is listed for every row of its sources, though it "
                f"transformed {int(np.unique(way[went]).size)} of them in this process: "
                f"{unexplained} row(s) it did not transform here hold values neither "
                "loaded nor made by another step seen (transformed in another process, "
                "or changed since), so which rows went through it is not known"
            )
            out.append(op)
        elif not went.any():
            dropped.append(op)  # none of these rows, and their values are accounted for
            continue
        else:
            out.append(replace(op, rows=encode(way[went])))
    for op in out:
        if op.fingerprint in unchecked_prints:
            kept_unchecked.append(op)
    return out, dropped, kept_unchecked, notes


def _member(sorted_ids, ids):
    """Bool mask: which of ``ids`` are in ``sorted_ids`` (sorted, distinct). A bitmap over
    their range where it is small (the lines of one file: no log factor), else a search."""
    if not sorted_ids.size:
        return np.zeros(np.shape(ids), dtype=bool)
    lo, hi = int(sorted_ids[0]), int(sorted_ids[-1])
    if hi - lo >= max(1 << 26, 8 * ids.size):
        return positions_in(sorted_ids, ids) >= 0
    bits = np.zeros(hi - lo + 1, dtype=bool)
    bits[sorted_ids - lo] = True
    inside = (ids >= lo) & (ids <= hi)
    out = np.zeros(np.shape(ids), dtype=bool)
    out[inside] = bits[ids[inside] - lo]
    return out


def _unexplained(X, ids, sources):
    """Bool mask over the rows of ``X``: witness rows whose cells agree on fewer than
    :data:`AGREE` of those compared with what was loaded for them and with every op's
    kept output (None where ``X`` cannot be compared: every row then counts). An op's
    own kept output covers only rows it transformed, so one mask serves every op's
    question about the rows it did not transform."""
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates:
        return None
    out = np.zeros(len(ids), dtype=bool)
    hit = _witness_rows(ids, sources)
    if not hit.size:
        return out
    names = [str(c) for c in X.columns]
    mine = dict(zip(names, _take_columns(X, hit)))
    wids = ids[hit]
    best = np.zeros(hit.size)  # the highest share of a row's cells a candidate explains
    for agree, compared in _row_agreements(mine, wids, sources):
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(compared > 0, agree / np.maximum(compared, 1), 0.0)
        best = np.maximum(best, share)
    out[hit[best < AGREE]] = True
    return out


def _row_agreements(mine, wids, sources):
    """Per candidate (the loads of each row's source; each op's kept output):
    ``(cells agreeing, cells compared)`` per witness row."""
    codes = codes_of(wids)
    for code in np.unique(codes):
        source = sources.get(int(code))
        for w in WITNESSES.loads(code, source.sha256) if source is not None else []:
            here = w.positions(wids)
            yield _cells(mine, here, w.columns, codes == code)
    for fingerprint in OUTPUTS.fingerprints():
        kept = OUTPUTS.get(fingerprint)
        if kept is not None:
            yield _cells(mine, kept.positions(wids), kept.columns, None)


def _cells(mine, here, theirs, rows):
    n = here.size
    agree, compared = np.zeros(n), np.zeros(n)
    inside = here >= 0 if rows is None else (here >= 0) & rows
    at = np.flatnonzero(inside)
    if not at.size:
        return agree, compared
    for name, column in mine.items():
        other = theirs.get(name)
        if other is None:
            continue
        agree[at] += _equal(column.take(at), other.take(here[at]))
        compared[at] += 1
    return agree, compared
