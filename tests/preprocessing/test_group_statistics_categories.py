"""GroupStatistics by categorical keys (unused categories, missing keys, several keys).

The truth is a loop over the training rows with plain numpy: a row's statistic is that
of the training rows whose every key equals its own (a missing key equals nothing), and
the overall statistic where no training row matches or the statistic is undefined.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop.preprocessing import GroupStatistics

_FUNCS = {
    "mean": np.mean,
    "median": np.median,
    "min": np.min,
    "max": np.max,
    "sum": np.sum,
    "count": len,
    "std": lambda v: np.std(v, ddof=1) if len(v) > 1 else np.nan,
}
_CATEGORIES = ["a", "b", "c", "d"]


def _brute(train_keys, train_values, test_keys, statistic):
    func = _FUNCS[statistic]
    overall = float(func(train_values))
    out = []
    for key in test_keys:
        if any(k is None for k in key):
            out.append(overall)
            continue
        match = [
            v for k, v in zip(train_keys, train_values, strict=True) if tuple(k) == tuple(key)
        ]
        value = float(func(np.asarray(match))) if match else np.nan
        out.append(overall if np.isnan(value) else value)
    return np.asarray(out)


def _frame(keys, values, n_keys, categories):
    data = {
        f"k{j}": pd.Categorical([k[j] for k in keys], categories=categories) for j in range(n_keys)
    }
    data["v"] = np.asarray(values, dtype=np.float64)
    return pd.DataFrame(data)


def _check(train_rows, statistic, n_keys, categories):
    train_keys = [r[0][:n_keys] for r in train_rows]
    train_values = np.asarray([r[1] for r in train_rows], dtype=np.float64)
    # every combination of categories and missing keys, seen at fit time or not
    options = [*categories, None]
    test_keys = [
        tuple(options[(i // len(options) ** j) % len(options)] for j in range(n_keys))
        for i in range(len(options) ** n_keys)
    ]
    train = _frame(train_keys, train_values, n_keys, categories)
    test = _frame(test_keys, np.zeros(len(test_keys)), n_keys, categories)
    by = [f"k{j}" for j in range(n_keys)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning about observed= from inside
        gs = GroupStatistics(by=by, columns=["v"], statistic=statistic).fit(train)
        out = gs.transform(test).iloc[:, -1].to_numpy()
    expected = _brute(train_keys, train_values, test_keys, statistic)
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
    # one group per distinct complete training key, no more
    seen = {tuple(k) for k in train_keys if None not in k}
    assert len(gs.statistics_) == len(seen)


_key = st.sampled_from([*_CATEGORIES[:3], None])  # "d" is never used by a training row


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.tuples(_key, _key, _key), st.floats(-5, 5)),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(sorted(_FUNCS)),
    st.integers(1, 3),
)
@example([(("a", "a", "a"), 1.0)], "count", 1)
@example([(("a", "a", "a"), 1.0), (("c", "a", "a"), 3.0)], "sum", 2)
def test_categorical_keys_match_a_loop_over_the_training_rows(train_rows, statistic, n_keys):
    _check(train_rows, statistic, n_keys, _CATEGORIES)


def test_an_unused_category_takes_the_overall_count_and_sum():
    # pandas 2.2 made the unused category "b" a group with count 0 and sum 0
    train = pd.DataFrame(
        {"w": pd.Categorical(["a", "a", "c"], categories=["a", "b", "c"]), "v": [1.0, 2, 4]}
    )
    test = pd.DataFrame({"w": pd.Categorical(["b"], categories=["a", "b", "c"]), "v": [0.0]})
    for statistic, overall in (("count", 3.0), ("sum", 7.0), ("mean", 7 / 3)):
        gs = GroupStatistics(by=["w"], columns=["v"], statistic=statistic).fit(train)
        assert gs.transform(test).iloc[0, -1] == overall
        assert list(gs.statistics_.index) == ["a", "c"]
