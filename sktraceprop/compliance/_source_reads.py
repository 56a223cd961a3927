"""A file's reads in the report: ``reads_note``, ``rows_by_read`` and their notes,
for one code's entry and for a file whose rows carry several codes (an alias).

A file read more than once lists its other reads, and, where the fit recorded the lines
each read spans, how many rows given to fit lie outside them (``rows_by_read``). The
fit records that per code; a file's entry folded over its codes (report format 19,
:mod:`._source_aliases`) lists each read once and counts the rows of every code
(before, the first code's only: the rows given under an alias were left out).
"""

from .._lineage._uri_path import same_file_uri


def reads_note(reads, uris):
    """The report's ``reads_note``: how many ways the bytes were read, and from how
    many paths (``reads``: every read, the first read first; ``uris``: every path)."""
    shapes = "; ".join(f"{r['n_rows']} rows, {len(r['columns'])} columns" for r in reads)
    return (
        f"the process that fitted the model read these bytes {len(reads)} ways "
        f"({shapes}): n_rows is the first read's; the training rows name file lines, "
        "which every read shares; the columns listed are every read's" + paths_note(uris)
    )


def paths_note(uris):
    """Where the bytes were read from more than one path: that the rows' path is not
    known (a row id names a line, the same in every copy)."""
    if len(uris) == 1:
        return ""
    return (
        f"; these bytes were read from {len(uris)} paths ({', '.join(uris)}, listed in "
        "uris), each holding the same bytes: a row id names a line, the same in each "
        "copy, and the rows given to fit did not carry the path they were read from "
        "(row ids alone, or a concat, merge or other operation on frames read from two "
        "copies), so which path the training rows were read from is not recorded; uri "
        "is empty"
    )


def _key(read):
    # (a share path spelled in another case is the same read: same_file_uri)
    uri = read.get("uri")
    return read["n_rows"], read["loaded_at"], None if uri is None else same_file_uri(uri)


def _union(items, key):
    out, seen = [], set()
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return out


def _given_directly(entry):
    """Rows of one code's entry given to fit as its own rows (not through merges)."""
    stats = entry["statistics"]
    if not stats.get("recorded_at_fit") or stats.get("through_merges"):
        return 0
    return int(stats["rows_given_to_fit"])


def fold_reads(group, run):
    """The read keys of a file's entry folded over its codes (``group``: one entry per
    code, the first code's first): each read listed once, ``rows_outside`` summed over
    the codes whose rows were given to fit (null, with its lines, where a code that gave
    rows did not count them against that read: another process's record). ``{}`` where
    the file was read once."""
    sources = [run.sources[e["code"]] for e in group]
    reads = _union([r for s in sources for r in s.reads()], _key)
    if len(reads) < 2:
        return {}
    uris = _union([u for s in sources for u in s.uris()], same_file_uri)
    out = {
        "other_reads": [{k: v for k, v in r.items() if k != "encoding"} for r in reads[1:]],
        "reads_note": reads_note(reads, uris),
    }
    if len(uris) > 1:
        out["uris"] = uris
    if not any("rows_by_read" in e for e in group):
        return out
    given = [(e, _given_directly(e)) for e in group]
    listed = _union([r for e in group for r in e.get("rows_by_read", [])], _key)
    folded = []
    for read in listed:
        counts = []
        for entry, n in given:
            if not n:
                continue  # (no row of this code given to fit: none outside)
            mine = [r for r in entry.get("rows_by_read", []) if _key(r) == _key(read)]
            counts.append(mine[0]["rows_outside"] if mine else None)
        row = dict(read)
        if None in counts:
            row.update(first_line=None, last_line=None, rows_outside=None)
        else:
            row["rows_outside"] = int(sum(counts))
        folded.append(row)
    out["rows_by_read"] = folded
    out["rows_by_read_note"] = rows_by_read_note(folded, sum(n for _, n in given))
    return out


def rows_by_read_note(reads, n_given):
    """Which reads the rows given to fit can have come from, in words: a row whose line
    lies outside the lines a read spans did not come from that read."""
    parts, spanning, unknown = [], [], []
    for r in reads:
        name = f"the read of {r['n_rows']} rows at {r['loaded_at']}"
        if r.get("uri") is not None:
            name += f" from {r['uri']}"
        if r["rows_outside"] is None:
            unknown.append(name)
        elif r["rows_outside"]:
            parts.append(
                f"{r['rows_outside']} of the {n_given} rows given to fit lie outside lines "
                f"{r['first_line']}-{r['last_line']}, which {name} spans: they did not come "
                "from it"
            )
        else:
            spanning.append(f"{name} (lines {r['first_line']}-{r['last_line']})")
    if len(spanning) == 1 and not unknown:
        parts.append(f"every row given to fit lies within the lines of {spanning[0]}")
    elif spanning:
        parts.append(
            f"every row given to fit lies within the lines of each of {', '.join(spanning)}"
            + (f" (and of {', '.join(unknown)} perhaps)" if unknown else "")
            + ": which of them gave the rows is not recorded (a row id names a file line, "
            "the same in every read of these bytes)"
        )
    if unknown and not spanning:
        parts.append(
            f"the lines that {', '.join(unknown)} spans are not known in the process that "
            "fitted the model (read in another process): whether it gave rows is not known"
        )
    return "; ".join(parts)
