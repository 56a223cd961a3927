"""Cost of row lineage on NumPy and torch arrays: traced vs plain, in one process.

Workloads (at 1K, 10K, 100K and 1M elements):

- ``seed``: the workload of the library this project grew from, ``a * 2 + 1`` and
  ``a - a.mean()`` on a 1-D array (one row per element);
- ``chain``: a realistic preprocessing chain on two 10-column sources (half the elements
  each): centre and scale each over its rows, stack them, index a fixed subset of rows,
  and multiply by a weight matrix.

Each repeat times plain arrays, a bare subclass (no lineage, no code: the mechanism's own
cost) and traced arrays at granularity ``op``, ``batch`` and ``none``, interleaved (the
order alternates every repeat), each over enough calls to last ~20 ms (at least
``--min-calls``); the figure is the median over repeats of the per-repeat ratio traced/plain
(paired, so slow phases of a shared machine cancel), on this thread's CPU time and on
wall time. NumPy and torch run single-threaded. Targets at granularity ``op``: <= 1.5x at
10K, <= 1.05x at 100K, <= 1.01x at 1M elements.

``--loop-steps 500 1000 2000 3000`` also times loops that keep pooling an array into
itself (``pooling_loop``): the CPU time per step to record them, and to answer
``provenance(acc).ops()`` and ``.rows([0, -1])`` at each length; per-step times that stay
flat as the loop grows are what linear recording looks like. ``--frameworks`` with no
name and ``--sizes`` with none run these loops alone.

Run (timings, so under the exclusive lock, with nothing else timed or tested beside it):
    flock -x /tmp/stp-cpu.lock python benchmarks/bench_array_lineage.py [--repeats 31]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, paired_ratio, write_results  # noqa: E402

import sktraceprop as stp  # noqa: E402
from sktraceprop.arrays import _elide  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
MODES = ("op", "batch", "none")
TARGETS = {10_000: 1.5, 100_000: 1.05, 1_000_000: 1.01}
#: The seed library's own figures for its workload, quoted by issue 16 (not measured here).
SEED_FIGURES = {1_000: 4.6, 10_000: 2.3, 100_000: 1.13, 1_000_000: 1.007}


class _BareArray(np.ndarray):
    """An ndarray subclass with no code of its own: what any subclass design pays (its
    results are views as the subclass; NumPy reuses no temporary of a subclass)."""


def _bare_tensor_class():
    import torch

    class _BareTensor(torch.Tensor):
        """A torch subclass whose ``__torch_function__`` only runs the function with
        subclass dispatch disabled and re-classes tensor results: the protocol's floor."""

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            with torch._C.DisableTorchFunctionSubclass():
                out = func(*args, **(kwargs or {}))
            if type(out) is torch.Tensor:
                out.__class__ = cls
            return out

    return _BareTensor


def numpy_workloads(n, rng):
    a = rng.random(n)
    half = (n // 2) // 10
    xa, xb = rng.random((half, 10)), rng.random((half, 10))
    w = rng.random((10, 4))
    rows = np.sort(rng.choice(2 * half, size=half, replace=False))

    def seed(a):
        return a * 2 + 1, a - a.mean()

    def chain(xa, xb):
        sa = (xa - xa.mean(axis=0)) / xa.std(axis=0)
        sb = (xb - xb.mean(axis=0)) / xb.std(axis=0)
        return np.concatenate([sa, sb])[rows] @ w

    plain = {"seed": (seed, (a,)), "chain": (chain, (xa, xb))}
    traced = {
        "seed": (seed, (stp.array(a, source_id=f"seed{n}"),)),
        "chain": (
            chain,
            (stp.array(xa, source_id=f"xa{n}"), stp.array(xb, source_id=f"xb{n}")),
        ),
    }
    bare = {
        "seed": (seed, (a.view(_BareArray),)),
        "chain": (chain, (xa.view(_BareArray), xb.view(_BareArray))),
    }
    return plain, traced, bare


def torch_workloads(n, rng):
    import torch

    a = torch.as_tensor(rng.random(n))
    half = (n // 2) // 10
    xa, xb = torch.as_tensor(rng.random((half, 10))), torch.as_tensor(rng.random((half, 10)))
    w = torch.as_tensor(rng.random((10, 4)))
    rows = torch.as_tensor(np.sort(rng.choice(2 * half, size=half, replace=False)))

    def seed(a):
        return a * 2 + 1, a - a.mean()

    def chain(xa, xb):
        sa = (xa - xa.mean(dim=0)) / xa.std(dim=0)
        sb = (xb - xb.mean(dim=0)) / xb.std(dim=0)
        return torch.cat([sa, sb])[rows] @ w

    plain = {"seed": (seed, (a,)), "chain": (chain, (xa, xb))}
    traced = {
        "seed": (seed, (stp.array(a, source_id=f"tseed{n}"),)),
        "chain": (
            chain,
            (stp.array(xa, source_id=f"txa{n}"), stp.array(xb, source_id=f"txb{n}")),
        ),
    }
    cls = _bare_tensor_class()
    bare = {
        "seed": (seed, (a.as_subclass(cls),)),
        "chain": (chain, (xa.as_subclass(cls), xb.as_subclass(cls))),
    }
    return plain, traced, bare


def calls_for(fn, args, budget=0.02, min_calls=10):
    """How many calls last about ``budget`` seconds (at least ``min_calls``: at 1M
    elements one call's page faults and cache state move it by several percent, so a
    repeat of two calls says little about a 1% target)."""
    start = time.perf_counter()
    fn(*args)
    once = max(time.perf_counter() - start, 1e-7)
    return max(min_calls, int(budget / once))


def timed(fn, args, k, mode):
    with stp.granularity(mode):
        t0, c0 = time.perf_counter(), time.thread_time()
        for _ in range(k):
            fn(*args)
        c1, t1 = time.thread_time(), time.perf_counter()
    return (c1 - c0) / k, (t1 - t0) / k


def measure(plain, traced, bare, repeats, min_calls):
    """Per-call CPU and wall seconds for every case, interleaved."""
    fn, pargs = plain
    _, targs = traced
    _, bargs = bare
    for _ in range(3):  # warm caches, imports and allocator
        fn(*pargs)
        fn(*targs)
        fn(*bargs)
    k = calls_for(fn, pargs, min_calls=min_calls)
    cases = [("plain", pargs, "op"), ("bare", bargs, "none")]
    cases += [(mode, targs, mode) for mode in MODES]
    cpu = {name: [] for name, _, _ in cases}
    wall = {name: [] for name, _, _ in cases}
    for r in range(repeats):
        for name, args, mode in cases if r % 2 == 0 else cases[::-1]:
            c, w = timed(fn, args, k, mode)
            cpu[name].append(c)
            wall[name].append(w)
    return cpu, wall, k


def faults_per_call(fn, args, k=10):
    """Minor page faults per call (first touches of freshly mapped memory)."""
    fn(*args)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(k):
        fn(*args)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / k


def lineage_memory(traced):
    """Bytes of row ids per output row, and whether the seed output shares the source's."""
    fn, args = traced
    out = fn(*args)
    first = out[0]
    rows = stp.provenance(first)._rows
    source_ids = stp.provenance(args[0])._rows.ids[0]
    shared = bool(np.shares_memory(rows.ids[0], source_ids)) if rows.ids else False
    per_row = sum(s.nbytes for s in rows.ids) / first.shape[0]
    return per_row, shared


def provenance_memory(n=100_000, seed=0):
    """Lineage kept alive by a result (tracemalloc): centre and scale one ``n x 10``
    source, concatenate a second, permute the ``2n`` rows and keep about 3/4 of them with
    a mask. The graph keeps the row maps of the concatenation and the indexing (and a
    copy of the index and the mask) for ``provenance(x).ops()``; compared with the
    result's own map alone and with the result's data."""
    import gc
    import tracemalloc

    rng = np.random.default_rng(seed)
    a = stp.array(rng.random((n, 10)), source_id="mem_a")
    b = stp.array(rng.random((n, 10)), source_id="mem_b")
    perm, keep = rng.permutation(2 * n), rng.random(2 * n) < 0.75
    gc.collect()
    tracemalloc.start()
    z = np.concatenate([(a - a.mean(axis=0)) / a.std(axis=0), b])[perm]
    out = z[keep]
    del z
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0]
    stp.provenance(out).rows(0)  # reading the rows makes the maps behind them
    gc.collect()
    read = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rows = stp.provenance(out)._rows
    own = sum(s.nbytes for s in rows.ids) + sum(m.nbytes for _, m in rows.pools if m is not None)
    return {
        "rows": int(out.shape[0]),
        "data_bytes": int(out.nbytes),
        "lineage_bytes": int(kept - out.nbytes),
        "lineage_bytes_read": int(read - out.nbytes),
        "own_map_bytes": int(own),
    }


#: What each pooling loop does at step ``i`` (by ``i % 5``); ``acc`` starts as 8 rows of
#: source ``a``, ``a`` and ``b`` are sources, ``cut`` keeps the last rows or all of them.
LOOP_WORKLOADS = {
    "window": "concatenate a row of a; acc[-8:] * 0.9 + b (8 rows of b); "
    "vstack([acc[:4], acc[4:] - acc[4:].mean(axis=0)]); acc + acc.sum(axis=0) * 1e-3; "
    "concatenate the last row doubled",
    "growing": "the same with every row kept (acc * 0.9 + acc.mean(axis=0) instead of the "
    "window), so every row keeps every input pooled into it",
}


def _loop_step(acc, a, b, i, window):
    k = i % 5
    if k == 0:
        return np.concatenate([acc, a[i : i + 1]])
    if k == 1:
        return acc[-8:] * 0.9 + b if window else acc * 0.9 + acc.mean(axis=0)
    if k == 2:
        return np.vstack([acc[:4], acc[4:] - acc[4:].mean(axis=0)])
    if k == 3:
        return acc + acc.sum(axis=0) * 1e-3
    return np.concatenate([acc, acc[-1:] * 2])


def pooling_loop(steps, workload, seed=0):
    """CPU seconds (this thread) to record ``steps`` steps of a pooling loop (see
    :data:`LOOP_WORKLOADS`) and to answer ``ops()`` and ``rows([0, -1])`` of its result."""
    rng = np.random.default_rng(seed)
    a = stp.array(rng.random((steps + 8, 3)), source_id=f"loop_{workload}_{steps}_a")
    b = stp.array(rng.random((8, 3)), source_id=f"loop_{workload}_{steps}_b")
    acc = a[:8]
    window = workload == "window"
    c0 = time.thread_time()
    for i in range(steps):
        acc = _loop_step(acc, a, b, i, window)
    c1 = time.thread_time()
    ops = stp.provenance(acc).ops()
    c2 = time.thread_time()
    rows = stp.provenance(acc).rows([0, -1])
    c3 = time.thread_time()
    return {
        "workload": workload,
        "steps": steps,
        "record_us_per_step": (c1 - c0) / steps * 1e6,
        "ops_s": c2 - c1,
        "ops_listed": len(ops),
        "rows_s": c3 - c2,
        "rows_listed": len(rows),
        "rows_of_result": int(acc.shape[0]),
        "pooled_inputs": len(stp.provenance(acc)._rows.pools),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--frameworks", nargs="*", default=["numpy", "torch"])
    parser.add_argument("--min-calls", type=int, default=10, help="calls per repeat, at least")
    parser.add_argument(
        "--loop-steps",
        type=int,
        nargs="*",
        default=[],
        help="lengths of the pooling loops to time (none by default)",
    )
    args = parser.parse_args(argv)

    frameworks = {"numpy": numpy_workloads}
    if "torch" in args.frameworks:
        try:
            import torch

            torch.set_num_threads(1)
            frameworks["torch"] = torch_workloads
        except ImportError:
            print("torch is not installed: torch rows skipped")
    frameworks = {k: v for k, v in frameworks.items() if k in args.frameworks}

    results = {
        "machine": machine(),
        "command": "flock -x /tmp/stp-cpu.lock python benchmarks/bench_array_lineage.py "
        f"--repeats {args.repeats} --min-calls {args.min_calls}"
        + (f" --loop-steps {' '.join(map(str, args.loop_steps))}" if args.loop_steps else ""),
        "temporaries_reused": _elide.ENABLED,
        "cases": [],
        "provenance_memory": provenance_memory(),
        # what else the shared machine was running: the 1, 5 and 15 minute load averages
        "load_average": {"start": [round(v, 2) for v in os.getloadavg()]},
    }
    if "torch" in frameworks:
        import torch

        results["machine"]["torch"] = torch.__version__
    rng = np.random.default_rng(0)
    for framework, build in frameworks.items():
        for n in args.sizes:
            plain, traced, bare = build(n, rng)
            for workload in ("seed", "chain"):
                cpu, wall, k = measure(
                    plain[workload], traced[workload], bare[workload], args.repeats, args.min_calls
                )
                case = {
                    "framework": framework,
                    "workload": workload,
                    "elements": n,
                    "calls_per_repeat": k,
                    "plain_cpu_us": float(np.median(cpu["plain"]) * 1e6),
                    "cpu_s": cpu,
                    "wall_s": wall,
                }
                for mode in (*MODES, "bare"):
                    case[f"ratio_cpu_{mode}"], case[f"ratio_cpu_{mode}_iqr"] = paired_ratio(
                        cpu[mode], cpu["plain"]
                    )
                    case[f"ratio_wall_{mode}"], _ = paired_ratio(wall[mode], wall["plain"])
                case["faults_plain"] = faults_per_call(*plain[workload])
                case["faults_traced"] = faults_per_call(*traced[workload])
                if workload == "seed":
                    case["id_bytes_per_row"], case["ids_shared"] = lineage_memory(traced[workload])
                results["cases"].append(case)
                print(
                    f"{framework:6s} {workload:6s} {n:>9,}  plain {case['plain_cpu_us']:9.1f} us"
                    f"  op {case['ratio_cpu_op']:.3f}x  batch {case['ratio_cpu_batch']:.3f}x"
                    f"  none {case['ratio_cpu_none']:.3f}x  bare {case['ratio_cpu_bare']:.3f}x"
                    f"  (wall op {case['ratio_wall_op']:.3f}x)",
                    flush=True,
                )
    if args.loop_steps:
        results["pooling_loops"] = []
        for workload in LOOP_WORKLOADS:
            for steps in args.loop_steps:
                loop = pooling_loop(steps, workload)
                results["pooling_loops"].append(loop)
                print(
                    f"loop   {workload:7s} {steps:>6,} steps  record "
                    f"{loop['record_us_per_step']:8.1f} us/step  ops() {loop['ops_s']:7.3f} s"
                    f" ({loop['ops_listed']:,} listed)  rows([0, -1]) {loop['rows_s']:7.3f} s"
                    f"  pooled inputs {loop['pooled_inputs']:,}",
                    flush=True,
                )
    results["load_average"]["end"] = [round(v, 2) for v in os.getloadavg()]
    write_results("array_lineage", results, render(results, args))


def render_loops(loops):
    """The pooling loops' section of the results (empty when none was run)."""
    if not loops:
        return ""
    rows = [
        [
            c["workload"],
            f"{c['steps']:,}",
            f"{c['record_us_per_step']:.1f}",
            f"{c['ops_s']:.3f} ({c['ops_listed']:,})",
            f"{c['rows_s']:.3f} ({c['rows_listed']:,})",
            f"{c['rows_of_result']:,}",
            f"{c['pooled_inputs']:,}",
        ]
        for c in loops
    ]
    headers = [
        "loop",
        "steps",
        "record: us per step (CPU)",
        "ops() s (steps listed)",
        "rows([0, -1]) s (rows listed)",
        "rows of the result",
        "pooled inputs of the result",
    ]
    described = "; ".join(f"`{k}`: {v}" for k, v in LOOP_WORKLOADS.items())
    return f"""
### Loops that keep pooling (`--loop-steps`)

{markdown_table(headers, rows)}

Each step (by step number modulo 5) is one of: {described}. CPU time of this thread.
"""


def render(results, args):
    rows = []
    for c in results["cases"]:
        target = TARGETS.get(c["elements"])
        met = "" if target is None else ("met" if c["ratio_cpu_op"] <= target else "missed")
        seed = SEED_FIGURES.get(c["elements"]) if c["workload"] == "seed" else None
        lo, hi = c["ratio_cpu_op_iqr"]
        rows.append(
            [
                c["framework"],
                c["workload"],
                f"{c['elements']:,}",
                f"{c['plain_cpu_us']:.1f}",
                f"{c['ratio_cpu_op']:.3f} ({lo:.2f}-{hi:.2f})",
                f"{c['ratio_wall_op']:.3f}",
                f"{c['ratio_cpu_batch']:.3f}",
                f"{c['ratio_cpu_none']:.3f}",
                f"{c['ratio_cpu_bare']:.3f}",
                "" if target is None else f"<= {target} {met}",
                "" if seed is None else f"{seed}",
            ]
        )
    headers = [
        "framework",
        "workload",
        "elements",
        "plain us (CPU)",
        "op: traced/plain CPU (IQR)",
        "op: wall",
        "batch",
        "none",
        "bare subclass",
        "target (op)",
        "seed library",
    ]
    table = markdown_table(headers, rows)
    seed_mem = [c for c in results["cases"] if c["workload"] == "seed"]
    shared = all(c["ids_shared"] for c in seed_mem)
    per_row = sorted({c["id_bytes_per_row"] for c in seed_mem})
    missed = [
        f"{c['framework']} {c['workload']} at {c['elements']:,} ({c['ratio_cpu_op']:.2f}x)"
        for c in results["cases"]
        if c["elements"] in TARGETS and c["ratio_cpu_op"] > TARGETS[c["elements"]]
    ]
    faults = "; ".join(
        f"{c['framework']} {c['workload']} {c['elements']:,}: "
        f"{c['faults_plain']:g} / {c['faults_traced']:g}"
        for c in results["cases"]
        if c["faults_plain"] or c["faults_traced"]
    )
    spans = ", ".join(
        f"{c['framework']} {c['workload']}"
        for c in results["cases"]
        if c["elements"] == 1_000_000
        and c["ratio_cpu_op_iqr"][0] <= 1.0 <= c["ratio_cpu_op_iqr"][1]
    )
    over = [
        f"{c['framework']} {c['workload']} at {c['elements']:,} ({c['ratio_cpu_bare']:.3f}x)"
        for c in results["cases"]
        if c["elements"] in TARGETS and c["ratio_cpu_bare"] > TARGETS[c["elements"]]
    ]
    bare_note = (
        "Targets that the bare subclass alone misses: " + "; ".join(over) + "."
        if over
        else "The bare subclass is within every target."
    )
    heavy = [
        c
        for c in results["cases"]
        if c["elements"] in TARGETS
        and c["ratio_cpu_op"] - c["ratio_cpu_none"] > max(c["ratio_cpu_none"] - 1, 0.02)
    ]
    fresh = [
        f"{c['framework']} {c['workload']} at {c['elements']:,}: {c['faults_traced']:g} "
        f"minor page faults per call against {c['faults_plain']:g} plain"
        for c in heavy
        if c["faults_traced"] > c["faults_plain"]
    ]
    gap_note = (
        "Cases where recording costs more than the Python per operator (op minus none "
        "above none minus 1): "
        + "; ".join(
            f"{c['framework']} {c['workload']} at {c['elements']:,} (op "
            f"{c['ratio_cpu_op']:.3f}x, none {c['ratio_cpu_none']:.3f}x)"
            for c in heavy
        )
        + ". Recording builds each step's row map and graph node in Python (the ids of "
        "a concatenation or an index only when first read)"
        + (" (" + "; ".join(fresh) + ")." if fresh else ".")
        if heavy
        else "In every case with a target, most of `op`'s cost is already `none`'s."
    )
    pm = results.get("provenance_memory")
    memory_note = (
        f"Measured (`tracemalloc`): centring and scaling one 100,000 x 10 source, "
        f"concatenating a second, permuting the 200,000 rows and keeping {pm['rows']:,} "
        f"of them with a mask leaves {pm['lineage_bytes'] / 2**20:.1f} MiB of lineage "
        f"alive ({pm['lineage_bytes'] / pm['rows']:.0f} bytes per row: the copies of the "
        f"index and the mask; the ids of the concatenation and the indexes are not made "
        f"yet), and {pm['lineage_bytes_read'] / 2**20:.1f} MiB "
        f"({pm['lineage_bytes_read'] / pm['rows']:.0f} bytes per row) once provenance has "
        f"read a row, of which the result's own map is "
        f"{pm['own_map_bytes'] / 2**20:.1f} MiB; the result's data is "
        f"{pm['data_bytes'] / 2**20:.1f} MiB."
        if pm
        else ""
    )
    m = results["machine"]
    return f"""## Row lineage on arrays (`bench_array_lineage.py`)

{table}

Traced/plain is the median over {args.repeats} interleaved repeats of the paired ratio of
per-call CPU time of this thread (interquartile range in brackets; "wall" is the same on
wall time), single-threaded NumPy and torch. `seed` is `a * 2 + 1` and `a - a.mean()` on
a 1-D array (the seed library's benchmark; its own figures, quoted by issue 16 and not
measured here, are in the last column); `chain` centres and scales two 10-column sources
over their rows, stacks them, indexes half of the rows and multiplies by 10x4 weights.
Granularity `op` records every operation, `batch` only row ids, `none` nothing. Each
repeat runs every side over the same number of calls (enough for ~20 ms, and at least
{args.min_calls}). `bare subclass` runs the same workload on a subclass with no lineage
and no code of its own (NumPy: `class B(np.ndarray): pass`, whose results are views as
the subclass and whose temporaries NumPy never reuses; torch: a `__torch_function__` that
only runs the function with subclass dispatch off and re-classes its result): what the
subclass mechanism costs before any lineage. {bare_note}

Row ids cost {", ".join(f"{v:g}" for v in per_row)} bytes per row (one int64), and the
outputs of row-preserving operations share the source's id array (`np.shares_memory`:
`{shared}`); concatenation and fancy indexing make one new int64 per output row when
their ids are first read (by provenance, a fit, or an operation that needs them; never,
in these workloads), fancy indexing keeps a copy of its index (8 bytes per selected row)
and a mask its mask, and
the graph keeps the row maps of intermediate results alive, for `provenance(x).ops()`
to tell which operations each row went through (`doc/arrays.rst`, "Cost").
{memory_note}
Temporaries are reused in place as NumPy does for plain arrays (`a * 2 + 1` writes `+ 1`
into the temporary `a * 2`): `{results["temporaries_reused"]}` on this interpreter.
Targets (granularity `op`): <= 1.5x at 10K, <= 1.05x at 100K, <= 1.01x at 1M elements.
{"Missed: " + "; ".join(missed) + "." if missed else "All targets met."}
Where the time goes: granularity `none` records nothing and still runs each operator in
Python (the operator's dunder, type tests, the result's view as a traced array); what
`op` adds beyond it is the row maps and the graph. {gap_note} A traced `mean` calls
`np.add.reduce` and divides by NumPy's own `intp` count, skipping NumPy's Python wrapper
`_methods._mean` (the same result bit for bit, tested against `ndarray.mean`), and a
traced array keeps its plain `ndarray` instead of making a view of every operand
(`x.shape =`, `x.dtype =`, `x.strides =` let it go and carry the row map along). At 100K
the per-operator Python (a few microseconds each, including the Python proof that a
temporary may be reused) still weighs against ufuncs of tens of microseconds, and `std`
runs NumPy's own Python `_var`. torch adds its `__torch_function__` protocol (a
class-level dispatch and a disabled-dispatch context per call). Minor page faults per
call, plain / traced (cases with none left out; each is a first touch of freshly
allocated memory): {faults or "none"}. Cases at
1M whose interquartile range of the ratio includes 1.0: {spans or "none"}. Concatenation and
fancy indexing write one int64 per output row (and one bool per row for each pooled
input) when their ids are first read.

{render_loops(results.get("pooling_loops"))}
Machine: {m["cpu"]}, {m["cpu_count"]} cores (shared with other jobs; timings taken under
the exclusive lock, which keeps other timings and tests off but not all other work),
Python {m["python"]}, NumPy {m["numpy"]}{
        ", torch " + m["torch"] if "torch" in m else ""
    }. Measured at {m.get("measured_at", "an unrecorded time")} (UTC), {_load(results)}.
Command: `{results["command"]}`.
"""


def _load(results):
    load = results.get("load_average")
    if not load or "end" not in load:
        return "load average not recorded"
    start, end = (", ".join(f"{v:g}" for v in load[k]) for k in ("start", "end"))
    return f"load average (1, 5, 15 min) {start} at the start and {end} at the end"


if __name__ == "__main__":
    main()
