"""Behaviour shared by every traced estimator: capture ids, fit, record, store.

The estimator, its ``lineage_`` and the store never disagree:

- the store is checked before anything is fitted (a read-only store, one that failed
  an integrity check, a MemoryStore copied into a worker process raise first, with
  the previous fit, ``lineage_`` and store untouched);
- when fitting, recording or storing fails after fitting began, the estimator is left
  *unfitted* (its fitted attributes and ``lineage_`` removed, a pipeline's steps
  replaced by unfitted clones) and nothing is stored for that fit, so it can be
  neither used nor traced with a run the store does not hold.
"""

import contextlib
import contextvars
import numbers
import warnings

import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._cache_holders import note_cache
from ._enclosing_fit import enclosing_fit_note
from ._enclosing_pickle import EnclosingPickleMixin
from ._erased_held import warn_erased_held
from ._holders import HolderMixin, hold
from ._lineage._array_rows import array_notes, check_array_rows
from ._lineage._capture import resolve_row_ids
from ._lineage._current import check_unchanged
from ._lineage._fit_params import fit_params_notes, fit_params_record
from ._lineage._fit_routes import fit_param_routes
from ._lineage._ids import codes_held
from ._lineage._paired import check_aligned
from ._lineage._record import add_input_notes, changes, fit_inputs, recording
from ._lineage._stats import (
    empty_columns,
    empty_columns_message,
    source_stats,
)
from ._lineage._stats import (
    target_kind as _target_kind,
)
from ._model_lock import exclusive
from ._polars_frame import one_conversion
from ._prediction_log import check_log_predictions, remember_answering_parts
from ._removed_rows import warn_refit_on_removed
from ._selection import (
    SelectionCloneMixin,
    anonymous_split_note,
    call_context,
    enclosing_permutation,
    merge_context,
    permuted_labels_note,
    permuted_stats,
    selection_of,
    transformed_target_note,
)
from ._state_format import StateFormatMixin
from .exceptions import LineageWarning
from .utils._delegation import SourcesTravelMixin
from .utils._sklearn_compat import sample_id_request
from .utils._stack import user_stacklevel

__all__ = ["library_fit", "run_context"]

#: Name, purpose, tags and parent given to the runs recorded in this context.
_RUN_INFO = contextvars.ContextVar("sktraceprop_run_info", default=None)
#: While a :func:`library_fit` block runs: the (estimator, store, run) saves it defers.
_PENDING = contextvars.ContextVar("sktraceprop_pending_runs", default=None)


def _check_tags(tags):
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise TypeError(f"tags must be a dict of str to str; got {type(tags).__name__}")
    out = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str | numbers.Number | bool):
            raise TypeError(f"tags must map str to str, number or bool; got {key!r}: {value!r}")
        out[key] = value
    return out


@contextlib.contextmanager
def run_context(*, name=None, purpose=None, tags=None, parent_run_id=None):
    """Name, tag and link the runs that traced fits record inside the block.

    Blocks nest: an inner block's ``name``, ``purpose`` and ``parent_run_id`` win where
    given, and tags add up. The values are part of the run's record (so under the
    store's hash chain) and are what :meth:`BaseStore.list_runs
    <sktraceprop.stores.BaseStore.list_runs>` filters on.

    The block holds for the thread that entered it. A search or cross-validation
    called inside it passes it to the splits it fits with ``n_jobs`` (on joblib's
    threads or in worker processes); fits other code sends to another thread or
    process (your own ``joblib.Parallel``, a thread pool) are outside it: enter the
    block in the function they run.

    Parameters
    ----------
    name : str, default=None
        A name for the runs ("baseline", "2025-Q3 retrain").
    purpose : str, default=None
        Why the fits run. Runs made outside any block have purpose ``"fit"``, or
        ``"cv_fold"`` for one split of a cross-validation or search (``"permutation_test"``
        for one on the labels ``permutation_test_score`` permuted); the library's own
        fits say ``"influence"`` (the clone an ``InfluenceExplainer`` fits) or
        ``"unlearning"``. A purpose given here wins over ``"cv_fold"``; the run's
        ``selection`` still says what model selection fitted it as.
    tags : dict of str to str, number or bool, default=None
    parent_run_id : str, default=None
        The run these fits derive from.

    Examples
    --------
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = stp.datasets.load_demo(return_X_y=True)
    >>> store = stp.stores.MemoryStore()
    >>> pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    >>> with stp.run_context(name="baseline", tags={"ticket": "AUD-7"}):
    ...     pipe = pipe.fit(X.select_dtypes("number"), y)
    >>> store.list_runs(tags={"ticket": "AUD-7"})[["name", "purpose"]].values.tolist()
    [['baseline', 'fit']]
    """
    for label, value in (("name", name), ("purpose", purpose), ("parent_run_id", parent_run_id)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{label} must be a string or None; got {type(value).__name__}")
    outer = _RUN_INFO.get() or {}
    info = dict(outer)
    for key, value in (("name", name), ("purpose", purpose), ("parent_run_id", parent_run_id)):
        if value is not None:
            info[key] = value
    info["tags"] = {**outer.get("tags", {}), **_check_tags(tags)}
    token = _RUN_INFO.set(info)
    try:
        yield
    finally:
        _RUN_INFO.reset(token)


def run_id_of(estimator):
    """The id of the run that fitted ``estimator`` (None when it recorded none)."""
    lineage = getattr(estimator, "lineage_", None)
    return getattr(lineage, "run_id", None)


@contextlib.contextmanager
def library_fit(purpose, parent=None, owner=None, model=None):
    """Fits the library makes itself (a clone to explain, to unlearn from).

    Inside the block, traced fits record runs with this ``purpose`` and, as parent, the
    run of ``parent`` (an estimator, or a run id). Their stores receive the runs only
    when the block ends without an exception: code that fits a clone and then finds it
    cannot use it (an unsupported model) raises inside the block, and nothing is
    stored; the clones fitted in the block are left unfitted.

    ``owner`` is the estimator whose ``fit`` runs the block and ``model`` the clone it
    fits as its model: when scikit-learn's model selection fits ``owner`` (one split, a
    refit), the run of ``model`` says so (``Lineage.selection``); other fits in the
    block do not.
    """
    parent_run_id = parent if isinstance(parent, str) or parent is None else run_id_of(parent)
    # computed here, in the owner's fit, whose caller is the model-selection code
    selection = None if owner is None else selection_of(owner)
    outer, pending = _PENDING.get(), []
    token = _PENDING.set(pending)
    try:
        with run_context(purpose=purpose, parent_run_id=parent_run_id):
            info_token = _RUN_INFO.set({**_RUN_INFO.get(), "selection": (model, selection)})
            try:
                yield
            finally:
                _RUN_INFO.reset(info_token)
    except BaseException:
        for estimator, _, _ in pending:
            _discard_fit(estimator)
        raise
    finally:
        _PENDING.reset(token)
    if outer is not None:  # nested: stored when the outermost block succeeds
        outer.extend(pending)
        return
    for k, (_, store, lineage) in enumerate(pending):
        try:
            store.save_run(lineage)
        except BaseException:
            for later, _, _ in pending[k:]:
                _discard_fit(later)
            raise


def _check_store(store):
    """Refuse, before fitting, a store that cannot take the run."""
    if store is None:
        return
    if not callable(getattr(store, "save_run", None)):
        raise TypeError(
            f"store must be a sktraceprop store (MemoryStore, SQLiteStore, PostgresStore) "
            f"or None; got {type(store).__name__}"
        )
    check = getattr(store, "_check_writable", None)
    if check is not None:
        check()


def _discard_fit(estimator):
    """Leave ``estimator`` unfitted: no fitted attributes, no ``lineage_``."""
    for attr in [a for a in vars(estimator) if a.endswith("_") and not a.startswith("__")]:
        delattr(estimator, attr)
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list):
        # A Pipeline fits its steps in place: put unfitted clones in their place.
        estimator.steps = [
            (name, step if step is None or isinstance(step, str) else clone(step))
            for name, step in steps
        ]


def _label(lineage, selection=None, labels=None, carried=None):
    # the run_context a search or cross-validation was called in, carried by its clones
    # to fits on joblib threads and in worker processes; the fit's own context wins
    info = merge_context(carried, _RUN_INFO.get())
    # a cross-validation split's fit is not a model put in use: its purpose says so,
    # unless the user named one (the selection record says what the fit was either way)
    default = "cv_fold" if selection is not None and selection["role"] == "cv_fold" else "fit"
    if labels is not None and labels.get("labels_permuted") is not False:
        if "labels_permuted" in labels:  # a fit on labels permutation_test_score shuffled
            default = "permutation_test"
    lineage.purpose = info.get("purpose", default)
    lineage.selection = selection
    lineage.name = info.get("name")
    lineage.tags = dict(info.get("tags", {}))
    lineage.parent_run_id = info.get("parent_run_id")


class TracedMixin(
    StateFormatMixin, HolderMixin, SelectionCloneMixin, EnclosingPickleMixin, SourcesTravelMixin
):
    """Mixin recording a :class:`~sktraceprop.Lineage` run for every fit.

    Subclasses implement ``_build_lineage(X, ids, context)`` returning the run, and
    call :meth:`_traced_fit` from their public fit methods.
    """

    def _parents_travel(self):
        # An unfitted estimator with a store, pickled (a GridSearchCV or cross_validate
        # clone sent to a worker process), may store a run there before this process
        # does: the merge and aggregate sources it stores first must hold their parent
        # rows, or the store never does (it keeps a source's first record) and no run on
        # those rows, this process's refit included, can be traced from it. Which merges
        # the worker's data holds is not known when it is pickled: those of every merge
        # and aggregate loaded here travel (24 bytes per merged row).
        return getattr(self, "store", None) is not None and not hasattr(self, "lineage_")

    def _traced_fit(self, fit_method, X, y, sample_id, params, context=None):
        check_log_predictions(self)
        with recording() as outer:
            if not outer:
                return fit_method(X, y, **params)
            # a logged call of this estimator in another thread must not interleave
            # with the fit (see _model_lock)
            with exclusive(self):
                store = self.store
                _check_store(store)
                with one_conversion(X):  # a polars X read as pandas once
                    ids = resolve_row_ids(X, sample_id, y=y, fit_params=params)
                    warn_refit_on_removed(ids, type(self).__name__, user_stacklevel(), store=store)
                    # where each parameter goes (routing validated here, before the fit)
                    method = getattr(fit_method, "__name__", "fit")
                    routes = fit_param_routes(self, method, params)
                    check_aligned(ids, y, params, routes)
                    # Counted before the fit: a step with copy=False (SimpleImputer,
                    # scalers) may write into the caller's data, and the record is of
                    # the data given.
                    with codes_held(ids):  # (its steps' distinct_codes: one pass)
                        stats = source_stats(X, y, ids, classes=_target_kind(self))
                fit_record = fit_params_record(params, routes)
                # which upstream ops the rows went through: found once, before the fit
                with fit_inputs(X, ids):
                    changed = changes(X, ids) if isinstance(X, pd.DataFrame) else None
                    array_checked = None
                    if changed is None and sample_id is not None:
                        array_checked = check_array_rows(X, ids)  # (refuses ids not theirs)
                    selection = selection_of(self)
                    target_note = transformed_target_note(self)
                    if selection is None:
                        model, given = (_RUN_INFO.get() or {}).get("selection", (None, None))
                        selection = given if model is self else None
                    enclosing = None
                    if selection is None:
                        enclosing = enclosing_fit_note(self)
                    try:
                        result = fit_method(X, y, **params)
                        lineage = self._build_lineage(X, ids, context)
                        lineage = add_input_notes(lineage, X, changed)
                        lineage.notes.extend(array_notes(lineage, array_checked))
                        lineage.source_stats = stats
                        lineage.fit_params = fit_record
                        lineage.notes.extend(fit_params_notes(fit_record))
                        empty = empty_columns(lineage.source_stats, len(ids))
                        if empty:
                            warnings.warn(
                                empty_columns_message(empty),
                                LineageWarning,
                                stacklevel=user_stacklevel(),
                            )
                        labels = selection
                        if labels is None or "labels_permuted" not in labels:
                            # a step's fit inside a fit permutation_test_score made
                            labels = enclosing_permutation()
                        _label(lineage, selection, labels, call_context(self, selection))
                        lineage.source_stats = permuted_stats(stats, labels)
                        split = anonymous_split_note(ids, selection)
                        permuted = permuted_labels_note(labels)
                        for note in (split, target_note, permuted, enclosing):
                            if note is not None:
                                lineage.notes.append(note)
                        self.lineage_ = lineage
                        hold(self)  # its fitted steps learnt from these rows: a removal names it
                        note_cache(self)  # and so do its memory= files, which outlive it
                        if store is not None:
                            pending = _PENDING.get()
                            if pending is None:
                                store.save_run(lineage)
                            else:
                                pending.append((self, store, lineage))
                        remember_answering_parts(self, y)
                    except BaseException:
                        _discard_fit(self)
                        raise
        return result

    def _held_row_ids(self):
        """The training rows this model's fitted steps learnt from (its run's rows)."""
        return self.lineage_.row_ids

    def trace(self, indices):
        """Source file, line and ops of training rows, by position in the training set.

        Parameters
        ----------
        indices : int or array-like of int
            Positions of rows in the data the final estimator was fitted on.

        Returns
        -------
        trace : DataFrame
            Columns ``train_index``, ``row_id``, ``source_id``, ``uri``, ``line``,
            ``ops``, ``file_state`` and ``erased``: True where the row is, or was built
            from, a row that an erasure request recorded in the pipeline's ``store``
            named, False where none did; where the pipeline has no store, True where
            a request made in this process named it and ``<NA>`` elsewhere (see
            :meth:`Lineage.trace <sktraceprop.Lineage.trace>`).

        Raises
        ------
        LineageError
            When a step changed since the run (refitted, replaced or modified outside
            a traced fit): the run's rows would no longer be this model's.
            ``lineage_.trace(indices)`` reads the run as recorded.
        """
        check_is_fitted(self, "lineage_")
        check_unchanged(self, "trace() naming the training rows")
        # a model pickled before an erasure its store records names the erased rows' lines
        store = getattr(self, "store", None)
        # (an unpickled MemoryStore: the frame's erased column says <NA>, and why)
        held = warn_erased_held(self, store, snapshot_said=True)
        # (said once: by the warning above where it named the rows, as this model's)
        return self.lineage_._trace(indices, store, warn=not held)

    def _add_sample_id_request(self, router):
        # ``sample_id`` is consumed by the traced estimator itself, like sample_weight
        # by a consumer: with metadata routing on, request it with set_fit_request. Only
        # it: a self request built from every signature would also request score's
        # sample_weight (Pipeline.score), which a plain Pipeline routes to its final step
        # as that step requested; model selection then refused weights as never requested.
        return router.add_self_request(sample_id_request(self))
