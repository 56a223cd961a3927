"""List the figures the user guide quotes from benchmark results, each with the results
file and value it comes from, and flag those that no longer match the latest results.

Run: python benchmarks/check_doc_numbers.py [--unchecked]

Each figure is written here as its page prints it, computed from ``results/<name>.json``
and rounded as the page rounds it; the figure must appear in the paragraph that starts
at its anchor. A rerun of a benchmark that changes a figure makes this script (and
``tests/test_doc_numbers.py``) report it until the page is updated. Nothing is measured
here. The README's cost of ``make test`` and ``doc/arrays.rst``'s memory figures are
checked the same way by ``tests/test_readme_numbers.py``. ``--unchecked`` also lists
every number with a unit (ms, s, MiB, x, ...) in README.md and doc/*.rst that no
figure here covers: those are for a reader to trace (to a test, a results file, an
issue's target) or to soften.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _range(values, fmt, sep="-"):
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def _mean(values):
    return sum(values) / len(values)


def _row(rows, **where):
    (row,) = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return row


# --- one function per quoting paragraph: result json -> [(phrase, evidence)] ---


def _frame_digest(r):
    row = _row(r["results"], frame="numeric (9 columns)")
    s = row["median"]["frame_digest"]
    return [(f"{s * 1e3:.0f} ms for a million rows", f"results[numeric].median = {s:.4f} s")]


def _row_lineage_check(r):
    out = []
    for case, tail in (
        ("100,000 rows", "for 100,000 rows"),
        ("a Series of 100,000 rows", ""),
        ("a traced array, 100,000 x 4", "for 100,000 rows of four columns"),
    ):
        s = _row(r["rows"], case=case, variant="check alone")["fastest_s"]
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
            f"{_range(file_order, '{:.1f}')} ms for a 100,000-row frame in the file's order",
            "rows[file order, over_rows].fastest_s (ms) = " + _range(file_order, "{:.2f}"),
        ),
        (
            f"{_range(shuffled, '{:.1f}')} ms (fastest of {r['repeats']}) for an 80% sample",
            f"rows[80% shuffled, over_rows].fastest_s (ms) = {_range(shuffled, '{:.2f}')}",
        ),
        (
            f"beside {_range(whole, '{:.0f}')} ms for the whole check",
            f"rows[whole check].fastest_s (ms) = {_range(whole, '{:.2f}')}",
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
            f"on breast cancer {_range(own, '{:.2f}', ' to ')} s with its own file loaded",
            "breast_cancer/1 scaled, random check_first_s",
        ),
        (
            f"{_range(three, '{:.2f}', ' to ')} s with two more files of 30 columns",
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
            f"took {_range(subset, '{:.0f}')} ms with one or three files loaded",
            "numeric_100k/1, /3 scaled, random check_subset_s (ms) = " + _range(subset, "{:.1f}"),
        ),
    ]


def _woodbury(r):
    by = {c["woodbury"]["n_terms"]: c for c in r["cases"]}
    c9, c50, c74 = by[9000], by[50000], by[74507]
    d, w = c9["dense"], c9["woodbury"]
    b50, b74 = c50["woodbury_before"], c74["woodbury_before"]
    return [
        (
            f"took {d['fit_s']:.1f} s and {d['peak_rss_above_mib']:,.0f} MiB of peak memory on "
            f"the dense route, {w['fit_s']:.1f} s and {w['peak_rss_above_mib']:,.0f} MiB",
            "cases[9000 terms].dense/woodbury fit_s, peak_rss_above_mib",
        ),
        (
            f"scores equal to {c9['max_relative_difference']:.1e} of the largest",
            "cases[9000 terms].max_relative_difference",
        ),
        (
            f"fits in {c50['woodbury']['fit_s']:.1f} s and "
            f"{c50['woodbury']['peak_rss_above_mib']:,.0f} MiB and explains 200 rows in "
            f"{c50['woodbury']['explain_s']:.1f} s",
            "cases[50000 terms].woodbury fit_s, peak_rss_above_mib, explain_s",
        ),
        (
            f"{b50['fit_s']:.1f} s and {b50['peak_rss_above_mib']:,.0f} MiB to fit, "
            f"{b50['explain_s']:.1f} s and {b50['explain_peak_rss_above_mib']:,.0f} MiB "
            "to explain",
            "cases[50000 terms].woodbury_before",
        ),
        (
            f"{b74['explain_s']:.1f} s and {b74['explain_peak_rss_above_mib']:,.0f} MiB to "
            f"explain, now {c74['woodbury']['explain_s']:.1f} s",
            "cases[74507 terms].woodbury_before / woodbury explain_s",
        ),
    ]


def _matrix_free(r):
    by = {c["woodbury"]["n_rows"]: c for c in r["cases"]}
    w, m = by[5000]["woodbury"], by[5000]["matrix_free"]
    big, bw = by[20000]["matrix_free"], by[20000]["woodbury"]

    def explains(x, fmts):
        a, b, c = (f.format(x["explain_s"][k]) for f, k in zip(fmts, ("1", "100", "1000")))
        return f"{a}, {b} and {c}"

    refits = [w["model_fit_s"], m["model_fit_s"]]
    per_row = big["explain_s"]["1000"] / 1000
    return [
        (
            f"fits in {w['fit_s']:.1f} s ({w['fit_peak_mib']:.0f} MiB) and explains 1, 100 and "
            f"1,000 rows in {explains(w, ['{:.1f}'] * 3)} s",
            "cases[5000].woodbury fit_s, fit_peak_mib, explain_s",
        ),
        (
            f"fits in {m['fit_s']:.1f} s ({m['fit_peak_mib']:.0f} MiB) and explains them in "
            f"{explains(m, ['{:.1f}', '{:.0f}', '{:.0f}'])} s",
            "cases[5000].matrix_free fit_s, fit_peak_mib, explain_s",
        ),
        (
            f"refitting the model took {_range(refits, '{:.0f}', ' to ')} s",
            "cases[5000].*.model_fit_s",
        ),
        (f"limit after {bw['fit_s']:.0f} s", "cases[20000].woodbury.fit_s (MemoryError)"),
        (
            f"fits in {big['fit_s']:.1f} s ({big['fit_peak_mib']:.0f} MiB) and explains 1, 100 "
            f"and 1,000 rows in {explains(big, ['{:.1f}', '{:.0f}', '{:.0f}'])} s, against "
            f"{big['model_fit_s']:.0f} s for one refit",
            "cases[20000].matrix_free fit_s, fit_peak_mib, explain_s, model_fit_s",
        ),
        (
            f"scores agree to {by[5000]['max_relative_difference']:.1e} of the largest",
            "cases[5000].max_relative_difference",
        ),
        (
            f"({per_row:.1f} s a row at 1,000 rows, a "
            f"{_ordinal(round(big['model_fit_s'] / per_row))} of a refit)",
            "cases[20000].matrix_free explain_s[1000] / 1000 and model_fit_s",
        ),
    ]


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _neural(r):
    cases = {c["case"]: c for c in r["cases"]}

    def default(case, n_models=1):
        runs = [d for d in cases[case]["defaults"] if d["n_models"] == n_models]
        return " / ".join(f"{_mean([d['lds'][p] for d in runs]):.3f}" for p in ("fixed", "varied"))

    def exact(case):
        lds = cases[case]["exact"]["lds"]
        return f"{lds['fixed']:.3f} / {lds['varied']:.3f}"

    def damped(case):
        (c,) = [
            x
            for x in cases[case]["competitors"]
            if x["method"].startswith("traker") and "damped" in x["method"]
        ]
        return f"{c['lds']['fixed']:.3f} / {c['lds']['varied']:.3f}"

    def fit(case, fmt):
        return fmt.format(cases[case]["fit_time"]["wall_s"])

    tabular = cases["tabular_torch"]["defaults"]
    tabular_walls = [d["wall_s"] for d in tabular if d["n_models"] == 1]
    return [
        (
            f"the breast-cancer MLP {default('tabular_torch')} (oracle {exact('tabular_torch')})",
            "cases[tabular_torch] defaults (mean over seeds, 1 model) and exact.lds",
        ),
        (
            f"MLP {default('digits_mlp_torch')} with one model and "
            f"{default('digits_mlp_torch', 3)} with three (oracle {exact('digits_mlp_torch')}",
            "cases[digits_mlp_torch] defaults (1 and 3 models) and exact.lds",
        ),
        (
            f"the digits CNN {default('digits_cnn_torch')} (oracle {exact('digits_cnn_torch')})",
            "cases[digits_cnn_torch] defaults and exact.lds",
        ),
        (
            f"MLP in JAX {default('mnist49_jax')} (oracle {exact('mnist49_jax')}) and in torch "
            f"{default('mnist49_torch')} (oracle {exact('mnist49_torch')})",
            "cases[mnist49_jax, mnist49_torch] defaults and exact.lds",
        ),
        (
            f"they reach {damped('mnist49_torch')} on MNIST 4-vs-9 and "
            f"{damped('digits_cnn_torch')} on the CNN",
            "cases[...].competitors[traker damped].lds",
        ),
        (
            f"takes {fit('digits_mlp_torch', '{:.1f}')} s (digits MLP), "
            f"{fit('digits_cnn_torch', '{:.0f}')} s (CNN), {fit('mnist49_torch', '{:.0f}')} s "
            f"(MNIST, torch) and {fit('mnist49_jax', '{:.0f}')} s (MNIST, JAX)",
            "cases[...].fit_time.wall_s",
        ),
        (
            f"shows {_mean(tabular_walls):.1f} s)",
            "cases[tabular_torch] defaults, 1 model, mean wall_s",
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


def _unlearn_woodbury(r):
    def case(data, terms, path):
        (c,) = [
            c
            for c in r["cases"]
            if c["data"] == data
            and c.get("n_terms", c.get("n_features")) == terms
            and c["path"] == path
        ]
        return c

    a, f = case("tfidf", 3000, "auto"), case("tfidf", 3000, "dense")
    dense_auto = [c for c in r["cases"] if c["data"] != "tfidf" and c["path"] == "auto"][0]
    dense_forced = [c for c in r["cases"] if c["data"] != "tfidf" and c["path"] != "auto"][0]
    big = case("tfidf", 50000, "auto")
    return [
        (
            f"matrix-free one: {a['unlearn_s']:.2f} s to unlearn ({a['newton_s']:.2f} s of it the "
            f"Newton steps), {a['unlearner_fit_s']:.2f} s to fit the unlearner, against the dense "
            f"route forced, {f['unlearn_s']:.2f} s and {f['unlearner_fit_s']:.2f} s",
            "cases[tfidf 2000 x 3000, auto / dense]",
        ),
        (f"the refit took {a['refit_s']:.2f} s", "cases[tfidf 2000 x 3000, auto].refit_s"),
        (
            f"({dense_auto['unlearn_s']:.2f} s to unlearn against "
            f"{dense_forced['unlearn_s']:.2f} s forced matrix-free",
            "cases[adult-like, auto / forced].unlearn_s",
        ),
        (
            f"a certified removal took {big['unlearn_s']:.2f} s (its Newton steps "
            f"{big['newton_s']:.2f} s, {big['unlearned_param_ratio']:.1e}".replace("e-0", "e-")
            + " of the removal's own effect",
            "cases[tfidf 5000 x 50000].unlearn_s, newton_s, unlearned_param_ratio",
        ),
        (
            f"default tolerance of {big['refit_s']:.2f} s ({big['refit_param_ratio']:.2f} of that "
            "effect away)",
            "cases[tfidf 5000 x 50000].refit_s, refit_param_ratio",
        ),
    ]


def _unlearning(r):
    res, whole = r["results"]["20000"], r["whole_pipeline"]
    rows = res["rows"]

    def mb(x):
        return f"{x / 1e6:.1f}"

    def mb_range(values):
        return _range([v / 1e6 for v in values], "{:.1f}")

    return [
        (
            f"{mb(res['held_bytes_fit'])} MB beyond the pickled model after ``fit`` "
            f"({res['held_bytes_fit'] / 20000:.0f} bytes per row: the float64 features are "
            f"{mb(res['features_bytes'])} MB",
            "results['20000'].held_bytes_fit, features_bytes",
        ),
        (
            f'``preprocessing="refit"``, {mb(whole["held_bytes_fit"])} MB (the raw DataFrame is '
            f"{mb(whole['raw_input_bytes'])} MB)",
            "whole_pipeline.held_bytes_fit, raw_input_bytes",
        ),
        (
            f"peaked at {mb_range([x['unlearn_peak_bytes'] for x in rows])} MB of allocations "
            f"against {mb_range([x['refit_peak_bytes'] for x in rows])} MB for the refit",
            "results['20000'].rows[*].unlearn_peak_bytes, refit_peak_bytes",
        ),
        (
            f"({mb_range([x['unlearn_peak_bytes'] for x in whole['rows']])} MB against "
            f"{mb_range([x['refit_peak_bytes'] for x in whole['rows']])} MB for the whole "
            "pipeline",
            "whole_pipeline.rows[*].unlearn_peak_bytes, refit_peak_bytes",
        ),
    ]


def _unlearning_neural(r):
    def target(data, method):
        # targets are listed per data set in the order of its methods
        names = r["data"][data]["methods"]
        (i,) = [i for i, name in enumerate(names) if method in name]
        return [t for t in r["targets"] if t["data"] == data][i]

    out = []
    for data, sentence in (
        (
            "MNIST",
            "brings MNIST from 54% to {m} in the band (rms error 22.4 to {mr} points) "
            "against {s} ({sr}) for a single retrain",
        ),
        (
            "Adult",
            "on UCI Adult it meets the target ({m} in the band, rms {mr}, against {s}, {sr})",
        ),
    ):
        t = target(data, "crossfit")
        m, single = t["method"], t["single_retrain"]
        out.append(
            (
                sentence.format(
                    m=f"{m['in_band_share']:.0%}",
                    mr=f"{m['rms']:.1f}",
                    s=f"{single['in_band_share']:.0%}",
                    sr=f"{single['rms']:.1f}",
                ),
                f"targets[{data}, crossfit].method / single_retrain in_band_share, rms",
            )
        )
    hold = target("MNIST", "holdout")["method"]
    out.append(
        (
            f"(MNIST: {hold['in_band_share']:.0%} in the band, rms {hold['rms']:.0f} points)",
            "targets[MNIST, holdout].method in_band_share, rms",
        )
    )
    return out


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
    ("doc/influence.rst", "``benchmarks/bench_woodbury.py`` measures both", "woodbury", _woodbury),
    (
        "doc/influence.rst",
        '``solver="auto"`` weighs the three routes',
        "influence_matrix_free",
        _matrix_free,
    ),
    ("doc/influence.rst", "For neural models, :meth:", "neural", _neural),
    ("doc/projection.rst", "Speed (``benchmarks/bench_projection.py``", "projection", _projection),
    ("doc/unlearning.rst", "dense route's flops exceed", "unlearn_woodbury", _unlearn_woodbury),
    ("doc/unlearning.rst", "How much that is, measured by", "unlearning", _unlearning),
    ("doc/unlearning.rst", "Where the error comes from.", "unlearning_neural", _unlearning_neural),
    ("README.md", "What they cost on a fresh clone", "make_test", _make_test),
    (
        "doc/arrays.rst",
        "``bench_array_lineage.py`` measures it",
        "array_lineage",
        _array_lineage,
    ),
]


def _flat(text):
    """``text`` with each run of whitespace made one space, and each character's
    position in ``text``."""
    out, pos, space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space and out:
                out.append(" ")
                pos.append(i)
            space = True
        else:
            out.append(ch)
            pos.append(i)
            space = False
    return "".join(out), pos


def _paragraph(page_text, anchor):
    """The whitespace-flattened paragraph starting at ``anchor`` (to the next blank line
    that is not inside a list item), with each character's offset in the page."""
    if page_text.count(anchor) != 1:
        raise ValueError(f"anchor {anchor!r} is not in the page exactly once")
    start = page_text.index(anchor)
    end = page_text.find("\n\n", start)
    end = len(page_text) if end < 0 else end
    flat, pos = _flat(page_text[start:end])
    return flat, [p + start for p in pos]


def figures(pages=None, results=None):
    """Every quoted figure: dicts of ``page``, ``line``, ``phrase``, ``results``,
    ``evidence`` and ``status`` ("ok" or "stale"). ``pages`` and ``results`` (name ->
    text / parsed json) replace the files, for tests."""
    pages, results = dict(pages or {}), dict(results or {})
    out = []
    for page, anchor, name, compute in CLAIMS:
        if page not in pages:
            pages[page] = (ROOT / page).read_text()
        if name not in results:
            results[name] = json.loads((RESULTS / f"{name}.json").read_text())
        text = pages[page]
        flat, pos = _paragraph(text, anchor)
        for phrase, evidence in compute(results[name]):
            at = flat.find(phrase)
            offset = pos[at] if at >= 0 else pos[0]
            out.append(
                {
                    "page": page,
                    "line": text.count("\n", 0, offset) + 1,
                    "phrase": phrase,
                    "results": f"benchmarks/results/{name}.json",
                    "evidence": evidence,
                    "status": "ok" if at >= 0 else "stale",
                }
            )
    return out


# a number and its unit; "N x M" is a shape, not a ratio
_UNIT = re.compile(
    r"(?<![\w.])\d(?:[\d,]*\d)?(?:\.\d+)?(?:e-?\d+)?\s?"
    r"(?:ms|s|MiB|GiB|MB|GB|KiB|x(?!\s*\d)|%)(?![\w-])"
)


def unchecked(found):
    """``(page:line, number)`` of numbers with a unit in README.md and doc/*.rst that no
    figure of ``found`` covers."""
    covered = {}
    for f in found:
        covered.setdefault(f["page"], []).append(f["phrase"])
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "doc").glob("*.rst"))]:
        page = str(path.relative_to(ROOT))
        text = path.read_text()
        for n, line in enumerate(text.split("\n"), 1):
            for match in _UNIT.finditer(line):
                number = match.group(0)
                if not any(number in phrase for phrase in covered.get(page, [])):
                    out.append((f"{page}:{n}", number))
    return out


def main(argv):
    found = figures()
    for f in found:
        print(f"{f['status']:5}  {f['page']}:{f['line']}  {f['phrase']!r}")
        print(f"       from {f['results']}: {f['evidence']}")
    stale = [f for f in found if f["status"] != "ok"]
    print(f"{len(found)} figures, {len(stale)} stale")
    if "--unchecked" in argv:
        rest = unchecked(found)
        for where, number in rest:
            print(f"unchecked  {where}  {number}")
        print(f"{len(rest)} numbers with a unit not checked here")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
