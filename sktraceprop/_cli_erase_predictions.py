"""``sktraceprop erase-predictions``: erase the logged calls that scored a CSV file's rows.

The command-line form of :meth:`~sktraceprop.stores.BaseStore.erase_predictions`, as
``sktraceprop erase`` is of ``erase_rows``: the store must verify first; the rows are
read as ``sktraceprop predictions --input`` reads them (``pandas.read_csv``'s
defaults), so the calls it lists are the ones erased.
"""

import sys
import warnings
from pathlib import Path

SUMMARY = "erase the logged calls that scored a CSV file's rows"
DESCRIPTION = (
    "Make the logged calls (predictions, and logged explanations) whose input rows were "
    "that CSV file's rows unfindable from the rows: each call's salt is deleted, with a "
    "store.prediction_erasure event giving the reason, and the old bytes are overwritten "
    "in the file. The rows are read with pandas.read_csv's defaults and found as "
    "'sktraceprop predictions --input' finds them: a row scored inside a larger batch is "
    "found by the call's keyed row digest, and that call is erased whole (every row of "
    "its batch: the call commits to the batch under one salt). What stays of an erased "
    "call (its time, model, outputs) is under the hash chain and is not erased; calls "
    "logged before salting (schema version 3 or earlier) cannot be erased, and are "
    "listed, as are the calls that keep no row digests (logged before them: found only "
    "with their whole batch). The store must verify first."
)


def add_command(command):
    """Add the command to the parser (``command(name, summary, description)``)."""
    p = command("erase-predictions", SUMMARY, DESCRIPTION)
    p.add_argument("db", metavar="DB", help="SQLite store file (written to)")
    p.add_argument(
        "--input", required=True, metavar="ROWS.csv", help="the input rows, as given to the call"
    )
    p.add_argument("--reason", required=True, help="the erasure request's reference")
    p.add_argument("--run", metavar="R", help="only the calls of this run")
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be erased; write nothing"
    )
    return p


def _seqs(seqs):
    return ", ".join(map(str, seqs))


def run(args, out):
    """Run the command; return its exit code."""
    import pandas as pd

    from ._cli_common import _count, _print, _shown, _verified_store
    from .stores import SQLiteStore

    rows = pd.read_csv(args.input)  # (a missing or unreadable file: exit 2, before any write)
    _verified_store(args.db).close()  # nothing is erased from a store that does not verify
    store = SQLiteStore(Path(args.db))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            done = store.erase_predictions(
                rows, reason=args.reason, run_id=args.run, dry_run=args.dry_run
            )
        by_row = set(done.get("by_row") or ())
        sizes = {
            e["seq"]: e["payload"]["n_rows"]
            for e in store.events(kind="prediction")
            if e["seq"] in by_row
        }
    finally:
        store.close()
    what = f"the {_count(len(rows), 'row')} of {_shown(args.input)}"
    calls, unsalted = done["calls"], done["unsalted"]
    if calls:
        verb = "would erase" if args.dry_run else "erased"
        _print(f"{args.db}: {verb} {_count(len(calls), 'logged call')} given {what}", out=out)
        _print(f"  events {_seqs(calls)}", out=out)
        if done["event_seq"] is not None:
            _print(f"  store.prediction_erasure event seq {done['event_seq']}", out=out)
    else:
        _print(
            f"{args.db}: no logged call given {what} is left to erase",
            out=out,
        )
    # a call found by a row's digest held it inside a larger batch, or in a batch that is
    # not the file's rows (a smaller one: the file's rows were scored in several calls)
    larger = [s for s in done.get("by_row") or () if sizes.get(s, 0) > len(rows)]
    other = [s for s in done.get("by_row") or () if s not in larger]
    for seqs, words in (
        (larger, "held the rows inside a larger batch"),
        (other, "held some of the rows in another batch than the file's (found by row)"),
    ):
        if seqs:
            _print(
                f"  event{'s' if len(seqs) > 1 else ''} {_seqs(seqs)} {words}: "
                + ("would be erased" if args.dry_run else "erased")
                + " whole (every row of that batch)",
                out=out,
            )
    if done.get("no_row_digests"):
        _print(
            f"  not searchable by row: {_count(len(done['no_row_digests']), 'call')} (events "
            f"{_seqs(done['no_row_digests'])}) keep no per-row digests: a row scored inside "
            "one of their batches is found, and erased, only with that whole batch",
            out=out,
        )
    if unsalted:
        _print(
            f"  not erasable: {_count(len(unsalted), 'call')} logged before salting (events "
            f"{_seqs(unsalted)}) keep the plain SHA-256 of their input rows under the hash "
            "chain: whoever holds the rows still finds them",
            out=out,
        )
    if done.get("wiped") is False:
        _print(
            f"  the old bytes are still in {args.db} (another connection holds them): "
            "the next writable opening wipes them; 'sktraceprop check' lists them",
            out=out,
        )
    said = ("before prediction events were salted", "erased whole", "keep no per-row digests")
    for warning in caught:
        if not any(words in str(warning.message) for words in said):
            _print(f"warning: {warning.message}", file=sys.stderr)
    return 0
