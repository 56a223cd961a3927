r"""
=====================================================
From two CSV files to a verified EU AI Act report
=====================================================

Two hospitals export CSV files. We fit a traced pipeline on them into a SQLite store
with every prediction logged, explain one decision, and make the compliance report of
the model: per article of the AI Act, what the record proves and what it cannot. The
report is signed, verified against its store, written as one self-contained HTML page,
and an edited copy is caught. The figure draws the lineage from files through ops to
the model, as the HTML page does, next to the label balance counted at fit time.
"""

# %%
# Load the two files and fit a pipeline whose every prediction is logged.
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop import signing
from sktraceprop.exceptions import ReportVerificationError

folder = Path(tempfile.mkdtemp(prefix="stp-compliance-"))
paths = stp.datasets.demo_paths()
a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
df = pd.concat([a, b])
X, y = df.drop(columns=["label", "notes"]), df["label"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)

store = stp.stores.SQLiteStore(folder / "audit.db")
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(), ["sex", "smoker"]),
    (make_pipeline(SimpleImputer(), StandardScaler()), ["age", "bp", "cholesterol"]),
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=True)
pipe.fit(X_tr, y_tr)

# %%
# Use the model: each call is one hash-chained audit event (run, UTC time, rows, a
# commitment to the SHA-256 of the input rows under a salt kept beside the chain, which
# ``store.erase_predictions`` deletes for a person who asks, outputs). One decision is
# explained, and the explanation logged the same way.
decisions = pipe.predict(X_te)
pipe.predict_proba(X_te.iloc[:10])
explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X_tr, y_tr)
explainer.explain(X_te.iloc[:1], top_k=5, log=True)
for event in store.events():
    p = event["payload"]
    print(
        event["seq"], event["kind"], event["created_at"], p["n_rows"], p["input_commitment"][:12]
    )

# %%
# The report, signed with an Ed25519 key (the same kind of key as store checkpoints).
key = signing.generate_key()
signing.save_key(key.public_key(), folder / "audit.pub.pem")
report = stp.compliance_report(
    pipe,
    system_name="HeartRiskTriage",
    system_version="1.0.0",
    deployer_name="Example Hospital Group",
    high_risk_category="public_benefits",
    intended_purpose="Prioritise cardiology referrals for review by a physician",
    human_oversight=["Head of cardiology", "Physician on duty"],
    output_path=folder / "report.json",
    private_key=key,
)
print(report.summary()[["article", "status"]].to_string(index=False))

# %%
# Per source, the figures the report rests on, recorded at fit time.
data = report.to_dict()
for s in data["sources"]:
    missing = {c["name"]: c["missing"] for c in s["columns"] if c["missing"]}
    print(
        f"{s['source_id']}: sha256 {s['sha256'][:16]}..., {s['training_rows']} training rows, "
        f"labels {s['statistics']['labels']['counts']}, missing {missing}"
    )
print(data["record_keeping"]["predictions"]["by_method"])

# %%
# Verify the report against its store and its public key, then write the HTML page.
print(
    "verified:",
    stp.compliance.verify(
        folder / "report.json", store=store, public_key=folder / "audit.pub.pem"
    ),
)
html = report.to_html(folder / "report.html")
print(f"{folder / 'report.html'}: {len(html):,} characters, self-contained")

# %%
# An edited copy is caught, and the edited field named.
edited = json.loads((folder / "report.json").read_text())
edited["sources"][0]["training_rows"] -= 10
(folder / "edited.json").write_text(json.dumps(edited))
try:
    stp.compliance.verify(folder / "edited.json", public_key=folder / "audit.pub.pem")
except ReportVerificationError as exc:
    print(exc)

# %%
# The lineage as the HTML page draws it, and the label balance per source.
graph = report.lineage_graph()
colours = {
    "source": "#e8f1fb",
    "derived": "#eef7ee",
    "upstream op": "#fdf3e6",
    "op": "#f4f4f4",
    "model": "#fbe9ef",
}
fig, (ax, bx) = plt.subplots(
    2, 1, figsize=(9, 4.4), gridspec_kw={"height_ratios": [1, 1.1]}, layout="constrained"
)
w, h = 178, 44


def clip(text, width):
    """The text, or its start and an ellipsis where it does not fit in a box."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


for n in graph["nodes"]:
    ax.add_patch(
        FancyBboxPatch(
            (n["x"], n["y"]),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=7",
            facecolor=colours[n["kind"]],
            edgecolor="#1f3b5c",
        )
    )
    ax.text(n["x"] + 8, n["y"] + 16, clip(n["label"], 21), fontsize=7, weight="bold", va="center")
    ax.text(
        n["x"] + 8, n["y"] + 32, clip(n["detail"], 28), fontsize=5.5, color="#555f6d", va="center"
    )
for p in graph["paths"]:
    ax.add_patch(
        FancyArrowPatch(
            (p["x1"], p["y1"]),
            (p["x2"], p["y2"]),
            arrowstyle="-|>",
            mutation_scale=8,
            color="#5b6a80",
        )
    )
ax.set_xlim(0, graph["width"])
ax.set_ylim(graph["height"], 0)
ax.set_aspect("equal")
ax.set_axis_off()
ax.set_title("Lineage: source files -> ops -> model")
balance = pd.DataFrame(
    {s["source_id"]: s["statistics"]["labels"]["counts"] for s in data["sources"]}
).T
balance.plot.barh(stacked=True, ax=bx, color=["#9bb7d4", "#1f3b5c"])
bx.set_title("Label balance per source, counted at fit time")
bx.set_xlabel("training rows")
bx.legend(title="label")
plt.show()
