"""Datetimes that int64 nanoseconds cannot hold are refused by the rows' records.

``hash_rows`` and the per-row digests hold a datetime as int64 nanoseconds since the
epoch, whatever the column's unit. ``9999-12-31`` in ``datetime64[s]`` (pandas keeps the
unit it is given) cast to nanoseconds wrapped to ``1816-03-29T05:56:08.066277376``: two
frames holding those two instants had one digest, so one could replace the other in a
logged call without the commitment changing.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop._datetime_ns import NS_RANGE, as_ns
from sktraceprop._row_digests import row_digests
from sktraceprop.compliance import hash_rows

_SENTINEL = np.array(["9999-12-31"], "datetime64[s]")
_WRAPPED = _SENTINEL.astype("datetime64[ns]")  # numpy's cast: another instant


def _frames():
    far = pd.DataFrame({"until": pd.array(_SENTINEL)})
    other = pd.DataFrame({"until": pd.array(_WRAPPED)})
    return far, other


def test_the_wrapped_instant_is_another_instant():
    # (the premise: numpy's cast does wrap, to an instant 8183 years earlier)
    assert str(_WRAPPED[0]).startswith("1816-03-29")


@pytest.mark.parametrize("digest", [hash_rows, lambda X: row_digests(X, "salt")])
def test_an_instant_past_the_ns_range_is_refused_not_wrapped(digest):
    far, other = _frames()
    digest(other)  # an instant in range is recorded
    with pytest.raises(ValueError, match="9999-12-31.*int64 nanoseconds.*2262-04-11"):
        digest(far)


@pytest.mark.parametrize("digest", [hash_rows, lambda X: row_digests(X, "salt")])
def test_tz_aware_and_categorical_far_instants_are_refused(digest):
    aware = pd.DataFrame({"t": pd.Series(pd.array(_SENTINEL)).dt.tz_localize("UTC")})
    cats = pd.DataFrame({"t": pd.Categorical(pd.array(_SENTINEL))})
    for frame in (aware, cats):
        with pytest.raises(ValueError, match="int64 nanoseconds"):
            digest(frame)


def test_an_array_of_far_instants_is_refused():
    with pytest.raises(ValueError, match="int64 nanoseconds"):
        hash_rows(_SENTINEL.reshape(-1, 1))


def test_missing_and_in_range_values_of_coarse_units_hash_as_before():
    # (the records of in-range values are unchanged: as nanoseconds, whatever the unit)
    seconds = np.array(["2024-01-02T03:04:05", "NaT", "1700-01-01"], "datetime64[s]")
    a = pd.DataFrame({"t": pd.array(seconds)})
    b = pd.DataFrame({"t": pd.array(seconds.astype("datetime64[ns]"))})
    assert hash_rows(a) == hash_rows(b)
    assert np.array_equal(row_digests(a, "k"), row_digests(b, "k"))


@settings(deadline=None, max_examples=60)
@given(
    st.integers(-(2**62), 2**62),
    st.sampled_from(["s", "ms", "us", "D", "ps"]),
)
@example(int(_SENTINEL.view(np.int64)[0]), "s")
@example(int(NS_RANGE[1].astype("datetime64[us]").astype(np.int64)), "us")
@example(int(NS_RANGE[1].astype("datetime64[us]").astype(np.int64)) + 1, "us")
def test_as_ns_is_exact_or_refuses(count, unit):
    """Checked against Python's integers: the value in nanoseconds, if int64 holds it."""
    value = np.array([count], f"datetime64[{unit}]")
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "D": 86_400 * 10**9, "ps": None}[unit]
    if per is None:  # finer than a nanosecond: exact only on whole nanoseconds
        exact = count // 1000 if count % 1000 == 0 else None
    else:
        exact = count * per
    if exact is not None and -(2**63) < exact < 2**63:
        assert int(as_ns(value).view(np.int64)[0]) == exact
    else:
        with pytest.raises(ValueError, match="int64 nanoseconds"):
            as_ns(value)
