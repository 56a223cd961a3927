"""The record of one traced fit: sources, ops, feature lineage and training rows."""

from dataclasses import dataclass, field, fields

import numpy as np

from .._state_format import RecordedFormatMixin, check_state
from ._row_sets import from_json, to_json
from ._run_decode import attached_from, changed_from, compared_from, ops_from, scheme_from
from ._run_features import _LineageFeatures
from ._run_rows import _LineageRows, op_labels  # noqa: F401 (op_labels: re-exported)
from ._versions import library_versions  # noqa: F401 (re-exported)


@dataclass
class Op(RecordedFormatMixin):
    """One fitted step.

    Attributes
    ----------
    name : str
        Step path inside the traced estimator (``"columntransformer/onehotencoder"``).
    cls : str
        Estimator class, ``module.QualName``.
    params : dict
        JSON-safe shallow parameters.
    fingerprint : str
        SHA-256 of class, parameters and fitted state.
    features_in, features_out : list of str
        Feature names seen and produced (empty when unknown).
    sources : list of str or None
        Source ids whose rows went through the op (for display: two files read under one
        source_id share it); None means every training row.
    source_keys : list of [str, str] or None
        ``[source_id, sha256]`` of each source whose rows went through the op, sorted:
        what tells two sources that share a source id apart (two folders' ``data.csv``,
        two contents of one edited file). None where ``sources`` is None, and in ops
        recorded before it was kept (only the names are known, and rows are matched to
        the op by name: see ``sktraceprop._lineage._op_rows``).
    rows : tuple or None
        The rows of those sources that went through the op, where only some did (a scaler fitted on
        one hospital's rows of a file): a set of row ids (see ``sktraceprop._lineage._row_sets``).
        None where every row of its sources did, or where which ones is not known (an op learnt
        from another process).
    """

    name: str
    cls: str
    params: dict
    fingerprint: str
    features_in: list = field(default_factory=list)
    features_out: list = field(default_factory=list)
    sources: list = None
    source_keys: list = None
    rows: tuple = None

    _state_format = 1  # (its pickle records it: see _state_format)

    def __post_init__(self):
        if self.source_keys is None:
            return
        try:
            keys = sorted({(str(i), str(sha)) for i, sha in self.source_keys})
        except (TypeError, ValueError):
            raise ValueError(
                f"op {self.name!r}: source_keys must be [source_id, sha256] pairs, got "
                f"{self.source_keys!r}"
            ) from None
        names = {i for i, _ in keys}
        if self.sources is None or names != {str(i) for i in self.sources}:
            raise ValueError(
                f"op {self.name!r}: source_keys name the source ids {sorted(names)}, "
                f"sources {self.sources!r}"
            )
        self.source_keys = [list(k) for k in keys]

    def to_dict(self):
        # every field read as an attribute: an op pickled before a field was added lacks
        # it and reads its default (None: not recorded), as the op read from a store does
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.source_keys is None:  # absent from ops of every row (and older runs)
            del out["source_keys"]
        if self.rows is None:  # absent where every row of its sources went through
            del out["rows"]
        else:
            out["rows"] = to_json(self.rows)
        return out

    @classmethod
    def from_dict(cls, d):
        rows = {"rows": from_json(d["rows"])} if "rows" in d else {}
        return cls(**{**d, **rows})


@dataclass(eq=False)
class Lineage(RecordedFormatMixin, _LineageRows, _LineageFeatures):
    """Lineage of one fit (a *run*); append-only once stored.

    Attributes
    ----------
    run_id : str
        UUID of the run.
    created_at : str
        Wall-clock UTC time of the fit (ISO 8601).
    estimator : str
        Class of the traced estimator.
    params : dict
        Its JSON-safe parameters.
    versions : dict
        Python and library versions.
    sources : dict of int to Source
        Every source a training row comes from, by code.
    ops : list of Op
        Fitted steps, upstream (outside the estimator) first, final estimator last.
    feature_lineage : dict of str to list of str or None
        Each feature the final estimator saw -> the input columns it derives from, and
        ``"<target>"`` when it was computed from the target (a target encoding, a
        supervised feature selection: see :meth:`target_features`); an empty list for a
        feature that depends on no input (a constant); ``None`` where a step does not
        say (the run's notes name it).
    row_ids : ndarray of int64
        The rows the final estimator was fitted on, in order.
    input_row_ids : ndarray of int64 or None
        The rows given to ``fit``, when they differ from ``row_ids`` (samplers, a
        skorch validation split).
    model_fingerprint : str
        Fingerprint of the whole fitted estimator.
    notes : list of str
        Caveats recorded during the fit.
    purpose : str or None
        Why the fit ran: ``"fit"`` (a user's fit, a search's refit), ``"cv_fold"``
        (one split of a cross-validation or search, see ``selection``),
        ``"permutation_test"`` (one split of ``permutation_test_score``'s fits on labels
        it permuted), ``"influence"`` (the clone an ``InfluenceExplainer`` fits),
        ``"unlearning"``, or a user's own word (see :func:`sktraceprop.run_context`);
        None in runs stored before it was recorded.
    name : str or None
        A name given with :func:`sktraceprop.run_context`.
    tags : dict of str to str
        Tags given with :func:`sktraceprop.run_context`.
    parent_run_id : str or None
        The run this one derives from (the fitted model a clone was made of).
    source_stats : dict
        Per source of the rows given to ``fit``, counted at fit time: rows, label
        balance (class counts, or count/mean/std/min/max of a continuous target) and
        missing values per column (see ``sktraceprop._lineage._stats.source_stats``).
        Empty for runs recorded before these statistics existed.
    selection : dict or None
        When scikit-learn's model selection made the fit (see
        ``sktraceprop._selection``): ``role`` ``"cv_fold"`` (one cross-validation
        split: ``split_progress`` and ``candidate_progress`` as ``[index, count]``, the
        candidate's parameters, ``n_train``/``n_test``; for a successive-halving
        search also ``iteration``, its ``n_resources`` and ``cv_results_index``, the
        row of the search's ``cv_results_``, each None when not known and absent in
        runs recorded before they were; for ``cross_validate`` and
        ``cross_val_predict``, which give their fits no ``split_progress``,
        ``split_index``, the split's 0-based place in the splitter's order, that of
        their results, absent in runs recorded before it was; for
        ``permutation_test_score``, ``split_index`` and ``labels_permuted``: False for
        its score's fits on the labels as given, True for its fits on permuted labels,
        whose ``source_stats`` then record no label balance) or ``"refit"`` (a search's refit:
        ``best_index``, ``best_params``, ``n_splits``, ``n_candidates``), with the
        ``search_id`` shared by the runs of one search or cross-validation call
        and the ``search`` (its class or function; both None when not known). None
        for any other fit, and in runs recorded before it existed.
    fit_params : dict
        The parameters given to ``fit`` besides ``X``, ``y`` and ``sample_id``
        (``sample_weight``, routed ``step__sample_weight``, ...), recorded before the
        fit: arrays by shape, dtype and SHA-256 of their values, sample weights also by
        exact counts (rows of weight 0, negative, non-finite) and their sum; other
        values JSON-safe (see ``sktraceprop._lineage._fit_params``); and ``given_to``,
        the steps each was given to and as what, with whether the step is the final
        estimator (see ``sktraceprop._lineage._fit_routes``; absent in runs recorded
        before it was). Empty when none were given, and in runs recorded before they
        were recorded.
    renamed_columns : dict of str to list
        Input columns under a name no source has, identified by their values as a
        loaded column (renamed or copied outside the pipeline, see
        ``sktraceprop._lineage._renamed``): column -> ``[[source code, loaded column],
        ...]``. :meth:`feature_sources` follows them to their source. Empty when none
        were (and in runs recorded before they were kept).
    attached_columns : list of dict
        Input columns that no source of the training rows holds, identified by their
        values as another loaded source's column attached by position outside the
        pipeline (``a["x"] = B["v"].values``; see ``sktraceprop._lineage._attached``):
        one entry per input column and loaded column, ``input_column``, ``source_id``,
        ``sha256`` and ``uri`` of that source, ``column`` (the loaded column),
        ``match`` (``"same lines"``, ``"in order"``, or ``"reordered"``: its values
        matched as a set, in another row order, so a row's value may be another row's)
        and ``rows_matched`` of the ``rows_compared`` witness rows of that column (a
        sample). :meth:`feature_sources` names that source for the features made from
        them; unlearning it is refused.
        Empty when none were found (and in runs recorded before they were kept).
    changed_columns : list of dict or None
        The loaded columns whose values, in the data given to ``fit``, differ from what
        was loaded for the same rows (changed outside the pipeline: ``fillna``, a unit
        conversion, a shift; see ``sktraceprop._lineage._witness``): one entry per
        source and column, ``code`` and ``column`` (the loaded column; ``input_column``
        where the data holds it under another name), ``rows_checked`` (the witness rows
        compared: a sample), ``rows_changed`` and ``missing_filled`` (of those changed,
        the rows whose loaded value was missing); an entry with ``through`` (a merge's
        code) counts the merge's rows built from this source, for a column the merge
        took from it. A merge's or aggregate's row counts as changed where it holds a
        value made from an input value changed before the merge (each row once);
        ``rows_not_known`` (where any) counts its rows that hold a value it made from
        input rows that were not compared (not witness rows of their loads), in a column
        whose inputs had changed on rows that were: whether they changed is not known,
        and they are not among ``rows_checked``. Empty
        when no change was found on the rows compared (which proves nothing of the
        other rows, nor of a source none of whose rows could be compared: see
        ``rows_compared``); None when not recorded: data without column names, runs
        recorded before it was kept. In an unlearner's copy of the run, each entry says
        (``retained``) that its counts are those of the fit, not recounted over the
        retained rows.
    rows_compared : list of dict or None
        One entry per source of the rows given to ``fit``: ``code`` and ``rows``, its
        witness rows whose values were compared with what was loaded (in at least one
        column), for ``changed_columns``: 0 where none could be (its loads are not kept
        in this process: a frame unpickled from another; none of its rows is a witness
        row; no input column is one of its loaded columns), and then an empty
        ``changed_columns`` says nothing of it. Then one entry per ancestor of a merge
        or aggregate among those sources, with ``through`` (its code): the merge's rows
        compared, or 0 where the ancestor's values given to the merge were not compared
        with what was loaded (its frame unpickled from another process), so that the
        merge's rows compared show nothing of them; absent in runs recorded before
        they were kept. None when not recorded (with
        ``changed_columns``, and in runs recorded before it was kept). ``retained`` as
        in ``changed_columns``.
    fingerprint_scheme : int or None
        The scheme that made ``model_fingerprint`` (and the ops' fingerprints recorded
        at fit): 2 now (``sktraceprop._lineage._fingerprint``), 1 before
        (``_fingerprint_v1``). Part of the stored record, so the hash chain covers it.
        None where it was not recorded: runs stored before it was (scheme 1 or 2; the
        library version they record does not tell which), except runs of sktraceprop
        0.1 stores, which predate scheme 2 and are read as 1.
    """

    run_id: str
    created_at: str
    estimator: str
    params: dict
    versions: dict
    sources: dict
    ops: list
    feature_lineage: dict
    row_ids: np.ndarray
    input_row_ids: np.ndarray = None
    model_fingerprint: str = ""
    notes: list = field(default_factory=list)
    purpose: str = None
    name: str = None
    tags: dict = field(default_factory=dict)
    parent_run_id: str = None
    source_stats: dict = field(default_factory=dict)
    selection: dict = None
    fit_params: dict = field(default_factory=dict)
    renamed_columns: dict = field(default_factory=dict)
    attached_columns: list = field(default_factory=list)
    changed_columns: list = None
    rows_compared: list = None
    fingerprint_scheme: int = None

    _state_format = 1  # (a run's pickle records it: see _state_format)

    def __setstate__(self, state):
        from ._source import REGISTRY

        state = check_state(self, state)
        # a run from a worker may hold derived sources without their parents: here, too?
        sources = state.get("sources") or {}
        state["sources"] = {c: REGISTRY.complete(s) for c, s in sources.items()}
        state.setdefault("fit_params", {})  # pickled before fit parameters were recorded
        state.setdefault("renamed_columns", {})  # (and before renamed columns were kept)
        state.setdefault("attached_columns", [])  # (and attached ones)
        for key in ("changed_columns", "rows_compared", "fingerprint_scheme"):
            state.setdefault(key, None)  # (and changed ones, ...: not known)
        self.__dict__.update(state)

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self):
        """JSON-safe description (row id arrays and merge parents excluded).

        The ops' ``source_keys`` are kept apart from the ops, under ``op_source_keys``
        (one entry per op, None for an op without): an op's record keeps the fields
        earlier versions read, so they read a run stored now (matching its ops by
        source id, as they did). Absent when no op has them (and in older runs). The
        ops' ``rows`` likewise, under ``op_rows``.
        """
        ops = [op.to_dict() for op in self.ops]
        keys = [op.pop("source_keys", None) for op in ops]
        rows = [op.pop("rows", None) for op in ops]
        out = {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "estimator": self.estimator,
            "params": self.params,
            "versions": self.versions,
            "sources": [self.sources[c].to_dict() for c in sorted(self.sources)],
            "ops": ops,
            "feature_lineage": self.feature_lineage,
            "n_samples": self.n_samples,
            "model_fingerprint": self.model_fingerprint,
            "notes": list(self.notes),
            "purpose": self.purpose,
            "name": self.name,
            "tags": dict(self.tags),
            "parent_run_id": self.parent_run_id,
            "source_stats": dict(self.source_stats),
        }
        if self.selection is not None:  # absent from runs of other fits (and older runs)
            out["selection"] = dict(self.selection)
        if self.fit_params:  # absent when none were given (and from older runs)
            out["fit_params"] = dict(self.fit_params)
        if self.renamed_columns:  # absent when none were found (and from older runs)
            out["renamed_columns"] = {
                c: [list(pair) for pair in pairs] for c, pairs in self.renamed_columns.items()
            }
        if self.attached_columns:  # absent when none were found (and from older runs)
            out["attached_columns"] = [dict(e) for e in self.attached_columns]
        if self.changed_columns is not None:  # absent when not recorded (and in older runs)
            out["changed_columns"] = [dict(e) for e in self.changed_columns]
        if self.rows_compared is not None:  # (likewise)
            out["rows_compared"] = [dict(e) for e in self.rows_compared]
        if self.fingerprint_scheme is not None:  # absent when not recorded (older runs)
            out["fingerprint_scheme"] = self.fingerprint_scheme
        if any(k is not None for k in keys):
            out["op_source_keys"] = keys
        if any(r is not None for r in rows):
            out["op_rows"] = rows
        return out

    @classmethod
    def from_dict(cls, d, row_ids, input_row_ids=None, sources=None):
        """Rebuild a run from :meth:`to_dict` output and its arrays."""
        if sources is None:
            from ._source import Source

            sources = {s["code"]: Source.from_dict(s) for s in d["sources"]}
        return cls(
            run_id=d["run_id"],
            created_at=d["created_at"],
            estimator=d["estimator"],
            params=d["params"],
            versions=d["versions"],
            sources=sources,
            ops=ops_from(d),
            feature_lineage=d["feature_lineage"],
            row_ids=row_ids,
            input_row_ids=input_row_ids,
            model_fingerprint=d["model_fingerprint"],
            notes=list(d["notes"]),
            purpose=d.get("purpose"),
            name=d.get("name"),
            tags=dict(d.get("tags") or {}),
            parent_run_id=d.get("parent_run_id"),
            source_stats=dict(d.get("source_stats", {})),
            selection=None if d.get("selection") is None else dict(d["selection"]),
            fit_params=dict(d.get("fit_params") or {}),
            renamed_columns={
                c: [[int(code), str(loaded)] for code, loaded in pairs]
                for c, pairs in (d.get("renamed_columns") or {}).items()
            },
            attached_columns=attached_from(d.get("attached_columns")),
            changed_columns=changed_from(d.get("changed_columns")),
            rows_compared=compared_from(d.get("rows_compared")),
            fingerprint_scheme=scheme_from(d.get("fingerprint_scheme")),
        )

    def __eq__(self, other):
        if not isinstance(other, Lineage):
            return NotImplemented
        if self.to_dict() != other.to_dict() or self.sources != other.sources:
            return False
        if not np.array_equal(self.row_ids, other.row_ids):
            return False
        if (self.input_row_ids is None) != (other.input_row_ids is None):
            return False
        return self.input_row_ids is None or np.array_equal(
            self.input_row_ids, other.input_row_ids
        )

    __hash__ = None

    def __repr__(self):
        counts = ", ".join(f"{k}: {v}" for k, v in self.source_counts().items())
        sampler = self._untraced_sampler()
        # past a sampler that records no rows, the run holds the rows given to fit
        fitted = (
            f"fitted on {self.n_samples} rows"
            if sampler is None
            else f"given {self.n_samples} rows to fit, training rows made by {sampler} "
            "not recorded"
        )
        return (
            f"<Lineage run {self.run_id} at {self.created_at}: {self.estimator} {fitted} "
            f"({counts}); {len(self.ops)} ops, "
            f"{len(self.feature_lineage)} features>"
        )
