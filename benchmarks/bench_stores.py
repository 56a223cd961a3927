"""Stores: what keeping a run costs, in SQLite and in PostgreSQL, at 1M and 5M rows.

Two measurements per size:

1. The store operations on one run of ``n`` training rows whose ids are shuffled (as
   ``train_test_split`` leaves them; the hardest case for the row-id encoding):
   ``save_run`` (encode, digest, one transaction with its chain events), ``load_run``
   (decode within the declared size, check the digest against the chain) and
   ``verify`` (the whole chain, and every run and source against its digest), on a
   store holding that run only. Median of ``--repeats`` runs each.
2. A traced fit (StandardScaler + LogisticRegression on 10 features) without a store,
   into SQLite, and into PostgreSQL, interleaved in one process: the ratio of the
   stored fit to the fit without a store. Target: <= 1.15 at 5M rows.
3. A wide run: a one-hot encoded category of ``--categories`` values (every name a
   sealed value of the run, see ``sktraceprop/stores/_sealed.py``), saved, loaded and
   verified sealed and, for comparison, unsealed (as stores of schema version 2 keep
   runs), and ``redact`` of one category.

PostgreSQL runs in a temporary local server (``TemporaryPostgres``, fsync on, as in
production); SQLite in WAL mode with ``synchronous=FULL``, the store's default
(``durability="full"``; results measured before session 61 say ``NORMAL``, the default
then). The cost of one append at each level: ``bench_store_appends.py``.

Run: python benchmarks/bench_stores.py [--rows 1000000 5000000] [--repeats 5]
"""

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, sigterm_unwinds, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop.stores._postgres_server import TemporaryPostgres  # noqa: E402


def shuffled_frame(n, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, 10))
    X = stp.from_numpy(data, f"bench_{n}")
    order = rng.permutation(n)
    X = X.iloc[order]
    y = (data[order, 0] + 0.5 * data[order, 1] + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def pipeline(store):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)


def timed(call):
    gc.collect()
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def stored_bytes(store, run_id):
    if isinstance(store, stp.stores.SQLiteStore):
        return store.size_of_run(run_id)
    con = store._connection()
    query = store._sql(
        "SELECT octet_length(row_ids) + coalesce(octet_length(input_row_ids), 0) FROM {r} "
        "WHERE run_id = %s",
        r="runs",
    )
    return con.execute(query, (run_id,)).fetchone()[0]


def store_operations(make_store, run, repeats):
    """Median seconds of save, load and verify; stored bytes per row."""
    times = {"save": [], "load": [], "verify": []}
    size = None
    for _ in range(repeats):
        store = make_store()
        # the same run under a new id each time: a store refuses a second copy
        copy = stp.Lineage.from_dict(
            {**run.to_dict(), "run_id": str(uuid.uuid4())}, run.row_ids, sources=run.sources
        )
        seconds, _ = timed(lambda s=store, c=copy: s.save_run(c))
        times["save"].append(seconds)
        seconds, loaded = timed(lambda s=store, c=copy: s.load_run(c.run_id))
        assert np.array_equal(loaded.row_ids, run.row_ids)
        times["load"].append(seconds)
        seconds, _ = timed(store.verify)
        times["verify"].append(seconds)
        size = stored_bytes(store, copy.run_id)
        store.close()
    return {k: statistics.median(v) for k, v in times.items()}, times, size / run.n_samples


class _Unsealed:
    """A store that keeps runs unsealed (as schema-version-2 stores did), to measure
    what sealing costs on the same run."""

    _seals_runs = False


def wide_run(n_categories, n_rows=50_000, seed=0):
    """The run of a one-hot encoded category of ``n_categories`` values."""
    import pandas as pd
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_categories, n_rows)
    frame = pd.DataFrame({"city": [f"city{c}" for c in codes], "x": rng.normal(size=n_rows)})
    X = stp.from_pandas(frame, f"wide_{n_categories}")
    y = (X["x"] > 0).astype(np.int64)
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["x"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(max_iter=20))
    return pipe.fit(X, y).lineage_, sorted(set(codes.tolist()))[0]


def wide_operations(make_store, run, first, repeats):
    """Median seconds of save, load, verify (sealed and unsealed) and of one redact."""
    times = {k: [] for k in ("save", "load", "verify", "redact")}
    plain = {k: [] for k in ("save", "load", "verify")}
    for _ in range(repeats):
        for sealed, into in ((True, times), (False, plain)):
            store = make_store(sealed)
            copy = stp.Lineage.from_dict(
                {**run.to_dict(), "run_id": str(uuid.uuid4())}, run.row_ids, sources=run.sources
            )
            into["save"].append(timed(lambda s=store, c=copy: s.save_run(c))[0])
            into["load"].append(timed(lambda s=store, c=copy: s.load_run(c.run_id))[0])
            into["verify"].append(timed(store.verify)[0])
            if sealed:
                name = f"onehotencoder__city_city{first}"
                into["redact"].append(
                    timed(
                        lambda s=store, c=copy, f=name: s.redact(
                            c.run_id, features=[f], reason="b"
                        )
                    )[0]
                )
            store.close()
    return (
        {k: statistics.median(v) for k, v in times.items()},
        {k: statistics.median(v) for k, v in plain.items()},
    )


def fit_overhead(X, y, stores, repeats):
    """Median seconds of a traced fit into each store (None: no store), interleaved."""
    names = list(stores)
    runs = {name: [] for name in names}
    for store in stores.values():  # warm imports, caches and connections
        pipeline(store).fit(X[:10_000], y[:10_000])
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            seconds, _ = timed(lambda name=name: pipeline(stores[name]).fit(X, y))
            runs[name].append(seconds)
    return {name: statistics.median(t) for name, t in runs.items()}, runs


def case_rows(cases):
    """The rows of the operations and fit tables for ``cases`` (a results' cases)."""
    ops_rows, fit_rows = [], []
    for case in cases:
        n = f"{case['n_rows']:,}"
        for name, op in case["operations"].items():
            m = op["median_s"]
            ops_rows.append(
                [
                    n,
                    name,
                    f"{m['save']:.3f}",
                    f"{m['load']:.3f}",
                    f"{m['verify']:.3f}",
                    f"{op['bytes_per_row']:.2f}",
                ]
            )
        fit = case["fit"]
        fit_rows.append(
            [
                n,
                f"{fit['median_s']['none']:.2f}",
                f"{fit['median_s']['SQLite']:.2f}",
                f"{fit['ratio']['SQLite']:.3f}",
                f"{fit['median_s']['PostgreSQL']:.2f}",
                f"{fit['ratio']['PostgreSQL']:.3f}",
            ]
        )
    return ops_rows, fit_rows


def earlier(path, measured_now):
    """The tables of an earlier run's sizes not ``measured_now``, labelled, or ""."""
    saved = json.loads(Path(path).read_text())
    cases = [c for c in saved["cases"].values() if c["n_rows"] not in measured_now]
    if not cases:
        return ""
    ops_rows, fit_rows = case_rows(cases)
    ops = markdown_table(
        ["train rows", "store", "save s", "load s", "verify s", "stored B/row"], ops_rows
    )
    fits = markdown_table(
        ["train rows", "traced fit s", "+ SQLite s", "ratio", "+ PostgreSQL s", "ratio"],
        fit_rows,
    )
    m = saved["machine"]
    return f"""
Not rerun: measured {m["measured_at"][:10]} with SQLite `synchronous=NORMAL` (the default
then, what `durability='fast'` sets now), on {m["cpu"]}, {m["cpu_count"]} cores; command
`{saved["command"]}`. Not the store's default any more: its SQLite figures are those of
`durability='fast'`.

{ops}

{fits}
"""


def load(averages):
    """The machine's load averages, as the results say them."""
    return "/".join(f"{a:.2f}" for a in averages)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fit-repeats", type=int, default=3)
    parser.add_argument("--categories", type=int, default=20_000)
    parser.add_argument(
        "--normal-results",
        default=None,
        help="results of an earlier run with SQLite synchronous=NORMAL: its sizes not "
        "measured now are shown apart, labelled",
    )
    args = parser.parse_args(argv)
    results = {
        "machine": machine(),
        "command": "python benchmarks/bench_stores.py --rows "
        + " ".join(map(str, args.rows))
        + f" --repeats {args.repeats} --fit-repeats {args.fit_repeats}"
        + f" --categories {args.categories}"
        + (f" --normal-results {args.normal_results}" if args.normal_results else ""),
        "cases": {},
        "load_average_before": os.getloadavg(),
        "niceness": os.nice(0),
    }
    folder = Path(tempfile.mkdtemp(prefix="stp-bench-stores-"))
    # (removed however the run ends: an error, Ctrl-C, or SIGTERM, which sigterm_unwinds
    # turns into SystemExit here)
    try:
        with sigterm_unwinds(), TemporaryPostgres(fsync=True) as server:
            results["postgresql"] = server.version()

            def sqlite():
                return stp.stores.SQLiteStore(folder / f"{uuid.uuid4().hex}.db")

            def postgres():
                return stp.stores.PostgresStore(server.dsn, schema=f"b_{uuid.uuid4().hex[:12]}")

            backends = {"SQLite": sqlite, "PostgreSQL": postgres}
            for n in args.rows:
                X, y = shuffled_frame(n)
                run = pipeline(None).fit(X, y).lineage_
                case = {"n_rows": n, "operations": {}}
                for name, make in backends.items():
                    medians, raw, per_row = store_operations(make, run, args.repeats)
                    case["operations"][name] = {
                        "median_s": medians,
                        "runs_s": raw,
                        "bytes_per_row": per_row,
                    }
                    print(f"{n:>9,} {name:<10} {medians} {per_row:.2f} B/row", flush=True)
                stores = {"none": None, **{name: make() for name, make in backends.items()}}
                medians, raw = fit_overhead(X, y, stores, args.fit_repeats)
                case["fit"] = {"median_s": medians, "runs_s": raw}
                case["fit"]["ratio"] = {k: medians[k] / medians["none"] for k in backends}
                print(f"{n:>9,} fit {medians} ratios {case['fit']['ratio']}", flush=True)
                results["cases"][str(n)] = case
                del X, y, run
            classes = {
                "SQLite": (
                    stp.stores.SQLiteStore,
                    type("U", (_Unsealed, stp.stores.SQLiteStore), {}),
                ),
                "PostgreSQL": (
                    stp.stores.PostgresStore,
                    type("U", (_Unsealed, stp.stores.PostgresStore), {}),
                ),
            }

            def wide_store(name, sealed):
                cls = classes[name][0 if sealed else 1]
                if name == "SQLite":
                    return cls(folder / f"{uuid.uuid4().hex}.db")
                return cls(server.dsn, schema=f"w_{uuid.uuid4().hex[:12]}")

            run, first = wide_run(args.categories)
            results["wide"] = {"n_features": len(run.feature_lineage), "stores": {}}
            for name in classes:
                sealed, plain = wide_operations(
                    lambda s, name=name: wide_store(name, s), run, first, args.repeats
                )
                results["wide"]["stores"][name] = {"sealed_s": sealed, "unsealed_s": plain}
                print(f"wide {name} sealed {sealed} unsealed {plain}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results["load_average_after"] = os.getloadavg()
    ops_rows, fit_rows = case_rows(results["cases"].values())
    ops = markdown_table(
        ["train rows", "store", "save s", "load s", "verify s", "stored B/row"], ops_rows
    )
    fits = markdown_table(
        ["train rows", "traced fit s", "+ SQLite s", "ratio", "+ PostgreSQL s", "ratio"],
        fit_rows,
    )
    wide_rows = [
        [
            name,
            *(
                f"{w['sealed_s'][k]:.3f} ({w['unsealed_s'][k]:.3f})"
                for k in ("save", "load", "verify")
            ),
            f"{w['sealed_s']['redact']:.3f}",
        ]
        for name, w in results["wide"]["stores"].items()
    ]
    wide = markdown_table(
        ["store", "save s sealed (unsealed)", "load s", "verify s", "redact s"], wide_rows
    )
    print(ops)
    print(fits)
    print(wide)
    m = results["machine"]
    before = earlier(args.normal_results, args.rows) if args.normal_results else ""
    md = f"""## Stores (`bench_stores.py`)

{ops}

One run of shuffled row ids (one source, 10 features) per store: `save_run` encodes the
ids, computes the run's digest and writes the run with its hash-chain events in one
transaction; `load_run` decodes the ids within the size the run declares and checks the
digest against the chain; `verify` checks the whole chain and every run and source
against its digest. Median of {args.repeats} runs each, a new store each time.

{fits}

A traced fit (StandardScaler + LogisticRegression) without a store, and storing its run
in SQLite or PostgreSQL (one open store each, created before timing); median of
{args.fit_repeats} interleaved runs. Target: ratio <= 1.15 at 5M rows.

{wide}

A wide run: one category of {args.categories:,} values one-hot encoded
({results["wide"]["n_features"]:,} model inputs, 50,000 rows). Stores seal each run
(every feature and column name, note, per-source statistics and fit parameters' record
committed by a salted SHA-256, kept beside the record so that `redact` can erase it);
in brackets the same run kept unsealed, as stores of schema version 2 keep runs.
`redact` erases one category's names (a `store.redaction` event, the values deleted;
SQLite then folds its write-ahead log into the file, PostgreSQL rewrites the table of
values with `VACUUM FULL`). Median of {args.repeats} runs, a new store each time.

SQLite: WAL, `synchronous=FULL` (the store's default, `durability='full'`). PostgreSQL
{results["postgresql"]}: a local temporary server (fsync on) reached over TCP on
127.0.0.1. Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared with other work),
Python {m["python"]}, numpy {m["numpy"]}; load average (1, 5, 15 min) before
{load(results["load_average_before"])}, after {load(results["load_average_after"])},
niceness {results["niceness"]}. Command: `{results["command"]}`.
{before}"""
    write_results("stores", results, md)


if __name__ == "__main__":
    main()
