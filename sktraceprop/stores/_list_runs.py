"""Listing stored runs as a table, filtered by source, estimator, purpose, tags or search.

Reads the stored records without checking them against the hash chain (that would hash
every run's row ids); :meth:`BaseStore.load_run` checks the run it returns, and
:meth:`BaseStore.verify` every run.
"""

import json

import numpy as np
import pandas as pd

from .._lineage._fingerprint import class_path
from .._lineage._source import Source

RUN_COLUMNS = [
    "run_id",
    "created_at",
    "estimator",
    "model",
    "n_samples",
    "sources",
    "purpose",
    "name",
    "parent_run_id",
    "tags",
    "search_role",
    "search_id",
]


def _class_name(value):
    """A class path from a string, a class or an instance (as runs record it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return class_path(value)


def _matches_class(names, *paths):
    for path in paths:
        if path is None:
            continue
        short = path.rsplit(".", 1)[-1]
        if path in names or short in names:
            return True
    return False


def list_runs(
    store,
    *,
    source=None,
    estimator=None,
    purpose=None,
    tags=None,
    parent_run_id=None,
    search_id=None,
    search_role=None,
):
    """See :meth:`BaseStore.list_runs`."""
    wanted_source = None
    if source is not None:
        if isinstance(source, Source):
            wanted_source = (source.source_id, source.sha256)
        elif isinstance(source, str):
            wanted_source = (source, None)
        else:
            wanted_source = tuple(source)
    names = None
    if estimator is not None:
        names = {_class_name(estimator)}
    purposes = None
    if purpose is not None:
        purposes = {purpose} if isinstance(purpose, str) else set(purpose)
    rows = []
    with store._snapshot():
        listed = store._raw_run_list()
    for run_id, record_text, _ in listed:
        try:
            record = json.loads(record_text)
            entries = record["sources"]
            keys = [(s["source_id"], s["sha256"]) for s in entries]
            ops = record["ops"]
            row = {
                "run_id": run_id,
                "created_at": record["created_at"],
                "estimator": record["estimator"],
                "model": ops[-1]["cls"] if ops else None,
                "n_samples": int(record["n_samples"]),
                "sources": [k[0] for k in keys],
                "purpose": record.get("purpose"),
                "name": record.get("name"),
                "parent_run_id": record.get("parent_run_id"),
                "tags": dict(record.get("tags") or {}),
                "search_role": (record.get("selection") or {}).get("role"),
                "search_id": (record.get("selection") or {}).get("search_id"),
            }
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise store._corrupt(
                f"run {run_id} in {store!r} is corrupt: {exc!r}; check() or verify() "
                "lists every problem",
                run_id=run_id,
            ) from None
        if wanted_source is not None and not any(
            k[0] == wanted_source[0] and wanted_source[1] in (None, k[1]) for k in keys
        ):
            continue
        if names is not None and not _matches_class(names, row["estimator"], row["model"]):
            continue
        if purposes is not None and row["purpose"] not in purposes:
            continue
        if tags is not None and any(row["tags"].get(k) != v for k, v in tags.items()):
            continue
        if parent_run_id is not None and row["parent_run_id"] != parent_run_id:
            continue
        if search_id is not None and row["search_id"] != search_id:
            continue
        if search_role is not None and row["search_role"] != search_role:
            continue
        rows.append(row)
    # object columns keep None as None (pandas would make missing names NaN)
    frame = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in RUN_COLUMNS})
    return frame.astype({"n_samples": np.int64})
