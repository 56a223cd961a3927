"""Figures doc/lineage.rst, doc/arrays.rst, doc/projection.rst, doc/stores.rst (schema 5)
and README.md quote from benchmark results: for each quoting paragraph, the phrases it
must hold, computed from the results json (``check_doc_numbers.py``)."""

import re

from _doc_figures_common import only_row, span


def _frame_digest(r):
    row = only_row(r["results"], frame="numeric (9 columns)")
    s = row["median"]["frame_digest"]
    return [(f"{s * 1e3:.0f} ms for a million rows", f"results[numeric].median = {s:.4f} s")]


def _row_lineage_check(r):
    out = []
    for case, tail in (
        ("100,000 rows", "for 100,000 rows"),
        ("a Series of 100,000 rows", ""),
        ("a traced array, 100,000 x 4", "for 100,000 rows of four columns"),
    ):
        s = only_row(r["rows"], case=case, variant="check alone")["fastest_s"]
        phrase = f"about {s * 1e3:.0f} ms" + (f" {tail}" if tail else "")
        out.append((phrase, f"rows[{case!r}, check alone].fastest_s = {s:.5f}"))
    return out


def _over_rows(r):
    def part(order, what):
        return [
            x["fastest_s"] * 1e3 for x in r["rows"] if x["order"] == order and x["part"] == what
        ]

    file_order, shuffled = part("file order", "over_rows"), part("80% shuffled", "over_rows")
    whole = part("file order", "whole check (changes)") + part(
        "80% shuffled", "whole check (changes)"
    )
    return [
        (
            f"{span(file_order, '{:.1f}')} ms for a 100,000-row frame in the file's order",
            "rows[file order, over_rows].fastest_s (ms) = " + span(file_order, "{:.2f}"),
        ),
        (
            f"{span(shuffled, '{:.1f}')} ms (fastest of {r['repeats']}) for an 80% sample",
            f"rows[80% shuffled, over_rows].fastest_s (ms) = {span(shuffled, '{:.2f}')}",
        ),
        (
            f"beside {span(whole, '{:.0f}')} ms for the whole check",
            f"rows[whole check].fastest_s (ms) = {span(whole, '{:.2f}')}",
        ),
    ]


def _untraced_check(r):
    c = r["cases"]

    def first(case, array):
        return c[case]["arrays"][array]["check_first_s"]

    own = [first("breast_cancer/1", a) for a in ("scaled", "random")]
    three = [first("breast_cancer/3", a) for a in ("scaled", "random")]
    values = first("breast_cancer/1", "values")
    adult = first("adult/3", "scaled")
    return [
        (f"(``X.values``: {values * 1e3:.1f} ms)", "breast_cancer/1 values check_first_s"),
        (
            f"on breast cancer {span(own, '{:.2f}', ' to ')} s with its own file loaded",
            "breast_cancer/1 scaled, random check_first_s",
        ),
        (
            f"{span(three, '{:.2f}', ' to ')} s with two more files of 30 columns",
            "breast_cancer/3 scaled, random check_first_s",
        ),
        (f"three files, {adult:.1f} s for a scaled array", "adult/3 scaled check_first_s"),
    ]


def _untraced_grid(r):
    def a(case):
        return r["cases"][case]["arrays"]["scaled"]

    one, three, adult = a("breast_cancer/1"), a("breast_cancer/3"), a("adult/3")
    subset = [
        r["cases"][f"numeric_100k/{n}"]["arrays"][k]["check_subset_s"] * 1e3
        for n in (1, 3)
        for k in ("scaled", "random")
    ]

    def before_after(x):
        return f"{x['grid_traced_no_reuse_s']:.1f} s -> {x['grid_traced_s']:.1f} s"

    ev = "{} scaled grid_traced_no_reuse_s -> grid_traced_s, grid_plain_s"
    return [
        (
            f"file loaded: {one['grid_traced_no_reuse_s']:.1f} s traced against "
            f"{one['grid_plain_s']:.2f} s plain; with three files "
            f"{three['grid_traced_no_reuse_s']:.1f} s against {three['grid_plain_s']:.2f} s)",
            ev.format("breast_cancer/1, /3"),
        ),
        (
            f"file loaded: {before_after(one)} traced against {one['grid_plain_s']:.2f} s plain; "
            f"with three files {before_after(three)} against {three['grid_plain_s']:.2f} s",
            ev.format("breast_cancer/1, /3"),
        ),
        (
            f"Adult against three files {before_after(adult)} against "
            f"{adult['grid_plain_s']:.2f} s",
            ev.format("adult/3"),
        ),
        (
            f"took {span(subset, '{:.0f}')} ms with one or three files loaded",
            "numeric_100k/1, /3 scaled, random check_subset_s (ms) = " + span(subset, "{:.1f}"),
        ),
    ]


def _projection(r):
    cases = r["cases"]
    target = [c for c in cases if c["n_features"] >= 1e4 and c["n_components"] <= 1024]
    best = [max(c["speedup"], c["speedup_1thread"]) for c in target]
    bound = [c["x_bound_1thread"] for c in cases]
    fma = [
        c["x_bound_1thread"] for c in cases if c["n_features"] == 1e3 and c["n_components"] >= 512
    ]
    met = sum(b >= 10 for b in best)
    within = sum(b <= 3 for b in bound)
    cold = r["cold"]
    bw = r["machine"]["single_core_read_bandwidth_gb_s"]
    return [
        (
            f"load average {r['load_average_before'][0]:.1f} before and after, measured "
            f"single-core bandwidth {bw:.1f} GB/s",
            "load_average_before[0], machine.single_core_read_bandwidth_gb_s",
        ),
        (
            f"on the {len(target)} shapes with ``n_features >= 1e4`` and ``n_components <= 1024`` "
            f"it is {min(best):.1f}x to {max(best):.1f}x",
            "cases[n_features >= 1e4, n_components <= 1024] max(speedup, speedup_1thread)",
        ),
        (f"10x met on all {met}", "count of those >= 10x"),
        (
            f"with one thread {min(bound):.1f}x to {max(bound):.1f}x the machine's bound over all "
            f"{len(cases)} shapes (within the 3x target on {within})",
            "cases[*].x_bound_1thread",
        ),
        (
            f"one thread takes {min(fma):.1f}x to {max(fma):.1f}x the bound",
            "cases[n_features 1e3, n_components >= 512].x_bound_1thread",
        ),
        (
            f"takes {cold['cache present']['first_fit_transform_s']:.2f} s right after the import",
            "cold['cache present'].first_fit_transform_s",
        ),
        (
            f"but {cold['cache present, 2 s after import']['first_fit_transform_s']:.3f} s when",
            "cold['cache present, 2 s after import'].first_fit_transform_s",
        ),
        (
            f"``fit_transform`` takes {cold['srp_fit_transform_s']:.2f} s warm), and "
            f"{cold['empty cache']['first_fit_transform_s']:.1f} s",
            "cold.srp_fit_transform_s, cold['empty cache'].first_fit_transform_s",
        ),
    ]


def _make_test(r):
    wheels = r["wheels_bytes"]
    largest = sorted(wheels.values(), reverse=True)[:5]
    passed = re.match(r"(\d+) passed", r["test_last_line"]).group(1)
    return [
        (f"cloned commit `{r['commit']}`", "commit"),
        (f"passed {int(passed):,} tests", "test_last_line"),
        (
            f"fetches {len(wheels)} wheels, about {sum(wheels.values()) / 1e6:.0f} MB",
            "wheels_bytes (count, sum)",
        ),
        (
            "(torch's CPU-only wheel {:.0f} MB, jaxlib {:.0f} MB, llvmlite {:.0f} MB, pyarrow "
            "{:.0f} MB, polars' runtime {:.0f} MB;".format(*(b / 1e6 for b in largest)),
            "wheels_bytes (the five largest)",
        ),
        (f"into a {r['venv_bytes'] / 1e9:.1f} GB `.venv`", "venv_bytes"),
        (f"took {r['setup_seconds'] / 60:.1f} minutes there", "setup_seconds"),
        (f"`make test` itself {r['test_seconds'] / 60:.1f} minutes", "test_seconds"),
    ]


def _array_lineage(r):
    pm = r["provenance_memory"]

    def mib(x):
        return f"{x / 2**20:.1f} MiB"

    return [
        (
            f"{mib(pm['lineage_bytes'])} of lineage stays alive "
            f"({pm['lineage_bytes'] / pm['rows']:.0f} bytes per row",
            "provenance_memory.lineage_bytes / rows",
        ),
        (
            f"{mib(pm['lineage_bytes_read'])} "
            f"({pm['lineage_bytes_read'] / pm['rows']:.0f} bytes per row) once provenance",
            "provenance_memory.lineage_bytes_read / rows",
        ),
        (f"own map is {mib(pm['own_map_bytes'])}", "provenance_memory.own_map_bytes"),
        (f"{mib(pm['data_bytes'])} of data", "provenance_memory.data_bytes"),
    ]


def _explanation_digests(r):
    first = only_row(r["rows"], variant="first access (every access before)")["median_s"]
    later = only_row(r["rows"], variant="later access")["median_s"]
    return [
        (f"On a {r['file_bytes'] / 1e6:.0f} MB file", "file_bytes"),
        (
            f"took {first:.2f} s per access, now {later * 1e3:.0f} ms after the first",
            "rows[first access, later access].median_s",
        ),
    ]


def _file_digests_memory(r):
    bounded = r["rows"][0]
    unbounded = only_row(r["rows"], variant="unbounded (one entry per path, as before)")
    return [
        (f"after {r['paths']:,} distinct paths", "paths"),
        (f"it holds {bounded['bytes'] / 1e6:.1f} MB", f"rows[0].bytes = {bounded['bytes']}"),
        (
            f"one entry per path held {unbounded['bytes'] / 1e6:.1f} MB",
            f"rows[unbounded].bytes = {unbounded['bytes']}",
        ),
    ]


def _events_mark(r):
    old, new = "schema 4 (no index)", "schema 5 (index on kind)"
    mark, fit, size = r["mark_ms"], r["fit_ms"], r["file_bytes"]
    events = re.search(r"--events (\d+)", r["command"]).group(1)
    grown = (size["schema 5"] - size["schema 4"]) / 1e6
    return [
        (
            f"{mark[old]:.0f} ms at {int(events):,} events, {mark[new]:.2f} ms with it",
            "mark_ms",
        ),
        (f"{fit[old]:.0f} ms against {fit[new]:.0f} ms", "fit_ms"),
        (f"({grown:.0f} MB more on that {size['schema 4'] / 1e6:.0f} MB file)", "file_bytes"),
        (f"took {r['upgrade_4_to_5_ms'] / 1e3:.2f} s at {int(events):,} events", "upgrade"),
    ]


# (page, anchor: the start of the quoting paragraph, results name, figures)
CLAIMS = [
    ("doc/lineage.rst", "are a type-tagged, length-prefixed", "frame_digest", _frame_digest),
    (
        "doc/lineage.rst",
        "*witness* rows, picked by a hash",
        "row_lineage_check",
        _row_lineage_check,
    ),
    ("doc/lineage.rst", "pandas gives the library no way to see", "over_rows", _over_rows),
    ("doc/lineage.rst", "1. Ids first:", "untraced_fit", _untraced_check),
    ("doc/lineage.rst", "1. Ids first:", "untraced_fit", _untraced_grid),
    ("README.md", "What they cost on a fresh clone", "make_test", _make_test),
    (
        "doc/arrays.rst",
        "``bench_array_lineage.py`` measures it",
        "array_lineage",
        _array_lineage,
    ),
    (
        "doc/lineage.rst",
        "A line number names a line of the bytes",
        "explanation_digests",
        _explanation_digests,
    ),
    (
        "doc/lineage.rst",
        "A line number names a line of the bytes",
        "file_digests_memory",
        _file_digests_memory,
    ),
    ("doc/projection.rst", "Speed (``benchmarks/bench_projection.py``", "projection", _projection),
    ("doc/stores.rst", "Store schema 5 adds no table", "events_mark", _events_mark),
]
