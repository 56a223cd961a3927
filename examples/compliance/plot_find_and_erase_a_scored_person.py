r"""
=========================================================
What was decided about me? Then erase my logged inputs
=========================================================

A model logs every call it answers (``log_predictions=True``) to a SQLite audit store.
Later, a person who was scored inside a batch asks what was decided about them, then
asks for their logged inputs to be erased (GDPR Art. 17). This example finds the call
from the person's own row (the call, its time, the model run that answered, their
output) with :func:`sktraceprop.compliance.find_predictions`, erases it with
:meth:`~sktraceprop.stores.BaseStore.erase_predictions`, and checks on the raw bytes of
the SQLite file what is gone, what the hash chain keeps, and that ``verify()`` passes.
"""

# %%
# A traced pipeline fitted on the bundled two-hospital data, logging its calls to a
# SQLite store in a temporary folder; then 100 new patients scored in batches of 25.
import hashlib
import sqlite3
import tempfile
import warnings
from contextlib import closing
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import find_predictions, hash_rows, logged_outputs
from sktraceprop.stores import SQLiteStore

X, y = stp.datasets.load_demo(return_X_y=True)
X_train, X_new, y_train, _ = train_test_split(X, y, test_size=100, random_state=0)
path = Path(tempfile.mkdtemp()) / "audit.db"
store = SQLiteStore(path)
pre = make_column_transformer(
    (OneHotEncoder(handle_unknown="ignore"), ["sex", "smoker"]),
    (StandardScaler(), ["age", "bp", "cholesterol"]),
)
pipe = stp.make_traced_pipeline(
    pre, LogisticRegression(max_iter=1000), store=store, log_predictions=True
)
pipe.fit(X_train, y_train)
batches = [X_new.iloc[i : i + 25] for i in range(0, 100, 25)]
for batch in batches:
    pipe.predict_proba(batch)
calls = store.events(kind="prediction")
print([(e["seq"], e["payload"]["n_rows"]) for e in calls], "(seq, rows) of each call")

# %%
# The person keeps their own row (what they filled in), not the batch it was scored
# in. Its row id names the bundled file and line it came from: the line's raw bytes
# hold the same values.
person = batches[2].iloc[[7]]
print(person)
where = stp.row_lineage(person).iloc[0]
raw = Path(where.uri.removeprefix("file://")).read_bytes().splitlines()[where.line - 1]
print(where.source_id, "line", where.line, raw)

# %%
# What was decided about them: the call whose batch held their row, when, which model
# run answered, where the row was in the batch, and their own output (the probability
# of each class, in the order of ``classes``). From the command line, with the row in
# a CSV file: ``sktraceprop predictions audit.db --input person.csv``.
found = find_predictions(store, person)
print(found[["seq", "created_at", "run_id", "method", "n_rows", "positions"]].T)
print("classes:", found.classes.iloc[0], "output:", found.output.iloc[0])
print("matched as:", found.matched_as.iloc[0])

# %%
# A skeptical check: the logged output is what the model returns for that row now,
# and the run is the model's, with the files it was trained on. The check is itself a
# logged call: the person is now also scored alone (the last event), and the erasure
# below finds and erases that call too.
again = pipe.predict_proba(person)[0]
print("same as predict_proba now:", np.array_equal(found.output.iloc[0], again))
run = store.load_run(found.run_id.iloc[0])
print(run.run_id == pipe.lineage_.run_id, run.n_samples, "training rows, from the files:")
for source in run.sources.values():
    on_disk = hashlib.sha256(Path(source.uri.removeprefix("file://")).read_bytes()).hexdigest()
    print(
        " ",
        source.source_id,
        f"({source.n_rows} rows in all), SHA-256",
        source.sha256[:16],
        "= the file's bytes:",
        on_disk == source.sha256,
    )

# %%
# Every call here keeps per-row digests, so the lookup searched them all. Calls logged
# by a store from before row digests (schema version 3, or the first salted release)
# are found only with their whole batch: a lookup that meets them warns, naming them in
# ``found.attrs["no_row_digests"]``. In this store there are none:
print("calls not searchable by row:", found.attrs.get("no_row_digests", []))

# %%
# Before erasing: beside the hash chain, each call keeps its salt and the keyed digests
# of its rows (table ``prediction_salts``: ``salt:r1:digests``). Read with sqlite3:
seq = int(found.seq.iloc[0])


def salts():
    # a read-only connection, closed at once (a reader left open would delay the wipe)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT seq, salt FROM prediction_salts"))


def in_files(text):
    # the bytes of the database file and its write-ahead log, as on disk
    data = text.encode()
    return any(data in p.read_bytes() for p in path.parent.glob(path.name + "*"))


kept = salts()
salt, _, digests = kept[seq].split(":")
print("salts kept for calls", sorted(kept))
print("the person's call: salt in the files", in_files(salt), "digests", in_files(digests))
# the store never held the plain SHA-256 of the input, only a commitment under the salt
print("plain hash of the batch in the files:", in_files(hash_rows(batches[2])))

# %%
# A dry run says which calls would go: the batch that held the row, erased whole (it
# committed to its 25 rows under one salt: the other 24 rows become unfindable too, and
# a warning says so), and the call that scored the person alone.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    plan = store.erase_predictions(person, reason="GDPR Art. 17 request 2026-301", dry_run=True)
print(plan)
print([str(w.message) for w in caught])

# %%
# The erasure: the salts (with the row digests) are deleted in one transaction, a
# ``store.prediction_erasure`` event records the reason and names no call, and the old
# bytes are wiped from the file. (The command line does the same:
# ``sktraceprop erase-predictions audit.db --input person.csv --reason ...``.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # (the batch erased whole: said above)
    done = store.erase_predictions(person, reason="GDPR Art. 17 request 2026-301")
print(done)

# %%
# After: the chain verifies; the person's calls are found by nothing, nor is any other
# row of the erased batch; the other batches still are; the files hold neither the
# erased salts nor the digests.
print("store verifies:", store.verify())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("the person found:", len(find_predictions(store, person)))
print(" ", caught[0].message)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # (nothing found: said)
    for label, row in [
        ("same batch", batches[2].iloc[[0]]),
        ("other batch", batches[0].iloc[[0]]),
    ]:
        print(f"someone in the {label} found:", len(find_predictions(store, row)))
store.close()
left = sorted(salts())
print(
    "salts kept for calls",
    [s for s in left if s in kept],
    "and the erasure's key",
    [s for s in left if s not in kept],
)
print("the person's call: salt in the files", in_files(salt), "digests", in_files(digests))

# %%
# What the chain keeps of the erased call, and cannot erase: its time, the run that
# answered, the method, the number of rows and every row's output, the person's
# included (with the time, an output can still point to someone who knows when they
# were scored). The erasure event gives the reason and a commitment, no call.
store = SQLiteStore(path, mode="ro")
event = next(e for e in store.events(kind="prediction") if e["seq"] == seq)
print(event["created_at"], event["run_id"], event["payload"]["method"], event["payload"]["n_rows"])
print("kept in the event:", sorted(event["payload"]))
print("row 7's output, still logged:", logged_outputs(event["payload"])[7])
(erasure,) = store.events(kind="store.prediction_erasure", include_store_events=True)
print(erasure["seq"], erasure["created_at"], erasure["payload"]["reason"])

# %%
# The log drawn: each call with its number of rows, the erased ones (salt deleted: no
# longer findable from any row) in red.
calls = store.events(kind="prediction")
held = salts()
fig, ax = plt.subplots(figsize=(7, 2.8))
for e in calls:
    erased = e["seq"] not in held
    ax.bar(e["seq"], e["payload"]["n_rows"], color="C3" if erased else "C0")
    ax.text(
        e["seq"],
        e["payload"]["n_rows"] + 0.5,
        "erased" if erased else "findable",
        ha="center",
        fontsize=8,
    )
ax.set_xticks([e["seq"] for e in calls])
ax.set_xlabel("prediction event (seq)")
ax.set_ylabel("rows scored")
ax.set_ylim(0, 30)
ax.set_title("The prediction log after the erasure request")
fig.tight_layout()
plt.show()
