"""A run as OpenTelemetry spans: one span for the fit, one per op nested under it.

A run records when the fit finished (``created_at``) but not how long each step took,
so every span starts and ends at that time: the spans carry the run's structure and
identifiers, never a duration that was not measured (the attribute
``sktraceprop.durations_recorded`` says so).
"""

import json
from datetime import datetime

from .._exact_time import iso_ns
from .._lineage._digest_schemes import digest_facts, exact
from .._lineage._fingerprint_schemes import scheme_note
from .._lineage._op_rows import training_rows
from .._lineage._run import Lineage
from ..exceptions import UnknownRunError
from ..utils._exact_ints import exact_view
from ._optional import require
from ._removals import span_removals
from ._source_trust import span_attributes

__all__ = ["to_opentelemetry"]


def utc_ns(timestamp):
    """Nanoseconds since the Unix epoch of an ISO 8601 time with a UTC offset (exact,
    to the nine fractional digits it may have: :func:`~sktraceprop._exact_time.iso_ns`)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        raise ValueError(f"the run's time {timestamp!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"the run's time {timestamp!r} has no UTC offset")
    ns = iso_ns(timestamp)
    if ns < 0:
        raise ValueError(
            f"the run's time {timestamp!r} is before 1970, which OpenTelemetry cannot represent"
        )
    return ns


def _run_attributes(run):
    sources = [run.sources[c] for c in sorted(run.sources)]
    facts = [digest_facts(s) for s in sources]
    attributes = {
        "sktraceprop.run_id": run.run_id,
        "sktraceprop.created_at": run.created_at,
        "sktraceprop.estimator": run.estimator,
        "sktraceprop.n_samples": run.n_samples,
        "sktraceprop.model_fingerprint": run.model_fingerprint,
        # its scheme as the run records it (absent where it does not), and in words
        "sktraceprop.model_fingerprint_scheme_note": scheme_note(run.fingerprint_scheme),
        "sktraceprop.durations_recorded": False,
        "sktraceprop.sources.source_id": [s.source_id for s in sources],
        "sktraceprop.sources.code": [int(s.code) for s in sources],
        "sktraceprop.sources.sha256": [s.sha256 for s in sources],
        # what each digest names: not every one is a SHA-256 of the data (an earlier
        # sktraceprop's frame-1 is over pandas' 64-bit row hashes, shared by some frames)
        "sktraceprop.sources.digest_scheme": [f["digest_scheme"] for f in facts],
        "sktraceprop.sources.digest_exact": [exact(f["digest_scheme"]) for f in facts],
        "sktraceprop.sources.digest_note": [f["digest_note"] for f in facts],
        "sktraceprop.sources.uri": [s.uri for s in sources],
        "sktraceprop.sources.kind": [s.kind for s in sources],
        "sktraceprop.sources.loaded_at": [s.loaded_at for s in sources],
        "sktraceprop.features": [str(f) for f in run.feature_lineage],
        # changes after loading and repeated rows, as the compliance report says them
        **span_attributes(run),
    }
    if run.fingerprint_scheme is not None:
        attributes["sktraceprop.model_fingerprint_scheme"] = run.fingerprint_scheme
    if run.input_row_ids is not None:
        attributes["sktraceprop.n_input_rows"] = int(len(run.input_row_ids))
    for name, version in run.versions.items():
        attributes[f"sktraceprop.versions.{name}"] = str(version)
    return attributes


def _op_attributes(run, op, n=None):
    attributes = {
        "sktraceprop.run_id": run.run_id,
        "sktraceprop.op.name": op.name,
        "sktraceprop.op.class": op.cls,
        "sktraceprop.op.fingerprint": op.fingerprint,
        # (integers beyond 2**53 as decimal strings: a JSON reader of doubles rounds them)
        "sktraceprop.op.params": json.dumps(exact_view(op.params), sort_keys=True),
        "sktraceprop.op.features_in": [str(f) for f in op.features_in],
        "sktraceprop.op.features_out": [str(f) for f in op.features_out],
        "sktraceprop.op.all_rows": op.sources is None,
        "sktraceprop.durations_recorded": False,
    }
    if op.sources is not None:
        attributes["sktraceprop.op.sources"] = [str(s) for s in op.sources]
        # how many training rows went through it (some sources, or some of their rows);
        # -1 where it cannot be counted here (a merge's parent rows not at hand)
        attributes["sktraceprop.op.training_rows"] = n
    if op.source_keys is not None:
        # the contents its rows came from (two sources of one source id apart), as two
        # parallel lists: attribute values are flat lists of one type
        attributes["sktraceprop.op.source_keys.source_id"] = [str(i) for i, _ in op.source_keys]
        attributes["sktraceprop.op.source_keys.sha256"] = [str(h) for _, h in op.source_keys]
    return attributes


def _parent_name(name, names):
    """The longest proper step-path prefix of ``name`` that is itself an op, or None."""
    parts = name.split("/")
    for k in range(len(parts) - 1, 0, -1):
        prefix = "/".join(parts[:k])
        if prefix in names:
            return prefix
    return None


def to_opentelemetry(run, tracer_provider=None, *, store=None):
    """Emit a run as OpenTelemetry spans.

    One span for the fit (``fit <estimator class>``), and one span per op named by its
    step path, nested under the fit, or under the composite op whose path it extends
    (``columntransformer/onehotencoder`` under ``columntransformer``). Attributes:
    ``sktraceprop.run_id`` on every span; on the fit span the estimator, row count,
    model fingerprint, UTC time, library versions and, per source, its id, code,
    digest (``sha256``) with the scheme that made it (``digest_scheme``), whether it
    names the data exactly (``digest_exact``) and what it names (``digest_note``), URI,
    kind and load time, and the compliance report's trust figures (its
    training rows and distinct ones, whether its values were compared with what was
    loaded and on how many rows, its columns changed after loading: see
    :func:`~sktraceprop.exporters._source_trust.span_attributes`); on op spans the
    class, fingerprint, parameters
    (JSON), feature names in and out, and the sources whose rows went through the op.
    The run's notes are events on the fit span. The removals (unlearning) and erasure
    requests the run's stores recorded since the fit are ``sktraceprop.removals.*``
    attributes of the fit span (``checked``; per event, one entry of each array:
    ``event_seq``, ``event_hash``, ``kind``, ``created_at``, ``n_rows``,
    ``rows_by_source`` as ``"<source_id>=<rows>;..."``, ``model_fingerprint_after``,
    ``carried_out``; and ``model_fingerprint_now``, the model the last unlearning
    left): ``sktraceprop.model_fingerprint`` stays the model as fitted. ``checked`` is
    false, with a ``note``, where no store of the run was given or known in this
    process, or one of them (the one given, those it was saved to or loaded from in
    this process, all read) could not be read.

    Spans start and end at the run's UTC time: the run does not record step
    durations, and a span never shows one that was not measured.

    Parameters
    ----------
    run : Lineage
        The run.
    tracer_provider : opentelemetry.trace.TracerProvider, default=None
        Where the spans go; ``None`` uses the global provider
        (``opentelemetry.trace.set_tracer_provider``). The fit span is a child of the
        current span, if any.
    store : BaseStore, default=None
        The store whose removal and erasure events of the run are listed; ``None``: a
        store of this process the run was saved to or loaded from, if any.

    Returns
    -------
    span : opentelemetry.trace.Span
        The fit span (ended); its ``get_span_context().trace_id`` names the trace.

    Examples
    --------
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> exporter = InMemorySpanExporter()
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
    >>> X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "doc_otel")
    >>> run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    >>> span = stp.exporters.to_opentelemetry(run, tracer_provider=provider)
    >>> sorted(s.name for s in exporter.get_finished_spans())
    ['fit TracedPipeline', 'logisticregression']
    """
    from .. import __version__
    from ..stores._saved import refuse_erased

    trace = require("opentelemetry.trace", "otel", "OpenTelemetry export")
    if not isinstance(run, Lineage):
        raise TypeError(f"to_opentelemetry exports a Lineage (a run), got {type(run).__name__}")
    refuse_erased(run, "OpenTelemetry spans")
    if store is not None and run.run_id not in set(store.list_runs()["run_id"]):
        # (its removals would read as none)
        raise UnknownRunError(
            f"run {run.run_id} is not in {store!r}: its removals cannot be read there; "
            "pass the store that holds the run, or leave store= out"
        )
    when = utc_ns(run.created_at)
    tracer = trace.get_tracer(
        "sktraceprop.exporters", __version__, tracer_provider=tracer_provider
    )
    root = tracer.start_span(
        f"fit {run.estimator.rsplit('.', 1)[-1]}",
        start_time=when,
        attributes={**_run_attributes(run), **span_removals(run, store)},
    )
    for note in run.notes:
        root.add_event("sktraceprop.note", {"message": str(note)}, timestamp=when)
    names = {op.name for op in run.ops}
    spans = {}
    counts = dict(zip(map(id, run.ops), training_rows(run)))
    # Shallow paths first, so a composite op's span exists before its steps'.
    for op in sorted(run.ops, key=lambda op: op.name.count("/")):
        parent = spans.get(_parent_name(op.name, names), root)
        span = tracer.start_span(
            op.name,
            context=trace.set_span_in_context(parent),
            start_time=when,
            attributes=_op_attributes(run, op, counts[id(op)]),
        )
        spans.setdefault(op.name, span)
        span.end(end_time=when)
    root.end(end_time=when)
    return root
