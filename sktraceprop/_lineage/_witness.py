"""Witness rows: a spread sample of each load's values, to notice columns changed later.

Row ids survive every pandas operation that keeps the index, including those that move
values between rows (``shift``, ``ffill``, ``rolling``, a column replaced under the same
name): the row keeps its file and line while its value came from another row. The
library cannot see pandas operations, but it can see their result. Each load
(``read_csv``, ``from_pandas``, ``from_numpy``) keeps the values of a few hundred rows
picked by a hash of their ids (:func:`is_witness`), in this process only (they never
travel in a pickle or a store). A traced fit compares the rows it is given that are witnesses with
what was loaded for them, column by column, and its run names the columns whose values
changed (:func:`changed_columns`). A change found proves the column was altered after
loading; no change found proves nothing about the rows that are not witnesses.
"""

import threading

import numpy as np
import pandas as pd

from ._ids import codes_of, distinct_codes

#: Rows kept per load: 256 to 512 expected (a hash of the id picks them).
N_WITNESS = 256
#: Loads of one source with different values (say, read with other ``dtype=``) kept;
#: beyond that the source's rows are no longer compared (never a false alarm).
MAX_LOADS = 8


class _Witnesses:
    """Thread-safe map: source code -> the witness frames of its loads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_code = {}
        self._overflow = set()

    def add(self, code, sha256, frame, inherited=None):
        """Keep the witness rows of ``frame`` (indexed by row ids; see :func:`stride`).

        ``inherited``: for a merge or aggregate, its columns whose inputs had changed
        after loading (column -> ``(rows that differ, rows checked)``).
        """
        n = len(frame)
        if n == 0 or frame.columns.has_duplicates:
            return
        ids = np.asarray(frame.index.get_level_values(-1), dtype=np.int64)
        every = stride(n)
        pos = np.flatnonzero(is_witness(ids, every))
        sample = frame.iloc[pos].copy()
        sample.index = pd.Index(ids[pos])
        sample.columns = [str(c) for c in sample.columns]
        if not sample.index.is_unique:
            return
        sample.attrs = {"stride": every, "inherited": dict(inherited or {})}
        with self._lock:
            if code in self._overflow:
                return
            known = self._by_code.setdefault(code, [sha256, []])
            if known[0] != sha256:
                # another source under this code (the registry probes codes within a
                # process, so this is a cleared registry): compare against neither
                self._overflow.add(code)
                del self._by_code[code]
                return
            loads = known[1]
            if any(_same_frame(sample, w) for w in loads):
                return
            if len(loads) >= MAX_LOADS:
                self._overflow.add(code)
                del self._by_code[code]
                return
            loads.append(sample)

    def loads(self, code, sha256):
        with self._lock:
            known = self._by_code.get(int(code))
        if known is None or known[0] != sha256:
            return []
        return list(known[1])

    def clear(self):
        with self._lock:
            self._by_code.clear()
            self._overflow.clear()


def stride(n_rows):
    """One row in ``stride`` (a power of two) is a witness: 256 to 512 rows expected."""
    return 1 << max(0, int(n_rows // N_WITNESS).bit_length() - 1)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def is_witness(ids, every):
    """Whether each row id is a witness of a load with ``stride(n) == every``.

    A multiplicative hash of the id, so witnesses are spread over the rows, any subset
    of rows (a fold, a filter) holds its share of them, and testing a million ids is a
    few vector operations (no search).
    """
    if every == 1:
        return np.ones(len(ids), dtype=bool)
    with np.errstate(over="ignore"):
        mixed = np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64) * _GOLDEN
    # the top bits of the product are its best mixed: all zero with probability 1/every
    return mixed < np.uint64((1 << 64) // every)


def _same_frame(a, b):
    same = a.index.equals(b.index) and a.columns.equals(b.columns) and a.equals(b)
    return same and a.attrs == b.attrs


WITNESSES = _Witnesses()


def _numeric(dtype):
    return pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)


def _float_bits(dtype):
    dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
    return dtype.itemsize * 8 if dtype.kind == "f" else 64


def _scalar_equal(x, y):
    try:
        return bool(x == y)
    except (TypeError, ValueError):  # arrays in cells, incomparable types
        return False


def _equal_block(mine, theirs):
    """Elementwise equality of two aligned frames (rows x columns), missing == missing."""
    na = mine.isna().to_numpy() & theirs.isna().to_numpy()
    either = mine.isna().to_numpy() | theirs.isna().to_numpy()
    if all(_numeric(t) for t in (*mine.dtypes, *theirs.dtypes)):
        a = mine.to_numpy(dtype=np.float64, na_value=np.nan)
        b = theirs.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore", over="ignore"):
            eq = a == b
            # a cast to a narrower float (float32 for torch) rounds, it does not change
            narrow = [
                min(_float_bits(x), _float_bits(y)) for x, y in zip(mine.dtypes, theirs.dtypes)
            ]
            for j, bits in enumerate(narrow):
                if bits < 64:
                    kind = np.float32 if bits == 32 else np.float16
                    eq[:, j] |= a[:, j].astype(kind) == b[:, j].astype(kind)
    else:
        a, b = mine.to_numpy(dtype=object), theirs.to_numpy(dtype=object)
        eq = np.array([_scalar_equal(x, y) for x, y in zip(a.ravel(), b.ravel())], dtype=bool)
        eq = eq.reshape(a.shape)
    return (eq & ~either) | na


def changed_columns(X, ids, sources, skip=()):
    """Columns of ``X`` whose values differ from what was loaded for the same rows.

    Parameters
    ----------
    X : DataFrame
        The data given to a traced fit.
    ids : ndarray of int64
        Its row ids, aligned with its rows.
    sources : dict
        Source code -> :class:`~sktraceprop._lineage._source.Source`, covering ``ids``.
    skip : iterable of str
        Columns not to compare (written by a traced step outside the pipeline).

    Returns
    -------
    changed : dict
        Column -> ``(rows that differ, witness rows compared)``, for the columns with at
        least one difference, in ``X``'s column order. For rows of a merge or aggregate,
        the counts include those found in its inputs when it was made.
    """
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates or not len(ids):
        return {}
    names = pd.Index([str(c) for c in X.columns])
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    differ, compared = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    distinct = distinct_codes(ids)
    codes = codes_of(ids) if len(distinct) > 1 else ()
    for code in distinct:
        source = sources.get(int(code))
        if source is None:
            continue
        loads = WITNESSES.loads(code, source.sha256)
        if not loads:
            continue
        maybe = np.zeros(len(ids), dtype=bool)
        for every in {w.attrs["stride"] for w in loads}:
            maybe |= is_witness(ids, every)
        if len(distinct) > 1:
            maybe &= codes == code
        hit = np.flatnonzero(maybe)
        if not hit.size:
            continue
        matched = np.zeros((hit.size, len(names)), dtype=bool)
        covered = np.zeros((hit.size, len(names)), dtype=bool)
        for w in loads:
            here = w.index.get_indexer(ids[hit])
            inside = np.flatnonzero(here >= 0)
            cols = [j for j, n in enumerate(names) if n in w.columns and n not in skip]
            if not inside.size or not cols:
                continue
            agrees = np.ones(inside.size, dtype=bool)  # rows equal to this load throughout
            mine = X.iloc[hit[inside], cols]
            theirs = w.iloc[here[inside]][names[cols]]
            numeric = [_numeric(a) and _numeric(b) for a, b in zip(mine.dtypes, theirs.dtypes)]
            for group in (
                [k for k, v in enumerate(numeric) if v],
                [k for k, v in enumerate(numeric) if not v],
            ):
                if not group:
                    continue
                eq = _equal_block(mine.iloc[:, group], theirs.iloc[:, group])
                target = np.asarray(cols)[group]
                matched[np.ix_(inside, target)] |= eq
                covered[np.ix_(inside, target)] = True
                agrees &= eq.all(axis=1)
            if agrees.any() or len(loads) == 1:
                # X's rows come from this load (a merge or aggregate of changed inputs)
                for name, (k, n) in w.attrs["inherited"].items():
                    if name in differ and name not in skip:
                        differ[name] += k
                        compared[name] += n
        for j, name in enumerate(names):
            compared[name] += int(covered[:, j].sum())
            differ[name] += int((covered[:, j] & ~matched[:, j]).sum())
    return {n: (differ[n], compared[n]) for n in names if differ[n]}


def changed_note(changed):
    """The run's note naming ``changed`` (from :func:`changed_columns`)."""
    listed = ", ".join(f"{name} ({k} of {n} rows checked)" for name, (k, n) in changed.items())
    return (
        f"input column(s) {listed} hold values that differ from what was loaded for the "
        "same rows, or for the rows they were merged or aggregated from (read_csv, "
        "from_pandas, from_numpy): they were changed outside the "
        "pipeline, and the run does not record how. Their lineage names the loaded "
        "column, which is right where each row's new value was computed from that row "
        "alone (a unit conversion, fillna with a constant); values moved between rows "
        "(shift, ffill/bfill, rolling, groupby().transform, a column replaced under the "
        "same name) carry data of other rows that the lineage does not name, and that "
        "unlearning those rows does not remove. Do such steps in the pipeline, or with "
        "sktraceprop.merge / sktraceprop.aggregate / a TracedEstimator."
    )
