"""Wrote ``store.db`` with sktraceprop at commit c6bbe7b (fingerprint scheme 5, which
named a module a user function holds as a global and not the helpers it calls through
it): one run of a traced pipeline ``FunctionTransformer(func=fixture_steps.scaled)``
(which calls ``fixture_helpers.helper``) then ``LogisticRegression`` on a 16-row frame
registered as ``points`` (:func:`frame`), one ``review`` event, and ``report.json``: the
compliance report (format 14) of that run from the store alone, whose
``fingerprint_scheme_note`` holds scheme 5's words of then. Run with that version
installed, from this folder: ``python make_fingerprint5.py OUT_DIR``."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def frame():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(16, 2)).round(3) * 2
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.arange(16) % 2})


def pipeline(store):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    import sktraceprop as stp

    sys.path.insert(0, str(HERE))
    from fixture_steps import scaled

    return stp.make_traced_pipeline(
        FunctionTransformer(func=scaled), LogisticRegression(), store=store
    )


def main(out):
    import sktraceprop as stp
    from sktraceprop.compliance import compliance_report

    store = stp.stores.SQLiteStore(Path(out) / "store.db")
    df = stp.from_pandas(frame(), "points")
    run_id = pipeline(store).fit(df[["a", "b"]], df["y"]).lineage_.run_id
    store.append_event("review", {"by": "auditor", "finding": "none"})
    compliance_report(
        store=store,
        run_id=run_id,
        system_name="CreditScorer",
        system_version="1.0.0",
        deployer_name="Example Bank SA",
        high_risk_category="creditworthiness",
        intended_purpose="Score consumer loan applications for manual review",
        human_oversight=["Head of credit risk"],
        output_path=Path(out) / "report.json",
    )


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main(sys.argv[1])
