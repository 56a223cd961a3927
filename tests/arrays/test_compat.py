"""Traced NumPy arrays as drop-in replacements in code a data scientist writes: what
escapes the read-only guard, elements of string and structured arrays, ``round`` of an
element, NumPy functions that copy through ``np.asarray``. The truth is carried by hand:
values that encode their own source row."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

from ._chains import reported


def _direct_lines(x, n):
    return [{line for _, line in direct} for direct, _ in reported(x, n)]


def _base_chain(a):
    """Every array reachable from ``a`` through ``.base``, ``a`` excluded."""
    out = []
    while isinstance(getattr(a, "base", None), np.ndarray):
        a = a.base
        out.append(a)
    return out


def test_no_write_reaches_traced_rows_through_the_base_chain():
    """``x.base`` (the plain array under a traced one) was writable, and so became a plain
    view re-flagged writable: ``x.base[0] = x.base[3]`` left row 0 holding line 4's
    values while its lineage said line 1."""
    X = np.arange(24.0).reshape(8, 3)
    x = stp.array(X, source_id="base_chain")
    results = [
        x,
        x[2:],
        x[[3, 0]],
        x * 2.0,
        x.T,
        x.reshape(4, 6),
        np.concatenate([x, x]),
        x.sum(axis=1),
        x.astype(np.float32),
        np.where(x > 5, x, 0.0),
    ]
    for r in results:
        chain = _base_chain(r)
        assert chain, type(r)
        for b in chain:
            with pytest.raises(ValueError, match="read-only"):
                b[...] = -1.0
        with pytest.raises(ValueError, match="WRITEABLE"):
            np.asarray(r).flags.writeable = True
    assert np.array_equal(x, X)
    assert _direct_lines(x, 8) == [{k + 1} for k in range(8)]
    # the traced arrays' own writes still go through, and update the row ids
    y = x * 1.0
    assert y.flags.writeable
    y[0] = y[3]
    y += 1.0
    assert np.array_equal(y[0], X[3] + 1.0) and _direct_lines(y, 2) == [{4}, {2}]
    assert np.array_equal(x, X)


def test_the_callers_own_arrays_are_neither_locked_nor_unlocked():
    x = stp.array(np.arange(6.0).reshape(3, 2), source_id="callers_own")
    out = np.zeros((3, 2))
    r = np.add(x, 1.0, out=out)
    assert out.flags.writeable and np.array_equal(out, np.asarray(x) + 1.0)
    assert _direct_lines(r, 3) == [{1}, {2}, {3}]
    out = np.zeros(2)
    x.sum(axis=0, out=out)
    assert out.flags.writeable
    frozen = np.ones((3, 2))
    frozen.flags.writeable = False
    _, b = np.broadcast_arrays(x, frozen)  # gives ``frozen`` back, as NumPy does
    assert not frozen.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        b[0, 0] = 5.0  # a traced result never unlocks memory the caller made read-only
    assert np.array_equal(frozen, np.ones((3, 2)))


def test_a_write_to_a_frame_after_tracing_changes_no_traced_row():
    """A one-dtype DataFrame's ``to_numpy()`` is a view of its column block: a write to
    the frame after tracing reached the traced rows (and left the source's SHA-256
    describing other values)."""
    values = np.arange(12.0).reshape(4, 3)
    frame = pd.DataFrame(values.copy(), columns=["a", "b", "c"])
    x = stp.array(frame, source_id="frame_after")
    frame.iloc[0, 0] = 999.0
    frame.loc[3] = -1.0
    assert np.array_equal(x, values)
    series = pd.Series(values[:, 0].copy())
    s = stp.array(series, source_id="series_after")
    series.iloc[1] = 999.0
    assert np.array_equal(s, values[:, 0])


def test_a_traced_series_shares_no_memory_with_the_callers_series():
    """Before pandas 3 (no copy-on-write) ``Series.to_numpy()`` is the Series' own array:
    traced as is, a traced write changed the caller's Series and tracing made it
    read-only to the caller."""
    series = pd.Series(np.arange(4.0))
    s = stp.array(series, source_id="series_own_memory")
    s[0] = s[3]
    assert series.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert _direct_lines(s, 4) == [{4}, {2}, {3}, {4}]
    series.iloc[1] = -1.0
    assert np.asarray(s).tolist() == [3.0, 1.0, 2.0, 3.0]


def test_a_tensor_traced_as_numpy_shares_no_memory_with_the_callers_tensor():
    """``stp.array(t, framework="numpy")`` viewed the caller's tensor: ``t[0] = 99``
    afterwards changed traced row 0, and a traced write changed ``t``."""
    torch = pytest.importorskip("torch")
    t = torch.arange(6.0).reshape(3, 2)
    x = stp.array(t, source_id="tensor_as_numpy", framework="numpy")
    t[0] = 99.0
    x[1] = x[2]
    assert x.tolist() == [[0.0, 1.0], [4.0, 5.0], [4.0, 5.0]]
    assert t.tolist() == [[99.0, 99.0], [2.0, 3.0], [4.0, 5.0]]
    assert _direct_lines(x, 3) == [{1}, {3}, {3}]


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["U", "S"]),
    moves=st.lists(
        st.tuples(
            st.sampled_from(["swap", "assign", "where", "fancy"]),
            st.integers(0, 5),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_elements_of_string_arrays_carry_their_row(kind, moves):
    """``s[i]`` of a string array was NumPy's plain ``str_``: ``s[0], s[4] = s[4], s[0]``
    left both rows naming no source while holding another row's value, and
    ``s == s[0]`` did not depend on row 0. Each value names its row ("r3": line 4)."""
    plain = np.array([f"r{k}" for k in range(6)]).astype(kind)
    s = stp.array(plain, source_id=f"strings_{kind}")

    def line_of(value):
        text = value.decode() if isinstance(value, bytes) else value
        return int(text[1:]) + 1

    for move, i, j in moves:
        if move == "swap":
            s[i], s[j] = s[j], s[i]
        elif move == "assign":
            s[i] = s[j]
        elif move == "where":
            # every row compared with row j's value: each row depends on row j
            chosen = np.where(s == s[j], s, s[i])
            truth = [{line_of(v), line_of(s[j])} | {line_of(s[i])} for v in chosen.tolist()]
            got = [d | p for d, p in reported(chosen, 6)]
            assert all({line for _, line in g} >= t for g, t in zip(got, truth))
        else:
            s = s[[j, i, 0, 1, 2, 3]]
    assert _direct_lines(s, 6) == [{line_of(v)} for v in s.tolist()]
    e = s[0]
    assert isinstance(e, type(plain[0])) and e == s.tolist()[0]


def test_an_element_of_a_string_array_behaves_as_numpys():
    plain = np.array(["ab", "cd", "ab"])
    s = stp.array(plain, source_id="string_elements")
    e = s[0]
    assert isinstance(e, str) and e.upper() == "AB" and len(e) == 2
    assert json.dumps(e) == json.dumps(plain[0]) and {e: 1}["ab"] == 1
    assert str(e) == "ab" and f"{e:>3}" == " ab" and e + "x" == "abx"
    assert np.array([s[0], s[1]]).dtype == np.array([plain[0], plain[1]]).dtype
    assert pd.Series(list(s)).dtype == pd.Series(list(plain)).dtype
    assert np.unique(list(s)).dtype == plain.dtype and sorted(set(s)) == ["ab", "cd"]
    bytes_ = stp.array(plain.astype("S"), source_id="bytes_elements")
    assert isinstance(bytes_[1], bytes) and np.array([bytes_[0]]).dtype == np.dtype("S2")


def test_an_element_of_a_structured_array_is_a_view_as_numpys_void():
    dtype = [("row", "i8"), ("w", "f8")]
    plain = np.array([(k, 10.0 * k) for k in range(4)], dtype=dtype)
    s = stp.array(plain.copy(), source_id="structured")
    assert s[2]["row"] == 2 and _direct_lines(s[2]["w"] - s["w"], 1) == [{1, 3}]
    # NumPy's void is a view: this "swap" copies row 3 into row 0 and row 0 back
    s[0], s[3] = s[3], s[0]
    p = plain.copy()
    p[0], p[3] = p[3], p[0]
    assert s.tolist() == p.tolist()
    # row 3 was written from a view of row 0 made before row 0 changed: no lineage is
    # given rather than a wrong one
    with pytest.raises(LineageError, match="modified in place"):
        reported(s, 4)


def test_round_of_one_element_is_numpys():
    x = stp.array(np.array([[1.25, 2.0], [3.5, 4.0]]), source_id="round_elements")
    plain = np.asarray(x)
    e = round(x[0, 0], 1)
    assert e == round(plain[0, 0], 1) and e.dtype == plain.dtype
    assert round(x[1, 0]) == round(plain[1, 0]) and type(round(x[1, 0])) is int
    # rounded, the element still brings its row: every row depends on row 0
    assert _direct_lines(x - round(x[0, 0], 1), 2) == [{1}, {1, 2}]
    with pytest.raises(TypeError, match="__round__"):
        round(x)


@pytest.mark.parametrize(
    "shuffled",
    [
        lambda x: np.random.default_rng(0).permutation(x),
        lambda x: np.random.default_rng(0).permuted(x, axis=0),
        lambda x: np.random.default_rng(0).choice(x, 3, replace=False),
        lambda x: np.random.RandomState(0).permutation(x),
        lambda x: np.ascontiguousarray(x[::-1]),
        lambda x: np.array(list(x)),
    ],
)
def test_functions_that_copy_through_asarray_give_plain_arrays(shuffled):
    """NumPy's C code behind these reads a traced array as ``np.asarray`` does: the
    result is a plain array, which ``provenance`` refuses (never traced with wrong ids).
    Indexing with a permutation keeps the rows."""
    X = np.arange(12.0).reshape(6, 2)
    x = stp.array(X, source_id="asarray_copies")
    out = shuffled(x)
    assert type(out) is np.ndarray
    with pytest.raises(TypeError, match="not traced"):
        stp.provenance(out)
    order = np.random.default_rng(0).permutation(len(x))
    kept = x[order]
    assert _direct_lines(kept, 6) == [{int(v) // 2 + 1} for v in kept[:, 0].tolist()]


def test_in_place_operators_on_one_element_rebind_it_as_numpys_scalar_does():
    """``total += e`` on an element (a 0-d traced array) wrote into it: every name bound
    to it before changed too, so a running total's history was [6, 6, 6], not
    [1, 3, 6] as with NumPy's scalars."""
    v = stp.array(np.array([1.0, 2.0, 3.0]), source_id="running_total")

    def history_of(values):
        total = values[0]
        history = [total]
        for e in values[1:]:
            total += e
            history.append(total)
        total -= 100.0
        return history

    traced, plain = history_of(v), history_of(np.asarray(v).copy())
    assert [float(h) for h in traced] == [float(h) for h in plain] == [1.0, 3.0, 6.0]
    assert [_direct_lines(h[None], 1)[0] for h in traced] == [{1}, {1, 2}, {1, 2, 3}]
    s = v.sum()
    before = s
    s *= 2.0
    assert float(before) == 6.0 and float(s) == 12.0
    # an element written back, and a 0-d view, still write into the array, as in NumPy
    x = stp.array(np.arange(6.0).reshape(3, 2), source_id="element_back")
    x[0, 0] += 10.0
    view = x[1, 1, ...]
    view += 100.0
    assert x.tolist() == [[10.0, 1.0], [2.0, 103.0], [4.0, 5.0]]


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_a_row_imputed_through_a_mask_of_its_own_values_stays_its_row(framework):
    """``x[np.isnan(x)] = 0`` wrote an all-NaN row entirely: the row took the parents of
    the constant (none) and became a training row of no source, though the mask that
    chose it was computed from that very row."""
    X = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0], [np.nan, np.nan]])
    if framework == "torch":
        torch = pytest.importorskip("torch")
        X = torch.tensor(X)
    x = stp.array(X, source_id=f"impute_{framework}")
    x[x != x] = 0.0  # NaN is not itself
    x[(x == 0.0).all(1)] = -1.0  # rows that were all NaN
    plain = np.asarray(X)
    expected = np.where(np.isnan(plain).all(axis=1)[:, None], -1.0, np.nan_to_num(plain))
    assert np.array_equal(np.asarray(x), expected)
    assert _direct_lines(x, 4) == [{1}, {2}, {3}, {4}]
    # a key computed without traced data still replaces a row written entirely
    x[[1]] = 7.0
    assert _direct_lines(x, 4) == [{1}, set(), {3}, {4}]


def test_nan_to_num_without_a_copy_writes_into_the_traced_array_as_numpy_does():
    """``np.nan_to_num(x, copy=False)`` raised 'assignment destination is read-only'
    though ``x.flags.writeable`` said True: NumPy was given the read-only view."""
    X = np.array([[1.0, np.nan], [np.inf, np.nan], [3.0, -np.inf]])
    x = stp.array(X, source_id="nan_to_num_in_place")
    plain = X.copy()
    assert np.nan_to_num(x, copy=False, posinf=9.0) is x
    assert np.nan_to_num(plain, copy=False, posinf=9.0) is plain
    assert np.array_equal(x, plain) and _direct_lines(x, 3) == [{1}, {2}, {3}]
    filler = stp.array(np.array([5.0, 6.0]), source_id="nan_to_num_filler")
    y = stp.array(X, source_id="nan_to_num_traced_fill")
    np.nan_to_num(y, copy=False, nan=filler[1])
    assert np.asarray(y)[0, 1] == 6.0
    rows = reported(y, 3)
    assert all(("nan_to_num_filler", 2) in d | p for d, p in rows)


@settings(max_examples=25, deadline=None)
@given(
    cells=st.lists(st.sampled_from([0.5, -2.0, np.nan, np.inf, -np.inf]), min_size=2, max_size=12),
    nan=st.sampled_from([0.0, -1.0, 7.5]),
)
def test_nan_to_num_with_a_copy_gives_numpys_values_and_keeps_each_row(cells, nan):
    """``np.nan_to_num(x)`` (``copy=True``, the default) of a traced array recursed
    until Python's limit (RecursionError): its handler was registered twice, so the
    general rule it falls back to for copies was the handler itself."""
    X = np.asarray(cells[: len(cells) // 2 * 2]).reshape(-1, 2)
    x = stp.array(X, source_id=f"nan_to_num_copy_{len(cells)}_{nan}")
    out = np.nan_to_num(x, nan=nan)
    assert out is not x and isinstance(out, stp.arrays.TracedArray)
    assert np.array_equal(np.asarray(out), np.nan_to_num(X, nan=nan))
    assert np.array_equal(np.asarray(x), X, equal_nan=True)  # the input is not written
    assert _direct_lines(out, len(X)) == [{k + 1} for k in range(len(X))]


def test_a_view_as_ndarray_is_a_plain_read_only_array_as_asarray_gives():
    """``x.view(np.ndarray)`` (how libraries strip a subclass) gave a TracedArray."""
    x = stp.array(np.arange(6.0).reshape(3, 2), source_id="view_as_ndarray")
    for plain in (x.view(np.ndarray), x.view(type=np.ndarray), x.view(np.float64, np.ndarray)):
        assert type(plain) is np.ndarray and np.array_equal(plain, np.asarray(x))
        assert not plain.flags.writeable
    assert _direct_lines(x.view(type(x))[::-1], 3) == [{3}, {2}, {1}]
    assert _direct_lines(x.view(np.int64)[::-1], 3) == [{3}, {2}, {1}]


@settings(max_examples=25, deadline=None)
@given(
    framework=st.sampled_from(["numpy", "torch"]),
    order=st.permutations(range(5)),
    make=st.sampled_from(["zeros_like", "empty_like", "full_like", "ones_like"]),
    by_element=st.booleans(),
)
def test_a_preallocated_array_filled_row_by_row_names_each_row_written(
    framework, order, make, by_element
):
    """``out = np.zeros_like(x); out[i] = x[order[i]]`` gave every row of ``out`` all
    the rows of ``x``: the made array's map had no row axis, so each write was pooled."""
    X = np.arange(10.0).reshape(5, 2)
    if framework == "torch":
        torch = pytest.importorskip("torch")
        x = stp.array(torch.tensor(X), source_id="prealloc_torch")
        lib = torch
    else:
        x = stp.array(X, source_id="prealloc_numpy")
        lib = np
    args = (x, -1.0) if make == "full_like" else (x,)
    out = getattr(lib, make)(*args)
    for i, k in enumerate(order):
        if by_element:
            for j in range(2):
                out[i, j] = x[k, j]
        else:
            out[i] = x[k] * 2.0
    expected = X[list(order)] * (1.0 if by_element else 2.0)
    assert np.array_equal(np.asarray(out), expected)
    assert _direct_lines(out, 5) == [{k + 1} for k in order]


def test_a_traced_array_loaded_as_a_read_only_memory_map_says_so(tmp_path):
    """Loaded over a memory map opened "r" (joblib's, for its workers), ``flags``
    raised instead of saying False (the memory NumPy keeps read-only cannot be
    unlocked); writes give NumPy's own error, as for the plain memory map."""
    joblib = pytest.importorskip("joblib")
    x = stp.array(np.arange(6.0).reshape(3, 2), source_id="memory_map")
    joblib.dump(x[::-1], tmp_path / "x.joblib")
    y = joblib.load(tmp_path / "x.joblib", mmap_mode="r")
    assert type(y) is type(x) and not y.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        y[0] = 1.0
    assert np.array_equal(y, np.asarray(x)[::-1]) and _direct_lines(y, 3) == [{3}, {2}, {1}]
