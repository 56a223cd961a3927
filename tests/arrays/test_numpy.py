"""Traced NumPy arrays: sharing of row ids, file lines, unmodelled operations, in-place
writes, granularity, pickling and errors."""

import pickle
from urllib.parse import urlparse

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.arrays import _elide, _numpy_functions
from sktraceprop.exceptions import LineageError

from ._chains import reported


def _lines(x, rows, pooled=False):
    frame = stp.provenance(x).rows(rows, pooled=pooled)
    return list(zip(frame["row"], frame["source_id"], frame["line"]))


def _ids(x):
    return stp.provenance(x)._rows.ids


def test_row_preserving_operations_share_the_id_array():
    a = stp.array(np.random.default_rng(0).random((50, 4)), source_id="a")
    ids = _ids(a)[0]
    assert ids.dtype == np.int64 and ids.shape == (50,)
    W = np.ones((4, 3))
    for out in (
        a * 2 + 1,
        a - a.mean(axis=0),
        (a - a.mean(axis=0)) / a.std(axis=0),
        a.astype(np.float32),
        a.reshape(50, 2, 2),
        a @ W,
        a[:, 1:],
        np.where(a > 0.5, a, 0.0),
        np.clip(a, 0.1, 0.9),
        a.sum(axis=1),
        a[5:40:3],
    ):
        assert len(_ids(out)) == 1
        assert np.shares_memory(_ids(out)[0], ids)


def test_issue_example_rows_and_sources():
    rng = np.random.default_rng(1)
    a = stp.array(rng.random((1000, 3)), source_id="lab_a")
    b = stp.array(rng.random((500, 3)), source_id="lab_b")
    z = np.concatenate([(a - a.mean(axis=0)) / a.std(axis=0), b * 2 + 1])
    v = stp.provenance(z[[3, 1200]])
    assert sorted(v.sources()["source_id"]) == ["lab_a", "lab_b"]
    assert v.ops()["op"].tolist() == [
        "mean",
        "subtract",
        "std",
        "divide",
        "multiply",
        "add",
        "concatenate",
        "getitem",
    ]
    assert v.ops()["params"].iloc[-1] == {"key": [3, 1200]}
    assert _lines(z[[3, 1200]], 1) == [(1, "lab_b", 201)]
    row0 = v.rows(0)
    assert row0.loc[row0["through"].isna(), "line"].tolist() == [4]
    pooled = row0[row0["through"].notna()]
    assert sorted(pooled["line"]) == list(range(1, 1001)) and set(pooled["through"]) == {
        "mean, std"
    }
    assert v.rows(1)["through"].isna().all()
    assert v.pools()["applies_to"].tolist() == [1]


def test_rows_from_a_csv_name_the_physical_file_line(hospitals):
    df = stp.read_csv(hospitals["hospital_b"], source_id="hospital_b", comment="#")
    x = stp.array(df[["age", "bp"]])
    picked = (x - np.nanmean(x, axis=0))[[0, 4, 9]]
    frame = stp.provenance(picked).rows([0, 1, 2], pooled=False)
    raw = open(urlparse(frame["uri"][0]).path, newline="").read().splitlines()
    for row, line, want in zip(frame["row"], frame["line"], df["key"].to_numpy()[[0, 4, 9]]):
        # the named line of the raw file is the row (its first field is its line number)
        assert raw[line - 1].split(",")[0] == str(want) == str(line)
        assert row in (0, 1, 2)


def test_traced_frame_keeps_its_ids_and_refuses_a_new_source_id(hospital_frames):
    a, _ = hospital_frames
    x = stp.array(a[["age"]])
    assert np.array_equal(_ids(x)[0], stp.row_ids(a))
    with pytest.raises(LineageError, match="already carries"):
        stp.array(a, source_id="again")
    # ids moved out of the index: a new source would cut the lineage to the files
    with pytest.raises(LineageError, match="cut its lineage"):
        stp.array(a.reset_index()[["stp_row_id", "age"]], source_id="again")
    with pytest.raises(LineageError, match="source_id"):
        stp.array(np.ones((3, 2)))
    with pytest.raises(ValueError, match="0-d"):
        stp.array(np.float64(1.0), source_id="s")


def test_reductions_over_rows_depend_on_every_row():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    m = a.mean(axis=0)
    assert isinstance(m, stp.arrays.TracedArray)
    for out in (m, a.sum(), np.median(a, axis=0), np.linalg.norm(a, axis=0), a.max()):
        frame = stp.provenance(out).rows(0)
        assert sorted(frame["line"]) == [1, 2, 3, 4, 5, 6]
        assert frame["through"].notna().all()
    rows = stp.provenance(np.linalg.norm(a, axis=1)).rows(2, pooled=False)
    assert rows["line"].tolist() == [3]


@pytest.mark.parametrize(
    "mix",
    [
        lambda a: a.T @ a,
        lambda a: np.sort(a, axis=0),
        lambda a: np.cumsum(a, axis=0),
        lambda a: a.T,
        lambda a: np.linalg.qr(a)[1],
        lambda a: np.fft.fft(a, axis=0),
        lambda a: a[None],
    ],
)
def test_row_mixing_operations_give_every_row_every_input_row(mix):
    a = stp.array(np.random.default_rng(2).random((5, 5)), source_id="a")
    out = mix(a)
    everything = {("a", k) for k in range(1, 6)}
    for direct, pooled in reported(out, out.shape[0]):
        assert direct | pooled == everything
        assert not direct or direct == everything  # never one row standing for a mix


def test_unmodelled_functions_are_said_so():
    a = stp.array(np.random.default_rng(3).random((4, 4)), source_id="a")
    inv = np.linalg.inv(a)
    assert any("inv" in note for note in stp.provenance(inv).notes())
    assert stp.provenance(inv).ops()["params"].iloc[-1] == {"modelled": False}


def test_unmodelled_ndarray_methods_drop_row_ids():
    a = stp.array(np.random.default_rng(4).random((4, 3)), source_id="a")
    out = a.byteswap().byteswap()
    with pytest.raises(LineageError, match="does not model"):
        stp.provenance(out).rows(0)
    with pytest.raises(stp.exceptions.LineageLostError, match="does not model"):
        stp.TracedEstimator(FunctionTransformer()).fit(out)


def test_plain_exits_are_explicit():
    a = stp.array(np.ones((3, 2)), source_id="a")
    assert type(np.asarray(a)) is np.ndarray
    assert type(np.array(a)) is np.ndarray
    # one element stays traced (a 0-d array): it still comes from a row
    assert type(a[0, 0]) is stp.arrays.TracedArray and a[0, 0].shape == ()
    with pytest.raises(TypeError, match="not traced"):
        stp.provenance(np.asarray(a))


def test_setitem_full_rows_take_the_new_parents_partial_rows_gain_them():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    b = stp.array(np.ones((6, 2)), source_id="b")
    x = a.copy()
    x[1] = b[4]
    x[2, 0] = b[5, 0]
    x[3] = 0.0
    x[:, 1] += b[:, 1]
    assert _lines(x, 0) == [(0, "a", 1), (0, "b", 1)]
    assert _lines(x, 1) == [(1, "b", 2), (1, "b", 5)]
    # one element of row 2 from b's row 6, the other then plus b's row 3
    assert set(_lines(x, 2)) == {(2, "a", 3), (2, "b", 3), (2, "b", 6)}
    assert set(_lines(x, 3)) == {(3, "b", 4)}  # overwritten with a constant, then + b
    x2 = a.copy()
    x2[2, 0] = b[5, 0]  # one element (0-d, traced): row 2 keeps its own and gains b's
    assert _lines(x2, 2) == [(2, "a", 3), (2, "b", 6)]
    x3 = a.copy()
    x3[np.array([True, False, False, False, False, True])] = b[:2]
    assert _lines(x3, 5) == [(5, "b", 2)] and _lines(x3, 0) == [(0, "b", 1)]


def test_in_place_operations_update_lineage():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    b = stp.array(np.ones((6, 2)), source_id="b")
    x = a.copy()
    x += b
    assert _lines(x, 3) == [(3, "a", 4), (3, "b", 4)]
    x -= x.mean(axis=0)
    assert stp.provenance(x).rows(0)["through"].notna().any()
    y = a.copy()
    y.sort(axis=0)
    assert not _lines(y, 0)
    z = a.copy()
    z.fill(3.0)
    assert not len(stp.provenance(z).rows(0))


def test_writing_through_a_view_makes_other_views_stale():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    b = stp.array(np.ones((6, 2)), source_id="b")
    x = a.copy()
    v = x[:3]
    w = x[3:]
    v += b[:3]  # changes x's memory, through v
    assert _lines(v, 0) == [(0, "a", 1), (0, "b", 1)]
    for stale in (x, w):
        with pytest.raises(LineageError, match="modified in place"):
            stp.provenance(stale).rows(0)
    x2 = a.copy()
    x2[:3] += b[:3]  # through the array itself: tracked
    assert _lines(x2, 0) == [(0, "a", 1), (0, "b", 1)] and _lines(x2, 4) == [(4, "a", 5)]


def test_constant_in_place_ops_keep_lineage_and_views():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    x = a.copy()
    v = x[1:]
    x *= 2.0
    x[0, 0] = 7.0
    assert _lines(v, 0) == [(0, "a", 2)]


@pytest.mark.parametrize("mode", ["op", "batch", "none"])
def test_granularity(mode):
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    with stp.granularity(mode):
        assert stp.get_granularity() == mode
        z = np.concatenate([a - a.mean(axis=0), a * 2])[[1, 7]]
    assert stp.get_granularity() == "op"
    v = stp.provenance(z)
    if mode == "op":
        assert v.ops()["op"].tolist() == [
            "mean",
            "subtract",
            "multiply",
            "concatenate",
            "getitem",
        ]
        assert v.notes() == []
    elif mode == "batch":
        assert v.ops()["op"].tolist() == ["(not recorded)"]
        assert _lines(z, 1) == [(1, "a", 2)]
        assert any("batch" in note for note in v.notes())
    else:
        assert v.ops().empty
        with pytest.raises(LineageError, match="granularity 'none'"):
            v.rows(0)
        with pytest.raises(stp.exceptions.LineageLostError, match="granularity 'none'"):
            stp.TracedEstimator(FunctionTransformer()).fit(z)


def test_set_granularity_returns_the_previous_mode_and_checks_it():
    try:
        assert stp.set_granularity("batch") == "op"
        assert stp.set_granularity("op") == "batch"
    finally:
        stp.set_granularity("op")
    with pytest.raises(ValueError, match="granularity must be"):
        stp.set_granularity("rows")


def test_pickle_round_trip_keeps_lineage_and_sources():
    a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    z = (a - a.mean(axis=0))[[4, 1]]
    back = pickle.loads(pickle.dumps(z))
    assert isinstance(back, stp.arrays.TracedArray)
    assert np.array_equal(back, z)
    assert _lines(back, 0) == [(0, "a", 5)]
    assert stp.provenance(back).ops()["op"].tolist() == ["mean", "subtract", "getitem"]


def test_temporaries_are_reused_only_when_nothing_else_holds_them():
    if not _elide.ENABLED:
        pytest.skip("temporaries are reused on CPython 3.11-3.13 only")
    n = _elide.MIN_BYTES // 8 + 10
    base = np.random.default_rng(5).random(n)
    t = stp.array(base, source_id="big")
    before = _elide.REUSED[0]
    y = t * 2 + 1
    assert _elide.REUSED[0] == before + 1
    np.testing.assert_array_equal(y, base * 2 + 1)
    assert _lines(y, 7) == [(7, "big", 8)]
    named = t * 2
    z = named + 1  # a named array is never written in place
    np.testing.assert_array_equal(named, base * 2)
    np.testing.assert_array_equal(z, base * 2 + 1)
    w = 1 - t * 2  # the temporary on the right
    np.testing.assert_array_equal(w, 1 - base * 2)
    held = [t * 3]
    k = held[0] + 1
    np.testing.assert_array_equal(held[0], base * 3)
    np.testing.assert_array_equal(k, base * 3 + 1)
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = t * 2, t * 3
    copies = [np.array(o) for o in objects]
    _ = objects + 1
    for o, c in zip(objects, copies):
        np.testing.assert_array_equal(o, c)
    ints = stp.array(np.arange(n), source_id="ints")
    f = ints * 2 + 0.5  # the result's dtype differs: no reuse
    np.testing.assert_array_equal(f, np.arange(n) * 2 + 0.5)


def test_index_keys_of_every_kind_match_an_id_column():
    rng = np.random.default_rng(6)
    values = rng.random((7, 3, 2))
    x = stp.array(values, source_id="a")
    ids = np.arange(1, 8)
    keys = [
        np.s_[2],
        np.s_[-1, :, 0],
        np.s_[[3, 3, 0]],
        np.s_[rng.random(7) > 0.4],
        np.s_[..., 1],
        np.s_[1:6:2, [0, 2]],
        np.s_[:, 0, [1, 0]],
        np.s_[:, [0, 1], [1, 0]],
        np.s_[[[1, 2], [3, 4]]],
        np.s_[None, 2],
        np.s_[:, None, 1],
        np.s_[[0, 6], :, [1, 0]],
        np.s_[values[:, 0, 0] > 0.5, 1:],
    ]
    for key in keys:
        out = x[key]
        carried = np.broadcast_to(ids.reshape(7, 1, 1), values.shape)[key]
        if np.ndim(carried) == 0:
            continue
        got = reported(out, out.shape[0])
        for i in range(out.shape[0]):
            want = {("a", int(v)) for v in np.unique(carried[i])}
            assert got[i][0] | got[i][1] == want, key


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)])
def test_zero_size_arrays_are_registered(shape):
    a = stp.array(np.zeros(shape), source_id=f"empty_{shape[0]}_{shape[1]}")
    assert a.shape == shape
    view = stp.provenance(a)
    assert list(view.sources()["n_rows"]) == [shape[0]]
    if shape[0]:
        assert view.rows(shape[0] - 1)["line"].tolist() == [shape[0]]


def _coded(values, source_id):
    """A traced array whose every element holds its own row's line (1-based)."""
    codes = np.broadcast_to(
        np.arange(1.0, len(values) + 1).reshape((-1,) + (1,) * (values.ndim - 1)), values.shape
    )
    return stp.array(np.array(codes), source_id=source_id)


def test_block_matches_numpy_and_names_the_rows_it_holds():
    # np.block of nested lists used to get each inner list as one stacked array: a wrong
    # shape and wrong values
    a = _coded(np.zeros((4, 3)), "block_a")
    b = _coded(np.zeros((2, 1)), "block_b")
    layouts = [
        lambda a, b: [[a, a[::-1]]],
        lambda a, b: [[a[:2], b], [a[::-1][:1], b[:1]]],
        lambda a, b: [[a], [a[2:]]],
        lambda a, b: [a[:, 0], b[:, 0]],
        lambda a, b: [[a[:2, :1], np.full((2, 2), -1.0)], [a[1:, :3]]],
    ]
    for layout in layouts:
        out = np.block(layout(a, b))
        plain = np.block(layout(np.asarray(a), np.asarray(b)))
        np.testing.assert_array_equal(np.asarray(out), plain)
        # the values are the lines; a and b both count from 1, so compare line sets
        got = reported(out, out.shape[0])
        for i in range(out.shape[0]):
            lines = {line for _, line in got[i][0] | got[i][1]}
            assert lines == {int(v) for v in plain[i].ravel() if v > 0}


def test_pad_with_odd_reflection_names_the_edge_row_too():
    values = np.random.default_rng(0).random((5, 2))
    x = stp.array(values, source_id="odd")
    for before, after in ((2, 1), (3, 0), (7, 6)):
        out = np.pad(x, ((before, after), (0, 0)), mode="reflect", reflect_type="odd")
        claimed = reported(out, out.shape[0])
        # truth: the input rows whose change changes each output row
        for r in range(5):
            moved = values.copy()
            moved[r] += 1.0
            changed = np.pad(moved, ((before, after), (0, 0)), "reflect", reflect_type="odd")
            for i in np.nonzero((changed != np.asarray(out)).any(axis=1))[0]:
                assert ("odd", r + 1) in claimed[i][0] | claimed[i][1], (before, after, i)


def test_setitem_keys_of_every_kind_never_name_a_wrong_row():
    # every element holds its row's line: after x[key] = v, row i must list the lines
    # left in it, and name as its own rows only those (an element written twice, whose
    # winner NumPy leaves unspecified, pools every value row written)
    a = _coded(np.zeros((6, 3)), "set_a")
    b = stp.array(np.asarray(_coded(np.zeros((6, 3)), "tmp")) + 100.0, source_id="set_b")
    keys_values = [
        (np.s_[[4, 4, 4], [0, 1, 2]], lambda b: b[[1, 2, 3], 0]),
        (np.s_[[0, 0]], lambda b: b[[4, 3]]),
        (np.s_[[1, 2, 1], [0, 0, 2]], lambda b: b[[5, 0, 2], 1]),
        (np.s_[::-1], lambda b: b),
        (np.s_[:, 0], lambda b: b[::-1, 1]),
        (np.s_[[True, False, True, False, False, True]], lambda b: b[[5, 4, 3]]),
        (np.s_[1:3], lambda b: b[4]),
        (np.s_[[]], lambda b: b[[]]),
    ]
    for key, value in keys_values:
        x = a.copy()
        x[key] = value(b)
        plain = np.asarray(x)
        got = reported(x, 6)
        for i in range(6):
            want = {("set_a", int(v)) for v in plain[i] if v < 100}
            want |= {("set_b", int(v) - 100) for v in plain[i] if v >= 100}
            assert want <= got[i][0] | got[i][1], (key, i)
            assert got[i][0] <= want, (key, i)


def test_empty_index_keys_give_empty_rows():
    # x[[]] raised in the row map (an empty position array could not be reshaped)
    x = stp.array(np.ones((4, 2)), source_id="empty_keys")
    for key, lines in (([], []), (np.s_[:, []], [1, 2, 3, 4]), (np.s_[[], 0], [])):
        out = x[key]
        assert out.shape == np.ones((4, 2))[key].shape
        frame = stp.provenance(out).rows(np.arange(out.shape[0]), pooled=False)
        assert set(frame["line"]) <= set(lines)  # a row of no elements may name none


def test_resize_in_place_resizes_the_array_and_its_rows():
    values = np.arange(12.0).reshape(4, 3)
    x = stp.array(values, source_id="resized")
    y = x.copy()
    y.resize((6, 2))  # resized the view it was given, not y, and kept y's rows
    expected = values.copy()
    expected.resize((6, 2))
    np.testing.assert_array_equal(np.asarray(y), expected)
    got = reported(y, 6)
    for i in range(6):
        assert got[i][0] == {("resized", int(v) // 3 + 1) for v in expected[i]}
    with pytest.raises(ValueError, match="own its data"):
        y.resize((8, 2))  # a traced array never owns its memory: refused, not faked


def test_in_place_masks_are_parents_of_the_rows_they_choose():
    # as np.where's condition: the rows of a traced mask that chose the elements
    a = stp.array(np.zeros((4, 2)), source_id="mask_a")
    c = stp.array(np.array([[1.0, 0], [0, 0], [1, 1], [0, 1]]), source_id="mask_c")
    cond = c > 0.5
    for write in (
        lambda x: np.copyto(x, 7.0, where=cond),
        lambda x: np.putmask(x, cond, 7.0),
        lambda x: np.place(x, cond, [7.0]),
    ):
        x = a.copy()
        write(x)
        got = reported(x, 4)
        for i in range(4):
            assert ("mask_c", i + 1) in got[i][0] | got[i][1]


def test_reduction_methods_pool_a_traced_where():
    # x.sum(axis=1, where=m) passed the traced mask on to NumPy, whose ufunc call came
    # back already traced with the mask's rows only: x's own rows were left out
    x = _coded(np.zeros((5, 3)), "where_x")
    m = stp.array(np.random.default_rng(3).random((5, 3)) > 0.3, source_id="where_m")
    for reduce in (
        lambda x, w: x.sum(axis=1, where=w),
        lambda x, w: x.max(axis=1, where=w, initial=-1.0),
        lambda x, w: x.mean(axis=1, where=w),
        lambda x, w: x.std(axis=1, where=w),
        lambda x, w: (x > 2).all(axis=1, where=w),
        lambda x, w: x.sum(1, None, None, False, 0, w),
    ):
        out = reduce(x, m[::-1])
        got = reported(out, 5)
        for i in range(5):
            # row i is x's row i, counted where the mask's row 5 - i allows
            assert ("where_x", i + 1) in got[i][0], i
            assert ("where_m", 5 - i) in got[i][0] | got[i][1], i


def test_a_positional_out_takes_the_lineage_of_what_was_written():
    # out= given by position (np.cumsum(y, 1, None, o), y.take(k, 0, o)): NumPy wrote
    # into o while o kept its old rows (or, through a method, was said to hold none)
    y = stp.array(np.asarray(_coded(np.zeros((4, 3)), "tmp")) + 100.0, source_id="pos_out_y")
    flip = [3, 2, 1, 0]
    writes = [
        lambda o: np.cumsum(y[::-1], 1, None, o),
        lambda o: np.take(y, flip, 0, o),
        lambda o: np.clip(y[::-1], 0, 1000, o),
        lambda o: np.round(y[::-1], 0, o),
        lambda o: np.dot(y[::-1], np.eye(3), o),
        lambda o: y[::-1].cumsum(1, None, o),
        lambda o: y.take(flip, 0, o),
        lambda o: y[::-1].clip(0, 1000, o),
        lambda o: np.concatenate([y[3:1:-1], y[1::-1]], 0, o),
    ]
    for k, write in enumerate(writes):
        o = _coded(np.zeros((4, 3)), "pos_out_o")
        result = write(o)
        assert result is o or np.shares_memory(np.asarray(result), np.asarray(o)), k
        got = reported(o, 4)
        for i in range(4):
            assert got[i][0] == {("pos_out_y", 4 - i)}, (k, i)


def test_keyword_and_dtype_arguments_of_functions():
    # np.append(arr=, values=) read its first argument by position and raised; a dtype
    # given as a class (np.float32) made the recorded operand raise
    a = _coded(np.zeros((3, 2)), "kw_a")
    b = stp.array(np.asarray(_coded(np.zeros((2, 2)), "tmp")) + 100.0, source_id="kw_b")
    for out in (
        np.append(arr=a, values=b[::-1], axis=0),
        np.concatenate((a, b[::-1]), axis=0, dtype=np.float32),
        np.concatenate((a, b[::-1]), 0, None, dtype=np.float32),
    ):
        got = reported(out, 5)
        held = np.asarray(out)[:, 0]
        for i in range(5):
            v = int(held[i])
            assert got[i][0] == ({("kw_a", v)} if v < 100 else {("kw_b", v - 100)}), i
    m = a.mean(axis=1, dtype=np.float32)
    assert reported(m, 3)[2][0] == {("kw_a", 3)}


def test_writes_through_flat_and_setfield_change_the_rows():
    # x.flat[k] = v and x.setfield(v, dtype) wrote into x behind its lineage: the rows
    # kept their old parents and never gained the value's
    b = stp.array(np.asarray(_coded(np.zeros((4, 3)), "tmp")) + 100.0, source_id="flat_b")
    writes = [
        lambda x: x.flat.__setitem__([0, 7], b[[2, 3], 0]),
        lambda x: x.flat.__setitem__(slice(3, 6), b[1]),
        lambda x: x.flat.__setitem__(np.arange(12) % 5 == 0, b[::-1].ravel()[:3]),
        lambda x: setattr(x, "flat", b[::-1]),
        lambda x: setattr(x, "flat", -1.0),
        lambda x: x.setfield(b[::-1], np.float64),
        lambda x: x.setfield(b[2], np.float64),
    ]
    for k, write in enumerate(writes):
        x = _coded(np.zeros((4, 3)), "flat_a")
        write(x)
        plain = np.asarray(x)
        got = reported(x, 4)
        for i in range(4):
            want = {("flat_a", int(v)) for v in plain[i] if 0 < v < 100}
            want |= {("flat_b", int(v) - 100) for v in plain[i] if v >= 100}
            assert want <= got[i][0] | got[i][1], (k, i)
            assert got[i][0] <= want | {("flat_a", i + 1)}, (k, i)
    x = _coded(np.zeros((4, 3)), "flat_a")
    np.testing.assert_array_equal(np.asarray(x.flat[[1, 10]]), [1.0, 4.0])
    assert list(x.flat)[:4] == [1.0, 1.0, 1.0, 2.0] and len(x.flat) == 12


def test_structured_fields_keep_their_rows():
    dtype = [("a", "f8"), ("b", "f8")]
    values = np.zeros(4, dtype)
    values["a"] = [1, 2, 3, 4]
    x = stp.array(values, source_id="fields")
    y = stp.array(np.arange(101.0, 105.0), source_id="fields_y")
    assert reported(x["a"][::-1], 4)[0][0] == {("fields", 4)}
    assert reported(x[["b", "a"]], 4)[1][0] == {("fields", 2)}
    z = x.copy()
    z["b"] = y[::-1]
    got = reported(z, 4)
    for i in range(4):
        # each row keeps its field a and holds y's row 4 - i in field b
        assert got[i][0] == {("fields", i + 1), ("fields_y", 4 - i)}, i


def test_writes_into_arrays_without_elements():
    # the written-rows mask of an array with no elements could not be reshaped
    x = stp.array(np.zeros((0, 3)), source_id="no_elements")
    x[:] = 1.0
    x.flat[[]] = 2.0
    assert x.shape == (0, 3) and len(reported(x, 0)) == 0
    y = stp.array(np.zeros((2, 0)), source_id="no_columns")
    y[:] = 1.0
    assert reported(y, 2) == [(frozenset({("no_columns", 1)}), frozenset())] + [
        (frozenset({("no_columns", 2)}), frozenset())
    ]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 4),
    inner=st.tuples(st.integers(1, 3), st.integers(1, 4)),
    layout=st.sampled_from(["C", "F"]),
    swap=st.booleans(),
    steps=st.tuples(st.sampled_from([1, -1, 2]), st.sampled_from([1, -1, 2])),
    order=st.sampled_from(["C", "F", "A", "K"]),
    how=st.sampled_from(["np.ravel", "ravel", "flatten", "np.reshape", "reshape"]),
)
def test_flattening_in_every_order_names_the_rows_an_id_column_holds(
    n, inner, layout, swap, steps, order, how
):
    # ravel(order="K") of a strided view that is neither C- nor F-contiguous reads the
    # elements in memory order; the rows were mapped as if read in C order
    values = np.broadcast_to(np.arange(1.0, n + 1).reshape(n, 1, 1), (n, *inner)).copy()
    x = stp.array(values, source_id="orders").copy(order=layout)
    if swap:
        x = x.transpose(0, 2, 1)
    x = x[:, :: steps[0], :: steps[1]]
    shaped = "A" if order == "K" else order  # reshape has no "K"
    flat = {
        "np.ravel": lambda x: np.ravel(x, order=order),
        "ravel": lambda x: x.ravel(order),
        "flatten": lambda x: x.flatten(order),
        "np.reshape": lambda x: np.reshape(x, (-1, 2) if x.size % 2 == 0 else -1, order=shaped),
        "reshape": lambda x: x.reshape((-1, 1, x.shape[-1]), order=shaped),
    }[how]
    out = flat(x)
    held = np.asarray(out).reshape(len(out), -1)
    got = reported(out, len(out))
    for i in range(len(out)):
        want = {("orders", int(v)) for v in held[i]}
        assert want <= got[i][0] | got[i][1], i
        assert got[i][0] <= want, i


def test_a_row_map_of_another_length_is_refused_not_read():
    # a safety net under every rule: a map whose length is not the array's row count
    # would name other rows' parents, so provenance and fit refuse it
    from sktraceprop.arrays import _numpy
    from sktraceprop.exceptions import LineageLostError

    x = stp.array(np.ones((4, 2)), source_id="length_check")
    bad = _numpy.wrap(np.ones((3, 2)), stp.provenance(x)._rows, None)
    with pytest.raises(LineageError, match="inconsistent"):
        stp.provenance(bad).rows(0)
    with pytest.raises(LineageLostError, match="4 rows for 3 rows"):
        bad.__stp_row_ids__()
    assert stp.provenance(x[1:]).rows(2)["line"].tolist() == [4]


def test_a_traced_initial_value_of_a_reduction_is_a_parent():
    # np.add.reduce(x, axis=1, initial=t) reduces t into every output element; a
    # traced initial= was handed to NumPy as is and its rows were lost
    x = stp.array(np.ones((3, 2)), source_id="initial_x")
    y = stp.array(np.full((2, 2), 5.0), source_id="initial_y")
    for out in (
        np.add.reduce(x, axis=1, initial=y[1].sum()),
        np.maximum.reduce(x, axis=1, initial=y[1].max()),
        x.sum(axis=1, initial=y[1].sum()),
        np.sum(x, axis=1, initial=y[1].sum()),
    ):
        got = reported(out, 3)
        for i in range(3):
            assert ("initial_x", i + 1) in got[i][0], i
            assert ("initial_y", 2) in got[i][0] | got[i][1], i


def _line_sets(x, n):
    """``{line}`` of the source rows behind each of the ``n`` rows (direct or pooled)."""
    return [{line for _, line in direct | pooled} for direct, pooled in reported(x, n)]


def test_one_element_stays_traced_and_brings_its_row():
    # x[i, j] (and x[i] of a 1-D array) reach one element; computing with it makes every
    # output row depend on row i (it was a plain scalar: x - x[0, 0] named only row k)
    x = stp.array(np.arange(12.0).reshape(6, 2), source_id="elem_x")
    v = stp.array(np.arange(6.0), source_id="elem_v")
    cases = [
        (x - x[0, 0], x, 0),
        (x * x[-1, 1], x, 5),
        (x - x[np.int64(2), np.int64(1)], x, 2),
        (v - v[0], v, 0),
        (v / (v[4] + 1.0), v, 4),
        (v - next(iter(v[3:])), v, 3),
    ]
    for out, base, k in cases:
        assert np.array_equal(np.asarray(out).shape, np.asarray(base).shape)
        assert _line_sets(out, 6) == [{i + 1, k + 1} for i in range(6)]
    assert _lines(x[3, 1], 0) == [(0, "elem_x", 4)]
    assert [_lines(e, 0)[0][2] for e in v] == [1, 2, 3, 4, 5, 6]  # iteration
    assert [_lines(e, 0)[0][2] for e in x.flat] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert [float(e) for e in x.flat] == list(np.arange(12.0))


def test_one_element_behaves_as_numpy_scalar_does():
    x = stp.array(np.arange(12.0).reshape(6, 2), source_id="num_x")
    k = stp.array(np.array([3, 1, 2]), source_id="num_k")
    plain_x, plain_k = np.asarray(x), np.asarray(k)
    e, i = x[2, 1], k[0]
    assert float(e) == 5.0 and int(e) == 5 and e.item() == 5.0 and bool(e)
    assert e == 5.0 and e > 4 and not e < 5 and round(float(e / 2), 1) == 2.5
    assert f"{e:.2f}" == "5.00" and str(e) == str(plain_x[2, 1])
    assert hash(e) == hash(plain_x[2, 1]) == hash(5.0) and {5.0: "five"}[e] == "five"
    assert {e, x[2, 1]} == {5.0} and sorted(k) == [1, 2, 3] and max(k) == 3
    assert ["a", "b", "c", "d"][i] == "d" and list(range(i)) == [0, 1, 2]
    assert np.zeros(i).shape == (3,) and np.zeros((i, k[1])).shape == (3, 1)
    assert np.array_equal(plain_x[i], plain_x[3]) and plain_k[k[1]] == 1
    assert np.array_equal(x[i], plain_x[3]) and _lines(x[i], 0) == [(0, "num_x", 4)]
    with pytest.raises(TypeError, match="unhashable"):
        hash(x[0])
    # a string's element is NumPy's str_ (str methods), carrying its row (see test_compat)
    names = stp.array(np.array(["ab", "cd"]), source_id="num_s")
    assert isinstance(names[1], np.str_) and names[1].upper() == "CD"


def test_element_writes_and_swaps_move_row_ids():
    v = stp.array(np.arange(6.0), source_id="swap_v")
    v[0] = v[5]
    assert _line_sets(v, 6)[0] == {6}
    v = stp.array(np.arange(6.0), source_id="swap_w")
    v[0], v[5] = v[5], v[0]  # one element each: copies, as NumPy's scalars are
    assert np.array_equal(v, [5.0, 1, 2, 3, 4, 0])
    assert _line_sets(v, 6) == [{6}, {2}, {3}, {4}, {5}, {1}]
    x = stp.array(np.arange(12.0).reshape(6, 2), source_id="swap_x")
    x[[0, 5]] = x[[5, 0]]
    assert _line_sets(x, 6) == [{6}, {2}, {3}, {4}, {5}, {1}]
    # rows of a 2-D array are views: NumPy copies row 5 into both, and x[0] (read before
    # the first write, then changed by it) makes the lineage stale: an error, not a guess
    x = stp.array(np.arange(12.0).reshape(6, 2), source_id="swap_y")
    x[0], x[5] = x[5], x[0]
    assert np.array_equal(np.asarray(x)[[0, 5], 0], [10.0, 10.0])
    with pytest.raises(LineageError, match="modified in place through another view"):
        stp.provenance(x).rows(0)


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("shape", [(7,), (7, 2)])
def test_shuffles_in_place_move_row_ids(legacy, shape):
    def rng():
        return np.random.RandomState(3) if legacy else np.random.default_rng(3)

    x = stp.array(np.arange(14.0)[: int(np.prod(shape))].reshape(shape), source_id="shuffled")
    rng().shuffle(x)
    order = np.arange(7)
    rng().shuffle(order)  # the same draws, on the row positions
    assert not np.array_equal(order, np.arange(7))
    assert _line_sets(x, 7) == [{int(k) + 1} for k in order]
    assert np.swapaxes(x, 0, -len(shape)) is x  # what Generator.shuffle writes through


def test_shuffle_along_columns_is_refused_not_guessed():
    x = stp.array(np.arange(20.0).reshape(4, 5), source_id="shuffle_cols")
    np.random.default_rng(0).shuffle(x, axis=1)  # writes through a transposed view
    assert not np.array_equal(x, np.arange(20.0).reshape(4, 5))
    with pytest.raises(LineageError, match="modified in place through another view"):
        stp.provenance(x).rows(0)


@pytest.mark.parametrize("n", [5, 40])
def test_python_loop_over_elements_names_every_row(n):
    v = stp.array(np.arange(float(n)), source_id=f"loop_{n}")
    total = sum(v)
    assert float(total) == n * (n - 1) / 2
    frame = stp.provenance(total).rows(0)
    assert sorted(frame["line"]) == list(range(1, n + 1))
    # a few elements stay direct parents; beyond that they are pooled, named as such
    direct = frame["through"].isna()
    assert direct.all() if n <= 8 else (direct.sum() <= 8)
    assert set(frame.loc[~direct, "through"]) <= {"arithmetic on elements"}
    assert _line_sets(v - total, n) == [set(range(1, n + 1))] * n


def test_plain_views_of_a_traced_array_refuse_writes():
    # np.asarray(x), np.nditer, a buffer and scikit-learn's copy=False share x's memory: a
    # write through them changed rows behind the lineage's back (row 0 held row 5's values
    # and still named row 0 only); NumPy now refuses it, x's own writes still move row ids
    x = stp.array(np.arange(12.0).reshape(6, 2), source_id="ro_x")
    before = np.array(x)
    writes = [
        lambda: np.asarray(x).__setitem__(0, np.asarray(x)[5]),
        lambda: np.add(np.asarray(x), 1, out=np.asarray(x)),
        lambda: np.asarray(x[1:]).fill(0.0),
        lambda: [e.__setitem__(..., 0.0) for e in np.nditer(x, op_flags=["readwrite"])],
        lambda: memoryview(x).cast("B").__setitem__(0, 1),
    ]
    for write in writes:
        with pytest.raises((ValueError, TypeError), match="read-only"):
            write()
    out = StandardScaler(copy=False).fit_transform(x)  # copies: x is not writable to it
    assert not np.shares_memory(out, x)
    assert np.array_equal(x, before) and _line_sets(x, 6) == [{k + 1} for k in range(6)]
    assert x.flags.writeable  # to its own operations
    x[0] = x[5]
    x += 1.0
    np.copyto(x, x[::-1], where=np.array([[False], [True], [False], [False], [False], [False]]))
    assert np.array_equal(x[:2], [[11.0, 12.0], [9.0, 10.0]])
    assert _line_sets(x, 6)[:3] == [{6}, {5}, {3}]


def test_freezing_a_traced_array_refuses_its_own_writes_too():
    a = stp.array(np.arange(6.0).reshape(3, 2), source_id="freeze") * 1.0
    a.flags.writeable = False
    assert not a.flags.writeable and not a[1:].flags.writeable and not a.flags["WRITEABLE"]
    for write in (lambda: a.__setitem__(0, 5.0), lambda: np.random.default_rng(0).shuffle(a)):
        with pytest.raises(ValueError, match="read-only"):
            write()
    a.setflags(write=True)
    a[0] = 5.0
    assert a[0, 0] == 5.0 and a.flags.writeable
    source = np.arange(4.0)
    source.flags.writeable = False  # read-only before it was traced: stays so
    t = stp.array(source, source_id="freeze_source")
    assert not t.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        t[0] = 1.0
    with pytest.raises(ValueError, match="WRITEABLE"):
        t.flags.writeable = True


def test_a_write_to_the_callers_array_after_tracing_changes_no_traced_row():
    """stp.array shared the caller's memory: X[0] = X[5] afterwards left x[0] holding
    line 6's values while its lineage said line 1 (and the source's SHA-256 no longer
    described x). The traced array owns its data."""
    X = np.arange(12.0).reshape(6, 2)
    x = stp.array(X, source_id="callers")
    X[0] = X[5]
    assert x[0].tolist() == [0.0, 1.0]
    assert stp.provenance(x).rows(0, pooled=False)["line"].tolist() == [1]
    view = X[::2]  # a view of the caller's memory is copied too
    v = stp.array(view, source_id="view")
    X[0] = -1.0
    assert v[0].tolist() == [10.0, 11.0]


def test_every_handled_function_with_an_out_parameter_knows_its_position():
    # NumPy 1.x implements np.dot and np.concatenate in C with no signature inspect can
    # read: a traced out= given by position stayed read-only and NumPy refused the write
    for func in _numpy_functions.HANDLED:
        doc = (func.__doc__ or "").lstrip().split("\n", 1)[0]
        if doc.startswith(f"{func.__name__}(") and "out=" in doc:
            assert _numpy_functions._out_position(func) is not None, func.__name__


def test_concat_then_index_and_concat_of_concats_match_an_id_column():
    # concatenation and fancy-index maps are made when first read: rows read late, after
    # the caller changed its index arrays, through concatenations of concatenations,
    # must still be the rows an explicit id column carried through the same steps
    rng = np.random.default_rng(3)
    a = stp.array(rng.random((5, 2)), source_id="deferred_a")
    b = stp.array(rng.random((4, 2)), source_id="deferred_b")
    pooled_a = frozenset(("deferred_a", k + 1) for k in range(5))
    ca = a - a.mean(axis=0)  # every row also depends on every row of a (pooled)
    truth_ca = [(frozenset({("deferred_a", k + 1)}), pooled_a) for k in range(5)]
    truth_b = [(frozenset({("deferred_b", k + 1)}), frozenset()) for k in range(4)]

    c = np.concatenate([ca, b])
    truth_c = truth_ca + truth_b
    assert reported(c[[3]], 1) == [truth_c[3]]  # read one row of an index first
    cc = np.concatenate([c, b[::-1], c])
    truth_cc = truth_c + truth_b[::-1] + truth_c
    key = np.array([21, 0, 9, 12, 12, 4, 17])
    picked = cc[key]
    mask = rng.random(22) > 0.5
    masked = cc[mask]
    twice = np.concatenate([picked, masked])[::2]
    truth_picked = [truth_cc[k] for k in key]
    truth_masked = [t for t, m in zip(truth_cc, mask) if m]
    truth_twice = (truth_picked + truth_masked)[::2]
    key[:] = 0
    mask[:] = False
    assert reported(twice, len(truth_twice)) == truth_twice
    assert reported(picked, 7) == truth_picked
    assert reported(masked, len(truth_masked)) == truth_masked
    assert reported(cc, 22) == truth_cc
    for i in (0, 4, 5, 8):
        rows = stp.provenance(c).rows(i)
        direct = rows[rows["through"].isna()]
        assert set(zip(direct["source_id"], direct["line"])) == set(truth_c[i][0])
    assert twice.__stp_row_ids__().shape[0] == len(truth_twice)


def test_a_long_loop_of_concatenations_and_indexes_reads_its_rows():
    # each map is made when first read, from its parents: a loop of a thousand
    # concatenations and indexes must not make them by recursing a thousand deep
    b = stp.array(np.arange(4.0).reshape(2, 2), source_id="deferred_loop")
    acc, carried = b, [1, 2]
    for k in range(1000):
        if k % 2:
            acc = np.concatenate([acc, b])
            carried = carried + [1, 2]
        else:
            order = np.arange(acc.shape[0])[::-1].copy()
            acc = acc[order]
            carried = [carried[i] for i in order]
    assert reported(acc, len(carried)) == [
        (frozenset({("deferred_loop", line)}), frozenset()) for line in carried
    ]
