"""Checking a compliance report: schema, content hash, events, signature, and its store."""

import base64
import warnings

from ..exceptions import ComplianceError, ReportVerificationError
from ..utils._stack import user_stacklevel
from ._categories import REGULATION, annex_iii_category
from ._digest_schemes import INEXACT, scheme_problems
from ._evidence import sources_section
from ._exact_ints import exact_problems
from ._integrity import (
    altered_pointers,
    body_of,
    canonical_bytes,
    canonicalization,
    digests,
    sha256_of,
)
from ._read_report import _unwritable, read_report
from ._report_formats import _ADDED_IN, FORMAT_VERSION, _version
from ._report_time import time_problems
from ._schema import schema_problems
from ._sections import articles
from ._source_alias_checks import alias_problems
from ._verify_events import _event_problems
from ._verify_retention import missing_retention_keys
from ._verify_store import _differences, _store_problems

_MAX_LISTED = 25  # problems named in the message (all are in .problems)


def _fixed_problems(report):
    """What a report states that follows from one key or is the same in every report."""
    problems = []
    if report["report"]["regulation"] != REGULATION:
        problems.append(f"/report/regulation was altered: every report says {REGULATION!r}")
    category = report["system"]["high_risk_category"]
    try:
        expected = annex_iii_category(category.get("key"))
    except ComplianceError:
        return [*problems, "/system/high_risk_category/key names no Annex III area"]
    for pointer in _differences(category, expected, "/system/high_risk_category"):
        problems.append(f"{pointer} is not what Annex III says for {category.get('key')!r}")
    return problems


def _is_signature(value):
    try:
        return len(base64.b64decode(value, validate=True)) == 64
    except (ValueError, TypeError):
        return False


def _signature_problems(body, signature, public_key, unkeyed_notes=True):
    from .. import signing

    if signature is not None and not _is_signature(signature["value"]):
        # what can be told without the key: it is not a signature at all
        return ["integrity.signature.value is not an Ed25519 signature (64 bytes, base64)"]
    if public_key is None:
        if signature is not None and unkeyed_notes:
            warnings.warn(
                "the report is signed (key "
                f"{signature['public_key_sha256'][:16]}...); pass public_key= to check "
                "the signature",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return []
    if signature is None:
        return ["the report is not signed, but a public key was given to check it with"]
    key = signing.load_public_key(public_key)
    given = signing.fingerprint(key)
    if given != signature["public_key_sha256"]:
        return [
            f"the report is signed by key {signature['public_key_sha256'][:16]}..., not by "
            f"the given key {given[:16]}..."
        ]
    if not signing.verify(key, canonical_bytes(body, _version(body)), signature["value"]):
        return ["the Ed25519 signature does not match the report's content"]
    return []


def verify_report(source, *, store=None, public_key=None):
    """Check a compliance report; True, or an error naming everything that was altered.

    The checks, in order: the report follows the JSON Schema shipped with
    sktraceprop; its content matches ``integrity.sha256`` (when not, the per-field
    digests name each field that changed, was added or was removed); every event in it
    matches its hash, the events are in chain order, none was removed or added, and
    none lies past the recorded chain head; each source says what its digest names and
    (format 19) lists a file once, its codes as its note names them; the Ed25519
    signature matches (when
    ``public_key`` is given); and, with ``store``, the store's chain verifies, still
    holds the recorded chain head, and agrees with the report's events, its run record
    (the model section, sources, feature lineage) and its record keeping up to the
    chain head (counts, prediction log, explanations, removals, runs).

    A content hash alone detects edits made without recomputing it. A report re-hashed
    after an edit is detected by its signature; without one, a check against the store
    detects it wherever the store records what was edited, but not in what the deployer
    gave (``system``, ``human_oversight``, where the articles do not quote it) or what
    was seen when the report was made (its time and generator, the store's location,
    whether checkpoint signatures were checked, ``fitted_object_matches_run``).

    The days before the report and the longest interval with no event stamped, and the
    same over this model's own calls (``retention``'s ``days_unlogged_before_report``,
    ``longest_unlogged_*``, ``*_logged_use``), are computed from the store: only a check
    against it shows them right, or removed. With ``store``, a report of format 16 that
    lacks one is refused, naming it and what the store makes it; without, a
    ``UserWarning`` names the ones it lacks, which cannot be checked.

    A report of an older format version is checked as that version was written, so
    it shows none of what later versions added; its signature not checked, a newer
    report lowered to an older format with those parts removed and re-hashed cannot
    be told from one an older sktraceprop wrote: a ``UserWarning`` says so.

    Parameters
    ----------
    source : str, path-like, dict or ComplianceReport
        The report (a path to its JSON file).
    store : BaseStore, default=None
        The store the report was made from.
    public_key : Ed25519PublicKey or path, default=None
        Checks the report's signature (an unsigned report then fails).

    Returns
    -------
    True
        Given neither ``public_key`` nor ``store`` for an unsigned report, ``True``
        means only that the report agrees with itself, and a ``UserWarning`` says so.

    Raises
    ------
    ReportVerificationError
        Listing every problem found (also in its ``problems`` attribute).
    """
    return checked_report(source, store=store, public_key=public_key)


def checked_report(source, *, store=None, public_key=None, unkeyed_notes=True):
    """:func:`verify_report`; ``unkeyed_notes=False`` leaves out the two warnings given
    where no key and no store were given (a signature not checked, only the content
    checked), for a caller that checks with them later (``ComplianceReport``): an
    argument of this call, where a ``catch_warnings`` block ignoring them dropped the
    warnings other threads raised meanwhile."""
    report, name = read_report(source)
    try:
        canonical_bytes(report, 1)
    except (ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
        try:
            found = _unwritable(report)
        except RecursionError:
            found = None
        where, what = found or ("/", "nested too deeply to be written as canonical JSON")
        raise _failure(
            name,
            "holds a value no report holds (its canonical form cannot be computed)",
            [f"{where}: {what}"],
        ) from None
    problems = schema_problems(report)
    if problems:
        raise _failure(name, "does not follow the compliance report schema", problems)
    version = _version(report)
    try:
        canonical_bytes(report, version)
    except (ValueError, RecursionError) as exc:  # RFC 8785: an integer beyond every double
        raise _failure(
            name,
            "holds a value no report holds (its canonical form cannot be computed)",
            [str(exc) if isinstance(exc, ValueError) else "/: nested too deeply"],
        ) from None
    body = body_of(report)
    integrity = report["integrity"]
    recorded = None
    if sha256_of(body, version) != integrity["sha256"]:
        recorded = integrity["digests"]
        changes = altered_pointers(body, recorded, version)
        # Events are named by seq below: by position, one removed event would make
        # every later one look changed.
        outside = [(p, what) for p, what in changes if not p.startswith("/events/")]
        problems += [f"{where} was {what} after the report was made" for where, what in outside]
        if not changes:
            problems.append(
                "the content matches every recorded field digest but not integrity.sha256: "
                "integrity.sha256 itself was altered"
            )
    elif digests(body, version) != integrity["digests"]:
        problems.append("integrity.digests was altered")
    try:
        stated = articles(body)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        stated = None
        problems.append(f"/articles cannot be rebuilt from the report's sections ({exc!r})")
    if stated is not None:
        # each statement is made from the other sections: a changed one was edited
        problems += [
            f"{pointer} does not follow from the report's other sections: it was altered"
            for pointer in _differences(report["articles"], stated, "/articles")
        ]
    problems += _fixed_problems(report)
    problems += scheme_problems(report)
    problems += alias_problems(report)
    problems += time_problems(report)
    if integrity["canonicalization"] != canonicalization(version):
        # it says how integrity.sha256 was computed: a report saying otherwise is altered
        problems.append(
            "integrity.canonicalization was altered: it no longer describes the canonical "
            "form integrity.sha256 is computed over"
        )
    problems += exact_problems(report)
    found = _event_problems(report, recorded)
    if recorded is not None and not found:
        # an edit of the events that matching them by seq does not explain
        found = [
            f"{where} was {what} after the report was made"
            for where, what in changes
            if where.startswith("/events/")
        ]
    problems += found
    problems += _signature_problems(body, integrity["signature"], public_key, unkeyed_notes)
    if store is not None:
        problems += _store_problems(report, store)
    if problems:
        raise _failure(name, "failed verification", problems)
    if public_key is None and store is None and integrity["signature"] is None and unkeyed_notes:
        _warn_content_only()
    if version < FORMAT_VERSION and public_key is None:
        _warn_older_format(version)
    missing = missing_retention_keys(report)
    if store is None and missing:
        _warn_missing_retention(missing)
    if store is not None and version < 9:
        _warn_inexact_digests(report, store)
    return True


def _warn_content_only():
    """Say that True here means only that the report agrees with itself."""
    warnings.warn(
        "only the report's own content was checked: a report edited and then re-hashed "
        "(integrity.sha256 recomputed) passes these checks; sign reports "
        "(compliance_report(..., private_key=)) and check them with public_key=, or "
        "check the report against its store (store=)",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_missing_retention(keys):
    """Say that a report of format 16 lacking retention keys it holds since they were
    kept cannot be told, without its store, from one they were removed from."""
    warnings.warn(
        "the report lacks /retention/" + ", /retention/".join(keys) + ", which reports of "
        "format 16 hold (development snapshots of sktraceprop made before they were kept "
        "left them out): whether they were removed after it was made, and what they say "
        "(days before the report and intervals with no event stamped, this model's own "
        "calls), can be checked only against its store (store=)",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_older_format(version):
    """Say what a report of an older format cannot show, and that, its signature not
    checked, it may be a newer report lowered to that format (the downgrade no content
    hash or store shows: a format's checks are those of its version)."""
    added = "; ".join(
        f"format {v}: {_ADDED_IN[v]}" for v in range(version + 1, FORMAT_VERSION + 1)
    )
    warnings.warn(
        f"the report is of format {version}; this sktraceprop writes format "
        f"{FORMAT_VERSION}, and later formats add what it does not hold ({added}): none "
        "of that is in this report or was checked. Its signature not checked "
        "(public_key=), a report of a later format lowered to format "
        f"{version} (those parts removed, then re-hashed) cannot be told from one an "
        "older sktraceprop wrote",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_inexact_digests(report, store):
    """Say which sources of a report older than format 9 (which does not say what a
    sha256 names) hold, by their store record, a digest that names some different data
    alike: the report shows it as any other SHA-256."""
    sources = sources_section(store.load_run(report["model"]["run_id"]))
    inexact = [
        f"{s.get('label', s['source_id'])} (sha256 {s['sha256'][:12]}...: "
        f"{s['digest_scheme']}, {s['digest_note']})"
        for s in sources
        if s["digest_scheme"] in INEXACT
    ]
    if inexact:
        warnings.warn(
            f"the report is of format {_version(report)}, which does not say what a "
            "source's sha256 names; by the store's record, the digest of "
            f"{'; '.join(inexact)}. The report shows it as any other SHA-256: it does "
            "not show that the data fitted on is exactly the data it names (a report "
            "made now says so, in digest_scheme and Art. 26(4))",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _failure(name, what, problems):
    lines = problems[:_MAX_LISTED]
    if len(problems) > _MAX_LISTED:
        lines.append(f"... and {len(problems) - _MAX_LISTED} more")
    return ReportVerificationError(
        f"{name} {what} ({len(problems)} problem(s)):\n  - " + "\n  - ".join(lines), problems
    )
