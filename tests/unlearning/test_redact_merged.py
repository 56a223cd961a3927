"""``unlearn(redact=...)`` of a model trained on rows merged by ``stp.merge``.

The rows a removal names are the model's training rows: merged rows, whole. The runs
given them were looked for by file line only (a merged row's id is no file line), so
none was found: the redaction erased only the feature names of the unlearner's own run,
none of its statistics, and nothing of any other run (the production model fitted on the
same rows kept the one-hot category only the removed rows had). The truth is the bytes
of the store's files and the statistics each stored run still holds.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp

MARK = "Qwzzyx"


def _frames(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    n = 24
    pd.DataFrame(
        {"key": np.arange(n), "city": ["Aa", "Bb", "Cc"] * 8, "x": np.arange(n) / 7.0}
    ).to_csv(tmp_path / "main.csv", index=False)
    pd.DataFrame(
        {"key": [n, n + 1, n + 2], "city": [MARK, "Aa", MARK], "x": [0.5, 1.5, 2.5]}
    ).to_csv(tmp_path / "extra.csv", index=False)
    pd.DataFrame(
        {"key": np.arange(n + 3), "z": np.cos(np.arange(n + 3)), "y": [0, 1, 1] * 9}
    ).to_csv(tmp_path / "lookup.csv", index=False)
    rows = pd.concat([stp.read_csv(tmp_path / "main.csv"), stp.read_csv(tmp_path / "extra.csv")])
    merged = stp.merge(rows, stp.read_csv(tmp_path / "lookup.csv"), on="key", source_id="m")
    return merged[["city", "x", "z"]], merged["y"]


def _pipeline(store):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["x", "z"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(), store=store)


def _redacted_sources(store, run_id):
    stats = store.load_run(run_id).source_stats
    listed = stats["sources"] + (stats.get("through_merges") or [])
    return {s["source_id"] for s in listed if "redacted" in s}


def test_redact_reaches_every_run_given_the_removed_merged_rows(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    X, y = _frames(tmp_path / "data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        production = _pipeline(store).fit(X, y)
        unlearner = stp.GradientCorrectionUnlearner(_pipeline(store)).fit(X, y)
        unlearner.unlearn(source_id="extra", redact="request 7")
    for run_id in (production.lineage_.run_id, unlearner.run_id_):
        # the removed rows' own source, the merge and the lookup counted them; main not
        assert _redacted_sources(store, run_id) == {"extra", "m", "lookup"}
    erasures = store.events(kind="store.redaction", include_store_events=True)
    assert {e["run_id"] for e in erasures} == {production.lineage_.run_id, unlearner.run_id_}
    assert store.verify()
    store.close()
    held = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert MARK.encode() not in held and b"city_Bb" in held


def _nested(tmp_path, seed):
    rng = np.random.default_rng(seed)
    tmp_path.mkdir(parents=True, exist_ok=True)
    n = 15
    pd.DataFrame({"key": np.arange(n), "x": rng.normal(size=n)}).to_csv(
        tmp_path / "a.csv", index=False
    )
    pd.DataFrame({"key": np.arange(n), "z": rng.normal(size=n)}).to_csv(
        tmp_path / "b.csv", index=False
    )
    pd.DataFrame({"key": np.arange(n), "y": np.arange(n) % 2}).to_csv(
        tmp_path / "c.csv", index=False
    )
    a, b, c = (stp.read_csv(tmp_path / f"{k}.csv") for k in "abc")
    inner = stp.merge(a, b, on="key", source_id="inner")
    outer = stp.merge(inner, c, on="key", source_id="outer")
    return inner, outer


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), removed=st.sets(st.integers(0, 14), max_size=15))
def test_a_run_depends_on_the_merged_rows_removed_and_on_those_merged_from_them(
    tmp_path_factory, seed, removed
):
    inner, outer = _nested(tmp_path_factory.mktemp("n"), seed)
    run = stp.make_traced_pipeline(LogisticRegression()).fit(outer[["x", "z"]], outer["y"])
    run = run.lineage_
    gone = sorted(removed)
    # removed by their own ids (the training rows): exactly those rows
    hit, via_aggregate = run.depends_on(removed_ids=stp.row_ids(outer)[gone])
    assert hit.tolist() == np.isin(np.arange(len(outer)), gone).tolist()
    assert not via_aggregate.any()
    # removed by the ids of the merged rows they were built from, one level down: the
    # truth is the key each outer row was merged on
    keys = inner["key"].to_numpy()[gone]
    hit, _ = run.depends_on(removed_ids=stp.row_ids(inner)[gone])
    assert hit.tolist() == outer["key"].isin(keys).tolist()
