"""What a run records of the comparison of its data with what was loaded: its
``changed_columns`` and ``rows_compared`` entries, the columns identified as renamed,
and the notes for rows whose lines could not be checked."""

from ._misplaced_columns import MIN_COLUMNS


def changed_record(changed):
    """:attr:`Lineage.changed_columns` of :func:`changes`' result: one entry per source
    and loaded column found changed, in source code order, then one per parent source
    of a merge whose rows showed a change in a column the merge took from it
    (``through``: the merge's code); ``rows_not_known`` where some rows' values are not
    known (see :attr:`._witness.ChangedColumns.by_source`); None where nothing could be
    compared."""
    if getattr(changed, "by_source", None) is None:
        return None

    def entry(code, loaded, name, differ, checked, filled, unknown=0):
        return {
            "code": int(code),
            "column": str(loaded),
            **({"input_column": str(name)} if str(name) != str(loaded) else {}),
            "rows_checked": int(checked),
            "rows_changed": int(differ),
            "missing_filled": int(filled),
            **({"rows_not_known": int(unknown)} if unknown else {}),
        }

    out = [
        entry(code, loaded, name, *counts)
        for code, found in sorted(changed.by_source.items())
        for name, (loaded, *counts) in found.items()
    ]
    for (code, loaded, name, merge), counts in sorted(changed.through.items()):
        out.append({**entry(code, loaded, name, *counts), "through": int(merge)})
    return out


def unknown_note(run, entries):
    """The run's note naming the columns of ``entries`` (of :func:`changed_record`) with
    rows whose values are not known."""
    named = ", ".join(
        f"{e['column']} of {run.sources[e['code']].source_id} ({e['rows_not_known']} rows)"
        for e in entries
        if "through" not in e
    )
    return (
        f"input column(s) {named} hold, on rows given to fit, values a merge or aggregate "
        "made from rows of its inputs whose loaded values are not kept (not witness "
        "rows), in columns its inputs had changed after loading on rows that are: "
        "whether these rows hold the values loaded is not known, and they are not "
        "counted among the rows checked"
    )


def compared_record(changed):
    """:attr:`Lineage.rows_compared` of :func:`changes`' result (None where
    :func:`changed_record` is): one entry per source of the rows, then one per ancestor
    of a merge or aggregate among them (``through``: its code)."""
    found = getattr(changed, "rows_compared", None)
    if getattr(changed, "by_source", None) is None or found is None:
        return None
    through = getattr(changed, "compared_through", {})
    return [{"code": int(c), "rows": int(n)} for c, n in sorted(found.items())] + [
        {"code": int(c), "rows": int(n), "through": int(m)}
        for (c, m), n in sorted(through.items())
    ]


def _renamed_pairs(compared):
    """Column of the data -> ``[[source code, loaded column], ...]`` (see
    :attr:`Lineage.renamed_columns`)."""
    out = {}
    for code, found in sorted(compared.items()):
        for name, loaded in found[2].items() if found is not None else ():
            out.setdefault(str(name), []).append([int(code), str(loaded)])
    return out


def _renamed_columns(run, pairs):
    """Column of the data -> ``"column of source"`` it was identified as (renamed), from
    :func:`_renamed_pairs`."""
    return {
        name: ", ".join(f"{loaded} of {run.sources[code].source_id}" for code, loaded in found)
        for name, found in pairs.items()
    }


def compared_notes(run, compared, ambiguous):
    """Notes for the sources whose training rows could not be compared with what was
    loaded, or with fewer than ``MIN_COLUMNS`` columns (a move of row ids off their rows
    is noticed from two): their lines are not checked."""
    notes, sampled = [], []
    for code, found in compared.items():
        source = run.sources[code].source_id
        if found is None:
            notes.append(
                f"the lines named for the training rows from source {source!r} were not "
                "checked: the values loaded for them are not kept in this process (loaded "
                "in another process, whose frame was unpickled here, or a frame with "
                "duplicate column names or row ids). Had their ids been moved off their "
                "rows (df.index = ..., set_axis, values assigned without alignment), these "
                "would be wrong lines and nothing here would notice."
            )
            continue
        (rows, total), same, as_loaded = found
        columns = same + list(as_loaded)
        if 0 < rows < total and len(columns) >= MIN_COLUMNS:
            sampled.append(f"{rows} of the {total} rows from {source!r}")
        if rows == 0:
            why = (
                "none of them is among the rows whose loaded values are kept (a sample "
                "of 256 to 512 rows per load)"
            )
        elif len(columns) >= MIN_COLUMNS:
            continue
        elif columns:
            why = (
                f"only column {columns[0]} could be compared with what was loaded, on "
                f"{rows} rows (a move is noticed from {MIN_COLUMNS} columns)"
            )
        else:
            why = (
                "none of the input columns is one of its loaded columns, by name or "
                "identified by its values"
            )
            unsure = [f"{c} (values of {' or '.join(m)})" for c, m in ambiguous.items()]
            if unsure:
                why += (
                    f"; {', '.join(unsure)} could not be identified: several loaded "
                    "columns hold such values, or they have too few distinct values to name one"
                )
        notes.append(
            f"the lines named for the training rows from source {source!r} were not "
            f"checked: {why}. Their row ids name the lines; had the ids been moved off "
            "their rows (df.index = ..., set_axis, values assigned without alignment) "
            "before the columns were renamed or computed, these would be wrong lines and "
            "nothing here would notice."
        )
    if sampled:
        notes.append(
            "the training rows' values were compared with what was loaded on a sample: "
            f"{', '.join(sampled)} (the rows a hash of their id picks, 256 to 512 per "
            "load). A change, or a move of row ids off their rows, confined to rows "
            "outside the sample is not noticed: a block of 10 rows whose ids were moved "
            "among 10,000 loaded rows holds none of them about half the time."
        )
    return notes
