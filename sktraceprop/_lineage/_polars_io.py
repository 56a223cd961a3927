"""Registering a polars DataFrame as a source: ``from_polars``."""

import numpy as np

from .._polars_frame import as_pandas, is_polars
from ..exceptions import LineageLostError
from ._frame_uri import warn_text_file_uri
from ._ids import ROW_INDEX_NAME, pack
from ._polars_digest import SCHEME, polars_digest
from ._source import register_content

__all__ = ["from_polars"]


def from_polars(df, source_id, uri=None):
    """Register a polars DataFrame as a source and return its rows as a traced pandas frame.

    polars frames have no index to carry row ids: the rows come back as a pandas
    DataFrame indexed by them, which every traced estimator takes (a step's
    ``set_output(transform="polars")`` keeps polars inside a pipeline). The source is
    named by the SHA-256 of the polars frame's content: its column names, dtypes and
    every cell (a null is not a NaN, ``Int32`` not ``Int64``), never its chunks.

    Parameters
    ----------
    df : polars.DataFrame
        The rows, say from ``pl.read_parquet``. (A CSV file read with ``pl.read_csv``
        is better read with :func:`sktraceprop.read_csv`, whose row ids name its lines.)
    source_id : str
        Name of the source.
    uri : str, default=None
        Where the frame came from (``"file:///data/claims.parquet"``); defaults to
        ``"polars:<source_id>"``.

    Returns
    -------
    df : pandas.DataFrame
        The same column names and values, indexed by row ids; row ``k`` (1-based) has
        line ``k``. An integer or boolean column with nulls becomes a nullable pandas
        column (``Int64``, ``boolean``), a null of a float column NaN, text,
        categories and enums strings (a null as pandas' missing value of the column's
        dtype: NaN in pandas 3's default ``str`` dtype, ``None`` in an ``object``
        column), times numpy times
        in their time zone, and other columns (lists, structs, decimals) their Python
        values. The source records the polars dtypes.

    Raises
    ------
    TypeError
        If ``df`` is not a polars DataFrame.
    LineageLostError
        If ``df`` has a column ``"stp_row_id"`` (``pl.from_pandas(traced,
        include_index=True)``): its rows already have ids, which registering it
        would cut from their files.
    """
    if not is_polars(df) or not hasattr(df, "get_columns"):
        raise TypeError(f"from_polars expects a polars DataFrame, got {type(df).__name__}")
    check_no_id_column(df, "from_polars")
    warn_text_file_uri(uri, "from_polars")
    source = register_polars(df, source_id, uri)
    from ._id_index import _witnessed

    return _witnessed(as_pandas(df), pack(source.code, np.arange(1, df.height + 1)), source)


def check_no_id_column(df, func):
    """Refuse a polars frame with a row-id column (``pl.from_pandas(traced,
    include_index=True)``): registering it would cut its rows' lineage to their files."""
    if ROW_INDEX_NAME in df.columns:
        raise LineageLostError(
            f"{func}: this frame has a column {ROW_INDEX_NAME!r}, the row ids of a "
            "traced pandas frame (pl.from_pandas(df, include_index=True)); registering "
            "it would cut its rows' lineage to their files. Use the traced pandas frame, "
            f"or turn the column back into its index "
            f"(df.to_pandas().set_index({ROW_INDEX_NAME!r})) in the process that read them."
        )


def register_polars(df, source_id, uri=None):
    """Register a polars frame's content as a source of kind ``"frame"``; return it."""
    return register_content(
        source_id,
        uri or f"polars:{source_id}",
        sha256=polars_digest(df),
        scheme=SCHEME,
        n_rows=df.height,
        columns=df.columns,
        dtypes=df.dtypes,
    )
