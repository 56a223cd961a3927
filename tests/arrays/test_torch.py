"""Traced torch tensors: operations, a DataLoader batch, autograd, in-place writes, and a
skorch net fitted inside a traced estimator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError

torch = pytest.importorskip("torch")


def _lines(x, rows, pooled=False):
    frame = stp.provenance(x).rows(rows, pooled=pooled)
    return list(zip(frame["row"], frame["source_id"], frame["line"]))


def _sources():
    g = torch.Generator().manual_seed(0)
    a = stp.array(torch.rand(6, 3, generator=g), source_id="ta")
    b = stp.array(torch.rand(4, 3, generator=g), source_id="tb")
    return a, b


def test_constructor_copies_and_never_reclasses_the_callers_tensor():
    """A write to the caller's tensor after tracing must not change traced rows (their
    lineage and the source's SHA-256 describe what was traced): the data is copied."""
    plain = torch.ones(3, 2)
    a = stp.array(plain, source_id="ones")
    assert type(plain) is torch.Tensor
    assert type(a).__name__ == "TracedTensor" and a.data_ptr() != plain.data_ptr()
    assert type(a.shape) is torch.Size and a.shape == (3, 2)
    plain[0] = 5.0
    assert float(a.sum()) == 6.0


def test_issue_example_in_torch():
    a, b = _sources()
    z = torch.cat([(a - a.mean(dim=0)) / a.std(dim=0), b * 2 + 1])
    v = stp.provenance(z[[3, 8]])
    assert v.ops()["op"].tolist() == [
        "mean",
        "sub",
        "std",
        "div",
        "mul",
        "add",
        "cat",
        "__getitem__",
    ]
    assert _lines(z[[3, 8]], [0, 1]) == [(0, "ta", 4), (1, "tb", 3)]
    pooled = v.rows(0)
    assert sorted(pooled.loc[pooled["through"].notna(), "line"]) == [1, 2, 3, 4, 5, 6]


def test_dataloader_batches_know_their_rows():
    from torch.utils.data import DataLoader, TensorDataset

    a, _ = _sources()
    x = a * 10
    loader = DataLoader(
        TensorDataset(x, torch.arange(6)),
        batch_size=4,
        shuffle=True,
        generator=torch.Generator().manual_seed(1),
    )
    seen = []
    for xb, yb in loader:
        assert type(xb).__name__ == "TracedTensor"
        lines = [line for _, _, line in _lines(xb, np.arange(len(xb)))]
        assert lines == (yb.numpy() + 1).tolist()  # the batch rows, in batch order
        seen += lines
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]


def test_layers_keep_rows_losses_pool_them_and_autograd_works():
    a, _ = _sources()
    layer = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.LayerNorm(4))
    out = layer(a)
    assert _lines(out, 2) == [(2, "ta", 3)]
    loss = torch.nn.functional.mse_loss(out, torch.zeros(6, 4))
    assert sorted(stp.provenance(loss).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]
    loss.backward()
    assert layer[0].weight.grad is not None
    per_row = torch.nn.functional.mse_loss(out, torch.zeros(6, 4), reduction="none")
    assert _lines(per_row, 5) == [(5, "ta", 6)]
    assert stp.provenance(a @ a.T).rows(0, pooled=False)["line"].tolist() == [1]
    assert sorted(stp.provenance(a.T @ a).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]


def test_batch_norm_in_training_pools_the_batch():
    a, _ = _sources()
    bn = torch.nn.BatchNorm1d(3)
    out = bn(a)
    rows = stp.provenance(out).rows(1)
    assert rows.loc[rows["through"].isna(), "line"].tolist() == [2]
    assert sorted(rows.loc[rows["through"].notna(), "line"]) == [1, 2, 3, 4, 5, 6]
    bn.eval()
    assert stp.provenance(bn(a)).rows(1)["through"].isna().all()


def test_in_place_and_setitem():
    a, b = _sources()
    x = a.clone()
    x[1] = b[2]
    x[:, 0] += b[:, 0].sum()
    assert _lines(x, 1) == [(1, "tb", 3)]
    assert stp.provenance(x).rows(0)["through"].notna().any()
    y = a.clone()
    y.add_(b[0])
    assert _lines(y, 4) == [(4, "ta", 5), (4, "tb", 1)]
    y.zero_()
    assert not len(stp.provenance(y).rows(0))
    z = a.clone()
    v = z[:2]
    v.mul_(b[:2])
    with pytest.raises(LineageError, match="modified in place"):
        stp.provenance(z).rows(0)


def test_unknown_functions_give_every_row_every_input_row():
    a, _ = _sources()
    out = torch.linalg.qr(a).R
    assert sorted(stp.provenance(out).rows(0)["line"]) == [1, 2, 3, 4, 5, 6]
    assert any("linalg_qr" in n or "qr" in n for n in stp.provenance(out).notes())


def test_conversion_between_frameworks_keeps_lineage():
    a, _ = _sources()
    n = stp.array(a[1:], framework="numpy")
    assert isinstance(n, stp.arrays.TracedArray)
    assert _lines(n * 2, 0) == [(0, "ta", 2)]
    back = stp.array(n - n.mean(axis=0), framework="torch")
    assert _lines(back, 1) == [(1, "ta", 3)]
    assert stp.provenance(back).ops()["op"].tolist()[-1] == "as_tensor"


def test_granularity_none_in_torch():
    a, _ = _sources()
    with stp.granularity("none"):
        out = a * 2
    with pytest.raises(LineageError, match="granularity 'none'"):
        stp.provenance(out).rows(0)


def test_skorch_net_in_a_traced_estimator_records_rows_and_ops():
    skorch = pytest.importorskip("skorch")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xa = stp.array(torch.as_tensor(rng.normal(size=(60, 4)), dtype=torch.float32), source_id="a")
    xb = stp.array(torch.as_tensor(rng.normal(size=(40, 4)), dtype=torch.float32), source_id="b")
    X = torch.cat([(xa - xa.mean(0)) / xa.std(0), xb])
    y = (X.detach().numpy()[:, 0] > 0).astype(np.int64)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    net = skorch.NeuralNetClassifier(
        module, max_epochs=2, lr=0.1, verbose=0, criterion=torch.nn.CrossEntropyLoss
    )
    est = stp.TracedEstimator(net).fit(X, y)
    run = est.lineage_
    assert run.input_row_ids is not None and run.n_samples == 80  # the validation split
    trace = run.trace(np.arange(run.n_samples))
    direct = trace[~trace["source_id"].str.startswith("pool:")]
    assert len(direct) == 80
    ops = [op.name for op in run.ops]
    assert ops[:5] == ["array/2:mean", "array/3:sub", "array/4:std", "array/5:div", "array/7:cat"]
    assert ops[-1] == "neuralnetclassifier"
    from_a = direct.sort_values("train_index")["source_id"].eq("a").to_numpy()
    hit, _ = run.depends_on(removed_sources=["a"])
    assert np.array_equal(hit, from_a)
    # one row of a: every row of a depends on it through the mean and std
    one = stp.provenance(xa).rows(0, pooled=False)["row_id"].to_numpy()
    hit, via = run.depends_on(removed_ids=one)
    assert np.array_equal(hit, from_a) and via.sum() == from_a.sum() - hit[~via].sum()


def test_dataloader_workers_send_batches_with_their_rows():
    from torch.utils.data import DataLoader, TensorDataset

    a, _ = _sources()
    loader = DataLoader(TensorDataset(a * 2, torch.arange(6)), batch_size=4, num_workers=2)
    for xb, yb in loader:
        assert type(xb).__name__ == "TracedTensor"
        assert [line for _, _, line in _lines(xb, np.arange(len(xb)))] == (yb + 1).tolist()


def test_stack_into_out_replaces_the_lineage_of_out():
    a, b = _sources()
    out = b[:2].clone()
    torch.stack([a[3], a[5]], 0, out=out)
    assert _lines(out, [0, 1]) == [(0, "ta", 4), (1, "ta", 6)]


def test_pickle_round_trip():
    import pickle

    a, _ = _sources()
    back = pickle.loads(pickle.dumps((a - a.mean(dim=0))[[4, 1]]))
    assert type(back).__name__ == "TracedTensor"
    assert _lines(back, 0) == [(0, "ta", 5)]


def test_max_and_min_of_two_tensors_are_elementwise():
    # torch.max(a, b) used to be read as a reduction over dim ``b`` and raised
    a, b = _sources()
    for f in (torch.max, torch.min, torch.maximum):
        out = f(a[:4], b.flip(0))
        torch.testing.assert_close(out.as_subclass(torch.Tensor), f(a[:4], b.flip(0)).detach())
        assert _lines(out, 0) == [(0, "ta", 1), (0, "tb", 4)]
    assert _lines(a.max(b[0]), 2) == [(2, "ta", 3), (2, "tb", 1)]


def test_writes_through_detach_and_data_reach_the_tensor_they_share_memory_with():
    # detach() and .data share memory without being views (no _base): a write through
    # them used to leave the original naming rows it no longer held
    a, b = _sources()
    for share in (lambda t: t.detach(), lambda t: t.data):
        x = a.clone()
        share(x).copy_(b[:3].repeat(2, 1))
        with pytest.raises(LineageError, match="modified in place"):
            stp.provenance(x).rows(0)
        y = a.clone()
        alias = share(y)
        y.add_(b[:3].repeat(2, 1))
        with pytest.raises(LineageError, match="modified in place"):
            stp.provenance(alias).rows(0)


def test_set_and_data_assignment_drop_row_ids():
    a, b = _sources()
    for replace in (lambda t, v: t.set_(v), lambda t, v: setattr(t, "data", v)):
        x = a.clone()
        replace(x, b.clone())
        assert torch.equal(x.as_subclass(torch.Tensor), b.as_subclass(torch.Tensor))
        with pytest.raises(LineageError, match="replaced in place"):
            stp.provenance(x).rows(0)
    for replace in (lambda t, v: t.set_(v), lambda t, v: setattr(t, "data", v)):
        x, source = a.clone(), b.clone()
        replace(x, source)
        x.add_(a[:4].flip(0))  # writes the source's memory: the source is stale, not believed
        with pytest.raises(LineageError, match="modified in place"):
            stp.provenance(source).rows(0)


def test_empty_list_index():
    a, _ = _sources()
    for key, lines in (([], []), ((slice(None), []), [1, 2, 3, 4, 5, 6])):
        out = a[key]  # an empty list was read as a float index and raised
        assert out.shape == a.as_subclass(torch.Tensor)[key].shape
        frame = stp.provenance(out).rows(np.arange(out.shape[0]), pooled=False)
        assert frame["line"].tolist() == lines


def test_reductions_read_their_dimension_where_torch_takes_it():
    # topk(x, k, dim) and kthvalue(x, k, dim) were read with k as the dimension, and
    # std(x, True) with ``unbiased`` as one: a reduction over rows kept row ids (the
    # result named row i of the input for its row i); layer_norm over every axis mixes
    # the rows too
    a, _ = _sources()
    every = {("ta", line) for line in range(1, 7)}
    results = [
        torch.topk(a, 3, 0).values,
        torch.topk(a, 3, dim=0).indices,
        a.topk(3, 0).values,
        torch.kthvalue(a, 3, 0).values,
        torch.std(a, True),
        torch.var(a, True),
        torch.nn.functional.layer_norm(a, (6, 3)),
    ]
    for out in results:
        n = out.shape[0] if out.ndim else 1
        frame = stp.provenance(out).rows(np.arange(n))
        for i in range(n):
            rows = frame[frame["row"] == i]
            assert set(zip(rows["source_id"], rows["line"])) == every
    kept = torch.nn.functional.layer_norm(a, (3,))  # per row: rows kept
    assert _lines(kept, 4) == [(4, "ta", 5)] and stp.provenance(kept).pools().empty
    assert _lines(torch.topk(a, 2, 1).values, 5) == [(5, "ta", 6)]


def test_view_as_another_dtype_keeps_rows_of_the_same_bytes():
    # x.view(dtype) was mapped as a reshape of as many elements: a 6-row float64 vector
    # viewed as uint8 kept a 6-row map on 48 elements; 2-D views raised or merged rows
    values = torch.arange(18.0, dtype=torch.float64).reshape(6, 3)
    a = stp.array(values, source_id="bytes")
    for dtype in (torch.int32, torch.uint8, torch.int64, torch.float16):
        out = a.view(dtype)
        assert out.shape[0] == 6
        assert [line for _, _, line in _lines(out, [0, 5])] == [1, 6]
    flat = stp.array(values[:, 0].clone(), source_id="bytes_1d").view(torch.uint8)
    assert flat.shape == (48,)
    assert _lines(flat, [0, 7, 8, 47]) == [
        (0, "bytes_1d", 1),
        (7, "bytes_1d", 1),
        (8, "bytes_1d", 2),
        (47, "bytes_1d", 6),
    ]
    pairs = stp.array(values[:, :2].contiguous(), source_id="pairs").view(torch.complex128)
    assert pairs.shape == (6, 1) and _lines(pairs, 4) == [(4, "pairs", 5)]


def test_a_uint8_index_tensor_is_a_mask():
    # torch reads a uint8 index as a boolean mask; it was mapped as integer positions
    a, _ = _sources()
    with pytest.warns(UserWarning):
        out = a[torch.tensor([1, 0, 1, 0, 0, 1], dtype=torch.uint8)]
    assert out.shape == (3, 3)
    assert _lines(out, [0, 1, 2]) == [(0, "ta", 1), (1, "ta", 3), (2, "ta", 6)]


def test_conversion_between_numpy_and_torch_does_not_share_memory():
    # the converted array shared the memory of the original, so a write through one
    # changed rows that the other's lineage still named
    n = stp.array(np.arange(6.0).reshape(3, 2), source_id="conv_n")
    other = stp.array(torch.full((3, 2), 100.0, dtype=torch.float64), source_id="conv_o")
    t = stp.array(n, framework="torch")
    t[0] = other[2]
    assert np.asarray(n)[0].tolist() == [0.0, 1.0] and _lines(n, 0) == [(0, "conv_n", 1)]
    assert _lines(t, 0) == [(0, "conv_o", 3)]
    back = stp.array(t, framework="numpy")
    back[1] = np.asarray(n)[2]  # a plain value: row 1 keeps no parent
    assert t[1].tolist() == [2.0, 3.0] and _lines(t, 1) == [(1, "conv_n", 2)]


def _coded(n, source_id, offset=0.0):
    """A traced (n, 3) tensor whose every element holds its own row's line (1-based)."""
    codes = torch.arange(1.0, n + 1, dtype=torch.float64).reshape(n, 1).repeat(1, 3)
    return stp.array(codes + offset, source_id=source_id)


def _lines_held(values, offset=0.0):
    """The lines an array of line codes holds in each row (codes above ``offset`` only)."""
    flat = np.asarray(values).reshape(len(values), -1)
    return [{int(v - offset) for v in row if v > offset} for row in flat]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_a_list_key_is_read_as_torch_reads_it():
    # torch reads a list holding a sequence, tensor, slice, None or Ellipsis as a tuple
    # (``x[[[3, 1], [0, 2]]]`` is ``x[[3, 1], [0, 2]]``); it was read as one index
    # array, naming rows the elements did not come from
    x = _coded(6, "list_keys")
    keys = [
        [[3, 1], [0, 2]],
        [[3, 1]],
        [[4, 0, 4]],
        [torch.tensor([5, 2]), torch.tensor([0, 1])],
        [torch.tensor(3), torch.tensor(1)],
        [slice(1, 5, 2), [0, 2]],
        [2, None],
        [1, Ellipsis],
        [3, 1, 1],
    ]
    for key in keys:
        out = x[key]
        if out.ndim == 0:
            assert _lines(out, 0) == [(0, "list_keys", int(out))], key
            continue
        want = _lines_held(out)
        got = stp.provenance(out).rows(np.arange(len(out)))
        for i in range(len(out)):
            assert set(got.loc[got["row"] == i, "line"]) == want[i], (key, i)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_a_list_key_writes_the_rows_torch_writes():
    b = _coded(6, "list_set_b", offset=100.0)
    for key, value in (
        ([[0, 2], [1, 1]], b[[4, 5], 0]),
        ([[5, 3]], b[[0, 1]]),
        ([torch.tensor([1, 4]), torch.tensor([2, 0])], b[[2, 3], 1]),
    ):
        x = _coded(6, "list_set_a")
        x[key] = value
        got = stp.provenance(x).rows(np.arange(6))
        held_a, held_b = _lines_held(x), _lines_held(x, offset=100.0)
        for i in range(6):
            rows = got[got["row"] == i]
            names = set(zip(rows["source_id"], rows["line"]))
            want = {("list_set_a", v) for v in held_a[i] if v < 100}
            want |= {("list_set_b", v) for v in held_b[i]}
            assert want <= names, (key, i)


def test_a_traced_keyword_a_rule_does_not_read_is_pooled_into_every_row():
    # the rule of a loss reads input and target; a traced weight= or pos_weight= was
    # left out of every row (the check compared how many arguments the rule named
    # with how many were traced, and the rule names arguments that were not given)
    F = torch.nn.functional
    w = stp.array(torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), source_id="loss_w")
    logits = torch.zeros(4, 3)
    target = torch.tensor([0, 1, 2, 0])
    cases = [
        (F.cross_entropy(logits, target, weight=w[1], reduction="none"), 2),
        (F.nll_loss(logits, target, weight=w[0], reduction="none"), 1),
        (F.binary_cross_entropy_with_logits(logits, logits, pos_weight=w[1], reduction="none"), 2),
        (F.cross_entropy(logits, target, weight=w[0]), 1),
        (torch.index_select(torch.zeros(4, 3), 0, w[1].long() - 4), None),
    ]
    for out, line in cases:
        n = out.shape[0] if out.ndim else 1
        got = stp.provenance(out).rows(np.arange(n))
        for i in range(n):
            lines = set(got.loc[got["row"] == i, "line"])
            # an index tensor's rows select, they are not data (as for x[index])
            assert lines == ({line} if line else set()), (line, i)


def test_reflected_matmul_contracts_the_rows_of_the_traced_tensor():
    # x.__rmatmul__(w) is w @ x: its rows are w's, x's rows are contracted away; the
    # rule read x as the left operand and named x's rows as the output's
    x = stp.array(torch.arange(12.0).reshape(6, 2), source_id="rmatmul")
    out = x.__rmatmul__(torch.ones(3, 6))
    torch.testing.assert_close(
        out.as_subclass(torch.Tensor), torch.ones(3, 6) @ torch.arange(12.0).reshape(6, 2)
    )
    for i in range(3):
        assert _lines(out, i) == []
        assert sorted(stp.provenance(out).rows(i)["line"]) == [1, 2, 3, 4, 5, 6]


def test_concatenation_with_keyword_tensors():
    a, b = _sources()
    out = torch.cat(tensors=[b, a.flip(0)], dim=0)
    assert [line for _, _, line in _lines(out, [0, 4, 9])] == [1, 6, 1]
    assert _lines(out, 4) == [(4, "ta", 6)] and _lines(out, 0) == [(0, "tb", 1)]
    stacked = torch.stack(tensors=[a, a.flip(0)], dim=1)
    assert _lines(stacked, 0) == [(0, "ta", 1), (0, "ta", 6)]


@st.composite
def _list_keys(draw, n):
    """A list index for an (n, 3) tensor, of the kinds torch reads as a tuple or not."""
    rows = st.integers(-n, n - 1)
    cols = st.integers(-3, 2)
    kind = draw(st.sampled_from(["ints", "nested", "pair", "tensors", "slice", "none"]))
    if kind == "ints":
        return draw(st.lists(rows, min_size=1, max_size=5))
    if kind == "nested":
        return [draw(st.lists(rows, min_size=1, max_size=4))]
    if kind == "pair":
        k = draw(st.integers(1, 4))
        return [
            draw(st.lists(rows, min_size=k, max_size=k)),
            draw(st.lists(cols, min_size=k, max_size=k)),
        ]
    if kind == "tensors":
        k = draw(st.integers(1, 3))
        return [
            torch.tensor(draw(st.lists(rows, min_size=k, max_size=k))),
            torch.tensor(draw(st.lists(cols, min_size=k, max_size=k))),
        ]
    if kind == "slice":
        return [slice(draw(st.integers(0, n)), None, draw(st.integers(1, 3))), draw(cols)]
    return [draw(rows), None]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=st.integers(1, 6))
def test_list_keys_name_the_rows_of_an_id_column(data, n):
    # truth: torch's own indexing of a tensor that holds each row's line
    key = data.draw(_list_keys(n))
    codes = torch.arange(1, n + 1).reshape(n, 1).repeat(1, 3)
    x = stp.array(codes.double(), source_id="list_hyp")
    want = codes[key]
    out = x[key]
    if want.ndim == 0:
        assert _lines(out, 0) == [(0, "list_hyp", int(want))]
        return
    got = stp.provenance(out).rows(np.arange(len(want)))
    for i in range(len(want)):
        assert set(got.loc[got["row"] == i, "line"]) == {int(v) for v in want[i].flatten()}, key


def test_writes_into_a_tensor_without_elements():
    t = stp.array(torch.zeros(0, 3), source_id="t_no_elements")
    t[:] = 1.0
    assert t.shape == (0, 3) and len(stp.provenance(t).rows(np.arange(0))) == 0


def test_numpy_views_of_a_traced_tensor_refuse_writes():
    # t.numpy() and np.asarray(t) share the tensor's memory: a write through them would
    # change rows behind the lineage's back (row 0 would hold row 5 and still name row 0)
    t = stp.array(torch.arange(12.0).reshape(6, 2), source_id="np_view")
    for view in (t.numpy(), np.asarray(t), t[1:].numpy()):
        assert np.shares_memory(view, t.numpy())
        with pytest.raises(ValueError, match="read-only"):
            view[0] = view[-1]
    assert t[0].tolist() == [0.0, 1.0] and _lines(t, 0) == [(0, "np_view", 1)]
    copied = np.asarray(t, dtype=np.float64)  # a copy (t is float32): writable
    copied[0] = 7.0
    assert t[0].tolist() == [0.0, 1.0]


def test_torch_func_transforms_give_plain_tensors_said_so():
    # torch.func strips the subclass: the results are plain tensors, and asking for their
    # lineage says so (never rows guessed from the traced input)
    w = stp.array(torch.arange(12.0).reshape(6, 2), source_id="func_w")
    results = [
        torch.func.vmap(lambda r: r * 2 + w.mean(0))(w),
        torch.func.grad(lambda p: (p**2).sum())(w),
        torch.func.grad(lambda p: (w @ p).sum())(torch.ones(2)),
    ]
    for out in results:
        assert type(out) is torch.Tensor
        with pytest.raises(TypeError, match="torch.func transforms"):
            stp.provenance(out)


@pytest.mark.parametrize("shape", [(6,), (6, 2)])
def test_numpy_shuffles_of_a_tensor_leave_its_lineage_stale_not_wrong(shape):
    # NumPy's shuffles swap rows through views of the tensor (torch indexing gives
    # views, even of one element): its rows moved unseen, so its lineage says stale
    t = stp.array(torch.arange(12.0)[: int(np.prod(shape))].reshape(shape), source_id="tsh")
    with pytest.warns(UserWarning, match="view semantics"):  # NumPy warns of duplicates
        np.random.default_rng(1).shuffle(t)
    with pytest.raises(LineageError, match="modified in place through another view"):
        stp.provenance(t).rows(0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), data=st.data())
def test_a_new_axis_in_the_key_keeps_the_rows_as_numpys_does(n, data):
    """``x[None]`` (and a write ``x[None] = v``) dropped the tensor's row ids with the
    error of an unreadable *list* key: None, the key, was taken for the marker of a key
    that could not be read."""
    k = data.draw(st.integers(0, n - 1))
    x = stp.array(torch.arange(n * 3.0).reshape(n, 3), source_id=f"t_none_{n}_{k}")
    every = {(0, f"t_none_{n}_{k}", line) for line in range(1, n + 1)}
    assert set(_lines(x[None], [0])) == every
    assert set(_lines(x[None, k], [0])) == {(0, f"t_none_{n}_{k}", k + 1)}
    assert set(_lines(x[k][None], [0])) == {(0, f"t_none_{n}_{k}", k + 1)}
    z = x.clone()
    z[None] = x.flip(0)[None]
    # the whole tensor written through a new axis: each row may hold any row of x
    assert {line for _, _, line in _lines(z, list(range(n)))} == {line for *_, line in every}
