"""What the record holds about one run: model, features, logs, retention (its sources:
:mod:`._source_evidence`).

Every figure here is read from the run record and the store's audit events; nothing is
recomputed from files (they may have changed) and nothing is estimated.
"""

import contextlib
import hashlib
from datetime import datetime, timezone

from .._lineage._fingerprint import json_safe
from .._lineage._fingerprint_schemes import scheme_note
from .._lineage._op_rows import training_rows
from .._lineage._record import unsourced_run_columns
from ..exceptions import ComplianceError
from ._exact_ints import event_copy
from ._source_evidence import sources_section  # noqa: F401 (the report's sections)

#: Kinds of audit event summarised rather than copied into a report (one per call).
SUMMARISED_KINDS = ("prediction",)
#: Prefix of the events a store writes itself (a run or source put under the chain).
STORE_PREFIX = "store."


def all_events(store):
    """Every event of the store's hash chain, its own bookkeeping events included."""
    return store.events(include_store_events=True)


def is_store_event(event):
    """Whether the store wrote this event itself (a run or source put under the chain)."""
    return str(event["kind"]).startswith(STORE_PREFIX)


def audit_events(events):
    """The events logged by the system's use and its people, not the store's bookkeeping."""
    return [e for e in events if not is_store_event(e)]


def included(event, run_id, source_keys):
    """Whether a report on ``run_id`` copies this event in full.

    The run's own events (removals, explanations, its ``store.run`` event) and events of
    no run (reviews, and the ``store.source`` events of the run's sources), but not the
    prediction log (summarised with a digest) nor other runs' events.
    """
    kind = str(event["kind"])
    if kind in SUMMARISED_KINDS:
        return False
    if event["run_id"] == run_id:
        return True
    if event["run_id"] is not None:
        return False
    if is_store_event(event):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        return (payload.get("source_id"), payload.get("sha256")) in source_keys
    return True


def parse_time(text):
    """An ISO 8601 time as an aware UTC datetime (naive times are taken as UTC)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def months_before(moment, months):
    """The same wall-clock time ``months`` calendar months earlier (day clamped)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def model_section(run, matches=None, after_removal=None, match_caveat=None):
    """The model: class, parameters, fingerprint, versions and the training run.

    ``after_removal``: for a model an unlearner corrected, the removal event that left
    it (``seq``, ``hash`` and the corrected model's ``fingerprint`` it records).
    ``match_caveat``: what the match rests on when the record's fingerprints are of
    scheme 1 only (a record from before scheme 2), else None.
    """
    counts = training_rows(run)
    out = {
        "run_id": run.run_id,
        "trained_at": run.created_at,
        "estimator": run.estimator,
        "final_estimator": run.ops[-1].cls if run.ops else run.estimator,
        "params": json_safe(run.params),
        "fingerprint": run.model_fingerprint,
        # format 10: the scheme that made it, as the run records it (null: not recorded)
        "fingerprint_scheme": run.fingerprint_scheme,
        "fingerprint_scheme_note": scheme_note(run.fingerprint_scheme),
        "versions": dict(run.versions),
        "n_training_rows": int(run.n_samples),
        "ops": [
            {
                "name": op.name,
                "class": op.cls,
                "fingerprint": op.fingerprint,
                "features_in": [str(f) for f in op.features_in],
                "n_features_out": len(op.features_out),
                "sources": None if op.sources is None else list(op.sources),
                **_source_keys(op),
                **({} if n is None else {"training_rows": None if n < 0 else n}),
            }
            for op, n in zip(run.ops, counts)
        ],
        "notes": list(run.notes),
        "fitted_object_matches_run": matches,
        "purpose": run.purpose,
        "selection": None if run.selection is None else json_safe(run.selection),
        "selection_note": selection_note(run),
    }
    if run.fit_params:  # format 4; absent where fit was given no parameters
        out["fit_params"] = json_safe(run.fit_params)
    if after_removal is not None:
        out["fitted_object_after_removal"] = dict(after_removal)
    if match_caveat is not None:
        out["fitted_object_match_caveat"] = match_caveat
    return out


def _source_keys(op):
    """``{"source_keys": [...]}``: the ``source_id`` and SHA-256 of each source an op was
    fitted on; empty for an op of every row, or recorded before they were kept."""
    if op.source_keys is None:
        return {}
    return {"source_keys": [{"source_id": i, "sha256": sha} for i, sha in op.source_keys]}


def _progress(pair, what):
    return f"{what} {pair[0] + 1} of {pair[1]}" if pair else None


def _split_index(selection):
    """The split of a cross_validate or cross_val_predict fit, in words (None when the
    run does not record it)."""
    k = selection.get("split_index")
    return None if k is None else f"split {k + 1} in the splitter's order"


def _iteration(selection):
    """Where a halving search's split is in its ``cv_results_``, in words (None for the
    split of any other search)."""
    if "iteration" not in selection:
        return None
    if selection["iteration"] is None or selection.get("cv_results_index") is None:
        return "halving iteration not known"
    return (
        f"halving iteration {selection['iteration']}, row {selection['cv_results_index']} "
        "of the search's cv_results_"
    )


def _failed(selection):
    """How many of a search's fits on splits failed (they stored no run), in words."""
    if selection.get("n_split_fits") is None:
        return ""
    failed = selection.get("n_failed_fits") or 0
    return (
        f"; {selection['n_split_fits']} fits on splits, {failed} of which failed "
        "(error_score) and stored no run"
    )


def selection_note(run):
    """What the run's model-selection record means for the model, in words (None when
    scikit-learn's model selection did not make the fit, as far as the run records)."""
    selection = run.selection
    if selection is None:
        if run.purpose in (None, "fit"):
            return (
                "the run does not record that scikit-learn's model selection made this fit "
                "(a fit a search or cross-validation made through other code is not "
                "recognised, and runs recorded before the library recorded it do not say)"
            )
        return None
    search = selection.get("search") or "a search or cross-validation call the run does not name"
    search_id = selection.get("search_id")
    of = f"{search}" + (f" (search_id {search_id})" if search_id else "")
    if selection.get("role") == "refit":
        best = selection.get("best_index")
        return (
            f"the refit of {of}: fitted on every row given to the search, with the "
            f"parameters of the candidate it chose (best_index {best} of "
            f"{selection.get('n_candidates')} candidates, {selection.get('n_splits')} "
            f"splits each{_failed(selection)}); the fits on its splits are other runs with "
            "the same search_id"
            if search_id
            else f"the refit of {of}: fitted on every row given to the search, with the "
            f"parameters of the candidate it chose (best_index {best}); which stored runs "
            "were its splits is not known"
        )
    parts = [
        p
        for p in (
            _progress(selection.get("split_progress"), "split") or _split_index(selection),
            _progress(selection.get("candidate_progress"), "candidate"),
            _iteration(selection),
        )
        if p
    ]
    where = f" ({', '.join(parts)})" if parts else ""
    params = (
        ", with the parameters of the candidate it evaluated"
        if selection.get("candidate_params") is not None
        else ""
    )
    labels = ""
    if "labels_permuted" in selection:
        labels = {
            True: " with labels it permuted (not the data's; a test of chance)",
            False: " with the labels as given",
        }.get(selection["labels_permuted"], " with labels it may have permuted")
    return (
        f"a cross-validation fit{where} made by {of}: fitted on the "
        f"{selection.get('n_train')} training rows of one split{labels}, to be evaluated "
        f"on its {selection.get('n_test')} held-out rows{params}; a search puts its refit "
        "in use, not this fit"
    )


def features_section(run, after_removal=None):
    """Feature lineage: each model input -> columns -> sources, with aggregates named.

    ``after_removal``: for a model an unlearner corrected, the removal's seq and what
    its event records of the inputs it left (``features_after``), where they differ from
    the fit's: said in ``after_removal`` beside the fit's lineage.
    """
    sources = run.feature_sources()
    aggregates = run.feature_aggregates()
    by_id = {s.source_id: s for s in run.sources.values()}
    features = []
    for feature, columns in run.feature_lineage.items():
        aggs = []
        for agg in aggregates.get(feature, []):
            source = by_id.get(agg)
            over = (
                []
                if source is None
                else sorted(
                    {run.sources[c].source_id for c in source.parent_codes if c in run.sources}
                )
            )
            aggs.append({"source_id": agg, "computed_over": over})
        features.append(
            {
                "feature": str(feature),
                "columns": None if columns is None else [str(c) for c in columns],
                "sources": list(sources.get(feature, [])),
                "aggregates": aggs,
            }
        )
    unknown = [f["feature"] for f in features if f["columns"] is None]
    # columns no source holds: computed outside the pipeline, from what is not recorded
    outside = set(unsourced_run_columns(run))
    no_source = [f["feature"] for f in features if outside & set(f["columns"] or ())]
    # columns identified as another source's column attached by position, without lineage
    attached = [
        {
            **{k: e[k] for k in _ATTACHED_KEYS},
            "features": [
                f["feature"] for f in features if e["input_column"] in (f["columns"] or ())
            ],
        }
        for e in run.attached_columns
    ]
    # A group statistic joined back to rows carries every row of the group into each
    # row's value: computed over several sources, one source's rows shape another's.
    pooled = [
        f["feature"] for f in features if any(len(a["computed_over"]) > 1 for a in f["aggregates"])
    ]
    # A target encoding, a supervised selection: each row's value (or whether the feature
    # is there) depends on the targets of every training row, of every source.
    target = run.target_features()
    return {
        "n_features": len(features),
        "known": not unknown,
        "unknown": unknown,
        "aggregated_over_several_sources": pooled,
        # (only when there are some: reports made before they were kept still verify)
        **({"from_columns_in_no_source": no_source} if no_source else {}),
        **({"attached_outside_pipeline": attached} if attached else {}),
        **({"from_the_target": target} if target else {}),
        "features": features,
        **({"after_removal": _after_removal(*after_removal)} if after_removal else {}),
    }


_ATTACHED_KEYS = (
    "input_column",
    "source_id",
    "sha256",
    "uri",
    "column",
    "match",
    "rows_matched",
    "rows_compared",
)


def _after_removal(seq, changed):
    """The model's inputs as removal ``seq`` left them (its event's ``features_after``)."""
    added = [str(name) for name in changed.get("added_since_fit", [])]
    n_dropped = int(changed.get("n_dropped_since_fit", 0))
    n_now, n_fit = int(changed.get("n_features", 0)), int(changed.get("n_features_at_fit", 0))
    return {
        "seq": int(seq),
        "n_features": n_now,
        "added": added,
        "n_dropped": n_dropped,
        "note": (
            f"the model takes {n_now} input(s), not the {n_fit} listed under features "
            f"(the run as fitted): removal seq {seq} refitted the preprocessing on the "
            f"retained rows, which output {len(added)} input(s) the fit did not (named in "
            f"'added': values of retained rows that a limit such as min_df, max_df or "
            f"max_features left out at fit) and no longer output {n_dropped} of the fit's "
            "(not named: they may be values of removed rows)"
        ),
    }


def prediction_digest(events):
    """SHA-256 over ``seq:hash`` lines of the given events, in order."""
    h = hashlib.sha256()
    for event in events:
        h.update(f"{event['seq']}:{event['hash']}\n".encode())
    return h.hexdigest()


@contextlib.contextmanager
def _reading(event):
    """Name the event whose payload holds what sktraceprop never writes there."""
    try:
        yield
    except (TypeError, ValueError, AttributeError) as exc:
        raise ComplianceError(
            f"audit event {event['seq']} ({event['kind']}) holds a payload sktraceprop does "
            f"not write ({exc}). The store's chain verifies, so it was appended by other "
            "code or written with the chain's hashes re-computed: check the store with the "
            "key that signs its checkpoints (verify(public_key))."
        ) from None


def _rows_of(event):
    with _reading(event):
        return int((event["payload"] or {}).get("n_rows") or 0)


def _predictions(events):
    by_method, by_month, classes = {}, {}, {}
    rows = flagged = old_scheme = scheme_2 = scheme_3 = scheme_4 = scheme_5 = 0
    for event in events:
        with _reading(event):
            payload = event["payload"] if isinstance(event["payload"], dict) else {}
            n = int(payload.get("n_rows") or 0)
            rows += n
            method = str(payload.get("method", "unknown"))
            entry = by_method.setdefault(method, {"calls": 0, "rows": 0})
            entry["calls"] += 1
            entry["rows"] += n
            month = parse_time(event["created_at"]).strftime("%Y-%m")
            entry = by_month.setdefault(month, {"calls": 0, "rows": 0})
            entry["calls"] += 1
            entry["rows"] += n
            outputs = payload.get("outputs") or {}
            for label, count in zip(outputs.get("classes") or [], outputs.get("counts") or []):
                classes[str(label)] = classes.get(str(label), 0) + int(count)
            if payload.get("replaced_since_fit") or payload.get("changed_since_fit"):
                flagged += 1
            if payload.get("matched_by_old_fingerprint_scheme"):
                # events from before scheme 3 name no schemes: theirs is scheme 1
                schemes = payload.get("old_fingerprint_schemes") or [1]
                old_scheme += 1 in schemes
                scheme_2 += 2 in schemes
                scheme_3 += 3 in schemes
                scheme_4 += 4 in schemes
                scheme_5 += 5 in schemes
    return {
        "n_calls": len(events),
        "n_rows": rows,
        "first": events[0]["created_at"] if events else None,
        "last": events[-1]["created_at"] if events else None,
        "first_seq": events[0]["seq"] if events else None,
        "last_seq": events[-1]["seq"] if events else None,
        "by_method": by_method,
        "by_month": dict(sorted(by_month.items())),
        "predicted_classes": classes,
        "calls_by_a_model_changed_since_fit": flagged,
        # format 9: answered by a model that matched its run only by fingerprint scheme 1
        "calls_matched_by_old_fingerprint_scheme": old_scheme,
        # format 12: ... only by scheme 2 (functions and classes named, not hashed)
        "calls_matched_by_fingerprint_scheme_2": scheme_2,
        # format 13: ... only by scheme 3 (user classes' constants named, not hashed)
        "calls_matched_by_fingerprint_scheme_3": scheme_3,
        # format 14: ... only by scheme 4 (a class cache hashed, index packages named)
        "calls_matched_by_fingerprint_scheme_4": scheme_4,
        # format 15: ... only by scheme 5 (a user function's module named, its helpers not)
        "calls_matched_by_fingerprint_scheme_5": scheme_5,
        "digest": prediction_digest(events),
    }


def _explanations(events):
    return {
        "n_calls": len(events),
        "n_rows": sum(_rows_of(e) for e in events),
        "first": events[0]["created_at"] if events else None,
        "last": events[-1]["created_at"] if events else None,
        "seqs": [e["seq"] for e in events],
    }


def _caveat_and_note(payload):
    """An event's caveat and note, one text (None if it has neither)."""
    said = [t for t in (payload.get("caveat"), payload.get("note")) if t]
    if not said:
        return None
    if len(said) == 1 or not all(isinstance(t, str) for t in said):
        return said[0]
    return "; ".join(said)


def _removals(events):
    out = []
    for event in events:
        p = event["payload"] if isinstance(event["payload"], dict) else {}
        out.append(
            {
                "seq": event["seq"],
                "created_at": event["created_at"],
                "method": json_safe(p.get("method")),
                "n_removed": json_safe(p.get("n_removed")),
                "sources": json_safe(p.get("sources")),
                # the distinct source rows behind them (null: the event did not count
                # them, logged by an older sktraceprop), and what tells the two apart
                "source_rows": json_safe(p.get("source_rows")),
                **({"counts_note": json_safe(p["counts_note"])} if "counts_note" in p else {}),
                **(
                    {"source_contents": json_safe(p["source_contents"])}
                    if "source_contents" in p
                    else {}
                ),
                "certificate": json_safe(p.get("certificate")),
                "preprocessing": json_safe(p.get("preprocessing")),
                "caveat": json_safe(_caveat_and_note(p)),
                "hash": event["hash"],
            }
        )
        if "model_fingerprint_after" in p:  # (events of removals made before it was kept)
            out[-1]["model_fingerprint_after"] = json_safe(p["model_fingerprint_after"])
    return out


def checkpoints_of(store, head_seq, public_key=None):
    """The store's signed checkpoints, and (with ``public_key``) what their signatures cover.

    Without a key the checkpoints are counted (``store.verify()`` has checked that they
    match the chain), but nothing says who signed them: ``signed`` stays False.
    """
    items = store.checkpoints()
    out = {
        "signed": False,
        "n_checkpoints": len(items),
        "signatures_checked": public_key is not None,
        "signed_through": None,
        "key_fingerprint": None,
    }
    if items:
        out["latest"] = json_safe(items[-1])
    if public_key is not None:
        checked = store.check_integrity(public_key, allow_unsigned_tail=True)
        out["signed_through"] = checked["signed_through"]
        out["key_fingerprint"] = checked["key_fingerprint"]
        out["signed"] = checked["signed_through"] is not None
        later = head_seq - (checked["signed_through"] or 0)
        out["note"] = (
            f"signatures checked with key {checked['key_fingerprint'][:16]}...: the chain is "
            f"signed through event {checked['signed_through']}"
            + (f"; the {later} later event(s) are not signed yet" if later else "")
        )
    elif items:
        out["note"] = (
            f"{len(items)} checkpoint(s) stored, the latest signing event "
            f"{items[-1].get('event_seq')}; their signatures were not checked (make the "
            "report with checkpoint_key= to check them)"
        )
    else:
        out["note"] = "no checkpoint of the chain has been signed: the chain is unsigned"
    return out


def store_location(store):
    path = getattr(store, "path", None)
    return {"type": type(store).__name__, "location": None if path is None else str(path)}


def record_keeping(store, run, events, now, checkpoint_key=None):
    """Runs, the chain, the prediction log, explanations and removals of the run."""
    mine = [e for e in events if e["run_id"] == run.run_id]
    predictions = [e for e in mine if e["kind"] == "prediction"]
    keys = {(s.source_id, s.sha256) for s in run.sources.values()}
    copied = [e for e in events if included(e, run.run_id, keys)]
    head = events[-1]
    runs = store.list_runs()
    return {
        "store": {
            **store_location(store),
            "n_runs": len(runs),
            "n_chain_events": len(events),
            "n_audit_events": len(audit_events(events)),
            "n_store_events": sum(map(is_store_event, events)),
            "chain_verified_at": now,
            "chain_head": {
                "seq": head["seq"],
                "hash": head["hash"],
                "created_at": head["created_at"],
            },
            "checkpoints": checkpoints_of(store, head["seq"], checkpoint_key),
        },
        "runs": [
            {
                "run_id": r.run_id,
                "created_at": r.created_at,
                "estimator": r.estimator,
                "n_samples": int(r.n_samples),
                "sources": [str(s) for s in r.sources],
                "purpose": r.purpose,
                "search_role": r.search_role,
                "search_id": r.search_id,
            }
            for r in runs.itertuples()
        ],
        "events_of_run": len(mine),
        "events_by_kind": _count_kinds(mine),
        "predictions": _predictions(predictions),
        "explanations": _explanations([e for e in mine if e["kind"] == "explanation"]),
        "removals": _removals([e for e in mine if e["kind"] == "unlearning"]),
        "included_seqs": [e["seq"] for e in copied],
    }, [event_copy(e) for e in copied]


def _count_kinds(events):
    out = {}
    for event in events:
        out[event["kind"]] = out.get(event["kind"], 0) + 1
    return dict(sorted(out.items()))


def retention_section(store, run, events, now, runs=None, run_times=False):
    """Earliest and latest logged times, and whether they span six months.

    The times are those of the store's chained events (``events``: each written by the
    store when it was logged, runs' and sources' bookkeeping events included), not the
    times the runs record of their own fits: a run saved today with an old time (copied
    from another store, or built with one) is not a log kept since then.

    ``run_times``: also count the runs' recorded times, as reports of format versions
    1-3 did (their check rebuilds them so); ``runs`` (the store's :meth:`list_runs`
    frame by default) are those runs: a check of an older report passes those stored
    up to its chain head.
    """
    times = [parse_time(e["created_at"]) for e in events]
    if run_times:
        if runs is None:
            runs = store.list_runs()
        times += [parse_time(t) for t in runs["created_at"]]
    report_time = parse_time(now)
    earliest, latest = min(times), max(times)
    limit = months_before(report_time, 6)
    covers = earliest <= limit
    mine = [e for e in events if e["run_id"] == run.run_id and e["kind"] == "prediction"]
    in_use_since = parse_time(mine[0]["created_at"]) if mine else None
    return {
        "requirement": (
            "logs automatically generated by the system kept for a period appropriate to "
            "its intended purpose, at least six months (Art. 26(6); Art. 19(1))"
        ),
        "report_time": now,
        "earliest_logged": earliest.isoformat(timespec="microseconds"),
        "latest_logged": latest.isoformat(timespec="microseconds"),
        "span_days": round((latest - earliest).total_seconds() / 86400, 6),
        "six_months_before_report": limit.isoformat(timespec="microseconds"),
        "stored_logs_cover_six_months": covers,
        "six_months_reached_on": None
        if covers
        else _six_months_after(earliest).isoformat(timespec="microseconds"),
        "first_logged_use": None
        if in_use_since is None
        else in_use_since.isoformat(timespec="microseconds"),
    }


def _six_months_after(moment):
    return months_before(moment, -6)
