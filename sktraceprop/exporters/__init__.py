"""Exporters: runs as Parquet tables, OpenLineage events and OpenTelemetry spans.

Each exporter imports its optional dependency only when it runs: ``pyarrow`` for Parquet
(``pip install 'sktraceprop[parquet]'``), ``opentelemetry-sdk`` for spans
(``pip install 'sktraceprop[otel]'``); OpenLineage events are plain JSON and need nothing.
"""

from ._openlineage import to_openlineage
from ._opentelemetry import to_opentelemetry
from ._parquet import read_parquet, to_parquet

__all__ = ["read_parquet", "to_openlineage", "to_opentelemetry", "to_parquet"]
