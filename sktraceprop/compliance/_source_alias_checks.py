"""What a report of format 19 says of a file under several codes, checked without its
store.

A report of format 19 lists a file once, however many codes its rows carry (an alias,
:mod:`._source_aliases`); checked without its store (``verify(report)``), only the
report's own content is read, and a report listing a file under two entries (as format
18 did, re-hashed as format 19) or naming codes its note does not passed as one that
folds them. These are the problems the report shows by itself; the figures are checked
against the run record only with ``store=``.
"""

from .._lineage._uri_path import same_file_uri
from ._source_aliases import CODES_NOTE

#: What a folded entry's ``codes_note`` says before the paths it names.
_NOTE_HEAD = CODES_NOTE.split("({uris})")[0]


def _content(source):
    """The file an entry names (``source_id``, path, ``sha256``); None where its path is
    not said (``uri`` empty: read from several paths)."""
    if not source.get("uri"):
        return None
    return source["source_id"], same_file_uri(source["uri"]), source["sha256"]


def alias_problems(report):
    """Sources of a report of format 19 or later that list one file twice, or whose
    ``codes`` do not fit their ``code`` and ``codes_note``."""
    if report["report"]["format_version"] < 19:
        return []
    problems, seen = [], {}
    for i, source in enumerate(report["sources"]):
        where = f"/sources/{i}"
        key = _content(source)
        if key is not None and key in seen:
            problems.append(
                f"{where} names the file of /sources/{seen[key]} (same source_id, path and "
                "sha256): a report of format 19 lists a file once, its codes in codes (an "
                "entry per code is format 18's)"
            )
        elif key is not None:
            seen[key] = i
        codes = source.get("codes")
        if codes is None:
            continue
        if codes != sorted(set(codes)) or len(codes) < 2 or source["code"] != codes[0]:
            problems.append(
                f"{where}/codes {codes} are not the entry's codes (its code {source['code']} "
                "first, then the others in order, at least two): they were altered"
            )
        head = _NOTE_HEAD.format(n=len(codes), codes=", ".join(map(str, codes)))
        if not source["codes_note"].startswith(head):
            problems.append(f"{where}/codes_note does not name its codes {codes}: it was altered")
    return problems
