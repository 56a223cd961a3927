"""``sktraceprop erase``: erase what every stored run holds of a source's rows."""

import sys
import warnings
from pathlib import Path

from ._cli_common import _print, _shown, _verified_store


def _cmd_erase(args, out):
    from .stores import SQLiteStore

    _verified_store(args.db).close()  # nothing is erased from a store that does not verify
    store = SQLiteStore(Path(args.db))
    try:
        # what the erasure does not reach (names made of values kept, the fitted objects
        # of this process, old bytes not yet wiped) is said in the command's output, as
        # "warning:" lines: never left to Python's warning filters, which may hide it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            done = store.erase_rows(
                source_id=args.source,
                reason=args.reason,
                features=args.feature or (),
                dry_run=args.dry_run,
            )
    finally:
        store.close()
    try:
        _report(args, done, out)
    finally:
        for warning in caught:
            _print(f"warning: {warning.message}", file=sys.stderr)
    return 0


def _report(args, done, out):
    sources = ", ".join(map(_shown, args.source))
    if not done:
        _print(
            f"{args.db}: no stored run holds anything more of the rows of {sources}"
            + ("" if args.dry_run else "; an earlier request named them all: nothing recorded"),
            out=out,
        )
        return
    if all(d.get("erased_before") for d in done):
        # recorded, nothing left to redact: not "nothing done" (the message above)
        _print(
            f"{args.db}: no stored run holds anything more of the rows of {sources} (an "
            f"earlier request erased it); the request "
            f"{'would be' if args.dry_run else 'is'} recorded for {len(done)} run(s)",
            out=out,
        )
    else:
        verb = "would erase" if args.dry_run else "erased"
        _print(f"{args.db}: {verb} what {len(done)} run(s) hold of the rows of {sources}", out=out)
    for d in done:
        if args.dry_run and d.get("erased_before"):
            _print(f"{_shown(d['run_id'])}  nothing left to erase", out=out)
        elif args.dry_run:
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
        elif d.get("erased_before"):
            _print(
                f"{_shown(d['run_id'])}  nothing left to erase; request recorded in "
                f"store.erasure event seq {d['erasure_seq']}",
                out=out,
            )
        else:
            _print(
                f"{_shown(d['run_id'])}  {d['erased']} value(s), store.redaction event "
                f"seq {d['event_seq']}"
                + (
                    ""
                    if d.get("wiped", True)
                    else " (their old bytes are still in the file: another connection "
                    "holds them; the next writable opening wipes them; 'sktraceprop "
                    "check' lists them)"
                ),
                out=out,
            )
