"""Which steps fitted outside the pipeline a fit's rows went through, told by their values.

A :class:`~sktraceprop.TracedEstimator` transformer fitted on traced rows outside a
traced pipeline (one scaler per hospital before ``pd.concat``) is logged as an *upstream
op* of its sources (:meth:`SourceRegistry.log_op`). The registry cannot see which data a
later fit is given, so listing every op logged on a source for every later run of it
names steps its rows never went through: each fold's scaler of a ``GridSearchCV`` over a
plain ``Pipeline``, a scaler tried in an earlier cell of a notebook.

The values tell. Each ``transform`` of traced rows by such a transformer keeps its output
on the witness rows (:mod:`._witness`: the same few hundred rows per load, at most
:data:`CAP` per op, in this process only; rows an unlearner removes are dropped). A traced
fit compares the witness rows of the data it is given with what was loaded for them and
with each upstream op's kept output, column by column (:func:`identify`). An op whose
output agrees with some witness row on at least half of that row's cells compared was
gone through by those rows (all of them, or one chunk, one hospital's part); the run
lists it, and the upstream ops its own input was found to have gone through (kept when
it transformed). An op whose output agrees with no row, on columns where the data agrees
on at least half of the cells with another candidate (the loaded values, another op's
output), is left out of the run, and its notes say so. Where nothing can be compared (no
output kept: an op learnt from another process, a NumPy output; rows merged after the
op; data that is not a DataFrame) or nothing else accounts for the values (changed again
by code the library does not see), the op stays listed and the notes say the rows'
passage through it was not established.

Which rows: each transform also notes the ids of all the rows it transformed (8 bytes a
row, in the process). An op that transformed only some of the rows of its sources given
to a fit (one hospital's rows of a file) is listed for those rows only
(:func:`._upstream_rows.restrict_rows`, ``Op.rows``), once the others are accounted for by
their values.
"""

import threading

import numpy as np
import pandas as pd

from ._ids import distinct_codes
from ._witness import WITNESSES, _Column, _take_columns, positions_in
from ._witness_view import _selectors, taken_once, witness_positions, witness_view

#: Witness rows kept per op (across all its transforms).
CAP = 512
#: Share of the cells compared on which a candidate must agree to count as what the data is.
AGREE = 0.5


class _Kept:
    """An op's output on witness rows: sorted ids, columns, the upstream ops (by
    fingerprint) its input had gone through, and those of them (or listed unchecked)
    for which which of its input rows went through them was not established
    (``unknown``: its output cannot tell that a row did not go through them)."""

    __slots__ = ("after", "columns", "ids", "unknown")

    def __init__(self, ids, columns, after, unknown=frozenset()):
        self.ids, self.columns, self.after, self.unknown = ids, columns, after, unknown

    def positions(self, ids):
        return positions_in(self.ids, ids)


class _Outputs:
    """Thread-safe maps: op fingerprint -> :class:`_Kept`, and -> the sorted ids of every
    row it transformed (8 bytes a row)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_op = {}
        self._rows = {}

    def add_rows(self, fingerprint, ids):
        """Note that the op transformed the rows ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size > 1 and not (ids[1:] > ids[:-1]).all():  # (loaded rows come sorted)
            ids = np.unique(ids)
        with self._lock:
            known = self._rows.get(fingerprint)
            if known is None or not known.size:
                self._rows[fingerprint] = ids.copy()
            elif ids.size and known[-1] < ids[0]:  # a later chunk of the file
                self._rows[fingerprint] = np.concatenate([known, ids])
            elif ids.size and not np.array_equal(known, ids):  # (the same rows again)
                self._rows[fingerprint] = np.union1d(known, ids)

    def fingerprints(self):
        with self._lock:
            return list(self._by_op)

    def rows(self, fingerprint):
        """Sorted ids of the rows the op transformed in this process, or None."""
        with self._lock:
            return self._rows.get(fingerprint)

    def keep(self, fingerprint, ids, columns, after, unknown=frozenset()):
        """Add rows ``ids`` (their output ``columns``: name -> ``_Column``) of an op: the
        rows kept before come first, then new ones, up to :data:`CAP`, sorted by id."""
        with self._lock:
            known = self._by_op.get(fingerprint)
            if known is not None:
                same = set(known.columns) == set(columns)  # (else keep the first layout)
                new = np.flatnonzero(~np.isin(ids, known.ids)) if same else np.empty(0, int)
                ids = np.concatenate([known.ids, ids[new]])
                columns = {
                    k: _concat(c, columns[k].take(new)) if same else c
                    for k, c in known.columns.items()
                }
                after, unknown = known.after | after, known.unknown | unknown
            order = np.argsort(ids[:CAP], kind="stable")
            columns = {k: c.take(order) for k, c in columns.items()}
            self._by_op[fingerprint] = _Kept(
                ids[:CAP][order], columns, frozenset(after), frozenset(unknown)
            )

    def get(self, fingerprint):
        with self._lock:
            return self._by_op.get(fingerprint)

    def forget(self, ids):
        """Drop the rows with these ids (rows an unlearner removed)."""
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            for fingerprint, kept in list(self._by_op.items()):
                keep = np.flatnonzero(~np.isin(kept.ids, ids))
                if keep.size < kept.ids.size:
                    columns = {k: c.take(keep) for k, c in kept.columns.items()}
                    self._by_op[fingerprint] = _Kept(
                        kept.ids[keep], columns, kept.after, kept.unknown
                    )
            # (the ids of the rows each op transformed stay: ids, not values, and a
            # later fit given those rows again must still list the op for them)

    def clear(self):
        with self._lock:
            self._by_op.clear()
            self._rows.clear()


def _concat(a, b):
    return _Column(
        np.concatenate([a.values, b.values]),
        np.concatenate([a.missing, b.missing]),
        a.numeric and b.numeric,
        min(a.bits, b.bits),
        None if a.exact is None or b.exact is None else np.concatenate([a.exact, b.exact]),
    )


OUTPUTS = _Outputs()
WITNESSES.follow(OUTPUTS)


def _ids_of(frame):
    from ._rows import has_id_level, row_ids

    if not isinstance(frame, pd.DataFrame) or not has_id_level(frame.index):
        return None
    if frame.columns.has_duplicates or not len(frame):
        return None
    return np.asarray(row_ids(frame), dtype=np.int64)


def _witness_rows(ids, sources):
    """Positions of the rows of ``ids`` that are witnesses of their source's loads."""
    return witness_positions(ids, _selectors(distinct_codes(ids), sources))


def _loaded_agreement(view, sources):
    """Column -> ``(agreeing cells, cells compared)`` of the witness rows of ``view``
    with what was loaded for those rows."""
    out = {}
    codes = view.codes
    for code in np.unique(codes):
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        rows = (codes == code)[:, None]
        matched = np.zeros((codes.size, len(view.names)), dtype=bool)
        covered = np.zeros_like(matched)
        for w in loads:
            agree, compared = view.cells(w)
            matched |= agree & rows
            covered |= compared & rows
        agreeing, compared = matched.sum(axis=0), covered.sum(axis=0)
        for name, j in view.at.items():
            if compared[j]:
                a, c = out.get(name, (0, 0))
                out[name] = (a + int(agreeing[j]), c + int(compared[j]))
    return out


def _op_agreement(view, kept):
    """Column -> ``(agreeing cells, cells compared)`` of the witness rows of ``view``
    with an op's output, and the number of rows that agree with it on at least
    :data:`AGREE` of their cells."""
    inside = view.positions(kept) >= 0
    if not inside.any():
        return {}, 0
    agree = view.cells(kept)[0][inside]
    at = [j for j in map(view.at.get, kept.columns) if j is not None]
    if not at:
        return {}, 0
    agree = agree[:, at]
    counts, n = agree.sum(axis=0), int(agree.shape[0])
    out = {view.names[j]: (int(c), n) for j, c in zip(at, counts)}
    rows = int((agree.sum(axis=1) >= AGREE * len(out)).sum())
    return out, rows


def _share(by_column, columns):
    agree = sum(by_column[c][0] for c in columns if c in by_column)
    compared = sum(by_column[c][1] for c in columns if c in by_column)
    return agree / compared if compared else None


def identify(X, ids, sources, upstream):
    """Which of the ``upstream`` ops (:class:`Op`) the rows of ``X`` went through.

    An op whose kept output agrees with a row of ``X`` on at least :data:`AGREE` of the
    row's cells compared was gone through (by some rows: one chunk of a file, one
    hospital's part), and so were the ops its own input was found to have gone through.
    One that agrees with no row, on columns where ``X`` agrees on at least
    :data:`AGREE` of the cells with what was loaded or with another op's output, was
    not; nor was one that transformed rows of ``X`` but none of whose output columns
    ``X`` holds, when every column of ``X`` is accounted for that way (by the loaded
    values or an op gone through). Any other op stays listed, unchecked: one that
    transformed none of these rows (the parents of merged rows, say) cannot be compared.

    Returns
    -------
    through : list of Op
        The ops to list for the rows (in ``upstream``'s order), unchecked ones included.
    left_out : list of Op
        Ops found not gone through.
    unchecked : list of Op
        Ops listed without evidence either way.
    """
    if not upstream:
        return [], [], []
    ids = np.asarray(ids, dtype=np.int64)
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates or not len(ids):
        return list(upstream), [], list(upstream)
    view = witness_view(X, ids, sources)
    if view is None:
        return list(upstream), [], list(upstream)
    names = view.names
    # fingerprint -> column -> (agree, compared); ops that transformed rows of X
    agreement, kept_any, gone = {}, set(), set()
    for op in upstream:
        kept = OUTPUTS.get(op.fingerprint)
        if kept is not None and (view.positions(kept) >= 0).any():
            kept_any.add(op.fingerprint)  # (it transformed some of these very rows)
            found, rows = _op_agreement(view, kept)
            if found:
                agreement[op.fingerprint] = found
                if rows:
                    gone.add(op.fingerprint)
    loaded = _loaded_agreement(view, sources)
    closure, todo = set(), list(gone)
    while todo:
        f = todo.pop()
        if f not in closure:
            closure.add(f)
            kept = OUTPUTS.get(f)
            todo.extend(kept.after if kept is not None else ())
    explained = all(
        any((_share(by, [name]) or 0) >= AGREE for by in (loaded, *(agreement[f] for f in gone)))
        for name in names
    )
    through, left_out, unchecked = [], [], []
    for op in upstream:
        f = op.fingerprint
        if f in closure:
            through.append(op)
            continue
        by = agreement.get(f)
        if by is not None:
            others = [loaded, *(a for g, a in agreement.items() if g != f)]
            shares = (_share(other, by) for other in others)
            if any(s is not None and s >= AGREE for s in shares):
                left_out.append(op)
                continue
        elif f in kept_any and explained and names:
            left_out.append(op)
            continue
        through.append(op)
        unchecked.append(op)
    return through, left_out, unchecked


def keep_output(op, X, out, sources, upstream):
    """Keep ``out`` (the transform of ``X`` by the upstream op ``op``) on its witness
    rows, with the upstream ops ``X``'s rows were found to have gone through, and the
    ids of all its rows (see :func:`._upstream_rows.restrict_rows`)."""
    ids = _ids_of(out)
    if ids is None:
        return
    OUTPUTS.add_rows(op.fingerprint, ids)
    hit = _witness_rows(ids, sources)
    if not hit.size:
        return
    others = [o for o in upstream if o.fingerprint != op.fingerprint]
    x_ids = _ids_of(X)
    after, unknown = set(), set()
    if x_ids is not None and others:
        from ._upstream_rows import unrestricted

        with taken_once():  # (X's witness rows, compared once for both questions)
            found = identify(X, x_ids, sources, others)
            unknown = unrestricted(found, X, x_ids, sources)
        # what the input was found to have gone through (an unchecked op is not)
        after = {o.fingerprint for o in found[0]} - {o.fingerprint for o in found[2]}
    names = [str(c) for c in out.columns]
    columns = dict(zip(names, _take_columns(out, hit)))
    OUTPUTS.keep(op.fingerprint, ids[hit], columns, after, unknown)


def _names(ops):
    return ", ".join(op.name + f" [{op.fingerprint[:12]}]" for op in ops)


def identify_note(left_out, unchecked):
    """The run's notes about what :func:`identify` found (empty when nothing to say)."""
    notes = []
    if left_out:
        notes.append(
            f"step(s) fitted outside the pipeline on these sources and left out of this "
            f"run's ops: {_names(left_out)}: on the witness rows compared, the data given to "
            "this fit does not hold their output (it disagrees with it, or lacks its "
            "columns) and agrees with what was loaded or with another step's output, so "
            "its rows did not go through them"
        )
    if unchecked:
        notes.append(
            f"step(s) fitted outside the pipeline on these sources, listed among this "
            f"run's ops though it is not established that its rows went through them: "
            f"{_names(unchecked)} (their output is not kept in this process, or the data "
            "given to the fit is not a DataFrame whose values match a known state)"
        )
    return notes
