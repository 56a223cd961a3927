"""``sktraceprop report``, ``verify`` and ``check``: a stored run's compliance report,
checking a report, and the full integrity check of a store."""

from pathlib import Path

from ._cli_common import _open_store, _print, _UsageError


def _cmd_report(args, out):
    from .compliance import compliance_report
    from .compliance._report_files import check_new_file

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
                "store's location or whether it checked checkpoint signatures and with "
                "which key",
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
    for said in report.get("notes", ()):  # (an index a DBA added, a repair: no damage)
        _print(f"note: {said}", out=out)
    for said in report["erased_bytes_left"]:
        _print(f"warning: {said}", out=out)
    set_back = report.get("times_set_back") or []
    if set_back:
        shown = ", ".join(map(str, set_back[:20])) + (" ..." if len(set_back) > 20 else "")
        _print(
            f"warning: times_set_back: {len(set_back)} event(s) stamped earlier than the "
            f"event before them ({shown}): a clock was set back, or writers whose clocks "
            "differ share the store; the log's order is its seq numbers, not its times",
            out=out,
        )
    return 0
