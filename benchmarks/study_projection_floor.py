"""How close can the dense projection kernel's design get to the machine's bound?

``bench_projection.py`` reports each shape's time against a bound: reading ``X`` once,
or doing its ``n x n_components x n_features x density`` multiply-adds at the core's
peak (a one-thread float32 matrix product). The dense kernel adds, for each output
component, the transposed feature lines of a block of 32 rows (one 128-byte line per
nonzero of ``R``) into vector registers. This study times that inner loop alone, on
tiles of transposed rows that fit L1 (256 features), L2 (1024, the kernel's tile) or
neither (4096), with the library's own intrinsics and with two partial sums per
component (the terms of ``R``'s +1 and -1 entries added apart: twice the independent
additions), and compares the time per term with what the peak allows (32
multiply-adds). It also times writing a fresh output of the largest dense shape
(10000 x 4096 float32), which the bound does not count. Nothing else of the kernel
(transposing ``X``, generating ``R``, the accumulator) is in these figures: they are a
floor for the kernel's design, not its time.

Run: python benchmarks/study_projection_floor.py [--repeats 7]
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("SKTRACEPROP_NO_WARMUP", "1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from bench_projection import machine_bounds  # noqa: E402

from sktraceprop.projection._scatter import _aligned  # noqa: E402
from sktraceprop.projection._simd import (  # noqa: E402
    ROWS,
    block_add_to,
    block_axpy,
    block_new,
    block_zero,
)

N_COMPONENTS = 4096
# the largest dense shape of bench_projection.py: 10000 x 1e3 -> 4096 at density 1/sqrt(1e3)
SHAPE = (10_000, 1_000, 4096)


@njit(nogil=True)
def _one_sum(xt, cols, signs, acc, reps, n_terms):
    """Each component: ``n_terms`` signed feature lines summed in one block of registers."""
    block = block_new(xt.dtype)
    for _ in range(reps):
        for c in range(acc.shape[0]):
            lo = c * n_terms
            block_zero(block)
            for e in range(lo, lo + n_terms):
                block_axpy(block, xt, cols[e], signs[e])
            block_add_to(block, acc, c)


@njit(nogil=True)
def _two_sums(xt, cols, signs, acc, reps, n_terms):
    """The same terms in two blocks (the first and second half of each component's
    terms, standing for its +1 and -1 entries), summed side by side, then added."""
    plus = block_new(xt.dtype)
    minus = block_new(xt.dtype)
    one = xt.dtype.type(1.0)
    half = n_terms // 2
    for _ in range(reps):
        for c in range(acc.shape[0]):
            lo = c * n_terms
            block_zero(plus)
            block_zero(minus)
            for e in range(half):
                block_axpy(plus, xt, cols[lo + e], one)
                block_axpy(minus, xt, cols[lo + half + e], one)
            block_add_to(plus, acc, c)
            block_add_to(minus, acc, c)


def ns_per_term(kernel, tile, n_terms, repeats, rng):
    xt = _aligned((tile, ROWS), np.float32)  # 64-byte aligned, as the kernels' buffers
    xt[:] = rng.random((tile, ROWS), dtype=np.float32)
    cols = rng.integers(0, tile, N_COMPONENTS * n_terms).astype(np.int32)
    signs = np.where(rng.random(N_COMPONENTS * n_terms) < 0.5, -1, 1).astype(np.float32)
    acc = _aligned((N_COMPONENTS, ROWS), np.float32)
    acc[:] = 0
    kernel(xt, cols, signs, acc, 1, n_terms)  # compile
    reps = 20
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        kernel(xt, cols, signs, acc, reps, n_terms)
        times.append(time.perf_counter() - t0)
    return min(times) / (reps * N_COMPONENTS * n_terms) * 1e9


def fresh_output_s(repeats):
    """Seconds to allocate and write the largest dense shape's output once."""
    n, _, k = SHAPE
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.empty((n, k), dtype=np.float32).fill(1.0)
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    bandwidth, fma = machine_bounds()
    peak_ns = ROWS / fma * 1e9  # one 32-row term's multiply-adds at the peak
    rows, cases = [], []
    for tile in (256, 1024, 4096):
        for n_terms in (8, 32):
            found = {}
            for name, kernel in (("one sum", _one_sum), ("two sums", _two_sums)):
                found[name] = ns_per_term(kernel, tile, n_terms, args.repeats, rng)
            cases.append({"tile_features": tile, "terms_per_component": n_terms, **found})
            rows.append(
                [
                    f"{tile} ({tile * ROWS * 4 // 1024} KB)",
                    n_terms,
                    f"{found['one sum']:.2f} ({found['one sum'] / peak_ns:.1f}x)",
                    f"{found['two sums']:.2f} ({found['two sums'] / peak_ns:.1f}x)",
                ]
            )
    headers = ["tile (features)", "terms per component", "one sum ns/term", "two sums ns/term"]
    table = markdown_table(headers, rows)
    print(table)
    n, p, k = SHAPE
    density = 1 / np.sqrt(p)
    terms = n / ROWS * p * k * density  # 32-row terms of the shape
    bound = max(n * p * 4 / bandwidth, n * k * p * density / fma)
    kernel_tile = [
        c for c in cases if c["tile_features"] == 1024 and c["terms_per_component"] == 32
    ]
    loop_s = {name: terms * kernel_tile[0][name] * 1e-9 for name in ("one sum", "two sums")}
    output_s = fresh_output_s(args.repeats)
    summary = (
        f"peak: {peak_ns:.2f} ns per 32-row term ({fma / 1e9:.1f} GFMA/s); shape {n} x {p} -> "
        f"{k}: bound {bound:.4f} s, 3x the bound {3 * bound:.4f} s; its {terms:.3g} terms "
        f"in the kernel's tile (1024 features, 32 terms) take {loop_s['one sum']:.4f} s "
        f"(one sum) / {loop_s['two sums']:.4f} s (two sums) in the inner loop alone; a fresh "
        f"{n} x {k} float32 output takes {output_s:.4f} s to allocate and write"
    )
    print(summary)
    results = {
        "machine": machine(),
        "peak_fma_per_s": fma,
        "bandwidth_bytes_per_s": bandwidth,
        "peak_ns_per_term": peak_ns,
        "cases": cases,
        "shape": list(SHAPE),
        "shape_bound_s": bound,
        "shape_inner_loop_s": loop_s,
        "shape_fresh_output_s": output_s,
        "summary": summary,
        "command": "python benchmarks/study_projection_floor.py " + " ".join(argv or sys.argv[1:]),
    }
    md = f"""## The dense projection kernel's floor (`study_projection_floor.py`)

{table}

Nanoseconds per term (one nonzero of `R` times a line of 32 rows), the fastest of
{args.repeats} runs, and the multiple of what the core's peak allows for its 32
multiply-adds. {summary}.

Machine: {results["machine"]["cpu"]}, {results["machine"]["cpu_count"]} cores (one thread
used). Command: `{results["command"].strip()}`.
"""
    write_results("study_projection_floor", results, md)


if __name__ == "__main__":
    main()
