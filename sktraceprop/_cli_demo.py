"""``sktraceprop demo``: the end-to-end demo on the bundled two-hospital data."""

import sys
import warnings

from ._cli_common import _count, _write_line
from ._cli_lines import _a_path, _line_of


def demo(db="sktraceprop-demo.db", n_rows=5, out=None):
    """Run the main job end to end on the bundled two-hospital data.

    Loads two CSV files, fits a traced pipeline into a SQLite store, prints the lineage
    of a few training rows (file, line, the line itself), explains a test prediction by
    its most influential training rows, values the training rows by source, removes one
    source from the model without retraining (checked against a real refit), and checks
    the audit log's hash chain.

    Parameters
    ----------
    db : str, default="sktraceprop-demo.db"
        SQLite store the run is appended to.
    n_rows : int, default=5
        How many training rows to trace.
    out : file-like, default=None
        Where to print; None means ``sys.stdout``.

    Returns
    -------
    run_id : str
    """
    import numpy as np
    import pandas as pd
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import sktraceprop as stp

    def say(*args):
        _write_line(" ".join(map(str, args)), out if out is not None else sys.stdout)

    paths = stp.datasets.demo_paths()
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    df = pd.concat([a, b])
    df = df[df["age"] > 18].dropna(subset=["bp"])
    X, y = df.drop(columns=["label", "notes"]), df["label"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    # checked before the store is opened: nothing appended for a request that cannot be
    # shown (0 or fewer rows printed nothing; more than there are, a traceback after the fit)
    if not 1 <= int(n_rows) <= len(X_tr):
        raise ValueError(
            f"--rows {n_rows}: the demo traces 1 to {len(X_tr)} training rows (the rows "
            "its model is fitted on)"
        )

    store = stp.stores.SQLiteStore(db)
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex", "smoker"]), (StandardScaler(), ["age", "bp", "cholesterol"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    pipe.fit(X_tr, y_tr)
    run = pipe.lineage_

    say(f"sktraceprop {stp.__version__} demo")
    described = [
        f"{s.source_id} ({s.n_rows} rows, sha256 {s.sha256[:12]}...)" for s in run.sources.values()
    ]
    say(f"sources: {', '.join(described)}")
    say(
        f"fitted {run.estimator} on {run.n_samples} rows; test accuracy "
        f"{pipe.score(X_te, y_te):.3f}"
    )
    say(
        f"run {run.run_id} at {run.created_at} appended to {db} "
        f"({_count(len(store.list_runs()), 'run')} stored)"
    )
    say("\nops:")
    for op in run.ops:
        say(f"  {op.name:<28} {op.cls}  fingerprint {op.fingerprint[:12]}")
    say("\nfeature lineage (final-estimator feature <- input columns <- sources):")
    sources = run.feature_sources()
    for feature, columns in run.feature_lineage.items():
        if columns is None:
            named = found = "unknown"
        else:
            named = ", ".join(columns) or "none (a constant)"
            found = ", ".join(sources[feature]) or ("none" if columns == [] else "unknown")
        say(f"  {feature:<32} <- {named} <- {found}")
    say(f"\ntraining rows 0..{n_rows - 1}: file, line, and the line itself")
    trace = pipe.trace(list(range(n_rows)))
    for row in trace.itertuples():
        say(
            f"  [{row.train_index}] {row.source_id} line {row.line}: "
            f"{_line_of(_a_path(row), row.line)}"
        )
    loaded = store.load_run(run.run_id)
    say(f"\nreloaded run from {db}: equal to the in-memory lineage: {loaded == run}")

    # Attribution: which training rows (files, lines) drove one test prediction?
    explainer = stp.InfluenceExplainer(pipe, n_subsets=50, random_state=0).fit(X_tr, y_tr)
    explanation = explainer.explain(X_te.iloc[:1], top_k=3)
    predicted = pipe.predict(X_te.iloc[:1])[0]
    say(f"\ntest row 0 is predicted {predicted}; training rows that most support it:")
    for row in explanation.top(3).itertuples():
        say(
            f"  rank {row.rank}: {row.source_id} line {row.line} (score {row.score:+.4f}): "
            f"{_line_of(_a_path(row), row.line)}"
        )
    say(
        f"linear datamodeling score of the explainer (50 retrained subsets): "
        f"{explainer.score(X_te, y_te):.3f}"
    )

    # Valuation: exact KNN-Shapley values of the training rows, per source.
    valuer = stp.KNNShapleyValuer(n_neighbors=5, transformer=pipe[:-1]).fit(X_tr, y_tr)
    valuer.value(X_te, y_te)
    say("\nKNN-Shapley value of the training rows, by source:")
    for row in valuer.by_source().itertuples():
        say(
            f"  {row.source_id:<12} {row.n_rows:>4} rows  sum {row.sum:+.4f}  mean {row.mean:+.5f}"
        )

    # Unlearning: remove hospital_b without retraining, then check against a real refit.
    # The explainer and valuer above keep copies of hospital_b's rows, which a removal
    # from the model cannot reach: the unlearner warns of them (shown as a line here),
    # and the demo discards them.
    unlearner = stp.GradientCorrectionUnlearner(clone(pipe)).fit(X_tr, y_tr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event = unlearner.unlearn(source_id="hospital_b").unlearning_log_[-1]
    del explainer, valuer
    keep = (stp.row_lineage(X_tr)["source_id"] != "hospital_b").to_numpy()
    # The reference refit is solved tightly: sklearn's default tolerance stops short of
    # the optimum by more than the correction's error. The unlearner refits the
    # preprocessing (imputer, scaler, encoder) on the remaining rows and corrects the
    # final step, so the truth is a refit of the whole pipeline without hospital_b.
    exact = {"tol": 1e-12, "max_iter": 10_000}
    full = clone(pipe).set_params(**{f"logisticregression__{k}": v for k, v in exact.items()})
    truth = full.fit(X_tr[keep], y_tr[keep]).decision_function(X_te)
    full_gap = np.abs(unlearner.decision_function(X_te) - truth).max()
    before_gap = np.abs(pipe.decision_function(X_te) - truth).max()
    say(
        f"\nremoved {event['n_removed']} hospital_b rows by {event['method']} in "
        f"{event['seconds'] * 1e3:.1f} ms (preprocessing {event['preprocessing']}), "
        f"certificate (retained gradient norm) {event['certificate']:.1e}" + _rounding(event)
    )
    say(
        "  largest test decision difference from refitting the whole pipeline: "
        f"{full_gap:.1e} (the original model's: {before_gap:.1e})"
    )
    for warning in caught:
        say(f"  warning: {warning.message}")
    chained = len(store.events(include_store_events=True))
    say(
        f"\n{db} now holds {_count(len(store.list_runs()), 'run')} (every fit above, clones "
        f"included) and {_count(len(store.events()), 'audit event')} (removals, predictions, "
        f"explanations), {_count(chained, 'entry', 'entries')} chained in all with the "
        f"stored runs and sources; hash chain intact: {store.verify()}"
    )
    return run.run_id


def _rounding(event):
    """The certificate's float64 rounding bound and the tol it is certified to, in words
    (a removal is certified only where the two together are within tol)."""
    if "certificate_rounding" not in event or "tol" not in event:
        return ""
    return (
        f" (float64 rounding bound {event['certificate_rounding']:.1e}; "
        f"certified to tol={event['tol']:g} only with it added)"
    )
