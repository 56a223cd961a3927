"""Row ids for the data given to :func:`sktraceprop.array`: a new source, or a traced frame's."""

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of, pack
from .._lineage._io_memory import _array_digest, _check_untraced, register_frame
from .._lineage._polars_io import check_no_id_column, register_polars
from .._lineage._rows import has_id_level, row_ids
from .._lineage._source import REGISTRY, Source
from .._polars_frame import is_polars
from ..exceptions import LineageError


def framework_of(X):
    """``"torch"``, ``"jax"`` or ``"numpy"`` for a value, without importing torch or JAX."""
    module = type(X).__module__ or ""
    if module.startswith("torch"):
        return "torch"
    if module.startswith(("jax", "jaxlib")):
        return "jax"
    return "numpy"


def to_numpy(X):
    """A NumPy view (or copy) of a torch tensor, JAX array or array-like."""
    framework = framework_of(X)
    if framework == "torch":
        return X.detach().cpu().numpy()
    return np.asarray(X)


def source_node(codes, origin, rows=None):
    """The graph node of a source: the codes of the sources its rows come from (``rows``:
    its row map; when not given, the array made with the node adds it)."""
    codes = sorted(int(c) for c in codes)
    names = sorted({REGISTRY.by_code(c).source_id for c in codes})
    params = {"source_ids": names, "codes": codes, "from": origin}
    return ("source", (), params, "source", [] if rows is None else rows)


def register(X, source_id, uri=None):
    """``(values, ids, node)`` for data given to ``stp.array``.

    A DataFrame or Series loaded by sktraceprop keeps the row ids in its index (its
    file lines); any other data is registered as a new source named ``source_id``,
    identified by the SHA-256 of its content, whose rows are numbered from 1.
    """
    if isinstance(X, pd.DataFrame | pd.Series):
        if has_id_level(X.index):
            if source_id is not None:
                raise LineageError(
                    "sktraceprop.array: this frame already carries sktraceprop row ids (from "
                    "read_csv/from_pandas); source_id= would cut its lineage to the original "
                    "source. Leave source_id out."
                )
            ids = row_ids(X)
            node = source_node(np.unique(codes_of(ids)), type(X).__name__)
            return X.to_numpy(), ids, node
        if source_id is None:
            raise LineageError(
                "sktraceprop.array: this frame carries no row ids; name it with source_id= "
                "(or load it with sktraceprop.read_csv)."
            )
        frame = X.to_frame() if isinstance(X, pd.Series) else X
        _check_untraced(frame, "sktraceprop.array")
        source = register_frame(frame, source_id, uri)
        ids = pack(source.code, np.arange(1, len(frame) + 1))
        return X.to_numpy(), ids, source_node([source.code], type(X).__name__)
    if is_polars(X):
        # named by its column names, dtypes and cells, as from_polars names it
        frame = X.to_frame() if not hasattr(X, "get_columns") else X
        if source_id is None:
            raise LineageError(
                "sktraceprop.array: a polars frame carries no row ids; name it with "
                "source_id= (or read its file with sktraceprop.read_csv)."
            )
        check_no_id_column(frame, "sktraceprop.array")
        source = register_polars(frame, source_id, uri)
        ids = pack(source.code, np.arange(1, frame.height + 1))
        return X.to_numpy(), ids, source_node([source.code], type(X).__name__)
    values = to_numpy(X)
    if values.ndim == 0:
        raise ValueError("sktraceprop.array: a 0-d array has no rows to trace")
    if values.dtype.kind in "OT":
        raise TypeError(
            f"sktraceprop.array: arrays of dtype {values.dtype} (objects, variable-length "
            "text) are not supported; register them with sktraceprop.from_numpy"
        )
    if source_id is None:
        raise LineageError(
            "sktraceprop.array: name the source with source_id= (the rows of a new array "
            "need a source to point to)."
        )
    n = values.shape[0]
    columns = tuple(f"x{j}" for j in range(values.shape[1])) if values.ndim == 2 else ()
    source = REGISTRY.register(
        Source(
            source_id=str(source_id),
            code=None,
            uri=uri or f"{framework_of(X)}:{source_id}",
            sha256=_array_digest(values),
            n_rows=n,
            columns=columns,
            dtypes=(str(values.dtype),) * len(columns),
            kind="array",
        )
    )
    ids = pack(source.code, np.arange(1, n + 1))
    return values, ids, source_node([source.code], type(X).__name__)
