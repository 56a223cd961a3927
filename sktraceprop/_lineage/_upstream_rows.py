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

import threading
from dataclasses import replace

import numpy as np
import pandas as pd

from ._ids import codes_of
from ._op_rows import leaf_paths, op_codes
from ._row_sets import encode
from ._upstream_outputs import OUTPUTS, _names
from ._witness import WITNESSES, positions_in
from ._witness_view import witness_view


def restrict_rows(found, X, ids, sources):
    """:func:`identify`'s ``found`` with each op limited to the rows it transformed.

    An upstream op that transformed only some of the rows of its sources among ``ids``
    (one hospital's rows of a file, before ``pd.concat``) is limited to those rows
    (``Op.rows``): the ids on the way of the rows (their own, a merge's, the leaf's) it
    transformed in this process. One that transformed none of them is left out. Either
    way the rows it did not transform must be accounted for otherwise: each cell of each
    witness row of ``X`` among them agrees with what was loaded or with the kept output
    of another op that cannot have passed it through this one (an op whose own input
    was not established to have missed it is no witness). Where one does not (it may
    have been transformed in another process: a joblib worker; an imputer there changed
    only its missing cells), or where the op's rows are not known here (learnt from
    another process, an array op), the op stays as :func:`identify` found it, listed for
    every row of its sources.

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
    cells = None  # (compared once, when first needed)
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
        if cells is None:
            cells = _Cells(X, ids, sources)
        unexplained = int((flag & cells.unexplained(op.fingerprint)).sum())
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


def unrestricted(found, X, ids, sources):
    """Fingerprints of the ops of :func:`restrict_rows`'s ``through`` it lists for every
    row of their sources (not limited to the rows they transformed): an output made from
    these rows cannot tell that a row did not go through them."""
    return {op.fingerprint for op in restrict_rows(found, X, ids, sources)[0] if op.rows is None}


def _member(sorted_ids, ids):
    """Bool mask: which of ``ids`` are in ``sorted_ids`` (sorted, distinct). A bitmap over
    their range where it is small (the lines of one file: no log factor), else a search."""
    if not sorted_ids.size:
        return np.zeros(np.shape(ids), dtype=bool)
    lo, hi = int(sorted_ids[0]), int(sorted_ids[-1])
    if hi - lo >= max(1 << 26, 8 * ids.size):
        return positions_in(sorted_ids, ids) >= 0
    bits = _bits(sorted_ids, lo, hi)
    inside = (ids >= lo) & (ids <= hi)
    out = np.zeros(np.shape(ids), dtype=bool)
    out[inside] = bits[ids[inside] - lo]
    return out


#: The bitmaps of the last few sets of ids :func:`_member` was asked about: each
#: transform of a step asks about every other step's rows (a scaler per group of a file).
_BITS = {}
_BITS_LOCK = threading.Lock()
_BITS_KEPT = 16


def _bits(sorted_ids, lo, hi):
    key = id(sorted_ids)
    with _BITS_LOCK:
        found = _BITS.get(key)
        if found is not None and found[0] is sorted_ids:
            return found[1]
    bits = np.zeros(hi - lo + 1, dtype=bool)
    bits[sorted_ids - lo] = True
    with _BITS_LOCK:
        while len(_BITS) >= _BITS_KEPT:
            _BITS.pop(next(iter(_BITS)))
        _BITS[key] = (sorted_ids, bits)  # (the ids kept too: an id is not reused meanwhile)
    return bits


class _Cells:
    """Which cells of the witness rows of ``X`` each candidate accounts for: what was
    loaded for the row, or an op's kept output on it. A row counts as accounted for, to
    the question whether it went through an op it was not seen to go through, when each
    of its cells compared agrees with some candidate that is no witness to that op
    (:meth:`unexplained`). Where ``X`` cannot be compared (not a DataFrame, duplicate
    column names) every row counts as unexplained."""

    def __init__(self, X, ids, sources):
        self.n = len(ids)
        self.hit, self.candidates, self._cache = None, [], {}
        if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates:
            return
        view = witness_view(X, ids, sources)
        if view is None:
            self.hit = np.zeros(0, dtype=np.intp)
            return
        self.hit = view.hit
        codes = view.codes
        for c in np.unique(codes):
            source = sources.get(int(c))
            for w in WITNESSES.loads(c, source.sha256) if source is not None else []:
                self._add(view, w, codes == c, frozenset())
        for fingerprint in OUTPUTS.fingerprints():
            kept = OUTPUTS.get(fingerprint)
            if kept is not None:
                self._add(view, kept, None, kept.unknown)

    def _add(self, view, candidate, rows, unknown):
        here = view.positions(candidate)
        inside = here >= 0 if rows is None else (here >= 0) & rows
        if not inside.any():
            return
        agree, compared = view.cells(candidate)
        if rows is not None:
            agree, compared = agree & rows[:, None], compared & rows[:, None]
        self.candidates.append((agree, compared, unknown))

    def unexplained(self, fingerprint):
        """Bool mask over the rows of ``X``: witness rows not accounted for, to the
        question whether they went through the op ``fingerprint``."""
        if self.hit is None:
            return np.ones(self.n, dtype=bool)
        valid = tuple(i for i, c in enumerate(self.candidates) if fingerprint not in c[2])
        if valid not in self._cache:
            out = np.zeros(self.n, dtype=bool)
            if self.hit.size:
                shape = (self.hit.size, 0) if not self.candidates else self.candidates[0][0].shape
                agree, compared = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
                for i in valid:
                    agree |= self.candidates[i][0]
                    compared |= self.candidates[i][1]
                accounted = compared.any(axis=1) & ~(compared & ~agree).any(axis=1)
                out[self.hit[~accounted]] = True
            self._cache[valid] = out
        return self._cache[valid]
