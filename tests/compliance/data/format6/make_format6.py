"""Wrote ``report.json`` and ``audit.db`` with sktraceprop at commit 4402dc5 (reports of
format 6, before each source counted its training rows through each op,
``op_training_rows``): files ``a`` (12 rows) and ``b`` (8 rows), a ``StandardScaler``
fitted by a ``TracedEstimator`` on both and applied to a's first 5 rows only, and a
logistic regression fitted on all 20 rows with its calls logged (3 rows predicted);
the report of that run, signed by a key made for it (its public key in
``public.pem``). The CSV files are written to OUT_DIR too (the report names them; the
test does not read them). Run with that version installed: ``python make_format6.py
OUT_DIR``."""

import sys
from pathlib import Path


def main(out):
    import numpy as np
    import pandas as pd
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp
    from sktraceprop.compliance import compliance_report

    out = Path(out)
    rng = np.random.default_rng(5)
    for name, n in (("a", 12), ("b", 8)):
        frame = pd.DataFrame(
            {"x1": rng.normal(size=n).round(3), "x2": rng.normal(size=n).round(3)}
        )
        frame["y"] = np.arange(n) % 2
        frame.to_csv(out / f"{name}.csv", index=False)
    a, b = (stp.read_csv(out / f"{name}.csv") for name in ("a", "b"))
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    scaler.fit(pd.concat([a, b])[["x1", "x2"]])
    part = a.iloc[:5]
    X = pd.concat(
        [scaler.transform(part[["x1", "x2"]]), a.iloc[5:][["x1", "x2"]], b[["x1", "x2"]]]
    )
    y = pd.concat([a["y"], b["y"]])
    store = stp.stores.SQLiteStore(out / "audit.db")
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, y).predict(X.iloc[:3])
    key = Ed25519PrivateKey.generate()
    (out / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    compliance_report(
        pipe,
        system_name="CreditScorer",
        system_version="1.0.0",
        deployer_name="Example Bank SA",
        high_risk_category="creditworthiness",
        intended_purpose="Score consumer loan applications for manual review",
        human_oversight=["Head of credit risk"],
        output_path=out / "report.json",
        private_key=key,
    )


if __name__ == "__main__":  # not on import (pytest's --doctest-modules imports it)
    main(sys.argv[1])
