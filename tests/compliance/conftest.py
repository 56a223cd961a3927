import os

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp

from ._browser import chromium

#: The retention keys of this model's own logged calls (format 16, added last).
USE_KEYS = (
    "earliest_logged_use",
    "latest_logged_use",
    "days_unlogged_use_before_report",
    "longest_unlogged_use_from",
    "longest_unlogged_use_to",
    "longest_unlogged_use_days",
)


def longest_interval_truth(given):
    """The longest interval between given times that no given time falls inside, by
    brute force over every pair (None where fewer than two)."""
    best = None
    for a in given:
        for b in given:
            if b > a and not any(a < t < b for t in given):
                if best is None or b - a > best[1] - best[0]:
                    best = (a, b)
    return best


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


def format_3_retention(data, store):
    """Set ``data``'s retention section as reports of format versions 1-3 wrote it (the
    runs' recorded fit times counted beside the events'), and the article statements
    that follow from it, for tests that turn a report made now into an older format's."""
    import json

    from sktraceprop.compliance._evidence import all_events, retention_section
    from sktraceprop.compliance._sections import articles

    run = store.load_run(data["model"]["run_id"])
    section = retention_section(
        store,
        run,
        all_events(store),
        data["retention"]["report_time"],
        run_times=True,
        clamped=True,
        chain_order=False,
    )
    data["retention"] = json.loads(json.dumps(section))
    data["articles"] = articles(data)


def before_format_18(data):
    """Count in ``data`` the calls format 18 counts apart as changed or unchecked (logged
    before the two were told apart) among the changed ones, as format 17 and earlier
    did, for tests that turn a report made now into an older format's (the caller sets
    the version and rebuilds the article statements)."""
    predictions = data["record_keeping"]["predictions"]
    untold = predictions.pop("calls_by_a_model_changed_or_unchecked_since_fit", 0)
    predictions["calls_by_a_model_changed_since_fit"] += untold


def before_format_16(data):
    """Set ``data``'s retention as format 15 and earlier counted six months (the day
    clamped to the month's last, at the same time of day: on the 29th to 31st of a month
    the two differ) and its sources' ``repeated_rows`` notes as they wrote them, for
    tests that turn a report made now into an older format's (the caller sets the
    version and rebuilds the article statements)."""
    from sktraceprop.compliance._evidence import months_before, parse_time
    from sktraceprop.compliance._source_evidence import as_format_15

    data["sources"] = [as_format_15(s) for s in data["sources"]]
    data["record_keeping"].pop("prediction_erasures", None)
    before_format_18(data)
    retention = data["retention"]
    # format 16 also said what the chain's order shows of the times (none set back here)
    for key in (
        "coverage_from",
        "times_set_back",
        "first_logged_use_contradicted",
        "latest_uncontradicted",
        "span_days_uncontradicted",
        "days_unlogged_before_report",
        "longest_unlogged_from",
        "longest_unlogged_to",
        "longest_unlogged_days",
        *USE_KEYS,
        "model_logs_from",
        "model_logs_cover_six_months",
        "model_six_months_reached_on",
    ):
        retention.pop(key, None)
    limit = months_before(parse_time(retention["report_time"]), 6)
    earliest = parse_time(retention["earliest_logged"])
    covers = earliest <= limit
    retention["six_months_before_report"] = limit.isoformat(timespec="microseconds")
    retention["stored_logs_cover_six_months"] = covers
    retention["six_months_reached_on"] = (
        None if covers else months_before(earliest, -6).isoformat(timespec="microseconds")
    )


def before_format_12(data):
    """Drop from ``data`` what formats 12 to 15 added (the predictions'
    ``calls_matched_by_fingerprint_scheme_2`` to ``_5``, one a format), and what format 16
    changed after them (:func:`before_format_16`), for tests that turn a report made now
    into an older format's (the caller sets the version and rebuilds the article
    statements)."""
    before_format_16(data)
    predictions = data["record_keeping"]["predictions"]
    for scheme in (5, 4, 3, 2):
        predictions.pop(f"calls_matched_by_fingerprint_scheme_{scheme}", None)


def before_format_11(data):
    """Drop from ``data`` what format 11 added (``feature_lineage.after_removal``), and
    what format 12 added after it (:func:`before_format_12`), for tests that turn a
    report made now into an older format's (the caller sets the version and rebuilds
    the article statements)."""
    before_format_12(data)
    data["feature_lineage"].pop("after_removal", None)


def before_format_10(data):
    """Drop from ``data`` what format 10 added (the model's ``fingerprint_scheme`` and
    ``fingerprint_scheme_note``), and what format 11 added after it
    (:func:`before_format_11`), for tests that turn a report made now into an older
    format's (the caller sets the version)."""
    before_format_11(data)
    data["model"].pop("fingerprint_scheme", None)
    data["model"].pop("fingerprint_scheme_note", None)


def before_format_9(data):
    """Drop from ``data`` what format 9 added (each source's ``digest_scheme`` and
    ``digest_note``, the predictions' ``calls_matched_by_old_fingerprint_scheme``), and
    what format 10 added after it (:func:`before_format_10`), for tests that turn a
    report made now into an older format's (the caller sets the version and rebuilds
    the article statements)."""
    before_format_10(data)
    for source in data["sources"]:
        source.pop("digest_scheme", None)
        source.pop("digest_note", None)
    data["record_keeping"]["predictions"].pop("calls_matched_by_old_fingerprint_scheme", None)


def before_format_8(data):
    """Drop from ``data``'s removals what format 8 added (``source_rows``,
    ``counts_note``), and what format 9 added after it (:func:`before_format_9`), for
    tests that turn a report made now into an older format's (the caller sets the
    version and rebuilds the article statements)."""
    before_format_9(data)
    for removal in data["record_keeping"]["removals"]:
        removal.pop("source_rows", None)
        removal.pop("counts_note", None)


def before_format_7(data):
    """Drop from ``data``'s sources what format 7 added (``changes_after_loading``,
    ``repeated_rows``), and what format 8 added after it (:func:`before_format_8`), and
    the article statements made from them, for tests that turn a report made now into an
    older format's."""
    from sktraceprop.compliance._sections import articles

    before_format_8(data)
    for source in data["sources"]:
        source.pop("changes_after_loading", None)
        source.pop("repeated_rows", None)
    data["articles"] = articles(data)


def as_javascript_writes(value):
    """A JSON value as JavaScript's JSON.stringify writes it back: a float with an integer
    value (below 1e21) as an integer (0.0 as 0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: as_javascript_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_javascript_writes(v) for v in value]
    return value
