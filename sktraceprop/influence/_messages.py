"""What an explainer says in words: its explanations' notes and its warnings at fit.

Each note names what the scores do not include (a neural model's estimate, high
leverage, preprocessing held fixed, features a cross-fitting step gave the training
rows, copies of one row scored apart, rows a merge built from one file line scored
apart); each warning says why the scores may not mean what removing a row does.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import LineageWarning
from ._lone_class import lone_class_note
from ._stationarity import NOT_STATIONARY, NOTE_STATIONARY, sampled_phrase

__all__ = [
    "HIGH_LEVERAGE",
    "SEE_THE_FIT",
    "cross_fit_cause",
    "cross_fit_notes",
    "explanation_notes",
    "merged_rows_notes",
    "repeated_rows_notes",
    "stationarity_warning",
    "unrecorded_rows_note",
    "unseen_features_warning",
]

# Leverage above which a removal moves the margins more than twice the row's score.
HIGH_LEVERAGE = 0.5

SEE_THE_FIT = (
    "Explain an unfitted pipeline (sklearn.base.clone(pipeline)), not inside a wrapper: "
    "the explainer then fits it and takes the features its final estimator was trained on."
)


def cross_fit_cause(steps):
    """The sentence that says why a pipeline's training features are not transform's."""
    if not steps:
        return (
            "A preprocessing step gave the training rows other features at the "
            "pipeline's fit than transform() gives them (its fit_transform is not "
            "fit().transform(): cross fitting, a leave-one-out encoding, random noise), "
            "and the final estimator was trained on those."
        )
    why = []
    if any("(TargetEncoder)" in step for step in steps):
        why.append(
            "TargetEncoder's fit_transform cross fits: each training row is encoded with "
            "the targets of the other folds, not its own"
        )
    if any("shrinkage=" in step for step in steps):
        why.append(
            "a smoothed bootstrap (shrinkage) adds random noise to each copy it draws, "
            "which no transform() gives"
        )
    return (
        f"Step(s) {', '.join(steps)} gave the training rows other features at the "
        f"pipeline's fit than transform() gives them ({'; '.join(why)}), and the final "
        "estimator was trained on those."
    )


def explanation_notes(explainer):
    """What the scores do not include, in words (the explanation's ``notes``)."""
    notes = []
    if explainer.trak_ is not None:
        n_used = len(explainer.trak_.used)
        kind, grads = (
            ("TRAK", f"randomly projected to {explainer.trak_.members[0].F.shape[1]} dimensions")
            if explainer.trak_.method == "trak"
            else ("Gauss-Newton", "exact, not projected")
        )
        if kind == "TRAK" and explainer.trak_.members[0].projector is None:
            grads = (
                f"exact, not projected: n_components={explainer.n_components} is at least "
                f"the {explainer.trak_.members[0].F.shape[1]} parameters differentiated, "
                "and a projection to as many dimensions or more keeps nothing more"
            )
        notes.append(
            f"neural model: the scores are {kind} estimates of the first-order effect "
            "of removing a row, under a damped Gauss-Newton approximation of the loss "
            f"curvature (training gradients {grads}), averaged over {n_used} model(s) "
            "(n_models); not exact influence. Retraining the network without a row can "
            "move its margins differently (its training is not convex, and random); "
            "score() measures how well the scores predict retraining."
        )
        penalty = getattr(explainer.trak_, "penalty", "no L2")
        notes.append(
            "neural curvature: G + damping_ I, G the Gauss-Newton matrix summed over "
            f"the {explainer.n_train_} training rows, damping_ = {explainer.damping_:.3g} "
            f"({explainer.trak_.selection['rule']}); of the model's own L2 penalty it "
            f"includes {penalty}."
        )
    leverage = getattr(explainer, "leverage_", None)
    route = getattr(explainer, "hessian_route_", None) or {}
    if leverage is None and route.get("route") == "matrix_free":
        notes.append(
            "leverage not computed (matrix-free route: one solve per training row): a "
            "refit without a row moves the margins about 1 / (1 - leverage) times its "
            "score, which may be far more than the score for a row of high leverage; "
            "solver='woodbury' computes the leverages."
        )
    high = np.flatnonzero(leverage > HIGH_LEVERAGE) if leverage is not None else []
    if len(high):
        top = int(high[np.argmax(leverage[high])])
        times = 1.0 / (1.0 - leverage[top]) if leverage[top] < 1 else float("inf")
        notes.append(
            f"{len(high)} training row(s) have leverage above {HIGH_LEVERAGE} "
            f"(leverage_; highest {leverage[top]:.3g}, train_index {top}): a score is "
            "the first-order effect of removing the row, and a refit without such a "
            f"row moves the margins about 1 / (1 - leverage) times as much (up to "
            f"{times:.3g} times its score)."
        )
    # (from the labels: explainers pickled before say it too)
    lone = lone_class_note(
        explainer.model_,
        explainer.y_,
        neural=explainer.trak_ is not None,
        ids=getattr(explainer, "train_row_ids_", None),
    )
    notes += [] if lone is None else [lone]
    split = getattr(explainer, "_split_note", None)  # (older pickles lack it)
    notes += [] if split is None else [split]
    stationary = getattr(explainer, "stationarity_", None)
    if stationary is not None and NOTE_STATIONARY < stationary <= NOT_STATIONARY:
        notes.append(
            f"{type(explainer.model_).__name__} is not exactly at the minimum of its "
            f"objective: the scores differ from those at the minimum by about "
            f"{stationary:.1%} (stationarity_{_sampled(explainer)}; measured 1 to 1.5 "
            "times it against the "
            "exact minimiser's scores); lower tol or raise max_iter for exact scores "
            "(sag and saga stop far from the minimum at the default tol)."
        )
    notes += cross_fit_notes(explainer)
    notes += repeated_rows_notes(explainer)
    notes += merged_rows_notes(explainer)
    if getattr(explainer, "_rows_unknown", None):
        notes.append(explainer._rows_unknown)
    if not explainer.fixed_steps_:
        return notes
    return notes + [
        f"preprocessing held fixed: {', '.join(explainer.fixed_steps_)} learned from the "
        "training rows, and the scores do not include how removing a row would "
        f"change them; each score is the row's effect on {type(explainer.model_).__name__} "
        "through its transformed features. Removing a row and refitting the whole "
        "pipeline also refits these steps (for a StandardScaler the difference is "
        "usually small; a PCA or a target encoder can move the features of every "
        "row)."
    ]


def repeated_rows_notes(explainer):
    """The note on training rows that are copies of one row (an over-sampler repeated
    them, or the data given to the fit did): each copy is scored apart, and removing the
    row removes every copy."""
    ids = getattr(explainer, "train_row_ids_", None)
    if ids is None or ids.size < 2:
        return []
    _, counts = np.unique(ids, return_counts=True)
    repeated = counts[counts > 1]
    if not repeated.size:
        return []
    return [
        f"{int(repeated.sum())} of the {ids.size} training rows are copies of "
        f"{repeated.size} row(s) (one row id given to the fit more than once: by a "
        "sampler such as RandomOverSampler, or in the data, such as one file read twice "
        f"and concatenated; at most {int(repeated.max())} copies of one): each copy is "
        "scored apart, as one "
        "training row of the model, and top() lists the copies of one file line apart. "
        "Removing that line removes every copy, whose first-order effect is the sum of "
        "its copies' scores (by_source() sums them)."
    ]


def merged_rows_notes(explainer):
    """The note on training rows a merge built from one parent file line (the one side
    of a one-to-many :func:`sktraceprop.merge`): each is scored apart, and removing the
    line removes every training row built from it.

    A line is shared when it is a parent of several distinct merged rows; copies of one
    merged row (an over-sampler's) are the other note's.
    """
    rows = getattr(explainer, "_train_rows", None)
    if rows is None or "via" not in rows:
        return []
    merged = rows[rows["via"].notna()]
    train_index = merged["train_index"].to_numpy()
    parent = merged["row_id"].to_numpy()
    built = explainer.train_row_ids_[train_index]
    lines, n_built = np.unique(
        np.unique(np.column_stack([parent, built]), axis=0)[:, 0], return_counts=True
    )
    shared = lines[n_built > 1]
    if not shared.size:
        return []
    hit = np.isin(parent, shared)
    _, per_line = np.unique(
        np.unique(np.column_stack([parent[hit], train_index[hit]]), axis=0)[:, 0],
        return_counts=True,
    )
    sources = ", ".join(sorted({str(s) for s in merged["source_id"].to_numpy()[hit]}))
    return [
        f"{np.unique(train_index[hit]).size} of the {explainer.n_train_} training rows "
        f"were built by a merge (sktraceprop.merge) from {shared.size} file line(s) of "
        f"{sources} that several of them share (up to {int(per_line.max())} training "
        "rows from one line): each is scored apart, as one training row of the model, "
        "and top() lists them apart, each naming the shared line. Removing that line "
        "removes every training row built from it, whose first-order effect is the sum "
        "of their scores (the rows train_rows lists with that row_id)."
    ]


def cross_fit_notes(explainer):
    """The notes on features a cross-fitting step gave the training rows at fit."""
    where = getattr(explainer, "_fit_features", "transform")
    if where == "transform":
        return []
    steps = explainer.cross_fitted_
    if where == "fit":
        return [
            f"{cross_fit_cause(steps)} The scores take each training row's "
            "gradient at the features the final estimator was trained on (as they "
            "reached it at fit, or those an unlearner corrected it on); the rows to "
            "explain are transformed by transform(), as they are predicted."
        ]
    measured = getattr(explainer, "stationarity_", None)
    measured = (
        ""
        if measured is None
        else f" (stationarity_ = {measured:.2g}: 0 means it is; above 0.1 the scores "
        "do not say what removing a row does)"
    )
    return [
        f"{cross_fit_cause(steps)} The explainer did not see those features (the "
        "pipeline was fitted before it, inside a wrapper, or with a sampler, or an "
        "unlearner corrected it and was not given): the "
        "scores take the training rows at transform's features, where the model is "
        f"not at its minimum{measured}. {SEE_THE_FIT}"
    ]


def unseen_features_warning(explainer):
    """Why the training rows are taken at transform's features, which the final
    estimator was perhaps not fitted on (``_fit_features == "unknown"``)."""
    measured = getattr(explainer, "stationarity_", None)
    measured = (
        ""
        if measured is None
        else f" (stationarity_ = {measured:.2g} measures how far the model is from "
        "the minimum there: 0 means it is; above 0.1 the scores do not say what "
        "removing a row does)"
    )
    return (
        f"{cross_fit_cause(explainer.cross_fitted_)} The explainer cannot see those "
        "features (a pipeline fitted before it or inside a wrapper, or a model an "
        "unlearner corrected, given without the unlearner): the scores take the "
        "training rows at transform's features, where the model is not at its "
        f"minimum{measured}. Explain the unlearner itself, which keeps them, or "
        "an unfitted pipeline (sklearn.base.clone(pipeline)), not inside a "
        "wrapper: the explainer then fits it and takes the features its final "
        "estimator was trained on."
    )


def unrecorded_rows_note(explainer):
    """The note for a linear model fitted before the explainer whose training rows
    nothing records (no run, no unlearner): ``stationarity_`` is the only check that
    ``X`` holds them, and a few rows more or less barely move it."""
    return (
        f"{type(explainer.model_).__name__} was fitted before the explainer, outside a "
        "traced pipeline: nothing records which rows it was trained on, so the scores "
        "take the rows of X given to fit as its training rows. stationarity_ "
        f"({explainer.stationarity_:.2g}) checks them only in part: a few rows it did not "
        "train on, or that X lacks, barely move it (0.012 for a LogisticRegression "
        "fitted on 950 of the 1000 rows given), and such a row gets a score all the same, "
        "though it had no influence. Fit it in a TracedPipeline (its run records the "
        "rows, which the explainer then checks), or pass an unfitted clone for the "
        "explainer to fit."
    )


def stationarity_warning(explainer):
    """``(message, category)`` of the warning at fit when the model is not at the
    minimum of the objective whose derivatives the scores are, or when the features it
    was fitted on are unknown (``stationarity_`` measured); None if neither."""
    if explainer.stationarity_ > NOT_STATIONARY and explainer._fit_features == "unknown":
        return (
            f"{type(explainer.model_).__name__} is not at the minimum of its objective on "
            "the training rows' features as the fitted pipeline's transform gives them: "
            f"the rows' effects at that minimum differ by {explainer.stationarity_:.0%} "
            f"(stationarity_{_sampled(explainer)}). {cross_fit_cause(explainer.cross_fitted_)} "
            "The scores are "
            "taken at transform's features, so they do not say what removing a row "
            f"does. {SEE_THE_FIT}",
            ConvergenceWarning,
        )
    if explainer._fit_features == "unknown":
        return unseen_features_warning(explainer), LineageWarning
    if explainer.stationarity_ > NOT_STATIONARY:
        return (
            f"{type(explainer.model_).__name__} is not at the minimum of the objective the "
            "influence scores differentiate: at that minimum (one Newton step away) the "
            f"training rows' effects differ by {explainer.stationarity_:.0%} "
            f"(stationarity_{_sampled(explainer)}), "
            "so the scores do not say what removing a row does. Causes: the solver "
            "stopped early (raise max_iter, lower tol; SGDClassifier: average=True, "
            "tol=None, more iterations), the model was fitted with sample_weight "
            "that was not passed to InfluenceExplainer.fit, or the objective has no "
            "minimum (classes a hyperplane separates, with no penalty)"
            + (
                "; or a preprocessing step gave the training rows other features at "
                "fit than its transform gives them (a fit_transform that is not "
                "fit().transform(): cross fitting, leave-one-out encoding, noise), "
                f"which the explainer did not see. {SEE_THE_FIT}"
                if explainer._fit_features == "transform" and explainer.transformer_ is not None
                else "."
            ),
            ConvergenceWarning,
        )
    return None


def _sampled(explainer):
    """Says when ``stationarity_`` was measured on a sample of the training rows."""
    measured, n_rows = getattr(explainer, "_stationarity_rows", (None, 0))
    return sampled_phrase(measured, n_rows)
