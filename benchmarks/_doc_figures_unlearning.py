"""Figures doc/unlearning.rst quote from benchmark results: for each quoting paragraph, the
phrases it must hold, computed from the results json (``check_doc_numbers.py``)."""

from _doc_figures_common import span


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
        return span([v / 1e6 for v in values], "{:.1f}")

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


def _unlearning_validation(r):
    rows = r["results"]["20000"]["rows"]
    ratios = [x["distance_ratio_test"] for x in rows]
    gaps = [x["forget_gap_closed_percent"] for x in rows]
    return [
        (
            f"the distance ratio to an exact retrain is {min(ratios):.1e} to {max(ratios):.1e} "
            f"over its three removals".replace("e-0", "e-"),
            "results['20000'].rows[*].distance_ratio_test",
        ),
        (
            f"the forget-loss gap closed is {span(gaps, '{:.3f}', '-')}%",
            "results['20000'].rows[*].forget_gap_closed_percent",
        ),
    ]


def _decoupled_decay(r):
    (adamw,) = [x for x in r["rows"] if x["optimizer"].startswith("AdamW")]
    return [
        (
            f'drove that "certificate" down to {adamw["certificate_2000"]:.2f} in 2000 '
            "fine-tuning steps",
            "rows[AdamW].certificate_2000",
        ),
        (
            f"(parameter distance {adamw['distance_before']:.1f} before, "
            f"{adamw['distance_after_2000']:.1f} after",
            "rows[AdamW].distance_before, distance_after_2000",
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
            # (the figures before "to": study_unlearning_neural_calibration.json)
            "to {m} in the band (rms error ",
        ),
        (
            "MNIST",
            " to {mr} points) against {s} ({sr}) for a single retrain",
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


_OWN, _TORCH = "module seeds itself (the benchmark's)", "seeded by torch"
_SINGLE = "a single retrain, vs the mean of the other 5"


def _removal_scores(r, data, draw, who, kind="all"):
    x = r[data][draw]["scores"][who][kind]
    return f"{x['in_band']:.0%}", f"{x['rms']:.1f}"


def _neural_removal_draws(r):
    def pair(data, draw, who, kind="all"):
        return ", ".join(_removal_scores(r, data, draw, who, kind))

    m_own, m_single = _removal_scores(r, "MNIST", "held out", _OWN)
    s_own, s_single = _removal_scores(r, "MNIST", "held out", _SINGLE)
    return [
        (
            f"There it is in the band {m_own} of the time with an rms error of {m_single} points, "
            f"against {s_own} and {s_single} for a single retrain (its 1% removals: "
            f"{pair('MNIST', 'held out', _OWN, 'random 1%')} against "
            f"{pair('MNIST', 'held out', _SINGLE, 'random 1%')})",
            "MNIST['held out'].scores[benchmark's module, single retrain][all, random 1%]",
        ),
        (
            f"move as much ({pair('MNIST', 'benchmark', _SINGLE)} and "
            f"{pair('MNIST', 'held out', _SINGLE)})",
            "MNIST[benchmark, held out].scores[single retrain].all",
        ),
        (
            f"(held-out draw: {pair('Adult', 'held out', _OWN)} against "
            f"{pair('Adult', 'held out', _SINGLE)})",
            "Adult['held out'].scores[benchmark's module, single retrain].all",
        ),
    ]


def _neural_removal_seeding(r):
    def change(data, draw, i):
        a, b = (_removal_scores(r, data, draw, who)[i] for who in (_OWN, _TORCH))
        return f"{a} to {b}"

    return [
        (
            f"(MNIST: {change('MNIST', 'held out', 1)} points on the held-out one, "
            f"{change('MNIST', 'benchmark', 1)} on the benchmark's; Adult: "
            f"{change('Adult', 'held out', 1)} and {change('Adult', 'benchmark', 1)})",
            "[MNIST, Adult][held out, benchmark].scores[own seed -> seeded by torch].all.rms",
        ),
        (
            f"(MNIST held-out {change('MNIST', 'held out', 0)}, Adult "
            f"{change('Adult', 'held out', 0)} and {change('Adult', 'benchmark', 0)}) but falls "
            f"on MNIST's benchmark draw ({change('MNIST', 'benchmark', 0)})",
            "[MNIST, Adult][held out, benchmark].scores[own seed -> seeded by torch].all.in_band",
        ),
    ]


def _neural_calibration_study(r):
    before = r["MNIST"]["summary"]["18 x 3, ratio"]
    return [
        (
            f"removals overshot (mean {before['random 1%']['mean']:.0f}% of the gap)",
            "MNIST.summary['18 x 3, ratio']['random 1%'].mean",
        ),
        (
            f"brings MNIST from {before['all']['in_band']:.0%} to",
            "MNIST.summary['18 x 3, ratio'].all.in_band",
        ),
        (f"(rms error {before['all']['rms']:.1f} to", "MNIST.summary['18 x 3, ratio'].all.rms"),
    ]


# (page, anchor: the start of the quoting paragraph, results name, figures)
CLAIMS = [
    ("doc/unlearning.rst", "dense route's flops exceed", "unlearn_woodbury", _unlearn_woodbury),
    ("doc/unlearning.rst", "Where the error comes from.", "unlearning_neural", _unlearning_neural),
    ("doc/unlearning.rst", "How much that is, measured by", "unlearning", _unlearning),
    (
        "doc/unlearning.rst",
        "``tests/unlearning`` compares, for each supported model",
        "unlearning",
        _unlearning_validation,
    ),
    (
        "doc/unlearning.rst",
        "A **decoupled weight decay** is refused",
        "study_decoupled_decay",
        _decoupled_decay,
    ),
    (
        "doc/unlearning.rst",
        "How much of MNIST's miss is the draw of removals",
        "study_unlearning_neural_removals",
        _neural_removal_draws,
    ),
    (
        "doc/unlearning.rst",
        "A module that seeds torch in its constructor",
        "study_unlearning_neural_removals",
        _neural_removal_seeding,
    ),
    (
        "doc/unlearning.rst",
        "Where the error comes from.",
        "study_unlearning_neural_calibration",
        _neural_calibration_study,
    ),
]
