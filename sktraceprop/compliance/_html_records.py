"""The report page's record-keeping sections: the runs, the prediction log, explanations
and removals; the report's integrity and how to check it (retention:
:mod:`._html_retention`)."""

from ._html_charts import _svg_months
from ._html_parts import _e, _iso, _kv, _table


def _run_purpose(run):
    """A listed run's purpose and model-selection role, in words (reports of format 3)."""
    if "purpose" not in run:
        return "not listed (a report of format 1 or 2)"
    words = str(run["purpose"]) if run["purpose"] is not None else "not recorded"
    if run.get("search_role") == "refit":
        words += ", the refit of a search"
    elif run.get("search_role") == "cv_fold":
        words += ", one split of a cross-validation"
    if run.get("search_role") is not None:
        words += f" ({run['search_id'] or 'which call: not known'})"
    return words


def _source_rows(removal):
    """A removal's distinct source rows per source, with its counts note, in words."""
    if "source_rows" not in removal:
        return _e("not in reports of format 7 and earlier (see the event)")
    if removal["source_rows"] is None:
        return _e("not recorded by the removal's event (logged by an older sktraceprop)")
    note = removal.get("counts_note")
    return _e(removal["source_rows"]) + (f"<br><small>{_e(note)}</small>" if note else "")


def _certificate(removal):
    """A removal's certificate, with its float64 rounding bound where the event has one."""
    text = _e(removal["certificate"])
    if "certificate_rounding" not in removal:
        return text
    bound = _e(removal["certificate_rounding"])
    return f"{text}<br><small>float64 rounding bound: {bound} per row</small>"


def _erasure_rows(pe):
    """The prediction log's rows on calls erased at request (format 16)."""
    if pe is None:
        return [["Calls erased at request", "not accounted for in this report's format"]]
    n = pe["n_calls_erased"]
    calls = "none"
    if n:
        calls = (
            f"{n} call(s), {pe['n_rows_erased']} row(s), logged from "
            f"{_e(pe['first_erased_call'])} to {_e(pe['last_erased_call'])} "
            f"({pe['n_calls_erased_in_window']} in the six months before the report): "
            "their input rows can no longer be tied to them; their time, model and "
            "outputs stay under the hash chain"
        )
    erasures = "; ".join(
        f"event {e['seq']} at {_e(e['created_at'])}: "
        + (_e(e["reason"]) if e["reason"] else "no reason recorded")
        for e in pe["erasures"]
    )
    return [
        ["Calls erased at request", calls],
        ["Explanations erased", str(pe["n_explanations_erased"])],
        ["Erasures recorded in the store", erasures or "none"],
        ["Calls logged unsalted (cannot be erased)", str(pe["n_calls_unsalted"])],
    ]


def _section_records(report):
    rk = report["record_keeping"]
    store = rk["store"]
    head = store["chain_head"]
    checkpoints = store["checkpoints"]
    signed = ("signed: " if checkpoints["signed"] else "not shown signed: ") + _e(
        checkpoints["note"]
    )
    p = rk["predictions"]
    methods = "; ".join(
        f"{_e(k)}: {v['calls']} calls, {v['rows']} rows" for k, v in p["by_method"].items()
    )
    classes = "; ".join(f"{_iso(k)}: {v}" for k, v in p["predicted_classes"].items())
    removals = [
        [
            str(r["seq"]),
            _e(r["created_at"]),
            _e(r["method"]),
            _e(r["n_removed"]),
            _e(r["sources"]),
            _source_rows(r),
            _certificate(r),
            _e(r["preprocessing"]),
            _e(r["caveat"]),
        ]
        for r in rk["removals"]
    ]
    this = report["model"]["run_id"]
    runs = [
        [
            f"<code>{_e(r['run_id'])}</code>"
            + (" <strong>(this model)</strong>" if r["run_id"] == this else ""),
            _e(r["created_at"]),
            f"<code>{_e(r['estimator'])}</code>",
            str(r["n_samples"]),
            _e(", ".join(r["sources"])),
            _e(_run_purpose(r)),
        ]
        for r in rk["runs"]
    ]
    e = rk["explanations"]
    return (
        '<section id="records"><h2>Record-keeping</h2>'
        + _kv(
            [
                ["Store", f"{_e(store['type'])} <code>{_e(store['location'])}</code>"],
                ["Runs stored", str(store["n_runs"])],
                [
                    "Events in the hash chain",
                    f"{store['n_chain_events']}: {store['n_audit_events']} audit events "
                    "logged by the system's use and its people (predictions, explanations, "
                    f"removals, reviews) and {store['n_store_events']} the store wrote to "
                    "put its runs and sources under the chain",
                ],
                [
                    "Chain head",
                    f"event {head['seq']} at {_e(head['created_at'])}, "
                    f'<span class="hash">{_e(head["hash"])}</span>',
                ],
                ["Chain verified at", _e(store["chain_verified_at"])],
                ["Checkpoints", signed],
            ],
        )
        + "<h3>Prediction log (this model)</h3>"
        + _kv(
            [
                ["Calls logged", str(p["n_calls"])],
                ["Rows predicted", str(p["n_rows"])],
                ["First / last call (UTC)", f"{_e(p['first'])} / {_e(p['last'])}"],
                ["By method", methods or "none"],
                ["Predicted classes", classes or "none"],
                [
                    "Calls by a model changed since its run",
                    str(p["calls_by_a_model_changed_since_fit"]),
                ],
                *(
                    [
                        [
                            "Calls by a model whose steps cannot be checked against its run "
                            "(recorded by fingerprint scheme 1 or none)",
                            str(p["calls_by_a_model_unchecked_since_fit"]),
                        ]
                    ]
                    if "calls_by_a_model_unchecked_since_fit" in p
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model changed, or whose steps cannot be checked "
                            "(logged before the two were told apart)",
                            str(p["calls_by_a_model_changed_or_unchecked_since_fit"]),
                        ]
                    ]
                    if "calls_by_a_model_changed_or_unchecked_since_fit" in p
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 1 only "
                            "(which some different models share)",
                            str(p["calls_matched_by_old_fingerprint_scheme"]),
                        ]
                    ]
                    if "calls_matched_by_old_fingerprint_scheme" in p
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 2 only "
                            "(which names functions and classes, not their code)",
                            str(p["calls_matched_by_fingerprint_scheme_2"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_2" in p  # (format 12)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 3 only "
                            "(which names user classes' constants, not their values)",
                            str(p["calls_matched_by_fingerprint_scheme_3"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_3" in p  # (format 13)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 4 only "
                            "(which names packages from an index, not their code)",
                            str(p["calls_matched_by_fingerprint_scheme_4"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_4" in p  # (format 14)
                    else []
                ),
                *(
                    [
                        [
                            "Calls by a model matched to its run by fingerprint scheme 5 only "
                            "(which names a user function's modules, not the helpers it "
                            "calls through them)",
                            str(p["calls_matched_by_fingerprint_scheme_5"]),
                        ]
                    ]
                    if "calls_matched_by_fingerprint_scheme_5" in p  # (format 15)
                    else []
                ),
                *_erasure_rows(rk.get("prediction_erasures")),
                ["Digest of the logged calls", f'<span class="hash">{_e(p["digest"])}</span>'],
            ],
        )
        + _svg_months(p["by_month"])
        + _calls_by_model(rk.get("calls_by_model"), this)
        + "<h3>Explanations logged</h3>"
        + f"<p>{e['n_calls']} explanation(s) of {e['n_rows']} row(s)"
        + (f", from {_e(e['first'])} to {_e(e['last'])}" if e["n_calls"] else "")
        + ".</p><h3>Removals (unlearning)</h3>"
        + (
            _table(
                [
                    "Event",
                    "Time (UTC)",
                    "Method",
                    "Training rows removed",
                    # (the event's 'sources': a merged row under each of its sources)
                    "Training rows removed, per source",
                    # (the event's 'source_rows': file lines or frame rows, each once)
                    "Source rows behind them, per source",
                    "Certificate",
                    "Preprocessing",
                    "Caveat",
                ],
                removals,
            )
            if removals
            else "<p>No removal is recorded for this model.</p>"
        )
        + "<h3>Runs in the store</h3>"
        + _table(["Run", "Created (UTC)", "Estimator", "Rows", "Sources", "Purpose"], runs, (3,))
        + "</section>"
    )


def _calls_by_model(entries, this):
    """The table of each model's logged calls measured apart (format 17's
    ``calls_by_model``), which Art. 26(5) states: a model silent for weeks in a store
    shared with another is seen here, not only in the article's text. Nothing for a
    report of an earlier format (it holds none)."""
    if entries is None:
        return ""
    if not entries:
        return "<h3>Logged calls by model</h3><p>The store logs no call of any model.</p>"
    rows = [
        [
            f"<code>{_e(e['run_id'])}</code>"
            + (" <strong>(this model)</strong>" if e["run_id"] == this else ""),
            str(e["n_calls"]),
            f"{_e(e['earliest_logged_use'])} / {_e(e['latest_logged_use'])}",
            f"{e['days_unlogged_use_before_report']:.1f}",
            "n/a (fewer than two calls)"
            if e["longest_unlogged_use_days"] is None
            else f"{e['longest_unlogged_use_days']:.1f} ({_e(e['longest_unlogged_use_from'])} "
            f"to {_e(e['longest_unlogged_use_to'])})",
        ]
        for e in entries
    ]
    return "<h3>Logged calls by model</h3>" + _table(
        [
            "Run",
            "Calls",
            "First / last call (UTC)",
            "Days with no call before the report",
            "Longest interval with no call, days (from, to)",
        ],
        rows,
        (1, 3),
    )


def _section_integrity(report):
    i = report["integrity"]
    sig = i["signature"]
    signed = (
        f"Ed25519, key SHA-256 <span class='hash'>{_e(sig['public_key_sha256'])}</span>"
        if sig
        else "not signed"
    )
    return (
        '<section id="integrity"><h2>Integrity</h2>'
        + _kv(
            [
                ["SHA-256 of the report", f'<span class="hash">{_e(i["sha256"])}</span>'],
                ["Signature", signed],
                ["Canonical form", _e(i["canonicalization"])],
            ],
        )
        + "<p>Check the JSON report (not this page) with "
        "<code>sktraceprop verify report.json --db STORE --public-key KEY.pub.pem</code> "
        "or <code>sktraceprop.compliance.verify(path, store=..., public_key=...)</code>."
        "</p></section>"
    )
