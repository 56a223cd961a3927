"""In-place writes into an array whose rows were pooled (its map collapsed: ``x.T.copy().T``
is laid out anew through its columns, so every row depends on every row of ``x``).

A write used to give the written value to *every* row, as the rows it is made of:
``z[[0]] = y[0]`` reported row 1 (still ``x``'s data) as made of ``y``'s row. The truth
here is where the value landed, found by NumPy itself: rows it was written into name it,
no other row does.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp

from ._chains import reported

_COUNT = iter(range(10**9))


def _pooled_copy(n, framework="numpy"):
    """``(x, y)``: ``x`` of source ``coll_a_*`` (n rows) with every row pooled (a
    transposed copy transposed back), ``y`` of source ``coll_b_*`` (2 rows)."""
    k = next(_COUNT)
    values = np.arange(n * 3.0).reshape(n, 3)
    other = 100.0 + np.arange(6.0).reshape(2, 3)
    if framework == "torch":
        torch = pytest.importorskip("torch")
        a = stp.array(torch.tensor(values), source_id=f"coll_a_{k}")
        y = stp.array(torch.tensor(other), source_id=f"coll_b_{k}")
        return a.T.clone().T.clone(), y
    a = stp.array(values, source_id=f"coll_a_{k}")
    y = stp.array(other, source_id=f"coll_b_{k}")
    return a.T.copy().T.copy(), y


def _names_b(rows):
    return [any(s.startswith("coll_b_") for s, _ in direct | pooled) for direct, pooled in rows]


def _landed(value_of_x, n):
    """Rows of ``x`` holding a value of ``y`` (every ``y`` value is >= 100)."""
    return list((np.asarray(value_of_x).reshape(n, -1) >= 100).any(axis=1))


_KEYS = st.sampled_from(["int", "list", "mask", "slice"])


def _key(kind, rows, n):
    if kind == "int":
        return rows[0]
    if kind == "list":
        return list(rows)
    if kind == "mask":
        return np.isin(np.arange(n), rows)
    return slice(rows[0], rows[0] + 1)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 6),
    data=st.data(),
    kind=_KEYS,
    framework=st.sampled_from(["numpy", "torch"]),
)
def test_a_row_write_names_the_value_only_in_the_rows_written(n, data, kind, framework):
    x, y = _pooled_copy(n, framework)
    rows = sorted(set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))))
    if kind in ("int", "slice"):
        rows = rows[:1]
    x[_key(kind, rows, n)] = y[1]
    claimed = reported(x, n)
    assert _names_b(claimed) == _landed(np.asarray(x), n)
    for i in range(n):
        direct, pooled = claimed[i]
        if i in rows:  # overwritten entirely: made of y's row 2, nothing else
            assert {line for s, line in direct} == {2} and not pooled
        else:  # untouched: every row of x, pooled as before
            assert not direct and {line for _, line in pooled} == set(range(1, n + 1))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 6), data=st.data(), how=st.sampled_from(["put", "add.at", "cell"]))
def test_a_write_of_some_cells_names_the_value_only_in_their_rows(n, data, how):
    x, y = _pooled_copy(n)
    row = data.draw(st.integers(0, n - 1))
    if how == "put":
        np.put(x, [3 * row, 3 * row + 2], y[0, :2])
    elif how == "add.at":
        np.add.at(x, [row], y[0])
    else:
        x[row, 1] = y[0, 2]
    claimed = reported(x, n)
    assert _names_b(claimed) == _landed(np.asarray(x), n)
    direct, pooled = claimed[row]
    # written in part: keeps its pooled rows, gains y's row 1
    assert {line for s, line in direct if s.startswith("coll_b_")} == {1}
    assert {line for _, line in pooled} == set(range(1, n + 1))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 5),
    data=st.data(),
    how=st.sampled_from(["at_set", "insert", "pad", "zeros_at", "zeros_pad"]),
)
def test_jax_updates_name_the_value_only_in_the_rows_it_reaches(n, data, how):
    """The same in a JAX function (``stp.arrays.apply``): ``x.T.T.at[k].set(v)``, and
    ``jnp.insert`` (scatters into a new array of untraced zeros, whose map is collapsed)
    and a pad with a traced constant gave every row ``v``'s row as a row it is made of;
    so did an update of, or a pad around, untraced data (``jnp.zeros(...).at[k].set(v)``)."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    k = next(_COUNT)
    x = stp.array(jnp.arange(n * 3.0).reshape(n, 3), source_id=f"coll_a_{k}")
    y = stp.array(100.0 + jnp.arange(6.0).reshape(2, 3), source_id=f"coll_b_{k}")
    at = data.draw(st.integers(0, n - 1))
    if how == "at_set":
        z = stp.arrays.apply(lambda a, b: a.T.T.at[jnp.array([at])].set(b[1]), x, y)
    elif how == "insert":
        z = stp.arrays.apply(lambda a, b: jnp.insert(a, at, b[1], axis=0), x, y)
    elif how == "pad":
        z = stp.arrays.apply(
            lambda a, b: jnp.pad(a.T.T, ((at, 0), (0, 0)), constant_values=b[1, 0]), x, y
        )
    elif how == "zeros_at":
        z = stp.arrays.apply(lambda b: jnp.zeros((n, 3)).at[at].set(b[1]), y)
    else:
        z = stp.arrays.apply(
            lambda b: jnp.pad(jnp.zeros((n, 3)), ((at, 1), (0, 0)), constant_values=b[1, 0]), y
        )
    values = np.asarray(z.__stp_value__())
    rows = values.shape[0]
    claimed = reported(z, rows)
    assert _names_b(claimed) == _landed(values, rows)
