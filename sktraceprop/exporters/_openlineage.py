"""A run as an OpenLineage RunEvent: the fit as a job run, sources in, the model out.

The event follows the OpenLineage 2-0-2 spec and these facets: ``schema`` and
``version`` on every dataset the run records (its rows' sources and the model; a source
a column was attached from by position is named only, see :func:`to_openlineage`), the
custom ``sktraceprop_digest`` on each of those input datasets (which scheme made its
digest, whether it names the data exactly, and what it names: the compliance report's
``digest_scheme`` and ``digest_note``), ``columnLineage`` on the model, ``jobType`` on
the job, ``processing_engine`` on the run, and four custom run facets,
``sktraceprop_fit`` (the estimator, its ops, and what the run could not say),
``sktraceprop_rowLineage`` (where the training rows are kept and how to check them) and
``sktraceprop_sourceTrust`` (per source, whether its values were compared with what was
loaded, its columns changed after loading, its rows that repeat: the compliance
report's figures); and ``sktraceprop_removals``: the removals (unlearning) and erasure
requests its store recorded since the fit, which the rest of the event, describing
the run as fitted, does not show (see :mod:`._removals`). The custom facets' JSON Schemas ship in
``sktraceprop/exporters/schemas/``.
"""

import dataclasses
import json
import uuid
from urllib.parse import urlsplit

import numpy as np

from .._lineage._digest_schemes import digest_facts
from .._lineage._fingerprint_schemes import scheme_note
from .._lineage._ids import LINE_BITS, codes_of
from .._lineage._labels import content_key
from .._lineage._op_rows import training_rows
from .._lineage._run import Lineage
from ..exceptions import LineageError
from ..utils._exact_ints import exact_view
from ._column_lineage import attached_inputs, column_lineage, dataset_name
from ._openlineage_parts import (
    _digest,
    _ids_digest,
    _op_keys,
    _op_rows,
    _other_paths,
    _schema_fields,
    _search_parent,
)
from ._openlineage_store import _store_pointer
from ._removals import openlineage_removals
from ._source_trust import openlineage_sources

__all__ = ["to_openlineage"]

#: The OpenLineage spec version the events follow.
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
_CUSTOM = "urn:sktraceprop:openlineage:facets:1-0-0"
#: ``_schemaURL`` of every facet the events hold.
FACET_SCHEMAS = {
    "schema": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json"
    "#/$defs/SchemaDatasetFacet",
    "version": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
    "#/$defs/DatasetVersionDatasetFacet",
    "columnLineage": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet",
    "jobType": "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json"
    "#/$defs/JobTypeJobFacet",
    "processing_engine": "https://openlineage.io/spec/facets/1-1-1/"
    "ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet",
    "parent": "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "sktraceprop_fit": f"{_CUSTOM}:FitRunFacet.json#/$defs/FitRunFacet",
    "sktraceprop_rowLineage": f"{_CUSTOM}:RowLineageRunFacet.json#/$defs/RowLineageRunFacet",
    "sktraceprop_sourceTrust": f"{_CUSTOM}:SourceTrustRunFacet.json#/$defs/SourceTrustRunFacet",
    "sktraceprop_digest": f"{_CUSTOM}:DigestDatasetFacet.json#/$defs/DigestDatasetFacet",
    "sktraceprop_removals": f"{_CUSTOM}:RemovalsRunFacet.json#/$defs/RemovalsRunFacet",
}
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")


def to_openlineage(
    run,
    *,
    store=None,
    store_uri=None,
    namespace="sktraceprop",
    job_name=None,
    model_name=None,
    event_type="COMPLETE",
    producer=None,
):
    """An OpenLineage RunEvent describing a run.

    The fit is the job run (``runId`` is the run's UUID, ``eventTime`` its UTC time);
    every source file, frame or array is an input dataset (``schema`` facet: columns and
    dtypes; ``version`` facet: its digest; ``sktraceprop_digest`` facet: the scheme
    that made the digest, whether it names the data exactly and, in words, what it
    names; a digest that does not name the data exactly, such as an earlier
    sktraceprop's ``frame-1`` over pandas' 64-bit row hashes, is never a bare version:
    ``datasetVersion`` is ``"<scheme>:<digest>"``); the fitted model is the
    output dataset (``schema``: the features the final estimator saw; ``version``: the
    model fingerprint; ``columnLineage``: each feature -> the source columns it derives
    from, through merges and aggregates, and a column attached by position from
    another loaded source (``a["x"] = B["v"].values``, identified by its values:
    :attr:`~sktraceprop.Lineage.attached_columns`) -> B's column, its transformation's
    description saying how it was identified, and every candidate listed where its
    values match several; B, not a source of the rows, is an input dataset too, without
    ``schema`` or ``version``, which the run does not record of it). Three custom run
    facets carry the rest: ``sktraceprop_fit`` (estimator, parameters, ops with
    fingerprints and the scheme that made them as the run records it, or null where it
    does not, notes, the features whose lineage is unknown or partly unresolved, with
    why each column is unresolved (``unresolvedReasons``), the attached columns'
    records (``attachedColumns``), and the features computed from the target, which
    ``columnLineage`` cannot express) and ``sktraceprop_rowLineage`` (the
    store holding the training row ids, their count and SHA-256, and the source codes
    packed into them), and ``sktraceprop_sourceTrust`` (per source, the compliance
    report's ``changes_after_loading``, its columns' ``changed_after_loading`` marks
    and ``repeated_rows``, computed by the same code: a source whose values were not
    compared with what was loaded says so, as in the report); and
    ``sktraceprop_removals``: the later removals of the run's training rows from its
    model (unlearning: event seq and hash, rows removed per source, the fingerprint of
    the model each left) and erasure requests naming it, read from ``store`` and from
    every store of this process the run was saved to or loaded from, with
    ``modelFingerprintNow``; ``checked`` false (and a note) where no store was known,
    so later removals were not looked up, or where one of them could not be read. The
    model dataset's ``version`` stays the fingerprint of the model as fitted. A fit that
    scikit-learn's model selection made (one split of a
    search or cross-validation, or a search's refit) has the standard ``parent`` facet:
    the search call as a run (its ``search_id``) of the job named after the search
    (``selection["search"]``, e.g. ``sklearn.model_selection._search.GridSearchCV``),
    so that the runs of one search group under it.

    Parameters
    ----------
    run : Lineage
        The run (a traced estimator's ``lineage_`` or ``store.load_run(run_id)``).
    store : BaseStore, default=None
        The store the row-lineage facet points at. The run must be stored there, equal
        to ``run`` (checked). ``None``: the facet names no store.
    store_uri : str, default=None
        Where ``store`` can be reached; defaults to the file URI of a
        :class:`~sktraceprop.stores.SQLiteStore`. Required for other stores; a
        :class:`~sktraceprop.stores.MemoryStore` cannot be pointed at.
    namespace : str, default="sktraceprop"
        Namespace of the job, of the model, and of sources that are not files.
    job_name : str, default=None
        Name of the job; defaults to the estimator's class.
    model_name : str, default=None
        Name of the model dataset; defaults to ``"<job_name>.model"``.
    event_type : {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}, default="COMPLETE"
        A stored run is a completed fit.
    producer : str, default=None
        URI of the producer; defaults to ``"urn:sktraceprop:<version>"``.

    Returns
    -------
    event : dict
        The RunEvent, JSON-safe (``json.dumps(event)``). Row ids appear only as counts
        and SHA-256 digests; a parameter beyond 2**53 - 1 in magnitude is its decimal
        string, which no JSON reader of numbers as doubles rounds to another value.

    Examples
    --------
    >>> import json
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "doc_ol")
    >>> run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    >>> event = stp.exporters.to_openlineage(run)
    >>> [d["name"] for d in event["inputs"]], event["run"]["runId"] == run.run_id
    (['doc_ol'], True)
    >>> fields = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    >>> [f["field"] for f in fields["x1"]["inputFields"]]
    ['x1']
    """
    from .. import __version__

    if not isinstance(run, Lineage):
        raise TypeError(f"to_openlineage exports a Lineage (a run), got {type(run).__name__}")
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event_type must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}")
    try:
        canonical = str(uuid.UUID(run.run_id))
    except (ValueError, TypeError, AttributeError):
        canonical = None
    if canonical != run.run_id:
        raise LineageError(
            f"OpenLineage needs a run id that is a UUID; run id {run.run_id!r} is not one in "
            "canonical form"
        )
    producer = producer or f"urn:sktraceprop:{__version__}"
    if not isinstance(producer, str) or not urlsplit(producer).scheme:
        raise ValueError(f"producer must be a URI with a scheme, got {producer!r}")
    job_name = job_name or run.estimator
    model_name = model_name or f"{job_name}.model"
    pointer = _store_pointer(run, store, store_uri)

    def facet(key, **body):
        return {"_producer": producer, "_schemaURL": FACET_SCHEMAS[key], **body}

    datasets, paths, inputs, seen = {}, {}, [], set()
    for code in sorted(run.sources):
        source = run.sources[code]
        if source.derived:
            continue
        # the same bytes read from several paths under one source_id: their rows share
        # ids, so which path a row was read from is not known, and each path read is
        # an input (the first read's is the source's own dataset)
        paths[code] = [
            dataset_name(dataclasses.replace(source, uri=uri), namespace) for uri in source.uris()
        ]
        datasets[code] = paths[code][0]
        columns = source.columns_read()
        version, digest = _digest(source)
        for dataset in paths[code]:
            key = (*dataset, source.sha256, tuple(columns))
            if key in seen:  # one version of one dataset, held under two codes
                continue
            seen.add(key)
            inputs.append(
                {
                    "namespace": dataset[0],
                    "name": dataset[1],
                    "facets": {
                        "schema": facet(
                            "schema",
                            fields=_schema_fields(list(columns), list(columns.values())),
                        ),
                        "version": facet("version", datasetVersion=version),
                        "sktraceprop_digest": facet("sktraceprop_digest", **digest),
                    },
                }
            )
    fields, unknown, unresolved, reasons, target = column_lineage(run, paths, namespace)
    read = {(i["namespace"], i["name"]) for i in inputs}
    for dataset in attached_inputs(run, namespace):
        if dataset not in read:  # (no schema or version: the run records neither)
            read.add(dataset)
            inputs.append({"namespace": dataset[0], "name": dataset[1], "facets": {}})
    model = {
        "namespace": namespace,
        "name": model_name,
        "facets": {
            "schema": facet("schema", fields=_schema_fields(list(run.feature_lineage))),
            "version": facet("version", datasetVersion=run.model_fingerprint),
            "columnLineage": facet("columnLineage", fields=fields),
        },
    }
    engine = {"name": "scikit-learn", "version": run.versions.get("scikit-learn", "unknown")}
    if "sktraceprop" in run.versions:
        engine["openlineageAdapterVersion"] = run.versions["sktraceprop"]
    codes, counts = np.unique(codes_of(run.row_ids), return_counts=True)
    direct = dict(zip(codes.tolist(), counts.tolist()))
    # a code per entry (row ids name codes), an alias code's entry pointing at the
    # first code of its content: nRows and trainingRows are then one source's
    first = _first_codes(run)
    row_facet = facet(
        "sktraceprop_rowLineage",
        runId=run.run_id,
        store=pointer,
        rowIdEncoding=(
            f"int64: source code << {LINE_BITS} | 1-based line (physical file line; row "
            "position for frames, arrays, merges and aggregates)"
        ),
        rows=_ids_digest(run.row_ids),
        inputRows=None if run.input_row_ids is None else _ids_digest(run.input_row_ids),
        sources=[
            {
                "code": int(code),
                "sourceId": s.source_id,
                "sha256": s.sha256,
                "digestScheme": digest_facts(s)["digest_scheme"],
                "kind": s.kind,
                "uri": s.uri,
                "namespace": datasets[code][0] if code in datasets else None,
                "name": datasets[code][1] if code in datasets else None,
                "nRows": int(s.n_rows),
                "trainingRows": int(direct.get(int(code), 0)),
                "parentCodes": [int(c) for c in s.parent_codes] if s.derived else [],
                **_other_paths(s, code, paths),
                **({"sameSourceAs": first[code]} if first[code] != code else {}),
            }
            for code, s in sorted(run.sources.items())
        ],
    )
    counts = training_rows(run)
    fit_facet = facet(
        "sktraceprop_fit",
        estimator=run.estimator,
        params=exact_view(run.params),
        createdAt=run.created_at,
        modelFingerprint=run.model_fingerprint,
        modelFingerprintScheme=run.fingerprint_scheme,
        modelFingerprintNote=scheme_note(run.fingerprint_scheme),
        versions=run.versions,
        ops=[
            {
                "name": op.name,
                "class": op.cls,
                "fingerprint": op.fingerprint,
                "params": exact_view(op.params),
                "featuresIn": list(op.features_in),
                "featuresOut": list(op.features_out),
                "sources": None if op.sources is None else list(op.sources),
                **_op_keys(op),
                **_op_rows(n),
            }
            for op, n in zip(run.ops, counts)
        ],
        notes=list(run.notes),
        unknownFeatureLineage=unknown,
        unresolvedColumns=unresolved,
        unresolvedReasons=reasons,
        attachedColumns=exact_view(run.attached_columns),
        targetFeatures=target,
        purpose=run.purpose,
        selection=None if run.selection is None else exact_view(run.selection),
    )
    if run.fit_params:
        fit_facet["fitParams"] = exact_view(run.fit_params)
    if run.parent_run_id is not None:
        fit_facet["parentRunId"] = run.parent_run_id
    parent = _search_parent(run, namespace)
    event = {
        "eventType": event_type,
        "eventTime": run.created_at,
        "producer": producer,
        "schemaURL": f"{SPEC}#/$defs/RunEvent",
        "run": {
            "runId": run.run_id,
            "facets": {
                "processing_engine": facet("processing_engine", **engine),
                "sktraceprop_fit": fit_facet,
                "sktraceprop_rowLineage": row_facet,
                "sktraceprop_sourceTrust": facet(
                    "sktraceprop_sourceTrust", sources=openlineage_sources(run)
                ),
                "sktraceprop_removals": facet(
                    "sktraceprop_removals", **openlineage_removals(run, store)
                ),
            },
        },
        "job": {
            "namespace": namespace,
            "name": job_name,
            "facets": {
                "jobType": facet(
                    "jobType", processingType="BATCH", integration="SKTRACEPROP", jobType="FIT"
                )
            },
        },
        "inputs": inputs,
        "outputs": [model],
    }
    if parent is not None:
        event["run"]["facets"]["parent"] = facet("parent", **parent)
    try:
        # A copy that shares nothing with the run, and proof that it is plain JSON.
        return json.loads(json.dumps(event, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise LineageError(f"run {run.run_id} holds a value that is not JSON: {exc}") from None


def _first_codes(run):
    """``{code: the first code of its content}`` (:func:`content_key`): an alias code
    (another process's code of the same file) or a share spelled in another case names
    the source its first code does."""
    seen = {}
    return {
        int(c): seen.setdefault(content_key(run.sources[c]), int(c)) for c in sorted(run.sources)
    }
