"""What the record holds about the sources of one run: the report's ``sources``.

Per source: identity (with what its digest names), columns, statistics counted at fit,
changes after loading, rows that repeat, other reads and the ops its rows went through.
Every figure is read from the run record; nothing is recomputed from files (they may
have changed).
"""

import re

from .._lineage._labels import content_key, source_labels
from .._lineage._op_rows import op_codes, source_training_rows
from .._lineage._trust import (  # noqa: F401 (the notes, named here by the report's readers)
    COMPARED_UNKNOWN,
    COPIES_COUNTED,
    NOT_COMPARED,
    NOT_COMPARED_THROUGH,
    NOT_COUNTED,
    NOT_RECORDED,
    source_trust,
)
from ._digest_schemes import digest_facts
from ._source_aliases import fold_aliases
from ._source_reads import paths_note, reads_note, rows_by_read_note


def _rate(count, n):
    return None if count is None or not n else count / n


def _ops_of(code, ops, through, op_rows):
    """A source's ``ops`` (the steps its training rows went through, a step limited to
    some rows listed when one of this source's did) and ``op_training_rows`` (how many
    of its training rows went through each; null where not countable here)."""
    if op_rows is None:
        listed = [k for k, codes in enumerate(through) if codes is None or code in codes]
        counts = [None] * len(listed)
    else:
        n = op_rows.get(int(code))
        listed = [
            k
            for k, codes in enumerate(through)
            if (codes is None or code in codes) and (ops[k].rows is None or n[k] > 0)
        ]
        counts = [n[k] for k in listed]
    return {"ops": [ops[k].name for k in listed], "op_training_rows": counts}


def sources_section(run, *, op_counts=True, per_code=False):
    """One record per source of the run: identity, columns, statistics at fit, ops.

    A source whose rows carry several codes (an alias from another process) is one
    record, its codes listed (:func:`._source_aliases.fold_aliases`); with
    ``per_code=True``, one record per code, as a report of format 18 or earlier wrote it.

    With ``op_counts=False``, as a report of format 6 made before sources counted their
    rows through each op wrote it: no ``op_training_rows``, and ``ops`` lists every op
    fitted on the source's rows, a step limited to some rows included."""
    stats = run.source_stats or {}
    by_code = {r["code"]: r for r in stats.get("sources", [])}
    by_merge = {r["code"]: r for r in stats.get("through_merges", [])}
    checked = stats.get("columns")
    # changes after loading and repeated rows: computed once, for exports too
    trust = source_trust(run)
    shared = _shared_names(run, per_code)
    # each op's sources by code (by SHA-256 where recorded: one of two files named alike)
    through = [op_codes(op, run.sources) for op in run.ops]
    # (None: not countable in this process)
    op_rows = source_training_rows(run) if op_counts else None
    out = []
    for code in sorted(run.sources):
        source = run.sources[code]
        facts = trust[code]
        changed = facts["changed_columns"]
        record = by_code.get(code)
        merged = by_merge.get(code)
        # erased from the store since (BaseStore.redact): as if never counted, said so
        erased = next((r["redacted"] for r in (record, merged) if r and "redacted" in r), None)
        if erased is not None:
            record = merged = None
        if record is not None:
            counted = set(checked) if checked is not None else set()
        elif merged is not None:
            counted = set(merged.get("columns_checked", ()))
        else:
            counted = set()  # no row of it was given to fit: nothing was counted
        counts = (record or merged or {}).get("missing", {})
        given = (record or merged or {}).get("n_rows")
        columns = []
        for name, dtype in source.columns_read().items():
            count = counts.get(name, 0) if name in counted else None
            columns.append(
                {
                    "name": name,
                    "dtype": dtype,
                    "missing": count,
                    "missing_rate": _rate(count, given),
                    **({"changed_after_loading": changed[name]} if name in changed else {}),
                }
            )
        entry = {
            "source_id": source.source_id,
            "code": int(code),
            "kind": source.kind,
            # bytes read from several paths (copies) not told apart: no path named
            "uri": source.uri if len(source.uris()) == 1 else "",
            "sha256": source.sha256,
            # what that sha256 names: an earlier scheme's names some different data alike
            **digest_facts(source),
            "loaded_at": source.loaded_at,
            "n_rows": int(source.n_rows),
            "columns": columns,
            "training_rows": facts["training_rows"],
            **({"repeated_rows": facts["repeated_rows"]} if "repeated_rows" in facts else {}),
            **(
                {"training_rows_through_merges": int(merged["n_rows"])}
                if merged is not None
                else {}
            ),
            **_other_reads(source, record),
            "parents": [run.sources[c].source_id for c in source.parent_codes if c in run.sources],
            **_ops_of(code, run.ops, through, op_rows),
        }
        if not op_counts:
            del entry["op_training_rows"]
        if code in shared:
            entry.update(shared[code])
        if "changes_after_loading" in facts:
            entry["changes_after_loading"] = facts["changes_after_loading"]
        if record is not None:
            entry["statistics"] = {
                "recorded_at_fit": True,
                "rows_given_to_fit": int(record["n_rows"]),
                "target": stats.get("target"),
                "labels": record["labels"],
            }
            if checked is None:
                entry["statistics"]["missing_note"] = stats.get("missing_note", "")
        elif merged is not None:
            entry["statistics"] = {
                "recorded_at_fit": True,
                "through_merges": True,
                "rows_given_to_fit": int(merged["n_rows"]),
                "target": stats.get("target"),
                "labels": merged["labels"],
            }
            if "columns_checked" not in merged:
                entry["statistics"]["missing_note"] = stats.get("missing_note") or (
                    "the data given to fit has no column names: the columns that came "
                    "from this source through merges are not known"
                )
        elif erased is not None:
            entry["statistics"] = {
                "recorded_at_fit": False,
                "erased": {"event_seq": erased["event_seq"], "reason": erased["reason"]},
                "note": "counted at fit time, then erased from the store by audit event "
                f"{erased['event_seq']} ({erased['reason']})",
            }
        else:
            entry["statistics"] = {"recorded_at_fit": False, "note": _no_stats_note(source, stats)}
        out.append(entry)
    return out if per_code else fold_aliases(out, run)


_NOT_COUNTED_RE = re.compile(re.escape(NOT_COUNTED).replace(r"\{\}", r"\d+"))


def as_format_15(source_entry):
    """A source entry as a report of format 15 or earlier wrote it: its
    ``repeated_rows`` note says its statistics count every copy, sampler or not."""
    if "repeated_rows" not in source_entry:
        return source_entry
    note = _NOT_COUNTED_RE.sub(COPIES_COUNTED, source_entry["repeated_rows"]["note"])
    return {**source_entry, "repeated_rows": {**source_entry["repeated_rows"], "note": note}}


def _shared_names(run, per_code=True):
    """For each source of ``run`` whose ``source_id`` another source of it carries (two
    folders' ``data.csv``; an edited file read again), what tells it apart: a distinct
    ``label`` (:func:`sktraceprop._lineage._labels.source_labels`), the codes of the
    others, its parents by code, and a note of what the report cannot say of it.

    The feature lineage and the runs name sources by ``source_id``: for a shared name
    they cannot say which of the sources they mean; nor can the ops of a run recorded
    before ops kept their sources' contents (SHA-256).
    """
    by_name = {}
    for code, source in run.sources.items():
        by_name.setdefault(source.source_id, []).append(code)
    contents = {}
    for code in sorted(run.sources):
        contents.setdefault(content_key(run.sources[code]), run.sources[code])
    labels = dict(zip(contents, source_labels(list(contents.values()))))
    told = ops_told_apart(
        [(op.sources, op.source_keys is not None) for op in run.ops], set(by_name)
    )
    out = {}
    for name, codes in by_name.items():
        n_contents = len({content_key(run.sources[c]) for c in codes})
        if n_contents < 2:
            continue  # one content (an alias code from another process): one source
        # (format 19 counts sources, not codes: an alias is not another source)
        n = len(codes) if per_code else n_contents
        for code in codes:
            source = run.sources[code]
            out[code] = {
                "label": labels[content_key(source)],
                # format 19: the other files' codes, not its own aliases' (one content)
                "name_shared_with": sorted(
                    int(c)
                    for c in codes
                    if c != code
                    and (per_code or content_key(run.sources[c]) != content_key(source))
                ),
                "parent_codes": [int(c) for c in source.parent_codes if c in run.sources],
                "name_note": (
                    f"{n} sources of this run carry the source_id {name!r} "
                    "(told apart here by URI and SHA-256): "
                    + (
                        "the ops listed, the feature lineage and the runs name sources by "
                        "source_id, so for this name they cannot say which of those "
                        "sources an op was fitted on or a model input came from"
                        if name not in told
                        else "the ops listed are matched to it by SHA-256, but the feature "
                        "lineage and the runs name sources by source_id, so for this name "
                        "they cannot say which of those sources a model input came from"
                    )
                ),
            }
    return out


def ops_told_apart(ops, names):
    """Of ``names`` (source ids several sources carry), those that ops name and that
    every op naming them tells apart by SHA-256. ``ops``: ``(sources, has_keys)`` pairs.

    Reports say so only then: a run recorded before ops kept their sources' contents
    (and a report made from one) reads as it did.
    """
    named, unsure = set(), set()
    for sources, has_keys in ops:
        for name in set(sources or ()) & names:
            (named if has_keys else unsure).add(name)
    return named - unsure


def _other_reads(source, record=None):
    """The report's ``other_reads`` and ``reads_note`` of a file read more than once,
    and, where the run recorded them, the lines each read spans and how many rows given
    to fit lie outside them (``rows_by_read``, ``rows_by_read_note``)."""
    if not source.other_reads:
        return {}
    out = {
        # (a read's encoding, which the CLI decodes its lines with, is not in the
        # report's format)
        "other_reads": [
            {k: v for k, v in r.items() if k != "encoding"} for r in source.other_reads
        ],
        "reads_note": reads_note(source.reads(), source.uris()),
    }
    if len(source.uris()) > 1:
        out["uris"] = source.uris()
    by_read = (record or {}).get("reads")
    if by_read is not None:
        out["rows_by_read"] = [dict(r) for r in by_read]
        out["rows_by_read_note"] = rows_by_read_note(by_read, record["n_rows"])
    return out


def _paths_note(source):
    """:func:`._source_reads.paths_note` of ``source``'s paths."""
    return paths_note(source.uris())


#: How a report of format 13 or earlier ended the note above (uri was the first path).
PATHS_NOTE_13 = (
    "(row ids alone, or a concat or merge of frames read from two copies), so which "
    "path the training rows were read from is not recorded; uri names the first "
    "read's path"
)
PATHS_NOTE_TAIL = (
    "(row ids alone, or a concat, merge or other operation on frames read from two "
    "copies), so which path the training rows were read from is not recorded; uri "
    "is empty"
)


def as_format_13(source_entry):
    """A source entry as a report of format 13 or earlier wrote it: ``uri`` the first
    of ``uris`` (the first read's path) where the bytes were read from several."""
    if "uris" not in source_entry:
        return source_entry
    out = dict(source_entry, uri=source_entry["uris"][0])
    out["reads_note"] = out["reads_note"].replace(PATHS_NOTE_TAIL, PATHS_NOTE_13)
    return out


def _no_stats_note(source, stats):
    if not stats:
        return "the run was recorded without per-source statistics (an older sktraceprop)"
    if source.kind in ("merge", "aggregate") or source.parent_codes:
        return "its rows reach the model only through derived rows: see those sources"
    note = (
        "no row given to fit came directly from this source: it reached the model "
        "only through merged or aggregated rows"
    )
    if stats.get("through_merges_note"):
        # the fit ran where a merge's parent rows were not (a worker process)
        note += f"; statistics over the merged rows: {stats['through_merges_note']}"
    return note
