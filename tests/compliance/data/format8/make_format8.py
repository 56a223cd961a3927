"""Wrote ``report.json`` and ``audit.db`` with sktraceprop at commit 245d9b9 (reports of
format 8, before sources said what their sha256 names): a copy of
``tests/stores/data/frame_digest1.db`` (frames named by pandas' 64-bit row hashes), one
``review`` event appended, and the report of its run on ``patients``, signed by a key
made for it (its public key in ``public.pem``). Run with that version installed:
``python make_format8.py OUT_DIR``."""

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(out):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    import sktraceprop as stp
    from sktraceprop.compliance import compliance_report

    out = Path(out)
    shutil.copyfile(HERE.parents[2] / "stores" / "data" / "frame_digest1.db", out / "audit.db")
    key = Ed25519PrivateKey.generate()
    (out / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    store = stp.stores.SQLiteStore(out / "audit.db")
    store.append_event("review", {"by": "auditor", "finding": "none"})
    (run_id,) = store.list_runs(source="patients")["run_id"]
    compliance_report(
        store=store,
        run_id=run_id,
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
