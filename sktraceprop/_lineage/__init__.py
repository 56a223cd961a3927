"""Data model: sources, packed row ids, runs (lineage of one fit)."""

from ._derive import aggregate, merge
from ._io import read_csv
from ._io_memory import from_numpy, from_pandas
from ._polars_io import from_polars
from ._rows import row_ids, row_lineage
from ._run import Lineage, Op
from ._source import REGISTRY, Source

__all__ = [
    "REGISTRY",
    "Lineage",
    "Op",
    "Source",
    "aggregate",
    "from_numpy",
    "from_pandas",
    "from_polars",
    "merge",
    "read_csv",
    "row_ids",
    "row_lineage",
]
