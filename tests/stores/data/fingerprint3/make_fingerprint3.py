"""Wrote ``store.db`` with sktraceprop at commit d276ca6 (fingerprint scheme 3, which
named the attributes of user classes other than functions): one run of a traced
pipeline ``fixture_classes.Clip()`` (a user transformer reading its class constant
``LIMIT``) then ``LogisticRegression`` on a 16-row frame registered as ``points``
(:func:`frame`), one ``review`` event, and ``report.json``: the compliance report
(format 12) of that run from the store alone, whose ``fingerprint_scheme_note`` holds
scheme 3's words of then. Run with that version installed, from this folder:
``python make_fingerprint3.py OUT_DIR``."""

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

    import sktraceprop as stp

    sys.path.insert(0, str(HERE))
    from fixture_classes import Clip

    return stp.make_traced_pipeline(Clip(), LogisticRegression(), store=store)


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
