"""What each part of a logged call's record costs, and what a cheaper record would save.

A logged ``predict`` on a salting store keeps: the SHA-256 of the input rows (under a
salted commitment), and each row's keyed SipHash-2-4-128 digest in the call's salt text
beside the chain (base64, hashed whole into ``salt_sha256``, and again into the
``input_commitment`` prefix). Erasure finds a person's calls from their own row through
those digests; ``verify()`` checks the salt text against ``salt_sha256``. This study
times, on one thread, each step of that record for the two inputs of
``bench_prediction_log.py`` (Adult's 8 text and 6 integer columns; 10 float columns) at
10,000 and 100,000 rows, beside the plain ``predict`` of the same pipeline, and what
three cheaper records would save:

* *one pass*: the salt text hashed once (``input_commitment`` over its ``salt_sha256``
  and the salt, not over the text again): saves one SHA-256 pass over the text;
* *raw digests*: the 16-byte digests kept as bytes (no base64), their passes reading 3/4
  of the bytes: saves the base64 and a quarter of the passes;
* *batch only*: no per-row digests (the salted batch SHA-256 alone): saves the digests,
  the salt text and its passes.

Run: python benchmarks/study_prediction_record.py [--repeats 15]
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from bench_prediction_log import adult, numeric  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop._call_hashes import table_digests  # noqa: E402
from sktraceprop._row_digests import load_kernels, salt_text  # noqa: E402
from sktraceprop._row_hash_frames import assemble, frame_parts  # noqa: E402
from sktraceprop._row_hash_start import _digest  # noqa: E402
from sktraceprop.stores._prediction_salts import SaltHashes  # noqa: E402

SIZES = (10_000, 100_000)
SALT = "00112233445566778899aabbccddeeff"


def cpu_ms(call, repeats):
    """Median CPU milliseconds of ``call()`` on this thread (and its last result)."""
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        out = call()
        times.append(time.thread_time() - start)
    return float(np.median(times) * 1e3), out


def rows_of(pool, n):
    """``n`` rows of ``pool`` (repeated where it is shorter), a fresh index."""
    reps = -(-n // len(pool))
    return pd.concat([pool] * reps, ignore_index=True).iloc[:n].reset_index(drop=True)


def parts_of(pipe, X, repeats):
    """Median CPU ms of each step of ``X``'s record, and of the plain ``predict``."""
    n = X.shape[0]
    pipe.set_params(log_predictions=False)
    out = {"predict": cpu_ms(lambda: pipe.predict(X), repeats)[0]}
    out["snapshot"], (pieces, size, table) = cpu_ms(lambda: frame_parts(X), repeats)
    out["assemble"], data = cpu_ms(lambda: assemble(pieces, size), repeats)
    out["rows_sha256"] = cpu_ms(lambda: _digest(data), repeats)[0]
    out["row_digests"], digests = cpu_ms(lambda: table_digests(n, (data, table), SALT), repeats)
    out["salt_text"], text = cpu_ms(lambda: salt_text(SALT, digests), repeats)
    out["salt_passes"] = cpu_ms(lambda: SaltHashes(text), repeats)[0]
    encoded = text.encode()
    out["one_text_pass"] = cpu_ms(lambda: hashlib.sha256(encoded).digest(), repeats)[0]
    out["kept_bytes"] = len(text)
    out["record"] = sum(
        out[k]
        for k in ("snapshot", "assemble", "rows_sha256", "row_digests", "salt_text", "salt_passes")
    )
    out["saved_one_pass"] = out["one_text_pass"]
    out["saved_raw_digests"] = out["salt_text"] + out["salt_passes"] / 4
    out["saved_batch_only"] = out["row_digests"] + out["salt_text"] + out["salt_passes"]
    return out


#: What a logged call does besides answering, as ``_prediction_log`` calls it.
STEPS = (
    "start_call_hashes",
    "warn_erased_held",
    "log_call",
    "step_matches",
    "encode_outputs",
    "blob_payload_text",
)


def fixed_costs(pipe, X, repeats):
    """Median wall and CPU milliseconds of each step of a logged ``predict`` of ``X``
    (the functions ``_prediction_log`` calls, timed where it calls them), of its answer
    with the log on and off, and of the store's append."""
    from sktraceprop import _prediction_log

    found = {}

    def timed(name, call):
        def run(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            out = call(*args, **kwargs)
            found.setdefault(name, []).append(
                (time.perf_counter() - wall, time.thread_time() - cpu)
            )
            return out

        return run

    originals = {name: getattr(_prediction_log, name) for name in STEPS}
    answer = _prediction_log.PredictionLogMixin._answer
    store = pipe.store
    append = store._append_event_text
    try:
        for name, call in originals.items():
            setattr(_prediction_log, name, timed(name, call))
        store._append_event_text = timed("append", append)
        for r in range(repeats + 2):
            for log in (False, True) if r % 2 else (True, False):
                pipe.set_params(log_predictions=log)
                _prediction_log.PredictionLogMixin._answer = timed(f"answer, log {log}", answer)
                pipe.predict(X)
                _prediction_log.PredictionLogMixin._answer = answer
    finally:
        for name, call in originals.items():
            setattr(_prediction_log, name, call)
        del store._append_event_text
        _prediction_log.PredictionLogMixin._answer = answer
    # (the first two of each: the paths warmed)
    return {
        name: {
            "wall_ms": float(np.median([w for w, _ in v[2:]]) * 1e3),
            "cpu_ms": float(np.median([c for _, c in v[2:]]) * 1e3),
        }
        for name, v in found.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    load_kernels()
    results = {
        "machine": machine(),
        "command": f"python benchmarks/study_prediction_record.py --repeats {args.repeats}",
        "cases": {},
    }
    rows = []
    for case, build in (("adult", adult), ("numeric", numeric)):
        pipe, pool = build(stp.stores.MemoryStore())
        for n in SIZES:
            r = parts_of(pipe, rows_of(pool, n), args.repeats)
            results["cases"][f"{case}/{n}"] = r
            rows.append(
                [case, f"{n:,}"]
                + [
                    f"{r[k]:.2f}"
                    for k in (
                        "predict",
                        "snapshot",
                        "rows_sha256",
                        "row_digests",
                        "salt_text",
                        "salt_passes",
                        "record",
                        "saved_one_pass",
                        "saved_raw_digests",
                        "saved_batch_only",
                    )
                ]
                + [f"{r['kept_bytes']:,}"]
            )
    table = markdown_table(
        [
            "case",
            "rows",
            "plain predict",
            "snapshot",
            "rows' SHA-256",
            "row digests",
            "salt text (base64)",
            "its 2 SHA-256 passes",
            "record, all",
            "saved: one pass",
            "saved: raw digests",
            "saved: batch only",
            "kept bytes",
        ],
        rows,
    )
    print(table)
    import tempfile

    fixed_rows = []
    for store_name in ("MemoryStore", "SQLiteStore"):
        store = (
            stp.stores.MemoryStore()
            if store_name == "MemoryStore"
            else stp.stores.SQLiteStore(Path(tempfile.mkdtemp()) / "study.db")
        )
        pipe, pool = numeric(store)
        found = fixed_costs(pipe, pool.iloc[: SIZES[0]], args.repeats)
        results[f"fixed_costs/numeric/{store_name}"] = found
        for name in ("answer, log False", "answer, log True", *STEPS, "append"):
            fixed_rows.append(
                [store_name, name, f"{found[name]['wall_ms']:.3f}", f"{found[name]['cpu_ms']:.3f}"]
            )
    fixed = markdown_table(["store", "step", "wall ms", "caller CPU ms"], fixed_rows)
    mem = results["fixed_costs/numeric/MemoryStore"]
    on, off, enc = mem["answer, log True"], mem["answer, log False"], mem["encode_outputs"]
    waits = (
        f"in the MemoryStore, the answer takes {on['wall_ms']:.2f} ms with the log on "
        f"({on['cpu_ms']:.2f} ms of the caller's CPU) against {off['wall_ms']:.2f} ms "
        f"with it off, and `encode_outputs` {enc['wall_ms']:.2f} ms on "
        f"{enc['cpu_ms']:.2f} ms of CPU"
    )
    print(fixed)
    m = results["machine"]
    results["load_average"] = list(os.getloadavg())
    small, large = (results["cases"][f"numeric/{n}"] for n in SIZES)
    kept = (
        f"at 10,000 numeric rows they save {small['saved_one_pass']:.2f} and "
        f"{small['saved_raw_digests']:.2f} ms of a {small['record']:.2f} ms record, at "
        f"100,000 {large['saved_one_pass']:.2f} and {large['saved_raw_digests']:.2f} ms "
        f"of {large['record']:.2f} ms"
    )
    md = f"""## Study: the prediction log's record, part by part (`study_prediction_record.py`)

{table}

CPU milliseconds on one thread (medians of {args.repeats}), MemoryStore pipelines of
`bench_prediction_log.py`, Adult's rows repeated to 100,000. "record, all" is every step
a logged call adds for its input rows (the snapshot of the numbers, the buffer put
together, its SHA-256, the rows' digests, their salt text and its two SHA-256 passes),
done on the helper thread while the model predicts except the snapshot; the outputs'
encoding and the append are not in it (see the prediction log table above).

A logged `predict` of the numeric case (10,000 rows) step by step, medians of
{args.repeats} interleaved pairs (the functions `_prediction_log` calls, timed where it
calls them; `log_call` holds `step_matches`, `encode_outputs`, `blob_payload_text`, the
append, and any wait for the helper's hashes):

{fixed}

What a call adds besides its record is small next to the record and the append:
the steps' fingerprints (`step_matches`, which sees a refit or an edit in place, and
cannot be cached without missing the latter), the outputs' encoding and SHA-256, the
payload's JSON. A SQLite append is mostly its durable commit (the WAL synced before
the call returns, `bench_store_appends.py`). Wall time beyond the caller's CPU is
waiting, for a core or the interpreter's lock, while the helper thread hashes the
record beside the model: {waits}. That waiting, not Python overhead, is most of what
the log adds on this shared machine; whether the record would cost less done by the
caller after the answer depends on a free core and was not settled here (the helper
overlap figures of the prediction log section).

What a cheaper record would save, and why none is built. *Batch only* (no per-row
digests) saves the most, but a person scored inside a batch could then not be found,
nor their call erased, from their own row: it is not as checkable, and is refused.
*One pass* and *raw digests* keep every check (``salt_sha256`` still covers the digests
whole, erasure still finds each row) but change the stored format (a new salt-text
version that every reader, ``verify()`` and the erasure of old calls must take beside
the current one): {kept}. None brings the numeric case near issue 14's 1.10x: its plain
`predict` of 10,000 rows ({small["predict"]:.2f} ms) leaves {small["predict"] * 0.1:.2f} ms for
all the log adds, where the record alone takes {small["record"]:.2f} ms of CPU
({small["record"] - small["saved_batch_only"]:.2f} ms even without the row digests), so
it holds there only while the helper thread runs on a core of its own. The row
digests themselves are most of the record where there is text (each value keyed-hashed
before its row): a memo of the
values repeated in a call (a slot per value, reused after its bytes are compared) was
tried in ``sip128_table`` (session 62, not kept) and was slower on Adult: 6.5 ms of CPU
against 4.0 ms for the digests of 10,000 rows (medians of 60, the same machine, one after
the other), as finding and comparing a value of about 10 bytes costs about what its
SipHash does.

Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared; load average
{results["load_average"][0]:.1f} when it ended), Python {m["python"]}. Command:
`{results["command"]}`.
"""
    write_results("study_prediction_record", results, md)


if __name__ == "__main__":
    main()
