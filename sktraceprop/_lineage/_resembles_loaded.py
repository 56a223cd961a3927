"""Warn when untraced data holds the columns of loaded sources, or rows a traced
transformer output, without their row ids."""

import warnings

import pandas as pd

from ..exceptions import LineageWarning
from ..utils._sklearn_compat import num_samples as _num_samples
from ..utils._stack import user_stacklevel
from ._source import REGISTRY


def _source_column(name, registered):
    """The source column ``name`` is: itself, or the column that pandas' default merge
    suffixes (``_x``, ``_y``) renamed; None for neither. (Before pandas 3 a plain merge
    also drops the frame's ``attrs`` marker: these names are then the only evidence.)"""
    if name in registered:
        return name
    if name.endswith(("_x", "_y")) and name[:-2] in registered:
        return name[:-2]
    return None


def _warn_if_resembles(X):
    """Warn when untraced data has the columns of a loaded source: it may be derived."""
    shared = shared_columns(X)
    if shared is None:
        return False
    columns = list(X.columns)
    warnings.warn(
        f"X carries no sktraceprop row ids, but {len(shared)} of its {len(columns)} columns "
        f"are columns of traced source(s) {holders(shared)}. If X was derived from "
        "them (a plain DataFrame.merge/join drops row ids and every other marker), its "
        "lineage is lost: use sktraceprop.merge. Otherwise (new data with the same schema), "
        "register it with sktraceprop.from_pandas (from_polars for a polars frame) to name "
        "it. The run records X as an anonymous source.",
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
    return True


def shared_columns(X):
    """The columns of DataFrame ``X`` that loaded sources have (as their loaded names),
    when they are at least half of its columns; else None."""
    if not isinstance(X, pd.DataFrame) or len(X.columns) == 0:
        return None
    columns = [str(c) for c in X.columns]
    registered = REGISTRY.all_columns()
    shared = [_source_column(c, registered) for c in columns]
    shared = [c for c in shared if c is not None]
    return shared if len(shared) >= max(1, len(columns) // 2) else None


def holders(shared):
    """``"credit (cid, fico), hiring (age, score)"``: each loaded source holding some of
    the ``shared`` columns, with those columns (a merge of two sources holds both's)."""
    held = {}
    for column in dict.fromkeys(shared):
        for source in REGISTRY.sources_with_columns([column]):
            held.setdefault(source.source_id, {})[column] = None
    parts = [
        f"{name} ({', '.join(list(cols)[:5])}{', ...' if len(cols) > 5 else ''})"
        for name, cols in sorted(held.items())
    ]
    return ", ".join(parts[:5]) + (f" and {len(parts) - 5} more" if len(parts) > 5 else "")


def _warn_if_bare_output(X):
    """Warn when untraced data holds rows a traced transformer output without their ids
    (see :mod:`._bare_outputs`); True when it warned."""
    from ._bare_outputs import bare_output_message, output_in

    found = output_in(X)
    if found is None:
        return False
    warnings.warn(
        bare_output_message(*found, _num_samples(X)),
        LineageWarning,
        stacklevel=user_stacklevel(),
    )
    return True
