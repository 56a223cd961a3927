"""``removals.parquet`` of a Parquet export: per run, the removals (unlearning) and
erasure requests its store recorded since the fit (see :mod:`._removals`), which the
other tables, describing each run as fitted, do not show.

One row per run: ``run_id``, ``checked`` (whether every store known to hold the run was
read; false: later removals were not all looked up, ``note`` says which and why), ``note``,
``model_fingerprint_now`` (the model the last unlearning left; the run's own where
none; null where unknown) and ``removals``, a list of structs, oldest first: ``seq``,
``hash``, ``kind`` (``"unlearning"`` or ``"erasure"``), ``created_at``,
``rows_removed`` (a list of ``{source_id, rows}``), ``n_rows``,
``model_fingerprint_after`` (null for an erasure, which does not change the model)
and ``carried_out``. :func:`~sktraceprop.exporters.read_parquet` does not read it
(folders written before it was kept lack it).
"""

import json

from ._parquet_schema import _META_KEY, FORMAT
from ._removals import removal_record

NAME = "removals"


def _schema(pa):
    per_source = pa.struct([("source_id", pa.string()), ("rows", pa.int64())])
    removal = pa.struct(
        [
            ("seq", pa.int64()),
            ("hash", pa.string()),
            ("kind", pa.string()),
            ("created_at", pa.string()),
            ("rows_removed", pa.list_(per_source)),
            ("n_rows", pa.int64()),
            ("model_fingerprint_after", pa.string()),
            ("carried_out", pa.bool_()),
        ]
    )
    return pa.schema(
        [
            ("run_id", pa.string()),
            ("checked", pa.bool_()),
            ("note", pa.string()),
            ("model_fingerprint_now", pa.string()),
            ("removals", pa.list_(removal)),
        ],
        metadata={_META_KEY: json.dumps({"format": FORMAT, "table": NAME})},
    )


def removals_row(run, store, frozen=None):
    """The table's row of ``run`` (``frozen``: see :func:`._removals.removal_record`)."""
    record = removal_record(run, store, frozen)
    return {
        "run_id": run.run_id,
        "checked": record["checked"],
        "note": record["note"],
        "model_fingerprint_now": record["model_fingerprint_now"],
        "removals": record["events"],
    }


def write_removals(pa, pq, folder, rows):
    """Write ``removals.parquet`` of ``rows`` (:func:`removals_row`) into ``folder``."""
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema(pa)), folder / f"{NAME}.parquet")
