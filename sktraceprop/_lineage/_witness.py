"""Witness rows: a sample of each load's values, to notice columns changed later.

Row ids survive every pandas operation that keeps the index, including those that move
values between rows (``shift``, ``ffill``, ``rolling``, a column replaced under the same
name): the row keeps its file and line while its value came from another row. The
library cannot see pandas operations, but it can see their result. Each load
(``read_csv``, ``from_pandas``, ``from_numpy``, and the result of ``merge`` and
``aggregate``) keeps the values of a few hundred rows picked by a hash of their ids
(:func:`is_witness`), in this process only (they never travel in a pickle or a store);
rows an unlearner removes are dropped from them (:meth:`_Witnesses.forget`).
A traced fit compares the rows it is given that are witnesses with what was loaded for
them, column by column, and its run names the columns whose values changed
(:func:`changed_columns`). A change found proves the column was altered after loading;
no change found proves nothing about the rows that are not witnesses.

A merge or aggregate made from inputs changed after loading keeps, per witness row and
column, whether the value it made differs from the files' (its input rows were
compared, and found changed), so that a fit counts each of its rows once, changed
before or after the merge. Its witness rows are then not picked by the hash of their
ids but chosen among the rows made from its changed inputs' witness rows
(:mod:`._derived_witness`; a fit finds them by their ids, :class:`Chosen`): a merged row
whose input rows were not compared holds a value nothing saw, and is counted apart, as
not known (a row chosen for one changed input, in the columns of another; or a row the
hash adds where too few were made from witness rows).
"""

import hashlib
import pickle
import threading

import numpy as np
import pandas as pd

from .._frame_columns import column_arrays
from ._ids import codes_of, distinct_codes
from ._replaced_rows import replaced_rows
from ._witness_text import NUMBERS as _NUMBERS
from ._witness_text import as_numbers, times_equal

#: Rows kept per load: 256 to 512 expected (a hash of the id picks them).
N_WITNESS = 256
#: Loads of one source with different values (say, read with other ``dtype=``) kept;
#: beyond that the source's rows are no longer compared (never a false alarm).
MAX_LOADS = 8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_CHUNK = 1 << 16


def stride(n_rows):
    """One row in ``stride`` (a power of two) is a witness: 256 to 512 rows expected."""
    return 1 << max(0, int(n_rows // N_WITNESS).bit_length() - 1)


def is_witness(ids, every):
    """Whether each row id is a witness of a load with ``stride(n) == every``.

    A multiplicative hash of the id, so witnesses are spread over the rows, any subset
    of rows (a fold, a filter) holds its share of them, and testing a million ids is
    one multiplication and one comparison each (no search).
    """
    if every == 1:
        return np.ones(len(ids), dtype=bool)
    ids = np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64)
    out = np.empty(ids.size, dtype=bool)
    limit = np.uint64((1 << 64) // every)
    mixed = np.empty(min(ids.size, _CHUNK), dtype=np.uint64)
    for start in range(0, ids.size, _CHUNK):  # in chunks: no id-sized temporary
        part = mixed[: min(_CHUNK, ids.size - start)]
        with np.errstate(over="ignore"):
            np.multiply(ids[start : start + part.size], _GOLDEN, out=part)
        # the top bits of the product are its best mixed: zero with probability 1/every
        np.less(part, limit, out=out[start : start + part.size])
    return out


class Chosen:
    """The witness rows of a load chosen by the load, not by the hash of their ids (a
    merge's or aggregate's: :mod:`._derived_witness`): ``ids``, sorted, of one source."""

    __slots__ = ("ids",)

    def __init__(self, ids):
        self.ids = ids

    def holds(self, ids):
        """Whether each row id is one of these: a look-up in a table over the lines
        they span (one byte per line, made for the call), in chunks, as
        :func:`is_witness` (a search of a million ids among the chosen would cost a
        hundred times more)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(ids.size, dtype=bool)
        if not self.ids.size:
            return out
        below = self.ids[0] - 1  # (a valid id's line is at least 1: no overflow)
        table = np.zeros(int(self.ids[-1] - below) + 2, dtype=bool)
        table[self.ids - below] = True  # (entries 0 and -1 stay False: ids outside)
        at = np.empty(min(ids.size, _CHUNK), dtype=np.int64)
        for start in range(0, ids.size, _CHUNK):
            part = at[: min(_CHUNK, ids.size - start)]
            np.subtract(ids[start : start + part.size], below, out=part)
            np.take(table, part, mode="clip", out=out[start : start + part.size])
        return out


def selector(load):
    """What picks ``load``'s witness rows: its stride (the hash of the ids), or its
    :class:`Chosen` rows. Loads with equal selectors have the same witness rows."""
    return load.stride if load.chosen is None else load.chosen


def witness_mask(ids, loads, tested=None):
    """Whether each row id is a witness row of one of ``loads`` (of one source).

    ``tested``: selector (:func:`selector`) -> its answer for these ``ids``, kept
    across calls for the same ``ids`` (several sources share a stride).
    """
    tested = {} if tested is None else tested
    out = np.zeros(len(ids), dtype=bool)
    for key in {selector(w) for w in loads}:
        if key not in tested:
            tested[key] = selected(ids, key)
        out |= tested[key]
    return out


def selected(ids, key):
    """Whether each row id is a witness row of the loads with selector ``key``."""
    return key.holds(ids) if isinstance(key, Chosen) else is_witness(ids, key)


def _is_numeric(dtype):
    return pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)


def _float_bits(dtype):
    """Width of a numeric column's floats (64 for anything else): masked and Arrow
    dtypes name theirs ``numpy_dtype``, a sparse dtype its ``subtype``."""
    base = getattr(dtype, "numpy_dtype", None)
    if base is None:
        base = getattr(dtype, "subtype", dtype)
    try:
        base = np.dtype(base)
    except TypeError:  # a numeric extension dtype NumPy cannot name: compared at full width
        return 64
    return base.itemsize * 8 if base.kind == "f" else 64


class _Column:
    """One column's values on some rows, ready to compare: numbers as float64 (NaN where
    missing) or objects, the missing mask, and the float width (64 unless narrower)."""

    __slots__ = ("bits", "missing", "numeric", "values")

    def __init__(self, values, missing, numeric, bits):
        self.values, self.missing, self.numeric, self.bits = values, missing, numeric, bits

    def take(self, positions):
        return _Column(self.values[positions], self.missing[positions], self.numeric, self.bits)


def cell_keys(column):
    """A hashable key for every cell of a :class:`_Column`: numbers at float32
    precision (a cast to float32 is no change), those of an object column too (a frame's
    columns assigned from ``to_numpy()`` of mixed columns hold floats as objects),
    ``None`` where missing."""
    if column.numeric:
        values = column.values.astype(np.float32).astype(np.float64).tolist()
        return [None if m else ("n", v) for v, m in zip(values, column.missing.tolist())]
    out = []
    for value, missing in zip(column.values.tolist(), column.missing.tolist()):
        if missing:
            out.append(None)
            continue
        if isinstance(value, _NUMBERS):
            try:
                with np.errstate(over="ignore"):
                    out.append(("n", float(np.float32(value))))
                continue
            except OverflowError:  # (an int beyond any float: kept as it is)
                pass
        try:
            hash(value)
        except TypeError:  # lists, arrays in cells
            out.append(("r", type(value).__name__, repr(value)))
            continue
        out.append(("o", value))
    return out


def _arrow_chunks(array):
    """The chunks of an Arrow-backed string or numeric array (through the public
    ``__arrow_array__`` protocol), or ``None`` for any other array."""
    if not isinstance(array, pd.arrays.ArrowExtensionArray):
        return None
    import pyarrow as pa  # present: the array is one of its

    chunked = array.__arrow_array__()
    kind = getattr(chunked, "type", None)
    if not isinstance(chunked, pa.ChunkedArray) or not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
    ):
        return None
    return chunked


def _arrow_take(chunked, positions):
    """``chunked.take(positions)`` chunk by chunk: pyarrow's take of a chunked array
    joins all its chunks first (a copy of the whole column for a few hundred values).
    Returns the values as a NumPy array (``None`` where missing) and the missing mask."""
    import pyarrow as pa

    order = np.argsort(positions, kind="stable")
    wanted = positions[order]
    bounds = np.cumsum([0] + [len(c) for c in chunked.chunks])
    cuts = np.searchsorted(wanted, bounds)
    parts = [
        chunk.take(pa.array(wanted[cuts[i] : cuts[i + 1]] - bounds[i]))
        for i, chunk in enumerate(chunked.chunks)
        if cuts[i + 1] > cuts[i]
    ]
    taken = pa.concat_arrays(parts) if parts else pa.array([], type=chunked.type)
    values = np.empty(positions.size, dtype=object)
    missing = np.empty(positions.size, dtype=bool)
    values[order] = taken.to_numpy(zero_copy_only=False)
    missing[order] = taken.is_null().to_numpy(zero_copy_only=False)
    return values, missing


def _take_columns(frame, positions):
    """:class:`_Column` of each column of ``frame`` at rows ``positions``.

    Each column's array is taken directly (``ExtensionArray.take``; Arrow columns chunk
    by chunk): building the sub-frame first costs several times more than the few
    hundred values themselves.
    """
    out = []
    positions = np.asarray(positions, dtype=np.intp)
    for dtype, array in column_arrays(frame):
        numeric = _is_numeric(dtype)
        chunked = _arrow_chunks(array)
        if chunked is not None:
            values, missing = _arrow_take(chunked, positions)
            if numeric:
                values = np.array([np.nan if m else v for v, m in zip(values, missing)], float)
        elif isinstance(array, np.ndarray) and (numeric or array.dtype == object):
            values = array[positions]
            missing = pd.isna(values) if not numeric else np.zeros(values.size, dtype=bool)
        else:  # extension arrays, and datetimes as pandas gives them (Timestamps)
            taken = pd.array(array).take(positions)
            missing = np.asarray(taken.isna(), dtype=bool)
            if numeric:
                values = np.asarray(taken.to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                values = np.asarray(taken.to_numpy(dtype=object))
        if numeric:
            values = np.asarray(values, dtype=np.float64)
            out.append(_Column(values, missing | np.isnan(values), True, _float_bits(dtype)))
        else:
            out.append(_Column(values, missing, False, 64))
    return out


def _equal(mine, theirs):
    """Elementwise: equal values, or missing on both sides. A number equals text that
    spells it, and a time text that spells it (a column converted after loading, see
    :mod:`._witness_text`)."""
    if mine.numeric != theirs.numeric:
        text, numbers = (theirs, mine) if mine.numeric else (mine, theirs)
        # the missing mask stays the text's own: text that spells no number still differs
        text = _Column(as_numbers(text.values), text.missing, True, 64)
        mine, theirs = (numbers, text) if mine.numeric else (text, numbers)
    either = mine.missing | theirs.missing
    if mine.numeric and theirs.numeric:
        with np.errstate(invalid="ignore", over="ignore"):
            eq = mine.values == theirs.values
            bits = min(mine.bits, theirs.bits)
            if bits < 64:
                # a cast to a narrower float (float32 for torch) rounds, it does not change
                kind = np.float32 if bits == 32 else np.float16
                eq |= mine.values.astype(kind) == theirs.values.astype(kind)
    else:
        try:
            eq = np.asarray(mine.values == theirs.values, dtype=bool)
        except (TypeError, ValueError):
            eq = None
        if eq is None or eq.shape != mine.values.shape:  # arrays in cells
            eq = np.fromiter(
                (_scalar_equal(x, y) for x, y in zip(mine.values, theirs.values)),
                dtype=bool,
                count=mine.values.size,
            )
        eq = times_equal(mine.values, theirs.values, eq.copy())
    return (eq & ~either) | (mine.missing & theirs.missing)


def _scalar_equal(x, y):
    if x is y:
        return True
    try:
        same = x == y
        if isinstance(same, bool | np.bool_):
            return bool(same)
        # arrays in cells: equal shapes and values
        return np.shape(x) == np.shape(y) and bool(np.all(same))
    except (TypeError, ValueError):  # incomparable types
        return False


class _Load:
    """The witness rows of one load: sorted ids, columns, stride (or the rows chosen),
    inherited changes, and for a merge the sides its columns came from."""

    __slots__ = (
        "_digest",
        "chosen",
        "columns",
        "dtypes",
        "frame_positions",
        "frame_rows",
        "group",
        "ids",
        "inherited",
        "sides",
        "stride",
        "unchecked",
    )

    def __init__(
        self,
        frame,
        positions,
        ids,
        every,
        inherited,
        group=None,
        sides=None,
        chosen=False,
        unchecked=frozenset(),
    ):
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        # where each witness row was in the frame loaded, of how many rows: a plain
        # array of one of its columns, in its order, is recognised by them
        # (:mod:`._loaded_labels`)
        self.frame_positions = np.asarray(positions, dtype=np.intp)[order]
        self.frame_rows = len(frame)
        self.stride = every
        # the rows chosen (a merge's or aggregate's), or None: those the hash picks
        self.chosen = Chosen(self.ids) if chosen else None
        # a merge's or aggregate's: the ancestor codes whose values given to it were
        # not compared with what was loaded (:func:`._derived_witness.unchecked_codes`)
        self.unchecked = frozenset(unchecked)
        self.group = group
        # column -> (differs, filled, known): per witness row, whether the value this load
        # holds differs from the files' (its inputs had changed), was missing there, and
        # whether that is known (the inputs' rows it was made from were compared)
        self.inherited = {
            str(k): tuple(np.asarray(m, dtype=bool)[positions[order]] for m in masks)
            for k, masks in (inherited or {}).items()
        }
        self.sides = sides
        names = (str(c) for c in frame.columns)
        self.columns = dict(zip(names, _take_columns(frame, positions[order])))
        self.dtypes = [str(t) for t in frame.dtypes]
        self._digest = None

    @property
    def digest(self):
        """SHA-256 of the rows and values kept: computed when a second load of the same
        source needs comparing (a re-read of unchanged values is kept once)."""
        if self._digest is None:
            h = hashlib.sha256(self.ids.tobytes())
            h.update(repr(sorted(self.unchecked)).encode())
            for name, masks in sorted(self.inherited.items()):
                h.update(name.encode() + b"\0" + b"".join(m.tobytes() for m in masks))
            for (name, col), dtype in zip(self.columns.items(), self.dtypes):
                h.update(name.encode() + b"\0" + dtype.encode() + b"\0")
                h.update(col.missing.tobytes())
                if col.numeric:
                    h.update(col.values.tobytes())
                    continue
                try:  # (a few hundred cells: their pickle, exact, also lists and arrays)
                    h.update(pickle.dumps(col.values.tolist(), protocol=5))
                except Exception:  # noqa: BLE001 - unpicklable: never equal to another
                    h.update(str(id(col)).encode())
            self._digest = h.hexdigest()
        return self._digest

    def taking(self, keep):
        """A new load of the witness rows at positions ``keep`` of this one."""
        new = object.__new__(_Load)
        for name in self.__slots__:
            setattr(new, name, getattr(self, name))
        new.ids = self.ids[keep]
        new.frame_positions = self.frame_positions[keep]
        if self.chosen is not None:  # (a new selector: no stale answer)
            new.chosen = Chosen(new.ids)
        new.columns = {k: c.take(keep) for k, c in self.columns.items()}
        new.inherited = {k: tuple(m[keep] for m in masks) for k, masks in self.inherited.items()}
        new._digest = None
        return new

    def positions(self, ids):
        """Position of each id among this load's rows, ``-1`` where it is not one."""
        return positions_in(self.ids, ids)


def positions_in(sorted_ids, ids):
    """Position of each of ``ids`` in ``sorted_ids``, ``-1`` where absent."""
    if not sorted_ids.size:  # (an op's kept rows, all unlearned)
        return np.full(np.shape(ids), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


class _Witnesses:
    """Thread-safe map: source code -> the witness rows of its loads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_code = {}
        self._overflow = set()
        self._version = 0
        self._followers = []

    def follow(self, store):
        """Have ``store`` (with ``forget(ids)`` and ``clear()``) forget and clear with
        the witnesses: it keeps values of witness rows too."""
        self._followers.append(store)

    def add(
        self,
        code,
        sha256,
        frame,
        inherited=None,
        ids=None,
        every=None,
        group=None,
        sides=None,
        chosen=None,
        unchecked=frozenset(),
    ):
        """Keep the witness rows of ``frame`` (indexed by row ids; see :func:`stride`).

        ``inherited``: for a merge or aggregate, its columns whose inputs had changed
        after loading (column -> ``(differs, filled, known)``, bool arrays over the rows
        of ``frame``: the rows whose value was made from an input value that differs
        from the files', of those the rows whose value was missing there, and the rows
        whose input values were compared, for which this is known; see
        :attr:`ChangedColumns.rows`). ``ids``: the frame's row ids, when the caller has
        them as an array. ``every``: the stride (default: ``stride(len(frame))``).
        ``group``: the loads of one read in chunks share it (and the stride of the whole
        read), and count as one load. ``sides``:
        for a merge, what :mod:`._misplaced_merge` needs to name its rows by their
        parents' values (column -> sides and parent columns, each side's codes).
        ``chosen``: the positions of the witness rows, where the caller chooses them
        (a merge's or aggregate's, :mod:`._derived_witness`), not the hash of their ids.
        ``unchecked``: for a merge or aggregate, the codes of its ancestors whose values
        given to it were not compared with what was loaded.
        """
        n = len(frame)
        if n == 0 or frame.columns.has_duplicates:
            return
        if ids is None:
            ids = np.asarray(frame.index.get_level_values(-1), dtype=np.int64)
        every = stride(n) if every is None else every
        if chosen is None:
            pos = np.flatnonzero(is_witness(ids, every))
        else:
            pos = np.unique(np.asarray(chosen, dtype=np.intp))
        if not pos.size or np.unique(ids[pos]).size != pos.size:
            return
        load = _Load(
            frame, pos, ids[pos], every, inherited, group, sides, chosen is not None, unchecked
        )
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
            if any(w.digest == load.digest for w in loads):
                return
            reads = {id(w) if w.group is None else w.group for w in loads}
            if (group is None or group not in reads) and len(reads) >= MAX_LOADS:
                self._overflow.add(code)
                del self._by_code[code]
                return
            loads.append(load)
            self._version += 1

    def loads(self, code, sha256):
        return self.loads_at(code, sha256)[1]

    def loads_at(self, code, sha256):
        """``(version, loads)``: the loads of source ``code`` (content ``sha256``) and
        the :attr:`version` they are the loads of, read together (a cache of what they
        hold is keyed by it: read apart, a load added in another thread between the two
        would leave an index of fewer loads under the newer version)."""
        with self._lock:
            known = self._by_code.get(int(code))
            kept = [] if known is None or known[0] != sha256 else list(known[1])
            return self._version, kept

    def forget(self, ids):
        """Drop the witness rows with these ids (rows an unlearner removed): their
        values stay nowhere in this process."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        with self._lock:
            self._version += 1
            for code in np.unique(codes_of(ids)).tolist():
                known = self._by_code.get(int(code))
                if known is None:
                    continue
                kept = []
                for load in known[1]:
                    keep = np.flatnonzero(~np.isin(load.ids, ids))
                    if keep.size < load.ids.size:
                        # a new load, not this one changed: a fit in another thread
                        # reading it would see the ids of one and the values of the other
                        load = load.taking(keep)
                    if load.ids.size:
                        kept.append(load)
                known[1] = kept
        for store in self._followers:
            store.forget(ids)

    def unchecked(self, codes):
        """Of ``codes``, those whose loads are no longer kept (read more than
        ``MAX_LOADS`` ways in this process, or a code reused by a cleared registry): their
        values cannot be compared with what was loaded."""
        with self._lock:
            return sorted(int(c) for c in codes if int(c) in self._overflow)

    @property
    def version(self):
        """A number that changes whenever the loads kept do."""
        with self._lock:
            return self._version

    def every_load(self):
        """``(version, [(code, load), ...])``: every load kept, in no particular order,
        and a number that changes whenever the loads kept do."""
        with self._lock:
            loads = [(code, w) for code, (_, kept) in self._by_code.items() for w in kept]
            return self._version, loads

    def clear(self):
        with self._lock:
            self._version += 1
            self._by_code.clear()
            self._overflow.clear()
        for store in self._followers:
            store.clear()


WITNESSES = _Witnesses()


def changed_columns(X, ids, sources, skip=(), renamed=None):
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
    renamed : Renamed, optional
        Columns of ``X`` identified as loaded columns under other names
        (:func:`._renamed.loaded_names`): compared with those.

    Returns
    -------
    changed : ChangedColumns
        Column -> ``(rows that differ, witness rows compared, of those that differ the
        rows whose loaded value was missing)``, for the columns with at least one
        difference, in ``X``'s column order. A row of a merge or aggregate differs too
        where it holds the value the merge or aggregate made from an input value that
        had changed (each witness row counted once). Its ``by_source``, ``through``,
        ``rows_compared`` and ``rows`` say more (see :class:`ChangedColumns`).
    """
    if not isinstance(X, pd.DataFrame) or X.columns.has_duplicates or not len(ids):
        return ChangedColumns()  # (nothing compared: by_source None)
    from ._witness_view import witness_view  # (it builds on this module)

    names = [str(c) for c in X.columns]
    skip = set(skip)
    ids = np.asarray(ids, dtype=np.int64)
    counts = {n: [0, 0, 0] for n in names}  # differ, compared, filled
    by_source, through, rows_of, uncertain, replaced = {}, {}, {}, set(), []
    # witness rows compared, per source (distinct_codes: no hash of a million codes)
    compared = {int(c): 0 for c in distinct_codes(ids)}
    compared_at = [np.zeros(0, dtype=np.intp)]  # their positions in X
    view = witness_view(X, ids, sources)  # (taken once per fit: see taken_once)
    codes = view.codes if view is not None else np.zeros(0, np.int64)
    for code in np.unique(codes):
        source = sources.get(int(code))
        loads = WITNESSES.loads(code, source.sha256) if source is not None else []
        if not loads:
            continue
        rows = np.flatnonzero(codes == code)  # its witness rows, among the view's
        as_loaded = renamed.of(code) if renamed is not None else {}
        mine = {}  # this source's counts
        # per row: held by a load (found equal), equal to a load's value that is the
        # files' value, or to one that is not (made from inputs changed before a merge)
        covered, matched, clean, made_changed = (
            {n: np.zeros(rows.size, dtype=bool) for n in names} for _ in range(4)
        )
        # missing in the files for every load that has the row: a difference fills a gap
        was_missing = {n: np.ones(rows.size, dtype=bool) for n in names}
        for w in loads:
            where = view.positions(w)
            inside = np.flatnonzero(where[rows] >= 0)
            if not inside.size:
                continue
            for name in names:
                loaded = as_loaded.get(name, name)
                if name in skip or loaded not in w.columns:
                    continue
                at, eq = view.equal(w, name, loaded)
                ours = codes[at] == code  # (then at holds rows[inside], in order)
                eq, kept = eq[ours], where[at[ours]]
                gaps = w.columns[loaded].missing[kept]
                made = w.inherited.get(loaded)
                matched[name][inside] |= eq
                if made is None:
                    clean[name][inside] |= eq
                else:  # the load's value, compared with the files' where known
                    differs_in, filled_in, known = (m[kept] for m in made)
                    clean[name][inside] |= eq & known & ~differs_in
                    made_changed[name][inside] |= eq & known & differs_in
                    gaps = gaps | filled_in
                covered[name][inside] = True
                was_missing[name][inside] &= gaps
        masks, per_column = {}, []
        seen = np.zeros(rows.size, dtype=bool)
        for name in names:
            # a row equal only to a load value made from inputs whose values were not
            # compared (not witness rows of theirs) is not known to hold the files' value
            differs = covered[name] & ~clean[name] & (made_changed[name] | ~matched[name])
            checked = clean[name] | differs
            unknown = covered[name] & ~checked
            filled = differs & was_missing[name]
            seen |= checked
            found = (int(differs.sum()), int(checked.sum()), int(filled.sum()))
            if found[1]:
                missing = view.columns[name].missing[rows]
                per_column.append((name, checked, differs, filled, missing))
            counts[name] = [a + b for a, b in zip(counts[name], found)]
            if found[1] or unknown.any():
                _add_rows(rows_of, name, view.ids[rows], checked, differs, filled)
            if found[0] or unknown.any():
                mine[name] = (as_loaded.get(name, name), *found, int(unknown.sum()))
                masks[name] = (as_loaded.get(name, name), checked, differs, filled, unknown)
                uncertain.update([name] if unknown.any() else [])
        compared[int(code)] = int(seen.sum())
        hit, columns = replaced_rows(per_column)
        replaced += [
            (int(i), int(p), c)
            for i, p, c in zip(view.ids[rows][hit], view.hit[rows][hit], columns)
        ]
        compared_at.append(view.hit[rows[seen]])
        if masks and source.kind == "merge":
            from ._changed_leaves import leaf_counts  # (it builds on _rows)

            found = leaf_counts(sources, int(code), view.ids[rows], masks)
            for (leaf, column, name), c in (found or {}).items():
                _add(through, (leaf, column, name, int(code)), c)
        if mine:  # (only a source with a change is listed)
            by_source[int(code)] = mine
    out = ChangedColumns((n, tuple(c)) for n, c in counts.items() if c[0])
    out.by_source, out.through, out.rows_compared = by_source, through, compared
    out.replaced = sorted(replaced, key=lambda r: r[1])
    out.compared_at = np.sort(np.concatenate(compared_at))
    from ._derived_witness import compared_through  # (it builds on this module)

    out.compared_through = compared_through(sources, compared)
    out.rows = {
        n: tuple(np.concatenate(part) for part in held)
        for n, held in rows_of.items()
        if n in out or n in uncertain  # (a column with no difference: nothing to carry)
    }
    return out


def _add(counts, key, more):
    """``counts[key]`` plus ``more``, elementwise (a tuple of counts)."""
    held = counts.get(key)
    counts[key] = tuple(more) if held is None else tuple(a + b for a, b in zip(held, more))


def _add_rows(rows_of, name, ids, *masks):
    """Add to ``rows_of[name]`` the ids of the rows each of ``masks`` holds."""
    held = rows_of.setdefault(name, tuple([] for _ in masks))
    for part, mask in zip(held, masks):
        part.append(ids[mask])


class ChangedColumns(dict):
    """:func:`changed_columns`' counts by column of the data, and:

    ``by_source``: source code -> {column of the data: ``(loaded column, rows that
    differ, witness rows compared, of those that differ the rows whose loaded value was
    missing, rows not known)``}, for the sources with at least one difference or row
    not known (a merge's rows equal to the values it made from input rows that were not
    compared, in a column whose inputs had changed on rows compared; not counted among
    the rows compared). The loaded column is the
    one the column was compared with: its own name, or the name it was identified by its
    values as); None where nothing was compared (the data has duplicate column names, or
    no rows).
    ``through``: ``{(source code, its column, column of the data, merge code): (rows
    that differ, rows compared, missing filled, rows not known)}``, the share of a
    merge's witness rows built from a row of each parent source its changed column
    comes from (see
    :func:`._changed_leaves.leaf_counts`).
    ``rows_compared``: source code -> the witness rows of the data from that source
    compared with what was loaded (in at least one column), for every source of its rows: 0 where
    none could be (its loads are not kept in this process, none of its rows is a
    witness row, no column of the data is one of its loaded columns).
    ``rows``: column of the data -> ``(ids of the witness rows compared, of those that
    differ, of those whose value was missing in the files)``, for the columns with a
    difference, for :func:`._derive.merge` and :func:`._derive.aggregate` to carry to
    the rows they make.
    ``compared_at``: the positions in the data of the witness rows compared (in at
    least one column), sorted: of those, :func:`._derived_witness.merge_witnesses` makes
    a merge's witness rows.
    ``replaced``: ``[(row id, position in the data, columns)]`` of the witness rows
    that hold none of the values loaded for their id's line (see :mod:`._replaced_rows`),
    in the data's row order.
    ``compared_through``: ``{(source code, merge code): rows}`` for each ancestor of a
    merge or aggregate among the data's sources: the merge's rows compared, or 0 where
    the ancestor's values given to it were not compared with what was loaded (see
    :func:`._derived_witness.compared_through`).
    """

    by_source = None  # (None: nothing was compared; set by changed_columns)
    through = {}  # (set per instance by changed_columns)
    rows_compared = None
    rows = {}
    compared_at = np.zeros(0, dtype=np.intp)
    compared_through = {}
    replaced = ()


def describe(changed):
    """``"bp (12 of 256 rows checked, 3 of them missing values filled), ..."``."""
    out = []
    for name, (k, n, filled) in changed.items():
        gaps = f", {filled} of them missing values filled" if filled else ""
        out.append(f"{name} ({k} of {n} rows checked{gaps})")
    return ", ".join(out)


def changed_note(changed):
    """The run's note naming ``changed`` (from :func:`changed_columns`)."""
    return (
        f"input column(s) {describe(changed)} hold values that differ from what was "
        "loaded for the same rows, or for the rows they were merged or aggregated from "
        "(read_csv, from_pandas, from_numpy): they were changed outside the pipeline, "
        "and the run does not record how. Their lineage names the loaded column, which "
        "is right where each row's new value was computed from that row alone (a unit "
        "conversion, fillna with a constant); values moved between rows or computed over "
        "rows (shift, ffill/bfill, fillna with a mean, rolling, groupby().transform, a "
        "column replaced under the same name) carry data of other rows that the lineage "
        "does not name, and that unlearning those rows does not remove. Do such steps in "
        "the pipeline, or with sktraceprop.merge / sktraceprop.aggregate / a "
        "TracedEstimator."
    )
