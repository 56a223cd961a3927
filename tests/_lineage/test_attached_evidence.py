"""How a column attached by position was found, said so that its counts read right.

Before, the warning, the refusal to unlearn and the report said ``(same lines: 75 of its
442 rows compared)`` of a perfect copy of a column whose other 367 values repeat: read as
367 rows that did not match. Only values that no other row holds can be found, so the
words now say so. The truth: the values of the attached column that occur once, counted
with ``collections.Counter`` on the column as read back from its CSV file.
"""

import itertools
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning, UnlearningError
from tests.compliance.test_report import DEPLOYER

_IDS = itertools.count()


def _attached(tmp, n_once, n_pairs, seed):
    """A and B (``v``: ``n_once`` values held once, ``n_pairs`` values held twice, in a
    random order), ``a["x"] = B["v"].values``; the fitted pipeline and its warnings."""
    k = next(_IDS)
    # (k: no two calls draw the same values, which would make both sources a match)
    rng = np.random.default_rng([seed, 52, k])
    values = np.concatenate([rng.normal(size=n_once), np.repeat(rng.normal(size=n_pairs), 2)])
    rng.shuffle(values)
    n = values.size
    frames = {
        "A": pd.DataFrame({"a": rng.normal(size=n), "y": rng.normal(size=n)}),
        "B": pd.DataFrame({"v": values}),
    }
    read = {}
    for name, frame in frames.items():
        path = tmp / f"evidence_{name}{k}.csv"
        frame.to_csv(path, index=False)
        read[name] = stp.read_csv(path, source_id=f"evidence_{name}{k}")
    a = read["A"].copy()
    a["x"] = read["B"]["v"].values
    store = stp.stores.MemoryStore()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(LinearRegression(), store=store, log_predictions=True)
        pipe.fit(a[["a", "x"]], a["y"])
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    once = sum(1 for c in Counter(read["B"]["v"].tolist()).values() if c == 1)
    return pipe, a, f"evidence_B{k}", [m for m in said if "attached by position" in m], once


def test_a_copy_of_a_column_of_repeated_values_is_said_found_on_its_single_values(tmp_path):
    pipe, a, b, said, once = _attached(tmp_path, 40, 30, 0)
    (entry,) = pipe.lineage_.attached_columns
    assert entry["rows_matched"] == once == 40 and entry["rows_compared"] == 100
    evidence = (
        "same lines: 40 of the 100 rows of that column compared found in order, each on "
        "one training row; only values that no other row holds count"
    )
    (message,) = said
    assert f"x holds column v of source {b!r} ({evidence})" in message
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        unlearner = stp.GradientCorrectionUnlearner(pipe).fit(a[["a", "x"]], a["y"])
    with pytest.raises(UnlearningError) as refused:
        unlearner.unlearn(source_id=b)
    assert f"input column x holds its column v ({evidence})" in str(refused.value)
    pipe.predict(a[["a", "x"]].iloc[:2])
    report = stp.compliance_report(pipe, **DEPLOYER)
    (article,) = [x for x in report.to_dict()["articles"] if x["article"] == "26(4)"]
    assert "1 input column holds another source's column attached by position" in (article["why"])
    assert f"x holds column v of {b} ({evidence}; inputs x)" in article["why"]
    assert evidence in report.to_html()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(n_once=st.integers(16, 60), n_pairs=st.integers(0, 40), seed=st.integers(0, 2**16))
@example(n_once=16, n_pairs=40, seed=1)
def test_the_rows_matched_are_the_values_held_once(tmp_path_factory, n_once, n_pairs, seed):
    tmp = tmp_path_factory.mktemp("evidence")
    pipe, _, b, said, once = _attached(tmp, n_once, n_pairs, seed)
    (entry,) = pipe.lineage_.attached_columns
    n = n_once + 2 * n_pairs
    assert entry["rows_matched"] == once == n_once and entry["rows_compared"] == n
    (message,) = said
    assert f"same lines: {n_once} of the {n} rows of that column compared found" in message
