"""The unlearner's copy of the run after a removal: true of the rows the model holds.

A traced pipeline's ``lineage_`` is the record of its fit. The stored record is
append-only (under the store's hash chain) and keeps what it said at fit; the copy the
unlearner holds is rewritten after each removal so that it names no value of a removed
row, its training rows are the retained rows and its statistics describe them:

- feature names that only removed rows produced (one-hot categories) are dropped, and
  so are those a refitted limit now leaves out (``min_df``, ``max_features``); those
  the refitted preprocessing outputs and the fit did not (a term ``max_df`` excluded
  before) are added, with their lineage;
- ``row_ids`` (and ``input_row_ids``) no longer list the removed rows, nor ``sources``
  a source all of whose rows were removed;
- ``source_stats`` is counted again over the retained rows (rows per source, label
  balance, missing values) from the data the removal method keeps; what the method
  does not keep in the form given to ``fit`` is not recounted, and ``retained`` says
  so instead of keeping a figure that counts removed rows;
- ``fit_params``: sample weights are recorded again over the retained rows (digest,
  counts, sum), and their note with them;
- ``changed_columns`` and ``rows_compared`` (the columns changed after loading, counted
  on the witness rows of the data given to fit) are not recounted: each entry says
  (``retained``) that its counts are the fit's, over removed rows too.
"""

import dataclasses

import numpy as np
from sklearn.pipeline import Pipeline

from .._lineage._feature_dict import by_feature
from .._lineage._features import feature_lineage
from .._lineage._fingerprint import SCHEME as FINGERPRINT_SCHEME
from .._lineage._fingerprint import fingerprint
from .._lineage._fit_params import fit_params_notes, fit_params_record
from .._lineage._ids import codes_of
from .._lineage._merged_parents import ancestor_codes
from .._lineage._record import collect_ops
from .._lineage._stats import source_stats
from .._lineage._stats import target_kind as _target_kind
from .._lineage._trust import counted_at_fit

__all__ = [
    "changes_of_fit",
    "redact_features",
    "retained_fit_params",
    "retained_rows_of",
    "retained_stats",
    "unlearner_run_copy",
]


def redact_features(lineage, preprocessing, final_name, note, X=None):
    """A copy of the run ``lineage`` listing only the feature names the refitted
    ``preprocessing`` steps still produce (the others came from removed rows only), with
    the lineage of the features they now name otherwise."""
    pre = Pipeline(preprocessing)
    fresh = {op.name: op for op in collect_ops(pre)}
    try:
        order = [str(n) for n in pre.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError, NotImplementedError):
        order = []
    produced = set(order)

    def trim(names, allowed):
        return [n for n in names if n in allowed]

    ops = []
    for op in lineage.ops:
        if op.name in fresh:
            new = fresh[op.name]
            op = dataclasses.replace(
                op, features_in=list(new.features_in), features_out=list(new.features_out)
            )
        elif op.name == final_name:
            names = order if op.features_in and order else trim(op.features_in, produced)
            op = dataclasses.replace(op, features_in=names)
        ops.append(op)
    features = {k: v for k, v in lineage.feature_lineage.items() if k in produced}
    names_in = getattr(pre, "feature_names_in_", None)
    checks = []  # (what a fit's check said is in the run's notes already)
    traced = None if names_in is None else feature_lineage(pre, list(names_in), X, checks)
    if traced is not None and traced[0] == order:
        # features the refitted steps name otherwise (another category among the most
        # frequent) get their lineage as a fit would record it
        features = by_feature(*traced, [str(n) for n in names_in])[0]
    return dataclasses.replace(
        lineage, ops=ops, feature_lineage=features, notes=[*lineage.notes, note]
    )


def retained_rows_of(lineage, removed_ids, event):
    """A copy of the run ``lineage`` whose training rows (``row_ids``, and
    ``input_row_ids`` when recorded) no longer list ``removed_ids``.

    The model now holds only the retained rows: a run listing the removed ones would let
    an explainer score them as training rows of the corrected model.
    """
    keep = ~np.isin(lineage.row_ids, removed_ids)
    inputs = lineage.input_row_ids
    if inputs is not None:
        inputs = inputs[~np.isin(inputs, removed_ids)]
    row_ids = lineage.row_ids[keep]
    note = (
        f"{event} removed {int(np.sum(~keep))} training row(s) from this copy of the run "
        "(row_ids lists the rows the model holds; the stored run, every row it was fitted on)"
    )
    return dataclasses.replace(
        lineage,
        sources=_sources_of(lineage.sources, row_ids if inputs is None else inputs),
        row_ids=row_ids,
        input_row_ids=inputs,
        notes=[*lineage.notes, note],
    )


def _sources_of(sources, ids):
    """The records of ``sources`` that rows ``ids`` come from, directly or as parents
    of merged and aggregate rows (a source whose rows were all removed is left out)."""
    reached = ancestor_codes(sources, np.unique(codes_of(ids)).tolist())
    return {code: source for code, source in sources.items() if code in reached}


def retained_stats(stats, ids, X, y, classes, n_events):
    """``source_stats`` counted over the retained rows only.

    Parameters
    ----------
    stats : dict
        The statistics recorded at fit (for the target's name).
    ids : ndarray of int64
        Row ids of the retained rows.
    X, y : array-like or None
        The retained rows' input and targets as given to ``fit``; None when the removal
        method keeps them only transformed (then that part is not recounted).
    classes : bool
        Whether the targets are class labels.
    n_events : int
        Removals made so far, for the record.

    Returns
    -------
    stats : dict
        As :func:`~sktraceprop._lineage._stats.source_stats`, plus ``retained``: how
        many rows remain after how many removals, and what could not be recounted.
    """
    if not stats:
        return {}
    fresh = source_stats(X, y, ids, classes=classes)
    not_recounted = []
    if X is None:
        fresh["columns"] = None
        fresh["missing_note"] = (
            "not recounted after unlearning: the unlearner keeps the retained rows only "
            "as transformed features"
        )
        not_recounted.append("missing values")
    if y is None:
        reason = (
            "not recounted after unlearning: the unlearner keeps the retained rows' "
            "targets only encoded"
        )
        for record in fresh["sources"] + fresh.get("through_merges", []):
            record["labels"] = {"kind": "not recorded", "reason": reason}
        not_recounted.append("label balance")
    fresh["target"] = stats.get("target")
    fresh["retained"] = {
        "n_rows": int(len(ids)),
        "after_removals": int(n_events),
        "not_recounted": not_recounted,
    }
    return fresh


def retained_fit_params(lineage, sample_weight, n_events):
    """``(fit_params, notes)`` of the run's copy after a removal: each sample-weight
    record counted again over the retained rows' weights ``sample_weight`` (the removal
    method's; None when the fit had none), with its note.

    A weight record the retained weights cannot replace (no weights kept, another
    length) keeps its shape and dtype only and says why: its digest and sum were taken
    over removed rows too.
    """
    if not lineage.fit_params:
        return lineage.fit_params, lineage.notes
    old = {k: v for k, v in lineage.fit_params.items() if "weights" in v or "retained" in v}
    if not old:
        return lineage.fit_params, lineage.notes
    stale = set(fit_params_notes({k: v for k, v in old.items() if "weights" in v}))
    params, fresh = dict(lineage.fit_params), {}
    for name, entry in old.items():
        if sample_weight is not None and np.shape(sample_weight)[:1] == (
            lineage.row_ids.shape[0],
        ):
            # the steps the weights were given to are those of the fit
            routes = {name: entry["given_to"]} if "given_to" in entry else None
            record = fit_params_record({name: sample_weight}, routes)[name]
            fresh[name] = record
            record["retained"] = f"counted over the retained rows after {n_events} removal(s)"
        else:
            record = {k: entry[k] for k in ("kind", "shape", "dtype", "given_to") if k in entry}
            record["retained"] = (
                f"not recounted after {n_events} removal(s): the removal method keeps no "
                "weights of the retained rows; the run's stored record has the weights' "
                "digest and counts over all rows given to fit"
            )
        params[name] = record
    notes = [n for n in lineage.notes if n not in stale] + fit_params_notes(fresh)
    return params, notes


def changes_of_fit(entries, n_events):
    """``changed_columns`` or ``rows_compared`` entries of the run's copy after
    ``n_events`` removals: as recorded at fit, each saying so (``retained``). They count
    witness rows of the data given to fit, which the unlearner does not keep as given,
    so they are not recounted over the retained rows; None (not recorded) stays None."""
    if entries is None:
        return None
    said = counted_at_fit(n_events)
    return [{**e, "retained": said} for e in entries]


def corrected_fingerprints(lineage, estimator):
    """The copy with the fingerprints of the corrected model's steps.

    The copy describes the model the unlearner now holds (its retained rows, its
    features), so consumers that check a model against its run (``trace``, an
    :class:`~sktraceprop.InfluenceExplainer`) accept the corrected model and name the
    retained rows. The run stored at fit keeps the original fingerprints, and a report
    or prediction event of the corrected model says it is not that run's model.
    """
    fresh = {op.name: op.fingerprint for op in collect_ops(estimator)}
    ops = [
        dataclasses.replace(op, fingerprint=fresh[op.name]) if op.name in fresh else op
        for op in lineage.ops
    ]
    note = (
        "fingerprints of this copy are those of the corrected model; the run stored at fit "
        "keeps those of the model as fitted"
    )
    notes = list(lineage.notes) + ([note] if note not in lineage.notes else [])
    kept = [op.name for op in lineage.ops if op.name not in fresh]
    if kept:
        # steps fitted outside the model (upstream ops): not the unlearner's to correct
        scheme = lineage.fingerprint_scheme
        made = (
            "by fingerprint scheme " + str(scheme)
            if scheme is not None
            else "by a fingerprint scheme the run did not record (1 or 2)"
        )
        said = (
            f"op(s) {', '.join(kept)} (fitted outside the model) keep the fingerprints "
            f"recorded at fit, made {made}"
            + (
                f", not by scheme {FINGERPRINT_SCHEME} as this copy's other fingerprints"
                if scheme != FINGERPRINT_SCHEME
                else ""
            )
        )
        notes += [said] if said not in notes else []
    return dataclasses.replace(
        lineage,
        ops=ops,
        model_fingerprint=fingerprint(estimator),
        fingerprint_scheme=FINGERPRINT_SCHEME,
        notes=notes,
    )


def _features_note(seq, removal):
    """The run copy's note on the feature names a removal's refitted preprocessing
    dropped (only removed rows had them, or a limit on the retained rows now leaves them
    out) and added (a limit left them out at fit)."""
    parts = []
    if removal.dropped_features:
        parts.append(
            f"removed {len(removal.dropped_features)} feature name(s) that the "
            "preprocessing refitted on the retained rows no longer outputs from"
        )
    if removal.added_features:
        parts.append(
            f"added {len(removal.added_features)} feature name(s) that the preprocessing "
            "refitted on the retained rows outputs and the fitted one did not (e.g. a term "
            "a document-frequency or max_features limit excluded) to"
        )
    return f"unlearning event {seq} {' and '.join(parts)} this copy of the run"


def unlearner_run_copy(unl, lineage, event, removal, retained, model=None):
    """The copy of the run ``lineage`` the unlearner ``unl`` holds after ``removal``
    (its ``event``, not yet logged), naming no value of a removed row, with the
    ``retained`` rows as its training rows and their statistics (the stored record keeps
    what it said at fit). ``model`` holds the corrected steps (``unl.estimator_`` where
    None: swapped in already)."""
    model = unl.estimator_ if model is None else model
    n_events = len(unl.unlearning_log_) + 1
    X, y = removal.method.held_data()
    if removal.dropped_features or removal.added_features:
        lineage = redact_features(
            lineage,
            removal.preprocessing,
            model.steps[-1][0],
            _features_note(event.get("seq", n_events), removal),
            X,
        )
    lineage = retained_rows_of(
        lineage,
        unl.train_row_ids_[~retained],
        f"unlearning event {event.get('seq', n_events)}",
    )
    stats = retained_stats(
        lineage.source_stats,
        unl.train_row_ids_[retained],
        X,
        y,
        classes=_target_kind(model),
        n_events=n_events,
    )
    fit_params, notes = retained_fit_params(
        lineage, getattr(removal.method, "sample_weight", None), n_events
    )
    corrected = corrected_fingerprints(lineage, model)
    # the notes on the fingerprints (whose they are) with those on the fit parameters
    said = [n for n in corrected.notes if n not in lineage.notes and n not in notes]
    return dataclasses.replace(
        corrected,
        source_stats=stats,
        fit_params=fit_params,
        notes=notes + said,
        changed_columns=changes_of_fit(lineage.changed_columns, n_events),
        rows_compared=changes_of_fit(lineage.rows_compared, n_events),
    )
