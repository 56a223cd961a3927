"""A traced pipeline's ``memory=`` cache is named wherever its rows are removed.

The cache's files keep the fitted steps (a one-hot encoder's categories) and the data
given to them, after the pipeline is gone. An erasure request or a removal said
nothing of them: markers planted in a CSV file are found in the cache's bytes after
``store.erase_rows``, which must then name the cache.
"""

import gc
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop._holders import held_elsewhere
from sktraceprop.stores import SQLiteStore
from tests.unlearning._markers import hits

NUMBER, CATEGORY = 731_250.5, "zqcachedward"


def _cached_fit(tmp_path, store):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"dose": rng.normal(size=30).round(3), "ward": rng.choice(["a", "b"], 30)}
    )
    frame.loc[4, ["dose", "ward"]] = [NUMBER, CATEGORY]
    frame["y"] = np.arange(30) % 2
    frame.to_csv(tmp_path / "cached.csv", index=False)
    X = stp.read_csv(tmp_path / "cached.csv", source_id="cached")
    y = X.pop("y").to_numpy()
    inner, outer = tmp_path / "inner", tmp_path / "outer"
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler(), memory=str(inner)), ["dose"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["ward"]),
        ]
    )
    stp.make_traced_pipeline(
        pre, LogisticRegression(), store=store, memory=joblib.Memory(outer, verbose=0)
    ).fit(X, y)
    gc.collect()  # the pipeline is gone; its caches' files are not
    return X, y, inner, outer


def _cache_bytes(*folders):
    return b"".join(p.read_bytes() for f in folders for p in f.rglob("*") if p.is_file())


@pytest.mark.filterwarnings("ignore:the stored runs erased from keep feature names")
def test_an_erasure_names_the_caches_that_keep_the_rows(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    X, _, inner, outer = _cached_fit(tmp_path, store)
    assert hits(_cache_bytes(outer), [NUMBER], [CATEGORY]) == [NUMBER, CATEGORY]
    assert hits(_cache_bytes(inner), [NUMBER]) == [NUMBER]
    subject = stp.row_ids(X)[[4]]
    with pytest.warns(UserWarning, match="keep data of the rows being erased") as caught:
        store.erase_rows(sample_id=subject, reason="GDPR Art. 17")
    text = " ".join(str(w.message) for w in caught)
    assert f"the memory= cache {str(outer)!r} (1 row(s))" in text
    assert f"the memory= cache {str(inner)!r} (1 row(s))" in text
    assert "joblib.Memory(location).clear()" in text
    # what the warning says is so: the files still hold the row, until cleared
    assert hits(_cache_bytes(outer), [NUMBER], [CATEGORY]) == [NUMBER, CATEGORY]
    joblib.Memory(outer, verbose=0).clear(warn=False)
    joblib.Memory(inner, verbose=0).clear(warn=False)
    assert hits(_cache_bytes(outer, inner), [NUMBER], [CATEGORY]) == []
    assert not any("memory= cache" in name for name in held_elsewhere(subject, ()))


def test_a_removal_names_the_cache_in_its_event(tmp_path):
    X, y, inner, outer = _cached_fit(tmp_path, None)
    unl = stp.GradientCorrectionUnlearner(LogisticRegression())
    unl.fit(X[["dose"]], y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the warning carries the caveat tested here)
        unl.unlearn(sample_id=stp.row_ids(X)[[4, 5]])
    event = unl.unlearning_log_[-1]
    assert event["held_elsewhere"][f"the memory= cache {str(outer)!r}"] == 2
    assert "joblib.Memory(location).clear()" in event["caveat"]
    for folder in (outer, inner):  # (named by later removals of these rows otherwise)
        joblib.Memory(folder, verbose=0).clear(warn=False)


def test_a_plain_pipeline_traced_by_traced_estimator_has_its_cache_named(tmp_path):
    X, y, inner, outer = _cached_fit(tmp_path, None)
    for folder in (outer, inner):
        joblib.Memory(folder, verbose=0).clear(warn=False)
    plain = tmp_path / "plain"
    stp.TracedEstimator(
        make_pipeline(SimpleImputer(), LogisticRegression(), memory=str(plain))
    ).fit(X[["dose"]], y)
    gc.collect()
    assert hits(_cache_bytes(plain), [NUMBER]) == [NUMBER]
    held = held_elsewhere(stp.row_ids(X)[[4]], ())
    assert held == {f"the memory= cache {str(plain)!r}": 1}
    joblib.Memory(plain, verbose=0).clear(warn=False)
    assert held_elsewhere(stp.row_ids(X)[[4]], ()) == {}
