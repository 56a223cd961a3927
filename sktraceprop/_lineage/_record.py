"""Building a :class:`Lineage` from a fitted estimator and the ids of its training rows."""

import contextvars
import uuid
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from ..exceptions import LineageError, LineageWarning
from ..utils._stack import user_stacklevel
from ._attached import attached_columns, attached_message, unchecked_message
from ._features import TARGET, by_feature, duplicate_note, feature_lineage, unknown_step
from ._filled_merge import filled_from_rows, filled_message, filled_note
from ._fingerprint import SCHEME as FINGERPRINT_SCHEME
from ._fingerprint import class_path, fingerprint, json_params
from ._ids import distinct_codes
from ._misplaced import MIN_COLUMNS, misplaced_row
from ._read_paths import narrowed_table
from ._renamed import loaded_names
from ._replaced_rows import replaced_message
from ._run import Lineage, Op, column_origins, library_versions
from ._source import REGISTRY, utc_now
from ._upstream_outputs import identify, identify_note
from ._upstream_rows import restrict_rows
from ._witness import MAX_LOADS, WITNESSES, changed_columns, changed_note
from ._witness_view import taken_once

#: True while a traced estimator fits: nested traced estimators then leave the
#: recording to the outermost one.
_RECORDING = contextvars.ContextVar("sktraceprop_recording", default=False)


#: ``(X, ids, identify's result)`` of the fit under way (see :class:`fit_inputs`).
_FOUND = contextvars.ContextVar("sktraceprop_upstream_found", default=None)


class fit_inputs:
    """Context manager of a traced fit of ``X`` (rows ``ids``): which upstream ops its
    rows went through (:func:`identify`) is found once, before the fit (a step with
    ``copy=False`` may write into ``X``: the record is of the data given), and is what
    :func:`changes` and :func:`build_lineage` of the same ``X`` and ``ids`` use. So are
    ``X``'s witness rows, taken then, and their comparisons with what was loaded and
    with the steps' kept outputs (:func:`._witness_view.taken_once`)."""

    def __init__(self, X, ids):
        self.X, self.ids = X, ids

    def __enter__(self):
        self.views = taken_once()
        self.views.__enter__()
        try:
            found = None
            if isinstance(self.X, pd.DataFrame):
                sources = source_table(self.ids)
                found = identify(self.X, self.ids, sources, upstream_ops(sources))
            self.token = _FOUND.set((self.X, self.ids, found))
        except BaseException:
            self.views.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        _FOUND.reset(self.token)
        self.views.__exit__(None, None, None)
        return False


def _identified(X, ids, sources):
    """:func:`identify` of ``X``'s upstream ops, as found before the fit under way."""
    held = _FOUND.get()
    if held is not None and held[0] is X and held[1] is ids and held[2] is not None:
        return held[2]
    return identify(X, ids, sources, upstream_ops(sources))


class recording:
    """Context manager marking the fit of the outermost traced estimator."""

    def __enter__(self):
        self.outer = not _RECORDING.get()
        self.token = _RECORDING.set(True)
        return self.outer

    def __exit__(self, *exc):
        _RECORDING.reset(self.token)
        return False


def input_names(estimator, X, n_features=None):
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    n = n_features if n_features is not None else getattr(estimator, "n_features_in_", 0)
    if n == 0 and hasattr(X, "shape") and len(X.shape) == 2:
        n = X.shape[1]
    return [f"x{j}" for j in range(n)]


def _names(est, attr):
    try:
        if attr == "in":
            names = getattr(est, "feature_names_in_", None)
            return [] if names is None else [str(n) for n in names]
        return [str(n) for n in est.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return []


def fitted_steps(estimator, prefix=""):
    """``(name, step)`` of every fitted leaf and composite step, in fit order."""
    steps = []

    def walk(est, name):
        if est is None or isinstance(est, str):
            return
        if isinstance(est, Pipeline):
            for step_name, step in est.steps:
                walk(step, f"{name}/{step_name}" if name else step_name)
            return
        if isinstance(est, ColumnTransformer) and hasattr(est, "transformers_"):
            for sub_name, sub, _ in est.transformers_:
                walk(sub, f"{name}/{sub_name}" if name else sub_name)
        elif isinstance(est, FeatureUnion):
            for sub_name, sub in est.transformer_list:
                walk(sub, f"{name}/{sub_name}" if name else sub_name)
        steps.append((name or type(est).__name__.lower(), est))

    walk(estimator, prefix)
    return steps


def collect_ops(estimator, prefix=""):
    """One :class:`Op` per fitted leaf and composite step, in fit order."""
    return [
        Op(
            name=name,
            cls=class_path(est),
            params=json_params(est),
            fingerprint=fingerprint(est),
            features_in=_names(est, "in"),
            features_out=_names(est, "out"),
        )
        for name, est in fitted_steps(estimator, prefix)
    ]


def resample_ids(ids, steps):
    """Follow row ids through sampler steps (``fit_resample`` with ``sample_indices_``)."""
    notes = []
    for name, step in steps:
        if not hasattr(step, "fit_resample"):
            continue
        indices = getattr(step, "sample_indices_", None)
        if indices is None:
            message = (
                f"sampler step {name!r} ({type(step).__name__}) has no sample_indices_: it "
                "may create synthetic rows, so the rows the final estimator saw cannot be "
                "traced past it. Lineage records the rows given to fit."
            )
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
            notes.append(message)
            return ids, notes, False
        ids = ids[np.asarray(indices)]
    return ids, notes, True


def upstream_ops(codes):
    """Ops applied outside the estimator (by :class:`TracedEstimator`) to these sources
    (matched by identity: an op fitted on one ``data.csv`` is not another folder's)."""
    return REGISTRY.ops_on({REGISTRY.by_code(c).key for c in codes})


def source_table(ids):
    """Every source the ids name, merge parents included, by code."""
    return source_closure(distinct_codes(ids))


def source_closure(codes):
    """The sources of ``codes`` and, transitively, their merge/aggregate parents, by code."""
    table, todo = {}, list(codes)
    while todo:
        code = int(todo.pop())
        if code in table:
            continue
        source = REGISTRY.by_code(code)
        table[code] = source
        todo.extend(int(c) for c in source.parent_codes)
    return dict(sorted(table.items()))


def _final_estimator(estimator):
    """The model (see :func:`~._final.model_of`)."""
    from ._final import model_of  # (_final imports this module)

    return model_of(getattr(estimator, "estimator_", estimator))[0]


def _with_searched_steps(transformer, estimator):
    """``transformer`` followed by the steps of a search's best pipeline (the model's
    inputs: :mod:`._search_features`)."""
    from ._search_features import with_searched_steps  # (it imports _final, which imports this)

    return with_searched_steps(transformer, estimator)


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
            run.notes.append(changed_note(changed))
        if getattr(changed, "replaced", None):
            message = replaced_message(changed.replaced, sum(changed.rows_compared.values()))
            run.notes.append(message)
            warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
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
        unsourced = _attach(run, X, unsourced)
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
    return run


def _attach(run, X, unsourced):
    """Identify the columns of ``unsourced`` attached by position from another loaded
    source (:mod:`._attached`): recorded in the run, warned of, and noted; returns the
    columns still of unknown source."""
    if not unsourced:
        return unsourced
    own = _ancestors(run.sources)
    found, unchecked = attached_columns(
        X,
        unsourced,
        run.row_ids if run.input_row_ids is None else run.input_row_ids,
        lambda code: None if int(code) in own else _source_or_none(code),
    )
    run.attached_columns = found
    if found:
        message = attached_message(found)
        run.notes.append(message)
        warnings.warn(message, LineageWarning, stacklevel=user_stacklevel())
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


def changes(X, ids, name="X"):
    """Columns of ``X`` changed after loading (see :mod:`._witness`).

    Columns written by a traced step outside the pipeline (the ops a
    :class:`TracedEstimator` logged for these sources) are recorded, not compared.

    Raises
    ------
    LineageError
        When a row of ``X`` holds the values loaded for another row (see
        :mod:`._misplaced`): its id names a line whose record it does not hold; or
        when values missing in a row's record hold another merged row's values, moved
        there (see :mod:`._filled_merge`). ``name`` is what the message calls ``X``.
    """
    if not isinstance(X, pd.DataFrame):  # (an array's columns have no names to compare)
        return Changes()
    sources = source_table(ids)
    upstream, _, _ = _identified(X, ids, sources)
    written = {f for op in upstream for f in op.features_out}
    with np.errstate(over="ignore", invalid="ignore"):  # (float32 keys of huge values)
        renamed = loaded_names(X, ids, sources, skip=written)
    found = changed_columns(X, ids, sources, skip=written, renamed=renamed)
    changed = Changes(found)
    changed.by_source, changed.through = found.by_source, found.through
    changed.rows, changed.rows_compared = found.rows, found.rows_compared
    changed.compared_at, changed.compared_through = found.compared_at, found.compared_through
    changed.replaced = found.replaced
    if len(changed) >= MIN_COLUMNS:  # a row moved differs in at least as many columns
        with np.errstate(over="ignore", invalid="ignore"):
            found = misplaced_row(X, ids, sources, skip=written, renamed=renamed)
        if found is not None:
            raise LineageError(misplaced_message(found, name))
    if sum(1 for counts in changed.values() if counts[2]) >= MIN_COLUMNS:
        # gaps filled in as many columns: with another merged row's values? (a move)
        with np.errstate(over="ignore", invalid="ignore"):
            moved, changed.filled = filled_from_rows(
                X, ids, sources, skip=written, renamed=renamed
            )
        if moved is not None:
            raise LineageError(filled_message(moved, name))
    changed.compared = _compared_columns(X, sources, renamed, written)
    return changed


class Changes(dict):
    """:func:`changes`' columns changed after loading (a dict, as
    :func:`~._witness.changed_columns` gives them, with its ``by_source``),
    ``compared``: what could be compared (see :func:`_compared_columns`), and
    ``filled``: values of merged rows filling gaps of several rows (see
    :func:`._filled_merge.filled_from_rows`), for the run's notes."""

    compared = None
    filled = ()
    by_source = None  # (set per instance: see ChangedColumns.by_source, .through,
    through = {}  # .rows, .rows_compared, .compared_at and .compared_through)
    rows = {}
    rows_compared = None
    compared_at = np.zeros(0, dtype=np.intp)
    compared_through = {}
    replaced = ()  # (see ChangedColumns.replaced)


def _compared_columns(X, sources, renamed, skip):
    """Per source code whose loads are kept: ``((witness rows of X compared, rows of X),
    columns of X compared by name, {column of X: loaded column} compared under another
    name)``, and the columns not identified for holding values of several loaded
    columns."""
    names = [str(c) for c in X.columns]
    out = {}
    for code, rows in renamed.rows.items():
        loaded = {n for w in WITNESSES.loads(code, sources[code].sha256) for n in w.columns}
        same = [n for n in names if n in loaded and n not in skip]
        out[code] = (rows, same, renamed.of(code))
    noted = set(WITNESSES.unchecked(renamed.unloaded))  # (a note of their own)
    for code in renamed.unloaded:
        if code not in noted and sources[code].kind != "anonymous":  # (lineage lost, said)
            out[code] = None
    return out, renamed.ambiguous


def misplaced_message(found, name):
    """The error for a row of ``name`` found holding another row's values."""
    from ._capture import describe_id

    position, own, holds, columns, kept = found
    renamed = any("(loaded as " in c for c in columns)
    shown = ", ".join(columns[:6]) + (f" and {len(columns) - 6} more" if len(columns) > 6 else "")
    if kept is not None:
        where = (
            f"({shown}), more than the {kept} it keeps of the values loaded for "
            f"{describe_id(own)}, which its row id names"
        )
    else:  # a row that is not a witness: what it keeps of its own record is not known
        where = (
            f"({shown}: more than half the values compared), yet its row id names "
            f"{describe_id(own)}"
        )
    return (
        f"row {position} of {name} holds the values loaded for {describe_id(holds)} "
        f"{where}: the row ids (the index, or sample_id=) no longer belong to "
        "their rows, and lineage would name lines whose "
        "records these rows do not hold. pandas keeps the index with its rows, except "
        "where an index is assigned (df.index = ..., set_axis), values are assigned "
        "without alignment (df[cols] = other.to_numpy(), df.iloc[...] = ...), a whole "
        "frame is shifted (df.shift()), or rows are replaced from another frame (where, "
        "mask). Keep each row's index with it (assign Series or frames, which pandas "
        "aligns by index; reorder with .loc[index]). Values deliberately taken from "
        "other rows (lag features) belong in new columns (df['x_prev'] = "
        "df['x'].shift()), which the run records as columns of no known source"
        + (
            ", beside the loaded columns: the columns said 'loaded as' are renamed copies "
            "of loaded columns (identified by their values), and none of this row's "
            "values is its own; or compute them in the pipeline."
            if renamed
            else "."
        )
    )


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
