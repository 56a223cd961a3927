"""One report entry per source, however many codes its rows carry (report format 19).

A source's rows can reach one run under several codes: an alias adopted from another
process (the code it probed there, ``REGISTRY.adopt``), or a share spelled in another
case (``\\\\SERVER\\Share\\f.csv`` and ``\\\\server\\share\\f.csv`` are one file). Format 18
and earlier listed an entry per code, each with the file's ``n_rows`` and part of its
training rows (20 and 10, 20 and 10 for a file of 20 rows), the alias "not checked".
Here the entries of one content (:func:`sktraceprop._lineage._labels.content_key`) are
folded into the first one's: rows, counts and checks summed over its codes, listed in
``codes``; its reads listed once, the rows given outside each counted over all its codes
(:func:`._source_reads.fold_reads`).
"""

import math

import numpy as np

from .._lineage._ids import codes_of, lines_of
from .._lineage._labels import content_key
from .._lineage._trust import repeated_rows
from .._lineage._trust_files import fold_checks
from ._source_reads import fold_reads

#: What a folded entry says of its codes.
CODES_NOTE = (
    "the rows of this source reached the run under {n} codes ({codes}): one file's "
    "content (same source_id, file and SHA-256), registered in another process under "
    "another code (an alias) or its path spelled another way ({uris}); every count here "
    "is over all of them"
)


#: The keys of a file's reads (:func:`._source_reads.fold_reads`), and the keys they
#: follow (the last present).
_READ_KEYS = ("other_reads", "reads_note", "uris", "rows_by_read", "rows_by_read_note")
_BEFORE_READS = ("training_rows_through_merges", "repeated_rows", "training_rows")


def fold_aliases(entries, run):
    """``entries`` (one per code, in code order) with each content's entries folded into
    one, in the order of its first code; entries of a content of one code unchanged."""
    groups = {}
    for entry in entries:
        key = content_key(run.sources[entry["code"]])
        groups.setdefault(key, []).append(entry)
    out = []
    for group in groups.values():
        out.append(group[0] if len(group) == 1 else _fold(group, run))
    return out


def _fold(group, run):
    first = dict(group[0])
    codes = [int(e["code"]) for e in group]
    n = sum(e["training_rows"] for e in group)
    first["training_rows"] = n
    first.pop("repeated_rows", None)
    given = _given(group)
    ids = np.asarray(run.row_ids)
    mine = np.isin(codes_of(ids), codes)
    distinct = len(np.unique(lines_of(ids[mine])))
    # a line given under two codes is one row of the file: distinct over the content
    rebuilt = repeated_rows(n, distinct, given)
    if rebuilt:
        first = _after(first, "training_rows", rebuilt)
    merged = [
        e["training_rows_through_merges"] for e in group if "training_rows_through_merges" in e
    ]
    if merged:
        first["training_rows_through_merges"] = int(sum(merged))
    reads = fold_reads(group, run)
    if reads:
        # each read once, its rows outside counted over every code (not the first's)
        first = {k: v for k, v in first.items() if k not in _READ_KEYS}
        if "uris" in reads:
            first["uri"] = ""
        last = next(k for k in _BEFORE_READS if k in first)
        first = _after(first, last, reads)
    first["parents"] = _union(e["parents"] for e in group)
    _fold_ops(first, group)
    checks = [e["changes_after_loading"] for e in group if "changes_after_loading" in e]
    if checks:
        first["changes_after_loading"] = fold_checks(checks)
    first["statistics"] = _fold_statistics([e["statistics"] for e in group])
    first["columns"] = _fold_columns(group, first["statistics"].get("rows_given_to_fit"))
    uris = _union([e["uri"]] for e in group)
    first["codes"] = codes
    first["codes_note"] = CODES_NOTE.format(
        n=len(codes),
        codes=", ".join(map(str, codes)),
        uris="read as " + ", ".join(repr(u) for u in uris) if len(uris) > 1 else "one path",
    )
    return first


def _after(entry, key, extra):
    """``entry`` with ``extra`` inserted after ``key`` (the order the report writes)."""
    out = {}
    for k, v in entry.items():
        out[k] = v
        if k == key:
            out.update(extra)
    return out


def _union(lists):
    out = []
    for items in lists:
        out.extend(x for x in items if x not in out)
    return out


def _given(group):
    rows = [e["statistics"].get("rows_given_to_fit") for e in group]
    rows = [r for r in rows if r is not None]
    return int(sum(rows)) if rows else None


def _fold_ops(first, group):
    counts = {}
    names = _union(e["ops"] for e in group)
    for e in group:
        for name, c in zip(e["ops"], e.get("op_training_rows", [None] * len(e["ops"]))):
            known = counts.get(name, 0)
            counts[name] = None if known is None or c is None else known + c
    first["ops"] = names
    if "op_training_rows" in first:
        first["op_training_rows"] = [counts[name] for name in names]


def _fold_statistics(stats):
    recorded = [s for s in stats if s["recorded_at_fit"]]
    if not recorded:
        return stats[0]
    out = dict(recorded[0])
    out["rows_given_to_fit"] = int(sum(s["rows_given_to_fit"] for s in recorded))
    out["labels"] = _fold_labels([s["labels"] for s in recorded])
    if len(recorded) < len(stats):
        # (rows of a code not counted at fit: the counts here are not the source's)
        out["missing_note"] = (
            f"counted at fit over the rows of {len(recorded)} of its {len(stats)} codes "
            "only: the rows of the others were not counted"
        )
    return out


def _fold_labels(labels):
    kinds = {lab["kind"] for lab in labels}
    if len(kinds) > 1 or kinds <= {"none", "not recorded"}:
        return labels[0]
    if kinds == {"classes"}:
        out = dict(labels[0])
        for key in ("missing", "unlabelled"):
            if key in out:
                out[key] = int(sum(lab.get(key, 0) for lab in labels))
        if "counts" in out:
            out["counts"] = {
                k: int(sum(lab["counts"].get(k, 0) for lab in labels)) for k in out["counts"]
            }
        return out
    return _fold_continuous(labels)


def _fold_continuous(labels):
    """Count, mean, sample std, min and max over several groups of a continuous target,
    from each group's (pooled: the sums of squares about the overall mean)."""
    parts = [lab for lab in labels if lab["count"]]
    count = sum(lab["count"] for lab in parts)
    out = {"kind": "continuous", "missing": int(sum(lab["missing"] for lab in labels))}
    out["count"] = int(count)
    if not parts:
        return out
    if any(lab.get(k) is None for lab in parts for k in ("mean", "min", "max")):
        return {**out, "mean": None, "std": None, "min": None, "max": None}
    mean = sum(lab["count"] * lab["mean"] for lab in parts) / count
    squares = sum(
        (lab["count"] - 1) * (lab["std"] or 0.0) ** 2 + lab["count"] * (lab["mean"] - mean) ** 2
        for lab in parts
    )
    std = math.sqrt(squares / (count - 1)) if count > 1 else None
    return {
        **out,
        "mean": mean,
        "std": std,
        "min": min(lab["min"] for lab in parts),
        "max": max(lab["max"] for lab in parts),
    }


def _fold_columns(group, given):
    out = []
    for column in group[0]["columns"]:
        # (one content, one set of columns read; a column missing from a code's is
        # not counted there)
        same = [
            next((c for c in e["columns"] if c["name"] == column["name"]), {"missing": None})
            for e in group
        ]
        counts = [c["missing"] for c in same]
        missing = None if None in counts else int(sum(counts))
        folded = {
            **column,
            "missing": missing,
            "missing_rate": None if missing is None or not given else missing / given,
        }
        marks = [c["changed_after_loading"] for c in same if "changed_after_loading" in c]
        if marks:
            folded["changed_after_loading"] = _fold_marks(marks)
        out.append(folded)
    return out


def _fold_marks(marks):
    out = dict(marks[0])
    for mark in marks[1:]:
        for key, value in mark.items():
            if isinstance(value, int) and isinstance(out.get(key), int):
                out[key] += value
            elif isinstance(value, list):
                out[key] = _union([out.get(key, []), value])
            else:
                out.setdefault(key, value)
    return out
