"""Building a :class:`Lineage` from a fitted estimator and the ids of its training rows.

The record is assembled here (:func:`build_lineage`), and what is known of the data's
columns added to it (:func:`add_input_notes`); the parts it is made of are found by the
modules it imports: the fit's context (``_fit_context``), its steps (``_fitted_ops``),
the sources of its rows (``_source_tables``), the columns changed after loading
(``_changes``) and their record (``_compared_record``).
"""

import uuid
import warnings

import pandas as pd

from ..exceptions import LineageError, LineageWarning
from ..utils._stack import user_stacklevel
from ._attached import MAX_COLUMNS, attached_columns, attached_message, unchecked_message
from ._changes import Changes, changes, misplaced_message
from ._compared_record import (
    _renamed_columns,
    _renamed_pairs,
    changed_record,
    compared_notes,
    compared_record,
    unknown_note,
)
from ._derived_notes import notes_of
from ._feature_dict import by_feature, duplicate_note
from ._features import feature_lineage, unknown_step
from ._filled_merge import filled_note
from ._fingerprint import SCHEME as FINGERPRINT_SCHEME
from ._fingerprint import class_path, fingerprint, json_params
from ._fit_context import _RECORDING, _identified, fit_inputs, recording
from ._fitted_ops import collect_ops, fitted_steps, input_names, resample_ids
from ._ids import distinct_codes
from ._misplaced import misplaced_undecided_note
from ._moved_rows import moved_rows_message, moved_rows_undecided_note
from ._moved_values import moved_message
from ._over_rows_text import over_rows_message, over_rows_undecided_note
from ._over_rows_unchecked import over_rows_unchecked_note
from ._overwritten import holding_others, overwritten
from ._read_paths import narrowed_table
from ._replaced_rows import emptied_message, replaced_message
from ._run import Lineage, library_versions
from ._run_features import column_origins
from ._source import REGISTRY, utc_now
from ._source_tables import source_closure, source_table, upstream_ops
from ._target_name import TARGET
from ._upstream_outputs import identify_note
from ._upstream_rows import restrict_rows
from ._witness import MAX_LOADS, WITNESSES, changed_note

# (what moved to the modules above stays importable from here)
__all__ = [
    "_RECORDING",
    "Changes",
    "add_input_notes",
    "build_lineage",
    "changed_record",
    "changes",
    "collect_ops",
    "compared_notes",
    "compared_record",
    "fit_inputs",
    "fitted_steps",
    "input_names",
    "misplaced_message",
    "recording",
    "resample_ids",
    "source_closure",
    "source_table",
    "unknown_note",
    "unsourced_columns",
    "unsourced_run_columns",
    "upstream_ops",
]


def _final_estimator(estimator):
    """The model (see :func:`~._final.model_of`)."""
    from ._final import model_of  # (_final imports this module)

    return model_of(getattr(estimator, "estimator_", estimator))[0]


def _with_searched_steps(transformer, estimator):
    """``transformer`` followed by the steps of a search's best pipeline (the model's
    inputs: :mod:`._search_features`)."""
    from ._search_features import with_searched_steps  # (it imports _final, which imports this)

    return with_searched_steps(transformer, estimator)


def _unrefitted_search(estimator):
    """A search fitted with ``refit=False`` that is the model (:mod:`._search_features`)."""
    from ._search_features import unrefitted_search

    return unrefitted_search(estimator)


def build_lineage(estimator, X, input_ids, row_ids, transformer, ops, notes=()):
    """Assemble the run record of a fit."""
    names = input_names(transformer if transformer is not None else estimator, X)
    notes = list(notes)
    if TARGET in names:
        # the name feature lineage gives the target: the two could not be told apart
        final = input_names(_final_estimator(estimator), None) if transformer else names
        lineage = dict.fromkeys(final)
        notes.append(
            f"feature lineage unknown: an input column is named {TARGET!r}, the name "
            "feature lineage gives the target; rename the column"
        )
    elif (search := _unrefitted_search(estimator)) is not None:
        # no model fitted on the rows: none takes features (each split's own did)
        from ._search_features import unrefitted_note

        lineage = dict.fromkeys(names)
        notes.append(unrefitted_note(search))
    elif (transformer := _with_searched_steps(transformer, estimator)) is None:
        lineage = {n: [n] for n in names}
    else:
        out = feature_lineage(transformer, names, X, notes)
        if out is None:
            # Unknown, said so: every feature the estimator saw maps to None.
            final = input_names(_final_estimator(estimator), None)
            lineage = dict.fromkeys(final)
            notes.append(
                "feature lineage unknown: step "
                f"{unknown_step(transformer, names)} does not report which input columns "
                "its output features derive from (give a FunctionTransformer "
                "feature_names_out=, or use a transformer with get_feature_names_out)"
            )
        else:
            lineage, shared = by_feature(*out, names)
            if shared:
                notes.append(duplicate_note(shared))
    # a file read from several paths (copies): the record of the reads X's rows came from
    sources = narrowed_table(X, source_table(input_ids))
    found = _identified(X, input_ids, sources)
    upstream, left_out, unchecked, row_notes = restrict_rows(found, X, input_ids, sources)
    notes += identify_note(left_out, unchecked) + row_notes
    traced_array = getattr(X, "__stp_run_ops__", None)  # the ops of a sktraceprop.array
    if traced_array is not None:
        array_ops, array_notes = traced_array()
        upstream = upstream + array_ops
        notes += array_notes
    run = Lineage(
        run_id=str(uuid.uuid4()),
        created_at=utc_now(),
        estimator=class_path(estimator),
        params=json_params(estimator),
        versions=library_versions(),
        sources=sources,
        ops=upstream + ops,
        feature_lineage=lineage,
        row_ids=row_ids,
        input_row_ids=None if row_ids is input_ids else input_ids,
        model_fingerprint=fingerprint(estimator),
        fingerprint_scheme=FINGERPRINT_SCHEME,
        notes=notes,
    )
    return run


def add_input_notes(run, X, changed):
    """Append to ``run``'s notes what is known of a DataFrame ``X``'s columns:
    ``changed`` (:func:`changes`, taken before the fit: a step with ``copy=False``
    writes into the data it is fitted on), and columns no source holds."""
    if isinstance(X, pd.DataFrame):
        if changed is not None:
            run.changed_columns = changed_record(changed)
            run.rows_compared = compared_record(changed)
        if changed:
            run.notes.append(changed_note(changed, len(X)))
        if getattr(changed, "replaced", None):
            message = replaced_message(changed.replaced, sum(changed.rows_compared.values()))
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
        if getattr(changed, "emptied", None):
            message = emptied_message(changed.emptied, sum(changed.rows_compared.values()))
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
        if getattr(changed, "moved_rows", None):
            message = moved_rows_message(changed.moved_rows)
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
        if getattr(changed, "moved_rows_undecided", None):
            run.notes.append(moved_rows_undecided_note(changed.moved_rows_undecided))
        if getattr(changed, "misplaced_undecided", None):
            run.notes.append(misplaced_undecided_note(changed.misplaced_undecided))
        if getattr(changed, "moved", None):
            message = moved_message(changed.moved)
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
        if getattr(changed, "over_rows", None):
            message = over_rows_message(changed.over_rows)
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
        if getattr(changed, "over_rows_undecided", None):
            run.notes.append(over_rows_undecided_note(changed.over_rows_undecided))
        if getattr(changed, "over_rows_unchecked", None):
            run.notes.append(over_rows_unchecked_note(changed.over_rows_unchecked))
        unsure = [e for e in run.changed_columns or () if "rows_not_known" in e]
        if unsure:
            run.notes.append(unknown_note(run, unsure))
        if getattr(changed, "filled", None):
            run.notes.append(filled_note(changed.filled))
        unchecked = WITNESSES.unchecked(run.sources)
        if unchecked:
            names = sorted({run.sources[c].source_id for c in unchecked})
            run.notes.append(
                f"the values of source(s) {', '.join(names)} were not compared with what "
                f"was loaded: their loads are no longer kept in this process (read more "
                f"than {MAX_LOADS} ways, or the registry was cleared), so a change made "
                "outside the pipeline to their columns would not be noted here"
            )
        compared = getattr(changed, "compared", None)
        run.notes += compared_notes(run, *compared) if compared else []
        # a renamed column whose values differ from the loaded column's on some rows
        # compared (a lag: shift(1) holds the same values, on other rows) is not that
        # column: its features keep no known source
        renamed_pairs = _renamed_pairs(compared[0] if compared else {})
        run.renamed_columns = {c: v for c, v in renamed_pairs.items() if c not in (changed or {})}
        unsourced = unsourced_run_columns(run)
        renamed = _renamed_columns(run, renamed_pairs)
        unsourced = [c for c in unsourced if c not in renamed]
        unsourced = _attach(run, X, unsourced, overwritten(changed))
        if renamed:
            run.notes.append(
                "input column(s) "
                f"{', '.join(f'{c} (loaded as {s})' for c, s in renamed.items())} hold the "
                "values of the loaded column named beside each, identified by those values "
                "on the rows compared with what was loaded (a column renamed or copied "
                "outside the pipeline, or computed so that its values are that column's): "
                "they were compared with it, and a change found is noted with the others. "
                "feature_sources() names that column's source for the features made from "
                "those whose values are the loaded column's on every row compared "
                "(run.renamed_columns: an identification by values), and none for those "
                "noted as changed (a lag holds the column's values on other rows). Rename "
                "columns in the pipeline, or keep the loaded names, to have it by name."
            )
        if unsourced:
            run.notes.append(
                f"input column(s) {', '.join(unsourced)} are in none of the sources of the "
                "training rows (computed or renamed outside the pipeline: DataFrame.join "
                "of another frame or of group statistics, groupby().transform, a rename): "
                "the features made from them have no known source (feature_sources() names "
                "none) and may carry data of other rows. Join with sktraceprop.merge, compute "
                "group statistics with sktraceprop.aggregate or, in the pipeline, "
                "sktraceprop.preprocessing.GroupStatistics."
            )
    # what the checks of a merge's or aggregate's inputs found or could not tell (no run there)
    run.notes += [n for n in notes_of(run.sources or {}) if n not in run.notes]
    return run


def _attach(run, X, unsourced, overwritten=()):
    """Identify the columns of ``unsourced``, and the loaded columns ``overwritten``,
    attached by position from another loaded source (:mod:`._attached`): recorded in
    the run, warned of, and noted; returns the columns of ``unsourced`` still of
    unknown source. A loaded column overwritten so is compared with its own source
    too, and noted as changed; the run names neither the source nor the rows its
    values came from, unless warned so."""
    own = _ancestors(run.sources)
    room = max(0, MAX_COLUMNS - len(unsourced))  # (the unsourced columns checked first)
    extra = [c for c in overwritten if c not in unsourced][:room]
    extra = holding_others(X, extra, own) if extra else extra
    if not unsourced and not extra:
        return unsourced
    found, unchecked = attached_columns(
        X,
        list(unsourced) + extra,
        run.row_ids if run.input_row_ids is None else run.input_row_ids,
        lambda code: None if int(code) in own else _source_or_none(code),
    )
    run.attached_columns = found
    if found:
        message = attached_message(found)
        run.notes.append(message)
        warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
    unchecked = {c: why for c, why in unchecked.items() if c in unsourced}
    if unchecked:
        run.notes.append(unchecked_message(unchecked))
    named = {e["input_column"] for e in found}
    return [c for c in unsourced if c not in named]


def _ancestors(sources):
    """The codes of ``sources`` and of every source they were merged or aggregated from:
    a column holding one of their columns on other rows (a shift, a lag) moved the
    training data's own values, and stays of unknown source (its removal caveat holds)."""
    seen, todo = set(), [int(c) for c in sources]
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        source = sources.get(code) or _source_or_none(code)
        todo += [int(c) for c in getattr(source, "parent_codes", ()) or ()]
    return seen


def _source_or_none(code):
    try:
        return REGISTRY.by_code(code)
    except LineageError:
        return None


def unsourced_run_columns(run):
    """Input columns used by the run's features that no source of its rows holds (the
    target, given to ``fit`` beside them, is not an input column)."""
    used = dict.fromkeys(
        c for cols in run.feature_lineage.values() for c in cols or () if c != TARGET
    )
    renamed = run.renamed_columns
    attached = {e["input_column"] for e in run.attached_columns}
    return [
        c
        for c in unsourced_columns(used, run.row_ids, run.sources)
        if c not in attached
        and not any(
            column_origins(run.sources, code, loaded)[0] for code, loaded in renamed.get(c, ())
        )
    ]


def unsourced_columns(columns, ids, sources):
    """Of ``columns``, those that no source of rows ``ids`` holds (through merges and
    aggregates too): computed or renamed outside the pipeline, of unknown origin.
    ``sources``: code -> :class:`Source`, with the parents of derived sources."""
    top = [int(c) for c in distinct_codes(ids)]
    if not top or any(int(c) not in sources or not sources[int(c)].columns for c in top):
        return []  # sources without column names (plain arrays): nothing to compare
    return [
        str(c) for c in columns if not any(column_origins(sources, code, c)[0] for code in top)
    ]
