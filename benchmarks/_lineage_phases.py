"""Where a traced CSV-to-model pipeline spends its extra time, phase by phase.

Each repeat runs the plain and the traced pipeline back to back (the order alternating)
and times every phase by wall clock and by the process's CPU time (all its threads:
pandas' parallel parser, the line scan's thread). The traced run's lineage work is
timed inside it by wrapping the library's functions for the run (nothing else in them
changes): the one pass that hashes the file and finds its lines (on its own thread,
beside pandas' parser: its thread's CPU time), at merge the comparison of its inputs
with what was loaded, the parents table and its SHA-256 (on a thread of its own), and
at fit the row ids, the source statistics, the comparison with what was loaded and the
run record. CPU time is the steadier figure on a shared machine: another process's load
stretches a phase's wall time, hardly its CPU time.
"""

import contextlib
import gc
import time
from collections import defaultdict

import numpy as np
import pandas as pd

import sktraceprop as stp

# (module, function name, label): the traced run's own work, timed where it runs
_SPANS = [
    ("sktraceprop._lineage._io", "scan_file", "read: SHA-256 + line scan (thread)"),
    ("sktraceprop._lineage._io", "check_content", "read: content check"),
    ("sktraceprop._lineage._io", "register_file", "read: source registration"),
    ("sktraceprop._lineage._io", "_witnessed", "read: witness rows + id index"),
    ("sktraceprop._lineage._derive", "changes", "merge: compare inputs with loaded values"),
    ("sktraceprop._lineage._source", "Parents.from_positions", "merge: parents table"),
    ("sktraceprop._lineage._source", "Parents.digest", "merge: parents' SHA-256 (thread)"),
    ("sktraceprop._tracing", "resolve_row_ids", "fit: row ids"),
    ("sktraceprop._tracing", "source_stats", "fit: source statistics"),
    ("sktraceprop._tracing", "changes", "fit: compare with loaded values"),
    # (the ops are collected before build_lineage is called: an argument of its call)
    ("sktraceprop.pipeline", "collect_ops", "fit: ops (fitted-state fingerprints)"),
    ("sktraceprop.pipeline", "build_lineage", "fit: run record"),
]


@contextlib.contextmanager
def _spans(acc):
    """Wrap the functions of :data:`_SPANS` to add their thread CPU time to ``acc``."""
    import importlib

    saved = []
    for module, name, label in _SPANS:
        # a dotted name is a method: its class's own attribute (a classmethod's too)
        owner = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        raw = vars(owner).get(attr) if owner is not None else None
        if raw is None:  # renamed since: that span is not shown
            continue
        func = raw.__func__ if isinstance(raw, classmethod) else raw

        def timed(*args, _f=func, _label=label, **kwargs):
            start = time.thread_time()
            try:
                return _f(*args, **kwargs)
            finally:
                acc[_label] += time.thread_time() - start

        saved.append((owner, attr, raw))
        setattr(owner, attr, classmethod(timed) if isinstance(raw, classmethod) else timed)
    try:
        yield
    finally:
        for owner, attr, raw in saved:
            setattr(owner, attr, raw)


def _phased(phases):
    """``{phase: (wall s, cpu s)}`` of running each zero-argument call in turn; each
    call gets the previous one's result."""
    out, value = {}, None
    for name, call in phases:
        wall, cpu = time.perf_counter(), time.process_time()
        value = call(value)
        out[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    return out


def breakdown(cases, repeats):
    """Per case (name -> ``make(traced)`` giving ``[(phase, call)]``): median wall and
    CPU ms of each phase, plain and traced, and of the traced run's lineage spans."""
    results = {}
    for case, make in cases.items():
        for traced in (False, True):  # warm: imports, compiled kernels, file cache
            _phased(make(traced))
        runs = {False: [], True: []}
        spans = []
        for r in range(repeats):
            for traced in (False, True) if r % 2 == 0 else (True, False):
                gc.collect()
                acc = defaultdict(float)
                with _spans(acc) if traced else contextlib.nullcontext():
                    runs[traced].append(_phased(make(traced)))
                if traced:
                    spans.append(dict(acc))
        phases = list(runs[False][0])
        med = {
            side: {
                p: [float(np.median([run[p][k] for run in runs[side]])) for k in (0, 1)]
                for p in phases
            }
            for side in (False, True)
        }
        results[case] = {
            "phases": phases,
            "plain_wall_cpu_s": med[False],
            "traced_wall_cpu_s": med[True],
            "traced_spans_cpu_s": {
                label: float(np.median([s.get(label, 0.0) for s in spans]))
                for _, _, label in _SPANS
            },
            "repeats": repeats,
        }
    return results


def numeric_case(path):
    """``make(traced)`` of the numeric pipeline: read, select, fit."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def make(traced):
        read = stp.read_csv if traced else pd.read_csv
        pipe = stp.make_traced_pipeline if traced else make_pipeline
        return [
            ("read_csv", lambda _: read(path)),
            ("select columns", lambda f: (f.drop(columns="label"), f["label"])),
            ("fit", lambda xy: pipe(StandardScaler(), LogisticRegression()).fit(*xy)),
        ]

    return make


def study_case(paths, model, columns):
    """``make(traced)`` of the study pipeline: two reads, a merge, select, fit."""

    def make(traced):
        read = stp.read_csv if traced else pd.read_csv
        join = stp.merge if traced else pd.merge
        return [
            ("read_csv patients", lambda _: read(paths["patients"], index_col=0)),
            ("read_csv labs", lambda p: (p, read(paths["labs"]))),
            ("merge", lambda pl: join(*pl, on="pid", how="left")),
            ("select columns", lambda rows: (rows[columns], rows["label"])),
            ("fit", lambda xy: model(traced).fit(*xy)),
        ]

    return make


def table(results, markdown_table):
    """Markdown: one table per case, phases then the traced run's lineage spans."""
    parts = []
    for case, r in results.items():
        plain, traced = r["plain_wall_cpu_s"], r["traced_wall_cpu_s"]
        extra_cpu = sum(traced[p][1] - plain[p][1] for p in r["phases"])
        rows = []
        for p in r["phases"]:
            (pw, pc), (tw, tc) = plain[p], traced[p]
            rows.append(
                [
                    p,
                    f"{1e3 * pw:.0f}",
                    f"{1e3 * tw:.0f}",
                    f"{1e3 * pc:.0f}",
                    f"{1e3 * tc:.0f}",
                    f"{1e3 * (tc - pc):+.0f}",
                ]
            )
        tot = [sum(side[p][k] for p in r["phases"]) for side in (plain, traced) for k in (0, 1)]
        rows.append(
            [
                "**total**",
                f"{1e3 * tot[0]:.0f}",
                f"{1e3 * tot[2]:.0f}",
                f"{1e3 * tot[1]:.0f}",
                f"{1e3 * tot[3]:.0f}",
                f"{1e3 * (tot[3] - tot[1]):+.0f} ({100 * (tot[3] / tot[1] - 1):.1f}%)",
            ]
        )
        for label, s in r["traced_spans_cpu_s"].items():
            share = f"{100 * s / extra_cpu:.0f}% of the extra" if extra_cpu > 0 else ""
            rows.append([f"&nbsp;&nbsp;traced only: {label}", "", "", "", f"{1e3 * s:.1f}", share])
        parts.append(
            f"{case}:\n\n"
            + markdown_table(
                [
                    "phase",
                    "plain wall ms",
                    "traced wall ms",
                    "plain CPU ms",
                    "traced CPU ms",
                    "extra CPU ms",
                ],
                rows,
            )
        )
    return "\n\n".join(parts)
