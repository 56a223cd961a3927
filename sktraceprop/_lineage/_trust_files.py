"""Whether a file was checked, over every code its rows carry: one answer for all readers.

A file's rows can reach one run under several codes (an alias adopted from another
process, a share path spelled in another case: one content, see
:func:`._labels.content_key`). The compliance report of format 19 lists such a file once,
its check of values given to fit against what was loaded folded over its codes; the
exports list a source per code. Both read the folded check from here, so that an
export's entry for an alias code (its own rows not compared: "not checked") also says
what the report says of the file (checked, through the rows of its other code).
"""

from ._labels import content_key


def fold_checks(checks):
    """One ``changes_after_loading`` over a file's codes: compared where any code's
    rows were, the rows compared summed (null where any code's are not known)."""
    rows = [c["rows_compared"] for c in checks]
    out = {
        "checked": any(c["checked"] for c in checks),
        "rows_compared": None if None in rows else int(sum(rows)),
    }
    compared_in = []
    for c in checks:
        compared_in.extend(x for x in c.get("compared_in", []) if x not in compared_in)
    if compared_in:
        out["compared_in"] = compared_in
    if not out["checked"]:
        out["note"] = checks[0]["note"]
    remark = next((c["counted_at_fit"] for c in checks if "counted_at_fit" in c), None)
    if remark is not None:
        out["counted_at_fit"] = remark
    return out


def file_codes(run):
    """``{code: codes}``: for each source code of ``run`` whose file (content) other
    codes of the run carry too, every code of that file, in order; codes of a file of
    one code left out."""
    groups = {}
    for code in sorted(run.sources):
        groups.setdefault(content_key(run.sources[code]), []).append(int(code))
    return {code: codes for codes in groups.values() if len(codes) > 1 for code in codes}


def file_checks(run, trust):
    """``{code: (codes, check)}`` for each code of a file of several codes (see
    :func:`file_codes`): the file's codes and its ``changes_after_loading`` folded over
    them (:func:`fold_checks`; None where no row of the file reached the model).
    ``trust``: :func:`._trust.source_trust` of ``run``."""
    out = {}
    for code, codes in file_codes(run).items():
        checks = [
            trust[c]["changes_after_loading"] for c in codes if "changes_after_loading" in trust[c]
        ]
        out[code] = (codes, fold_checks(checks) if checks else None)
    return out
