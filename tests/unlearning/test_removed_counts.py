"""A removal's counts per source say which rows they count: training rows or source rows.

The event counted removed training rows per source (``sources``) and nothing else, so a
removal of 3 merged rows built from 1 row of a lookup read "lookup: 3 rows removed",
and an oversampled file's copies read as that many of its lines. ``sources`` still
counts training rows (as n_removed does); ``source_rows`` counts the distinct rows of
each source behind them, and ``counts_note`` says which is which where they differ.
Truth: the merge keys and the copies, counted with pandas.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _merged(keys, prefix):
    rng = np.random.default_rng(len(keys))
    main = stp.from_pandas(
        pd.DataFrame({"k": keys, "a": rng.normal(size=len(keys))}), f"{prefix}_main"
    )
    lookup = stp.from_pandas(
        pd.DataFrame({"k": np.arange(4), "b": rng.normal(size=4)}), f"{prefix}_lookup"
    )
    X = stp.merge(main, lookup, on="k", source_id=f"{prefix}_merged")[["a", "b"]]
    y = 2 * X["a"].to_numpy() - X["b"].to_numpy() + rng.normal(size=len(X))
    return X, y, lookup


@settings(max_examples=15, deadline=None)
@given(
    keys=st.lists(st.integers(0, 3), min_size=6, max_size=20).filter(lambda k: len(set(k)) > 1),
    data=st.data(),
)
def test_merged_rows_removed_count_training_rows_and_source_rows_apart(keys, data):
    X, y, lookup = _merged(keys, "cnt_prop")
    key = data.draw(st.sampled_from(sorted(set(keys))))
    n = keys.count(key)  # merged rows built from lookup row `key`: each one main row
    unl = GradientCorrectionUnlearner(Ridge(), tol=1e-10).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(lookup)[[key]])
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == n
    assert event["sources"] == {"cnt_prop_lookup": n, "cnt_prop_main": n}
    assert event["source_rows"] == {"cnt_prop_lookup": 1, "cnt_prop_main": n}
    if n > 1:
        assert event["counts_note"].endswith(
            f"cnt_prop_lookup: {n} training row(s) from 1 row(s) of the source"
        )
        assert "'sources' counts removed training rows" in event["counts_note"]
    else:
        assert "counts_note" not in event
    assert f"source_rows={{'cnt_prop_lookup': 1, 'cnt_prop_main': {n}}}" in repr(event)


def test_copies_of_an_oversampled_row_are_training_rows_not_source_rows():
    rng = np.random.default_rng(0)
    small = stp.from_pandas(
        pd.DataFrame({"x": rng.normal(size=20), "y": rng.integers(0, 2, 20)}), "cnt_small"
    )
    large = stp.from_pandas(
        pd.DataFrame({"x": rng.normal(size=60), "y": rng.integers(0, 2, 60)}), "cnt_large"
    )
    drawn = small.sample(n=40, replace=True, random_state=0)
    df = pd.concat([large, drawn])
    distinct = np.unique(stp.row_ids(drawn)).size
    assert distinct < 40
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(df[["x"]], df["y"])
    unl.unlearn(source_id="cnt_small")
    event = unl.unlearning_log_[-1]
    assert event["n_removed"] == event["sources"]["cnt_small"] == 40
    assert event["source_rows"] == {"cnt_small": distinct}
    assert f"cnt_small: 40 training row(s) from {distinct} row(s)" in event["counts_note"]


def test_the_report_page_says_its_removal_counts_are_training_rows(tmp_path):
    from sktraceprop.compliance import compliance_report

    X, y, lookup = _merged([0, 0, 0, 1, 2, 3, 1, 2], "cnt_page")
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(Ridge(), store=store, log_predictions=True)
    unl = GradientCorrectionUnlearner(pipe).fit(X, y)
    unl.unlearn(sample_id=stp.row_ids(lookup)[[0]])
    (stored,) = [e for e in store.events(unl.run_id_) if e["kind"] == "unlearning"]
    assert stored["payload"]["source_rows"] == {"cnt_page_lookup": 1, "cnt_page_main": 3}
    unl.predict(X.iloc[:2])
    page = compliance_report(
        unl,
        system_name="S",
        system_version="1",
        deployer_name="D",
        high_risk_category="creditworthiness",
        intended_purpose="P",
        human_oversight=["O"],
    ).to_html()
    assert "Training rows removed, per source" in page
    assert ">Sources<" not in page.split("Removals (unlearning)")[1].split("Runs in the store")[0]
