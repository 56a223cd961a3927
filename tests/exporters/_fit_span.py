"""The attributes of a run's ``fit`` span, as :func:`~sktraceprop.exporters.to_opentelemetry`
emits it to an in-memory exporter."""


def fit_span_attributes(run):
    """The attributes of ``run``'s ``fit ...`` span (a dict)."""
    from opentelemetry.sdk import trace as sdk_trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from sktraceprop.exporters import to_opentelemetry

    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    to_opentelemetry(run, tracer_provider=provider)
    (fit,) = [s for s in exporter.get_finished_spans() if s.name.startswith("fit ")]
    return dict(fit.attributes)
