"""Functions without a row rule, given one row or one element of a traced array.

Such a function "depends on every row" of its traced arguments: they are pooled into
every output row. A row-less argument (``y[3]``, ``y[3, 0]``) was not: its row was
given to every output row as a row it is *made of*, so ``np.insert(x, 0, y[1],
axis=0)`` reported every row of ``x`` as made of ``y``'s row 2. The truth here is
read from the values: each value of ``x`` and ``y`` says its row.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp

from ._chains import reported

_COUNT = iter(range(10**9))


def _sources(n, framework):
    """``x`` (n rows, values < 100, row r holds 10 r .. 10 r + 2) and ``y`` (2 rows, values
    100 + 10 r ..), traced as ``unmod_a_*`` and ``unmod_b_*``."""
    k = next(_COUNT)
    a = np.arange(n)[:, None] * 10.0 + np.arange(3)
    b = 100.0 + np.arange(2)[:, None] * 10.0 + np.arange(3)
    if framework == "torch":
        torch = pytest.importorskip("torch")
        a, b = torch.tensor(a), torch.tensor(b)
    return stp.array(a, source_id=f"unmod_a_{k}"), stp.array(b, source_id=f"unmod_b_{k}")


def _rows_of_values(row):
    """``{(source letter, line)}`` of the rows whose values ``row`` holds."""
    out = set()
    for v in np.ravel(row):
        v = int(v)
        out.add(("b", (v - 100) // 10 + 1) if v >= 100 else ("a", v // 10 + 1))
    return out


def _letter(source_id):
    return source_id.split("_")[1]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5), data=st.data())
def test_insert_of_one_row_names_it_made_of_no_row_it_is_not_in(n, data):
    x, y = _sources(n, "numpy")
    at, j = data.draw(st.integers(0, n)), data.draw(st.integers(0, 1))
    z = np.insert(x, at, y[j], axis=0)
    for i, (direct, pooled) in enumerate(reported(z, n + 1)):
        truth = _rows_of_values(np.asarray(z)[i])
        made_of = {(_letter(s), line) for s, line in direct}
        assert made_of <= truth, (i, made_of, truth)
        # the function is not modelled: every row of its arguments is a dependence
        assert truth <= made_of | {(_letter(s), line) for s, line in pooled}


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 5),
    j=st.integers(0, 1),
    element=st.booleans(),
    framework=st.sampled_from(["numpy", "torch"]),
)
def test_a_lookup_in_one_row_is_made_of_no_row_of_it(n, j, element, framework):
    # isin(x[:, 0], y[j]): row i is True where x[i, 0] is among y[j]'s values: made of
    # x's row i (or of every x row, where no rule exists), never of y's row j
    x, y = _sources(n, framework)
    values = y[j, 0] if element else y[j]
    isin = np.isin
    if framework == "torch":
        isin = pytest.importorskip("torch").isin
    z = isin(x[:, 0], values)
    for direct, pooled in reported(z, n):
        assert all(_letter(s) == "a" for s, _ in direct)
        assert ("b", j + 1) in {(_letter(s), line) for s, line in pooled}
