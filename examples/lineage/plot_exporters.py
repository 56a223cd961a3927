r"""
=====================================================
Exporting a run: Parquet, OpenLineage, OpenTelemetry
=====================================================

A traced fit on the two hospital files, with a group statistic (mean cholesterol per
sex, computed over both files) joined back to the rows, is stored in a SQLite file and
exported three ways: typed Parquet tables that read back into the same run, an
OpenLineage event whose column lineage says which source columns each model feature
comes from, and OpenTelemetry spans, one per fitted step. The figure draws the event's
column lineage.
"""

# %%
# Load, aggregate, merge and fit into a store.
import json
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.exporters import read_parquet, to_openlineage, to_opentelemetry, to_parquet

paths = stp.datasets.demo_paths()
a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
rows = pd.concat([a, b]).dropna(subset=["bp", "cholesterol"])
means = stp.aggregate(rows, by="sex", chol_by_sex=("cholesterol", "mean"), source_id="chol_by_sex")
df = stp.merge(rows, means, on="sex", source_id="with_group_means")

folder = Path(tempfile.mkdtemp())
store = stp.stores.SQLiteStore(folder / "lineage.db")
pre = stp.make_traced_column_transformer(
    (OneHotEncoder(), ["smoker"]), (StandardScaler(), ["age", "bp", "chol_by_sex"])
)
pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
pipe.fit(df.drop(columns="label"), df["label"])
run = pipe.lineage_

# %%
# Parquet: a folder of typed tables; the run reads back equal. A merged training row
# names the merge and its row there; the ``parents`` table leads to file lines.
to_parquet(run, folder / "run")
print("read back equal:", read_parquet(folder / "run") == run)
print(pd.read_parquet(folder / "run" / "rows.parquet").head(3).drop(columns="run_id"))

# %%
# OpenLineage: input files with their digest as version (and the scheme that made it:
# ``file-bytes``, the SHA-256 of the file's bytes), the model as output, and a
# row-lineage facet pointing at the store that holds the training rows.
event = to_openlineage(run, store=store, job_name="readmission")
for dataset in event["inputs"]:
    version = dataset["facets"]["version"]["datasetVersion"]
    scheme = dataset["facets"]["sktraceprop_digest"]["scheme"]
    print(f"{dataset['namespace']}:{Path(dataset['name']).name}  {scheme} {version[:12]}...")
print(json.dumps(event["run"]["facets"]["sktraceprop_rowLineage"]["store"]))

# %%
# OpenTelemetry: a span for the fit, one per step, nested by step path.
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
to_opentelemetry(run, tracer_provider=provider)
spans = exporter.get_finished_spans()


def show(parent, depth):
    for span in spans:
        if (span.parent and span.parent.span_id) == parent:
            fingerprint = span.attributes.get("sktraceprop.op.fingerprint", "")[:12]
            print("  " * depth + span.name, fingerprint)
            show(span.context.span_id, depth + 1)


show(None, 0)

# %%
# The event's column lineage: which source column each model feature comes from,
# and whether through the group statistic (an aggregation over both files).
fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
features = list(fields)
columns = sorted(
    {(Path(f["name"]).stem, f["field"]) for v in fields.values() for f in v["inputFields"]}
)
grid = np.zeros((len(features), len(columns)))
for i, feature in enumerate(features):
    for f in fields[feature]["inputFields"]:
        aggregated = f["transformations"][0]["subtype"] == "AGGREGATION"
        grid[i, columns.index((Path(f["name"]).stem, f["field"]))] = 2 if aggregated else 1
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.imshow(grid, cmap=matplotlib.colors.ListedColormap(["white", "tab:blue", "tab:orange"]))
ax.set_xticks(
    range(len(columns)), [f"{s}: {c}" for s, c in columns], fontsize=7, rotation=35, ha="right"
)
ax.set_yticks(range(len(features)), features, fontsize=7)
ax.set_title("Column lineage (blue: transformed, orange: through the aggregate)", fontsize=9)
fig.tight_layout()
