"""Figures doc/influence.rst quote from benchmark results: for each quoting paragraph, the
phrases it must hold, computed from the results json (``check_doc_numbers.py``)."""

from _doc_figures_common import mean, span


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
            f"refitting the model took {span(refits, '{:.0f}', ' to ')} s",
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
        return " / ".join(f"{mean([d['lds'][p] for d in runs]):.3f}" for p in ("fixed", "varied"))

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
            f"shows {mean(tabular_walls):.1f} s)",
            "cases[tabular_torch] defaults, 1 model, mean wall_s",
        ),
    ]


def _neural_kernels(r):
    from sktraceprop.influence._damping import GRID  # the factors the curves are over

    cases = {c["case"]: c for c in r["cases"]}
    tab, digits = cases["tabular_torch"], cases["digits_mlp_torch"]
    trak = tab["ablation"]["curves"]["TRAK kernel Phi^T Phi (projected)"]["fixed"]
    exact = tab["ablation"]["curves"]["margin GGN (exact)"]["fixed"]
    one = min(range(len(GRID)), key=lambda i: abs(GRID[i] - 1))
    best = max(range(len(trak)), key=trak.__getitem__)
    curves = digits["ablation"]["curves"]

    def peaks(protocol):
        return [
            max(curves[name][protocol])
            for name in ("softmax GGN (exact, method='ggn')", "margin GGN (exact)")
        ]

    fixed, varied = peaks("fixed"), peaks("varied")
    return [
        (
            f"gives LDS {trak[one]:.3f} at damping factor 1 where the weighted one (exact) gives "
            f"{exact[one]:.3f}, and reaches its best, {trak[best]:.3f}, only at factor "
            f"{GRID[best]:.2e}".replace("e+0", "e"),
            "cases[tabular_torch].ablation.curves (fixed) at GRID factors",
        ),
        (
            f"gradient dot product ({tab['gradient_dot']['lds']['fixed']:.3f}); the weighted one "
            f"peaks at {max(exact):.3f}",
            "cases[tabular_torch].gradient_dot.lds.fixed, max of margin GGN curve",
        ),
        (
            f"LDS {fixed[0]:.3f} against {fixed[1]:.3f} at the best damping of each (exact, "
            f"unprojected; {varied[0]:.3f} against {varied[1]:.3f} with varied-seed retrains)",
            "cases[digits_mlp_torch].ablation.curves, max of softmax / margin GGN",
        ),
    ]


def _neural_damping(r):
    from sktraceprop.influence._damping import GRID

    cases = {c["case"]: c for c in r["cases"]}
    tab, digits = cases["tabular_torch"], cases["digits_mlp_torch"]
    gcv = {c["ablation"]["gcv_factor"] for c in (tab, digits)}

    def factors(case):
        return span(list(case["exact"]["factor"].values()), "{:.3g}", " to ")

    return [
        (
            f"the best factor of the exact GGN is {factors(tab)} on the benchmark's tabular MLP "
            f"and {factors(digits)} on its digits MLP",
            "cases[tabular_torch, digits_mlp_torch].exact.factor (fixed, varied)",
        ),
        (
            f"picks the grid's smallest candidate ({GRID[0]:g}) on both"
            if gcv == {GRID[0]}
            else f"picks {', '.join(f'{g:g}' for g in sorted(gcv))}",
            "cases[tabular_torch, digits_mlp_torch].ablation.gcv_factor",
        ),
    ]


# (page, anchor: the start of the quoting paragraph, results name, figures)
CLAIMS = [
    ("doc/influence.rst", "``benchmarks/bench_woodbury.py`` measures both", "woodbury", _woodbury),
    (
        "doc/influence.rst",
        '``solver="auto"`` weighs the three routes',
        "influence_matrix_free",
        _matrix_free,
    ),
    ("doc/influence.rst", "For neural models, :meth:", "neural", _neural),
    ("doc/influence.rst", "Which kernel. TRAK", "neural", _neural_kernels),
    ("doc/influence.rst", "Damping. ``damping`` is a multiple", "neural", _neural_damping),
]
