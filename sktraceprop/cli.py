"""sktraceprop: lineage, audit stores and EU AI Act evidence, from the command line.

Commands:
  demo      run the end-to-end demo on the bundled two-hospital data
  runs      list the runs (fits) kept in a store
  trace     a training row's source file, line and the ops it went through
  predictions  the logged calls (predictions), or those whose input rows were a CSV file's
  report    write the compliance report of a stored run (JSON, and HTML)
  verify    check a compliance report (and, with --db, its store)
  check     the full integrity check of a SQLite store (read-only)
  erase     erase what every stored run holds of a source's rows (an erasure request)
  erase-predictions  erase the logged calls that scored a CSV file's rows

Run "sktraceprop COMMAND --help" for the options of one command.
"""

import argparse
import hashlib
import re
import sys
import warnings
from pathlib import Path

#: Magic bytes of the compressions pandas reads, and the module that opens them.
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "lzma"),
    (b"\x28\xb5\x2f\xfd", "zstandard"),
)


def _decompressed(data):
    """The bytes pandas parses of a file that may be compressed or archived."""
    import importlib
    import io
    import zipfile

    for magic, module in _COMPRESSED:
        if data.startswith(magic):
            opened = importlib.import_module(module)
            if module == "zstandard":
                return _decompressed(opened.ZstdDecompressor().stream_reader(data).read())
            return _decompressed(opened.decompress(data))
    if not data.startswith(b"PK\x03\x04"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if len(names) != 1:
            raise ValueError(f"a zip archive of {len(names)} files")
        return archive.read(names[0])


def _a_path(row):
    """A path holding a traced row's line: its ``uri``, or, for a file read from
    several paths (copies) when not known which, the first of its ``uris`` (each holds
    the same bytes)."""
    return row.uri if isinstance(row.uri, str) else row.uris[0]


def _line_of(uri, line, data=None):
    """Physical line ``line`` (1-based) of a file, as read_csv counts lines.

    Lines end with ``\n``, ``\r\n`` or a lone ``\r`` in the decompressed bytes; the
    text is decoded as UTF-8 with undecodable bytes shown as escapes (the file's
    encoding is not recorded), so a line is never shown from other bytes.
    """
    import re
    from urllib.parse import unquote, urlparse

    if data is None:
        data = Path(unquote(urlparse(uri).path)).read_bytes()
    data = _decompressed(data)
    lines = re.split(rb"\r\n|\r|\n", data)
    if data.endswith((b"\n", b"\r")):
        lines.pop()
    if not 1 <= line <= len(lines):
        return ""
    return lines[line - 1].decode("utf-8", errors="backslashreplace")


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
        print(*args, file=out if out is not None else sys.stdout)

    paths = stp.datasets.demo_paths()
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    df = pd.concat([a, b])
    df = df[df["age"] > 18].dropna(subset=["bp"])
    X, y = df.drop(columns=["label", "notes"]), df["label"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)

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
        f"certificate (retained gradient norm) {event['certificate']:.1e}"
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


EXIT_CODES = """exit codes:
  0  success (the report or store verified)
  1  verification failed: a report or store was altered or is corrupt
  2  usage error: bad arguments, missing file, unknown run id, invalid input"""


class _UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


#: What a terminal obeys rather than shows: C0 and C1 controls (escape sequences that
#: recolour, retitle, erase or move the cursor; a backspace or carriage return that
#: overwrites what was printed) and Unicode's bidirectional controls.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_NEWLINE = re.compile(f"[{_CONTROLS}\n]")


def _escaped(match):
    return match.group().encode("unicode_escape").decode("ascii")


def _shown(value):
    """A value from a store or a data file as one line of text: its control characters
    (a newline included, which would forge an output line) shown escaped (``\\x1b``)."""
    return _CONTROL_OR_NEWLINE.sub(_escaped, str(value))


def _count(n, noun, plural=None):
    """``"1 run"``, ``"3 runs"``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _print(*args, out=None, file=None):
    """Print, with control characters shown escaped: what the command prints holds
    names and lines from data files, which must reach the terminal as text."""
    text = " ".join(_CONTROL.sub(_escaped, str(a)) for a in args)
    print(text, file=file or (out if out is not None else sys.stdout))


def _open_store(db, full_check=False):
    """An existing SQLite store, read-only: no command but ``erase`` and
    ``erase-predictions`` writes to a store."""
    from .stores import SQLiteStore

    path = Path(db)
    if not path.is_file():
        raise _UsageError(f"no store at {db} (the file does not exist)")
    return SQLiteStore(path, mode="ro", check_on_open="full" if full_check else "header")


def _verified_store(db):
    """An existing SQLite store whose record verifies (:meth:`~BaseStore.verify`).

    What ``runs`` and ``trace`` print is read from the store's rows (run records,
    unlearning events) as they now read: a row edited outside sktraceprop would be
    printed as if it were the record (a removed row shown as never removed). They
    print nothing from a store that does not verify (exit 1, naming each problem).
    A schema-1 store (sktraceprop 0.1), whose runs are outside any chain, is read
    with a note saying so.
    """
    from .exceptions import CorruptStoreError, StoreError

    store = _open_store(db)
    try:
        store.verify()
    except CorruptStoreError:
        raise
    except StoreError as exc:
        if store.schema_version != 1:
            raise
        _print(f"note: {exc}", file=sys.stderr)
    return store


def _cmd_runs(args, out):
    store = _verified_store(args.db)
    runs = store.list_runs()
    if runs.empty:
        _print(f"{args.db}: no runs", out=out)
        return 0
    _print(f"{args.db}: {len(runs)} run(s), oldest first (times UTC)", out=out)
    for r in runs.itertuples():
        estimator = _shown(r.estimator.rsplit(".", 1)[-1])
        sources = ", ".join(map(_shown, r.sources))
        _print(
            f"{_shown(r.run_id)}  {_shown(r.created_at)}  {estimator:<22} {r.n_samples:>9} "
            f"rows  {_shown(_purpose_words(r))}  {sources}",
            out=out,
        )
    return 0


def _purpose_words(run):
    """A listed run's purpose, and its part in a search or cross-validation call."""
    words = run.purpose if run.purpose is not None else "purpose-not-recorded"
    if run.search_role == "refit":
        words += f" (refit of search {run.search_id or 'not known'})"
    elif run.search_role == "cv_fold":
        words += f" (split of search {run.search_id or 'not known'})"
    return words


def _line_text(uri, line, sha256):
    """The text of a file's line, if the file is still the one that was loaded."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None, "not a file"
    path = Path(unquote(parsed.path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"file not readable: {exc.strerror or exc}"
    if hashlib.sha256(data).hexdigest() != sha256:
        return None, "the file changed since it was loaded (SHA-256 differs): line not shown"
    try:
        return _line_of(uri, line, data), None
    except (OSError, EOFError, ValueError, ImportError, LookupError) as exc:
        return None, f"line not shown: the file could not be decompressed ({exc})"


def _cmd_trace(args, out):
    store = _verified_store(args.db)
    run = store.load_run(args.run)
    try:
        frame = run.trace(args.row)
    except IndexError as exc:
        raise _UsageError(str(exc)) from None
    from ._lineage._ids import codes_of
    from .stores._erase_rows import erased_rows

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
                    "event of the run names it (its writer stopped or failed part way), so "
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
                text, why = _line_text(path, row.line, source.sha256)
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


def _output_text(output):
    """One logged output (a label, or a row of scores) exactly, as one line."""
    import numpy as np

    values = np.asarray(output, dtype=object).ravel().tolist()
    return ", ".join(repr(v) if isinstance(v, float) else _shown(v) for v in values)


def _cmd_predictions(args, out):
    import pandas as pd

    from ._lineage._current import old_note
    from .compliance import find_predictions, logged_outputs

    if args.input is not None and args.sha256 is not None:
        raise _UsageError("give --input or --sha256, not both")
    if args.row is not None and args.input is None:
        raise _UsageError("--row needs --input (the batch the row was scored in)")
    store = _verified_store(args.db)
    if args.input is not None:
        rows = pd.read_csv(args.input)
        with warnings.catch_warnings():
            # said below, from found.attrs, in the command's own words
            warnings.simplefilter("ignore", UserWarning)
            found = find_predictions(store, rows, row=args.row, run_id=args.run)
        what = f"the {_count(len(rows), 'row')} of {args.input}"
    else:
        events = store.events(args.run, kind="prediction")
        if args.sha256 is not None:
            from .stores._prediction_salts import matching

            # salted calls through their salts; erased ones are found by nothing
            salts = store._raw_prediction_salts()
            events = [e for e, _ in matching(events, salts, {args.sha256: None})]
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
                "changed_since_fit": e["payload"].get("changed_since_fit"),
                "replaced_since_fit": e["payload"].get("replaced_since_fit"),
                "matched_by_old_fingerprint_scheme": e["payload"].get(
                    "matched_by_old_fingerprint_scheme"
                ),
                "old_fingerprint_schemes": e["payload"].get("old_fingerprint_schemes"),
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
    _print(head + (f" given {what}" if what else "") + ", oldest first (times UTC)", out=out)
    for e in found.to_dict("records"):
        _print(
            f"event {e['seq']}  {_shown(e['created_at'])}  run {_shown(e['run_id'])}  "
            f"{_shown(e['method'])}  {_count(e['n_rows'], 'row')}  model "
            f"{_shown(e['model_fingerprint'])}",
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


def _cmd_report(args, out):
    from .compliance import compliance_report
    from .compliance._report import check_new_file

    # both files checked before either is written: a JSON report left behind by an
    # HTML page that could not be written would refuse the command run again
    check_new_file(args.json, "report file")
    if args.html is not None:
        if Path(args.html).resolve() == Path(args.json).resolve():
            raise _UsageError(f"--html and --json both name {args.json}; nothing was written")
        check_new_file(args.html, "HTML file")
    store = _open_store(args.db)
    report = compliance_report(
        store=store,
        run_id=args.run,
        system_name=args.system_name,
        system_version=args.system_version,
        deployer_name=args.deployer,
        high_risk_category=args.category,
        intended_purpose=args.purpose,
        human_oversight=args.oversight,
        output_path=args.json,
        private_key=args.sign,
        checkpoint_key=args.checkpoint_key,
    )
    if args.html is not None:
        report.to_html(args.html)
    _print(f"wrote {args.json}" + (f" and {args.html}" if args.html else ""), out=out)
    _print(f"sha256 {report.sha256}", out=out)
    for a in report.articles:
        _print(f"  Art. {a['article']:<13} {a['status']}", out=out)
    return 0


def _cmd_verify(args, out):
    import warnings

    from .compliance import verify
    from .compliance._read_report import read_report

    store = None if args.db is None else _open_store(args.db)
    if not Path(args.report).is_file():
        raise _UsageError(f"no report at {args.report}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # said below in the command's words (--public-key, not public_key=)
        warnings.filterwarnings("ignore", message="the report is signed")
        warnings.filterwarnings("ignore", message="only the report's own content")
        verify(args.report, store=store, public_key=args.public_key)
    checked = ["schema", "content hash", "events"]
    if args.public_key is not None:
        checked.append("signature")
    if store is not None:
        checked.append(f"store {args.db}")
    _print(f"{args.report}: verified ({', '.join(checked)})", out=out)
    for w in caught:
        _print(f"note: {str(w.message).replace('(public_key=)', '(--public-key)')}", out=out)
    if args.public_key is None:
        signature = read_report(args.report)[0]["integrity"]["signature"]
        if signature is not None:
            _print(
                f"note: the report is signed (key {signature['public_key_sha256'][:16]}...); "
                "its signature was not checked: give --public-key KEY.pub.pem",
                out=out,
            )
        if store is None:
            # what a content hash alone shows: edits made without recomputing it
            _print(
                "note: without --public-key or --db, a report edited and then re-hashed "
                "passes these checks: check its signature, or check it against its store",
                out=out,
            )
        elif signature is None:
            # what the store does not record: only a signature protects it
            _print(
                "note: without --public-key, a report edited and then re-hashed is found "
                "only where the store records what was edited: not in the system and "
                "human oversight the deployer gave, the report's time and generator, the "
                "store's location or what it says of checkpoint signatures",
                out=out,
            )
    return 0


def _cmd_check(args, out):
    if args.checkpoint and args.public_key is None:
        raise _UsageError("--checkpoint needs --public-key (the key that signed it)")
    for path in args.checkpoint or ():
        if not Path(path).is_file():
            raise _UsageError(f"no checkpoint at {path}")
    store = _open_store(args.db, full_check=True)
    report = store.check(
        full=True,
        public_key=args.public_key,
        checkpoint=args.checkpoint or None,
        allow_unsigned_tail=args.allow_unsigned_tail,
    )
    _print(
        f"{args.db}: ok ({report['sqlite_check']}, {report['runs']} runs and "
        f"{report['sources']} sources checked against their digests, {report['events']} "
        f"events chained, {report['checkpoints']} checkpoint(s); chain head "
        f"{report['chain_head']})",
        out=out,
    )
    if args.public_key is not None:
        through = report["signed_through"]
        tail = report["last_seq"] - (through or 0)
        _print(
            f"signed through event {through} by key {report['key_fingerprint'][:16]}..."
            + (f"; {tail} later event(s) not signed yet" if tail else ""),
            out=out,
        )
    for said in report["not_shown"]:  # (in the library's words: keys given as arguments)
        said = said.replace("no public key given", "give --public-key").replace(
            "(checkpoint=)", "(--checkpoint)"
        )
        _print(f"note: {said}", out=out)
    for said in report["erased_bytes_left"]:
        _print(f"warning: {said}", out=out)
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="sktraceprop",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, summary, description):
        return sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("demo", "run the end-to-end demo", "Run the end-to-end demo on bundled data.")
    p.add_argument("--db", default="sktraceprop-demo.db", help="SQLite store path")
    p.add_argument("--rows", type=int, default=5, help="training rows to trace")

    p = command(
        "runs",
        "list the runs in a store",
        "List the runs (fits) kept in a store, once the store's record verifies (its hash "
        "chain, and every run and source against its digest; exit 1 naming what was "
        "altered, if anything was).",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file")

    p = command(
        "trace",
        "a training row's file, line and ops",
        "Print the source file, line and ops of training rows of a stored run (a row is its "
        "position in the data the model was fitted on), with the line's text when the file "
        "is still the one that was loaded; a row an unlearner removed is named with its "
        "removal event, its text not shown. Nothing is printed from a store whose record "
        "does not verify (exit 1, naming what was altered).",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file")
    p.add_argument("--run", required=True, metavar="R", help="run id (see: sktraceprop runs)")
    p.add_argument(
        "--row", required=True, type=int, action="append", metavar="N", help="row (repeatable)"
    )

    p = command(
        "predictions",
        "the logged calls, or those given a CSV file's rows",
        "List the logged predict-like calls of a store (UTC time, the run that answered, "
        "method, rows, model fingerprint), once the store verifies. With --input, only "
        "the calls whose input rows were that CSV file's rows (read with "
        "pandas.read_csv's defaults; found by sktraceprop.compliance.hash_rows, as the "
        "whole batch, and each row alone by the keyed row digests a call keeps: a row "
        "scored inside a larger batch is found with its position there; calls logged "
        "before row digests are found with their whole batch only, and --row picks a "
        "row's output), with what each call returned.",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file")
    p.add_argument("--run", metavar="R", help="only the calls of this run")
    p.add_argument("--input", metavar="ROWS.csv", help="the input rows, as given to the call")
    p.add_argument("--sha256", metavar="H", help="hash_rows of the input rows (instead)")
    p.add_argument("--row", type=int, metavar="N", help="with --input: row N's output only")

    p = command(
        "report",
        "write the compliance report of a stored run",
        "Write the EU AI Act compliance report of a stored run as JSON (validated against "
        "the schema shipped with sktraceprop) and, with --html, as one self-contained HTML "
        "page. Existing files are never overwritten.",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file")
    p.add_argument("--run", required=True, metavar="R", help="run id (see: sktraceprop runs)")
    p.add_argument("--json", required=True, metavar="OUT.json", help="report file to write")
    p.add_argument("--html", metavar="OUT.html", help="HTML page to write")
    p.add_argument("--system-name", required=True, help="name of the AI system")
    p.add_argument("--system-version", required=True, help="version of the AI system")
    p.add_argument("--deployer", required=True, help="name of the deployer")
    p.add_argument(
        "--category",
        required=True,
        help="Annex III area, e.g. creditworthiness (an invalid one lists them all)",
    )
    p.add_argument("--purpose", required=True, help="intended purpose of the system")
    p.add_argument(
        "--oversight",
        required=True,
        action="append",
        metavar="WHO",
        help="person or role assigned to human oversight (repeatable)",
    )
    p.add_argument("--sign", metavar="KEY.pem", help="Ed25519 private key to sign the report")
    p.add_argument(
        "--checkpoint-key",
        metavar="KEY.pub.pem",
        help="Ed25519 public key the store's checkpoints are signed with (checked, and "
        "recorded in the report)",
    )

    p = command(
        "verify",
        "check a compliance report",
        "Check a compliance report: its schema, its SHA-256, its events, its signature (with "
        "--public-key) and, with --db, that the store still matches it.",
    )
    p.add_argument("report", metavar="REPORT", help="report JSON file")
    p.add_argument("--db", metavar="DB", help="the store the report was made from")
    p.add_argument("--public-key", metavar="KEY.pub.pem", help="Ed25519 public key")

    p = command(
        "check",
        "full integrity check of a store",
        "Run the full integrity check of a SQLite store, read-only: SQLite's integrity "
        "check, the audit events' hash chain, every run and source against the digest "
        "its event holds, and the stored checkpoints; with --public-key, their "
        "signatures and that the chain's head is signed; with --checkpoint, that the "
        "store still holds the event a checkpoint kept elsewhere signed (what shows "
        "events cut from the end).",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file")
    p.add_argument(
        "--public-key", metavar="KEY.pub.pem", help="Ed25519 key the checkpoints are signed with"
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        metavar="CHECKPOINT.json",
        help="a checkpoint kept outside the store (repeatable; needs --public-key)",
    )
    p.add_argument(
        "--allow-unsigned-tail",
        action="store_true",
        help="with --public-key: accept events appended after the last checkpoint",
    )
    p = command(
        "erase",
        "erase what stored runs hold of a source's rows",
        "Erase, from every run of a SQLite store given rows of the sources named (as "
        "training rows, or through merges and aggregates), what the run holds of them: "
        "its training-data statistics of those sources and of the sources merged with "
        "them, its sample weights' record, and the feature names given with --feature "
        "(the store keeps no row values, so it cannot tell which one-hot categories only "
        "those rows produced). Each run gets a store.redaction event giving the reason; "
        "the values are deleted and overwritten in the file; the hash chain still "
        "verifies. The store must verify first; the whole request is checked before "
        "anything is erased. The model is not changed: remove the rows from it with "
        "GradientCorrectionUnlearner.unlearn(..., redact=reason).",
    )
    p.add_argument("db", metavar="DB", help="SQLite store file (written to)")
    p.add_argument(
        "--source", action="append", required=True, metavar="SOURCE_ID", help="repeatable"
    )
    p.add_argument("--reason", required=True, help="the erasure request's reference")
    p.add_argument("--feature", action="append", metavar="NAME", help="repeatable")
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be erased; write nothing"
    )
    from ._cli_erase_predictions import add_command

    add_command(command)
    return parser


def _cmd_erase(args, out):
    from .stores import SQLiteStore

    _verified_store(args.db).close()  # nothing is erased from a store that does not verify
    store = SQLiteStore(Path(args.db))
    done = store.erase_rows(
        source_id=args.source,
        reason=args.reason,
        features=args.feature or (),
        dry_run=args.dry_run,
    )
    store.close()
    sources = ", ".join(map(_shown, args.source))
    if not done:
        _print(f"{args.db}: no stored run holds anything more of the rows of {sources}", out=out)
        return 0
    verb = "would erase" if args.dry_run else "erased"
    _print(f"{args.db}: {verb} what {len(done)} run(s) hold of the rows of {sources}", out=out)
    for d in done:
        if args.dry_run:
            what = "; ".join(
                f"{kind}: {', '.join(map(_shown, d[kind]))}"
                for kind in ("sources", "fit_params", "features")
                if d[kind]
            )
            if d["value_names_kept"]:
                what += (
                    f"; {d['value_names_kept']} feature name(s) made of values (one-hot "
                    "categories) would stay: name them with --feature to erase them"
                )
            _print(f"{_shown(d['run_id'])}  {what}", out=out)
        else:
            _print(
                f"{_shown(d['run_id'])}  {d['erased']} value(s), store.redaction event "
                f"seq {d['event_seq']}",
                out=out,
            )
    return 0


def _cmd_erase_predictions(args, out):
    from ._cli_erase_predictions import run

    return run(args, out)


_COMMANDS = {
    "runs": _cmd_runs,
    "trace": _cmd_trace,
    "predictions": _cmd_predictions,
    "report": _cmd_report,
    "verify": _cmd_verify,
    "check": _cmd_check,
    "erase": _cmd_erase,
    "erase-predictions": _cmd_erase_predictions,
}


def main(argv=None, out=None):
    """Run the ``sktraceprop`` command; return its exit code (see ``--help``)."""
    from .exceptions import (
        ComplianceError,
        CorruptStoreError,
        LineageError,
        ReportVerificationError,
        StoreError,
    )

    args = _parser().parse_args(argv)
    err = sys.stderr
    try:
        if args.command == "demo":
            demo(db=args.db, n_rows=args.rows, out=out)
            return 0
        return _COMMANDS[args.command](args, out)
    except (ReportVerificationError, CorruptStoreError) as exc:
        _print(f"sktraceprop {args.command}: {exc}", file=err)
        return 1
    except (_UsageError, ComplianceError, StoreError, OSError, ImportError) as exc:
        _print(f"sktraceprop {args.command}: {exc}", file=err)
        return 2
    except (ValueError, TypeError, LineageError) as exc:  # e.g. a key file holding no key
        _print(f"sktraceprop {args.command}: {exc}", file=err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
