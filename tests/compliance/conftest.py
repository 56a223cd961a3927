import os

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp

from ._browser import chromium

DEPLOYER = {
    "system_name": "CreditScorer",
    "system_version": "1.0.0",
    "deployer_name": "Example Bank SA",
    "high_risk_category": "creditworthiness",
    "intended_purpose": "Score consumer loan applications for manual review",
    "human_oversight": ["Head of credit risk", "Loan officer on duty"],
}


def traced_frames(paths):
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    df = pd.concat([a, b])
    X, y = df[["age", "sex", "bp"]], df["label"]
    return a, b, X, y


def logged_pipeline(store, X, y, log=True):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex"]),
        (make_pipeline(SimpleImputer(), StandardScaler()), ["age", "bp"]),
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=log)
    return pipe.fit(X, y)


@pytest.fixture
def fitted(hospitals, tmp_path):
    """A logged pipeline on two CSV files, in a SQLite store, with a few predictions."""
    a, b, X, y = traced_frames(hospitals)
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = logged_pipeline(store, X, y)
    pipe.predict(X.iloc[:7])
    pipe.predict_proba(X.iloc[5:9])
    pipe.decision_function(X.iloc[:3])
    return pipe, store, X, y


@pytest.fixture
def browser():
    """Chromium's path; without it these tests skip, or fail under ``STP_REQUIRE_BROWSER=1``.

    ``.ci/run`` installs Chromium where missing and sets ``STP_REQUIRE_BROWSER=1``, so CI
    cannot pass without opening the page in a real browser.
    """
    path = chromium()
    if path is None:
        reason = "Chromium is not installed (.ci/run installs Debian's chromium)"
        if os.environ.get("STP_REQUIRE_BROWSER"):
            pytest.fail(f"STP_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    return path
