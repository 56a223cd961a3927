"""``sktraceprop runs`` and ``trace``: the runs a store keeps, and a training row's
source file, line and ops."""

import warnings

from ._cli_common import _print, _shown, _UsageError, _verified_store
from ._cli_lines import _line_text
from .exceptions import ChangedSourceWarning


def _cmd_runs(args, out):
    store = _verified_store(args.db)
    runs = store.list_runs()
    if runs.empty:
        _print(f"{args.db}: no runs", out=out)
        return 0
    _print(f"{args.db}: {len(runs)} run(s), oldest first (times UTC)", out=out)
    removed = _removed_rows(store)
    for r in runs.itertuples():
        estimator = _shown(r.estimator.rsplit(".", 1)[-1])
        sources = ", ".join(map(_shown, r.sources))
        _print(
            f"{_shown(r.run_id)}  {_shown(r.created_at)}  {estimator:<22} {r.n_samples:>9} "
            f"rows  {_shown(_purpose_words(r))}  {sources}" + removed.get(r.run_id, ""),
            out=out,
        )
    return 0


def _removed_rows(store):
    """``{run id: words}`` for the runs an unlearner removed rows from since their fit:
    the rows and sources a run lists are those it was fitted on, which the model it
    describes no longer holds all of."""
    rows, counted, seqs = {}, {}, {}
    for event in store.events(kind="unlearning"):
        run_id, payload = event["run_id"], event["payload"]
        if "row_ids" in payload:
            rows.setdefault(run_id, set()).update(int(i) for i in payload["row_ids"])
        else:  # (an event that lists no row ids: its count)
            counted[run_id] = counted.get(run_id, 0) + int(payload.get("n_removed", 0))
        seqs.setdefault(run_id, []).append(str(event["seq"]))
    return {
        run_id: f"  ({len(rows.get(run_id, ())) + counted.get(run_id, 0)} of its rows "
        "removed since by unlearning event"
        f"{'s' if len(seqs[run_id]) > 1 else ''} {', '.join(seqs[run_id])})"
        for run_id in seqs
    }


def _purpose_words(run):
    """A listed run's purpose, and its part in a search or cross-validation call."""
    words = run.purpose if run.purpose is not None else "purpose-not-recorded"
    if run.search_role == "refit":
        words += f" (refit of search {run.search_id or 'not known'})"
    elif run.search_role == "cv_fold":
        words += f" (split of search {run.search_id or 'not known'})"
    return words


def _cmd_trace(args, out):
    store = _verified_store(args.db)
    run = store.load_run(args.run)
    try:
        with warnings.catch_warnings():
            # (each row's line is shown below only from the bytes read, or says why not)
            warnings.simplefilter("ignore", ChangedSourceWarning)
            frame = run.trace(args.row)
    except IndexError as exc:
        raise _UsageError(str(exc)) from None
    from ._lineage._ids import codes_of
    from .stores._erased_rows import erased_rows

    removed_by = _removals_of(store, run)
    erased_by = erased_rows(store, run)
    for row in frame.itertuples():
        source = run.source(codes_of(row.row_id))
        via = getattr(row, "via", None)
        # the path the run's rows were read from; for a file read from several paths
        # (copies, one source_id) by a fit that cannot say which, every path
        paths = source.uris() if source.kind == "file" else [row.uri]
        where = (
            f"of {_shown(paths[0])}"
            if len(paths) == 1
            else f"of one of {len(paths)} paths read with the same bytes, "
            f"{', '.join(map(_shown, paths))} (which one this row was read from is not "
            "recorded; the line is the same in each)"
        )
        _print(
            f"training row {row.train_index} of run {_shown(run.run_id)}: "
            f"{_shown(row.source_id)}, line {row.line} {where}"
            + (f" (through merge {_shown(via)})" if via else ""),
            out=out,
        )
        _print(f"  ops: {', '.join(map(_shown, row.ops)) or 'none'}", out=out)
        removal = removed_by.get(int(run.row_ids[row.train_index]))
        erasure = erased_by.get(int(row.train_index))
        if erasure is not None:
            _print(
                f"  named by erasure request event seq {erasure['seq']} "
                f"({erasure['created_at']}; {_shown(erasure['payload']['reason'])}): its values "
                "are not shown (an erasure changes the store's record, not the source file)",
                out=out,
            )
            if not erasure["carried_out"]:
                _print(
                    "  that request was not carried out for this run: no store.redaction "
                    "event of the run names it (its writer stopped or failed part way, or "
                    "the run was stored after the request, on the rows it named), so "
                    "the run still holds what it would erase; run the request again "
                    "(sktraceprop erase, or store.erase_rows)",
                    out=out,
                )
        elif removal is not None:
            _print(
                f"  removed from the model by unlearning event seq {removal['seq']} "
                f"({removal['created_at']}): its values are not shown (a removal changes "
                "the model, not the source file, which may still hold the line)",
                out=out,
            )
        elif source.kind == "file":
            for path in paths:  # (the same bytes: the first path that still holds them)
                encodings = [r.get("encoding") for r in source.reads()]
                text, why = _line_text(path, row.line, source.sha256, encodings)
                if why is None:
                    break
            _print(f"  line {row.line}: {_shown(text)}" if why is None else f"  ({why})", out=out)
    return 0


def _removals_of(store, run):
    """``{training row id: unlearning event}``: the run's rows an unlearner removed."""
    out = {}
    for event in store.events(run.run_id, kind="unlearning"):
        for row_id in event["payload"].get("row_ids", ()):
            out.setdefault(int(row_id), event)
    return out
