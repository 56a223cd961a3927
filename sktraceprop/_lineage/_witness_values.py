"""A load's values on its witness rows, taken column by column and compared: numbers as
floats (at the narrowest width either side holds), text that spells a number or a time
equal to it (:mod:`._witness_text`), cells as hashable keys."""

import numpy as np
import pandas as pd

from .._frame_columns import column_arrays
from ._arrow_take import take_by_chunk
from ._witness_text import NUMBERS as _NUMBERS
from ._witness_text import as_numbers, times_equal


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
    missing) or objects, the missing mask, the float width (64 unless narrower), and for
    an integer column its values as int64 (``exact``; None for others): float64 rounds
    integers past 2**53, and two such columns are compared exactly."""

    __slots__ = ("bits", "exact", "missing", "numeric", "values")

    def __init__(self, values, missing, numeric, bits, exact=None):
        self.values, self.missing, self.numeric, self.bits = values, missing, numeric, bits
        self.exact = exact

    def take(self, positions):
        exact = None if self.exact is None else self.exact[positions]
        return _Column(
            self.values[positions], self.missing[positions], self.numeric, self.bits, exact
        )


def exact_integers(values, missing=None):
    """An integer array's values as int64 (0 where ``missing``), or None: not integers,
    or beyond int64 (uint64 past 2**63)."""
    values = np.asarray(values)
    if values.dtype.kind == "i" or (
        values.dtype.kind == "u" and (values.size == 0 or values.max() < 2**63)
    ):
        out = values.astype(np.int64)
        if missing is not None and missing.any():
            out[missing] = 0
        return out
    return None


def series_integers(series):
    """``(values, missing)`` of an integer Series (NumPy, nullable or Arrow integers):
    its values as int64 (0 where missing, see :func:`exact_integers`) and the missing
    mask; None for any other Series, or integers beyond int64."""
    dtype = series.dtype
    base = getattr(dtype, "numpy_dtype", dtype)
    if not isinstance(base, np.dtype) or base.kind not in "iu":
        return None
    missing = np.asarray(series.isna(), dtype=bool)
    exact = exact_integers(series.to_numpy(dtype=base, na_value=0), missing)
    return None if exact is None else (exact, missing)


def cell_keys(column):
    """A hashable key for every cell of a :class:`_Column`: numbers at float32
    precision (a cast to float32 is no change), those of an object column too (a frame's
    columns assigned from ``to_numpy()`` of mixed columns hold floats as objects),
    ``None`` where missing. An integer column's integers that float32 rounds are kept
    as themselves (``int``; one float32 holds exactly is its float key, which it
    equals): past 2**24 neighbouring integers, account numbers, had one key, and a row
    holding another's was found by no key."""
    if column.numeric:
        values = column.values.astype(np.float32).astype(np.float64).tolist()
        missing = column.missing.tolist()
        if column.exact is not None:  # integers float32 rounds kept exact (2**24 and past)
            exact = column.exact.tolist()
            values = [v if m or int(v) == e else e for v, e, m in zip(values, exact, missing)]
        return [None if m else ("n", v) for v, m in zip(values, missing)]
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


def _arrow_integers(chunked):
    import pyarrow as pa  # present: the array is one of its

    return pa.types.is_integer(chunked.type)


def _arrow_take(chunked, positions):
    """``chunked.take(positions)`` chunk by chunk: pyarrow's take of a chunked array
    joins all its chunks first (a copy of the whole column for a few hundred values).
    Returns the values as a NumPy array (``None`` where missing) and the missing mask."""
    taken = take_by_chunk(chunked, positions)
    values = np.empty(positions.size, dtype=object)
    values[:] = taken.to_numpy(zero_copy_only=False)
    missing = taken.is_null().to_numpy(zero_copy_only=False)
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
        numeric, exact = _is_numeric(dtype), None
        chunked = _arrow_chunks(array)
        if chunked is not None:
            values, missing = _arrow_take(chunked, positions)
            if numeric and _arrow_integers(chunked):
                exact = exact_integers(np.array([0 if m else v for v, m in zip(values, missing)]))
            if numeric:
                values = np.array([np.nan if m else v for v, m in zip(values, missing)], float)
        elif isinstance(array, np.ndarray) and (numeric or array.dtype == object):
            values = array[positions]
            missing = pd.isna(values) if not numeric else np.zeros(values.size, dtype=bool)
        else:  # extension arrays, and datetimes as pandas gives them (Timestamps)
            taken = pd.array(array).take(positions)
            missing = np.asarray(taken.isna(), dtype=bool)
            if numeric:
                base = getattr(dtype, "numpy_dtype", None)
                if base is not None and base.kind in "iu":  # nullable Int64, UInt64
                    exact = exact_integers(taken.to_numpy(dtype=base, na_value=0), missing)
                values = np.asarray(taken.to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                values = np.asarray(taken.to_numpy(dtype=object))
        if numeric:
            if exact is None and chunked is None:
                exact = exact_integers(values)
            values = np.asarray(values, dtype=np.float64)
            out.append(
                _Column(values, missing | np.isnan(values), True, _float_bits(dtype), exact)
            )
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
    if mine.numeric and theirs.numeric and mine.exact is not None and theirs.exact is not None:
        eq = mine.exact == theirs.exact  # (two integer columns: exactly)
    elif mine.numeric and theirs.numeric:
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
