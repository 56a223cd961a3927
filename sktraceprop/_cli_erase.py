"""``sktraceprop erase``: erase what every stored run holds of a source's rows."""

from pathlib import Path

from ._cli_common import _print, _shown, _verified_store


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
