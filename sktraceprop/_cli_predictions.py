"""``sktraceprop predictions``: the logged calls, or those given a CSV file's rows."""

import warnings

from ._cli_common import _count, _print, _shown, _UsageError, _verified_store


def _output_text(output):
    """One logged output (a label, or a row of scores) exactly, as one line."""
    import numpy as np

    values = np.asarray(output, dtype=object).ravel().tolist()
    return ", ".join(repr(v) if isinstance(v, float) else _shown(v) for v in values)


def _given(value):
    """A cell of ``find_predictions``' frame, ``None`` where it holds none: a frame that
    mixes calls matched as the whole batch with calls matched by one row's digest holds
    NaN, not ``None``, in those calls' ``row`` and ``matched_as`` (and ``row`` as a float)."""
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _known_run(store, run_id, db):
    """Refuse a run the store does not hold: its calls would be "no logged call", the
    answer for a run that made none."""
    if run_id is not None and run_id not in set(store.list_runs()["run_id"]):
        raise _UsageError(f"no run {_shown(run_id)!r} in {_shown(db)} (see: sktraceprop runs)")


def _cmd_predictions(args, out):
    import re

    import pandas as pd

    from ._lineage._current import old_note
    from .compliance import find_predictions, logged_outputs
    from .compliance._told_apart import UNTOLD_WORDS, run_schemes, step_columns

    if args.input is not None and args.sha256 is not None:
        raise _UsageError("give --input or --sha256, not both")
    if args.row is not None and args.input is None:
        raise _UsageError("--row needs --input (the batch the row was scored in)")
    if args.sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", args.sha256):
        raise _UsageError(
            f"--sha256 {_shown(args.sha256)!r} is not a SHA-256 (64 hexadecimal digits, "
            "as sktraceprop.compliance.hash_rows gives)"
        )
    digest = args.sha256.lower() if args.sha256 is not None else None
    store = _verified_store(args.db)
    _known_run(store, args.run, args.db)
    if args.input is not None:
        rows = pd.read_csv(args.input)
        with warnings.catch_warnings():
            # said below, from found.attrs, in the command's own words
            warnings.simplefilter("ignore", UserWarning)
            found = find_predictions(store, rows, row=args.row, run_id=args.run)
        what = f"the {_count(len(rows), 'row')} of {args.input}"
    else:
        events = store.events(args.run, kind="prediction")
        # a salted call whose salt the store no longer holds was erased at request (the
        # store verified: a salt missing otherwise is a problem verify() names)
        salts = store._raw_prediction_salts()
        if args.sha256 is not None:
            from .stores._prediction_salts import matching

            # salted calls through their salts; erased ones are found by nothing
            events = [e for e, _ in matching(events, salts, {digest: None})]
        # the runs whose scheme tells apart the steps of calls logged before
        schemes = run_schemes(store, events)
        found = [
            {
                "seq": e["seq"],
                "created_at": e["created_at"],
                "run_id": e["run_id"],
                "method": e["payload"]["method"],
                "n_rows": e["payload"]["n_rows"],
                "row": None,
                "output": logged_outputs(e["payload"]) if args.sha256 else None,
                "classes": e["payload"]["outputs"].get("classes"),
                "model_fingerprint": e["payload"].get("model_fingerprint"),
                "model_fingerprint_now": e["payload"].get("model_fingerprint_now"),
                **step_columns(e, schemes),
                "replaced_since_fit": e["payload"].get("replaced_since_fit"),
                "matched_by_old_fingerprint_scheme": e["payload"].get(
                    "matched_by_old_fingerprint_scheme"
                ),
                "old_fingerprint_schemes": e["payload"].get("old_fingerprint_schemes"),
                "erased": "input_commitment" in e["payload"] and e["seq"] not in salts,
            }
            for e in events
        ]
        found = pd.DataFrame(found)
        what = f"input rows of SHA-256 {args.sha256}" if args.sha256 else None
    if found.attrs.get("no_row_digests_message"):
        _print(f"note: {found.attrs['no_row_digests_message']}", out=out)
    if found.empty:
        tail = f" given {what}" if what else ""
        _print(f"{args.db}: no logged call{tail}", out=out)
        if found.attrs.get("not_found"):
            _print(f"  {found.attrs['not_found']}", out=out)
        return 0
    head = f"{args.db}: {_count(len(found), 'logged call')}"
    n_erased = int(found["erased"].sum()) if "erased" in found else 0
    if n_erased:
        head += f" ({n_erased} of them erased at request)"
    _print(head + (f" given {what}" if what else "") + ", oldest first (times UTC)", out=out)
    for e in found.to_dict("records"):
        e = {key: _given(value) for key, value in e.items()}
        _print(
            f"event {e['seq']}  {_shown(e['created_at'])}  run {_shown(e['run_id'])}  "
            f"{_shown(e['method'])}  {_count(e['n_rows'], 'row')}  model "
            f"{_shown(e['model_fingerprint'])}",
            out=out,
        )
        if e.get("erased"):
            _print(
                "  erased at request (a store.prediction_erasure event deleted its salt): "
                "its input rows are found by nothing now; the event keeps what the call "
                "returned",
                out=out,
            )
        if e.get("matched_as"):
            _print(f"  matched as: {e['matched_as']}", out=out)
        if e["output"] is not None:
            if e.get("positions"):
                at = ", ".join(map(str, e["positions"]))
                _print(
                    f"  row {e['row']}, at position {at} of the call's {e['n_rows']} rows: "
                    + (
                        _output_text(e["output"])
                        if len(e["positions"]) == 1
                        else "; ".join(map(_output_text, e["output"]))
                    ),
                    out=out,
                )
            elif e["row"] is not None:
                _print(f"  row {e['row']}: {_output_text(e['output'])}", out=out)
            else:
                for i, output in enumerate(e["output"]):
                    _print(f"  row {i}: {_output_text(output)}", out=out)
        if e["classes"] is not None and e["method"] != "predict":
            _print(f"  columns: classes {', '.join(map(_shown, e['classes']))}", out=out)
        for key, words in (
            ("changed_since_fit", "changed since the run's fit"),
            ("unchecked_since_fit", "cannot be checked against the run (fingerprint scheme 1)"),
            ("changed_or_unchecked_since_fit", UNTOLD_WORDS),
            ("replaced_since_fit", "replaced since the run's fit"),
        ):
            if e[key]:
                _print(f"  {words}: {', '.join(map(_shown, e[key]))}", out=out)
        if e.get("model_fingerprint_now"):
            _print(f"  answered by model {_shown(e['model_fingerprint_now'])}", out=out)
        if e.get("matched_by_old_fingerprint_scheme"):
            steps = ", ".join(map(_shown, e["matched_by_old_fingerprint_scheme"]))
            schemes = e.get("old_fingerprint_schemes")
            _print(f"  step(s) {steps}: {old_note(schemes)}", out=out)
    return 0
