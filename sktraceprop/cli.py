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
import os
import sys

from ._cli_common import _OutputClosed, _print, _UsageError
from ._cli_demo import demo
from ._cli_erase import _cmd_erase
from ._cli_predictions import _cmd_predictions
from ._cli_report import _cmd_check, _cmd_report, _cmd_verify
from ._cli_runs import _cmd_runs, _cmd_trace

EXIT_CODES = """exit codes:
  0  success (the report or store verified)
  1  verification failed: a report or store was altered or is corrupt
  2  usage error: bad arguments, missing file, unknown run id, invalid input
  141  standard output's reader stopped reading (e.g. | head); files were written"""

#: What :func:`main` returns where standard output's reader went away (128 + SIGPIPE).
EXIT_OUTPUT_CLOSED = 141


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose help into a closed pipe is not silently a success:
    argparse ignores an ``OSError`` writing help, and exits 0; here the reader gone
    raises :class:`_OutputClosed`, which :func:`main` returns as 141, as other commands."""

    def print_help(self, file=None):
        if file is not None and file is not sys.stdout:
            return super().print_help(file)
        try:
            sys.stdout.write(self.format_help())
            sys.stdout.flush()
        except BrokenPipeError:
            raise _OutputClosed from None


def _parser():
    parser = _Parser(
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
    """Run the ``sktraceprop`` command; return its exit code (see ``--help``).

    Where standard output's reader goes away first (``sktraceprop report ... | head``),
    the command stops printing and returns 141 (128 + SIGPIPE, what a shell reports
    for a command its reader stopped) without a message: what it wrote to files is
    written. The rest of standard output goes to ``os.devnull``, as the Python
    documentation's note on SIGPIPE recommends, so that the interpreter's own flush at
    exit does not report the pipe again.
    """
    try:
        code = _main(argv, out)
        if out is None:
            _flush_stdout()  # (a reader gone shows here for output still buffered)
    except _OutputClosed:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED
    return code


def _flush_stdout():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise _OutputClosed from None


def _main(argv, out):
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
