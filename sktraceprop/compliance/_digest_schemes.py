"""The report's ``digest_scheme`` and ``digest_note`` of each source, and their checks.

What each scheme names is said in :mod:`sktraceprop._lineage._digest_schemes`, which the
exporters share; a report of format 9 states it per source.
"""

from .._lineage._digest_schemes import INEXACT, KINDS, NOTES, digest_facts, digest_scheme

__all__ = [
    "INEXACT",
    "KINDS",
    "NOTES",
    "SOURCE_KEYS_9",
    "digest_facts",
    "digest_scheme",
    "scheme_problems",
]

#: The report keys format 9 added to each source.
SOURCE_KEYS_9 = ("digest_scheme", "digest_note")


def scheme_problems(report):
    """Sources of a report of format 9 or later that lack their digest scheme, or whose
    scheme does not fit their kind or whose note is not the scheme's."""
    if report["report"]["format_version"] < 9:
        return []
    problems = []
    for i, source in enumerate(report["sources"]):
        where = f"/sources/{i}"
        missing = [k for k in SOURCE_KEYS_9 if k not in source]
        if missing:
            problems.append(
                f"{where} has no {' and no '.join(missing)}: every source of a report of "
                "format 9 says what its sha256 names (removed after the report was made)"
            )
            continue
        scheme = source["digest_scheme"]
        if scheme in NOTES and source["digest_note"] != NOTES[scheme]:
            problems.append(
                f"{where}/digest_note is not what scheme {scheme!r} names: it was altered"
            )
        allowed = KINDS.get(source["kind"])
        if scheme in NOTES and allowed is not None and scheme not in allowed:
            problems.append(
                f"{where}/digest_scheme {scheme!r} is not a scheme of a {source['kind']} "
                "source: it was altered"
            )
    return problems
