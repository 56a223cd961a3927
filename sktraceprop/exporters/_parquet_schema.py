"""The Parquet export's folder layout: its format version, tables and their typed
schemas (the columns are described in :mod:`sktraceprop.exporters._parquet`)."""

import json

from ._optional import require

#: Version of the folder layout; reading refuses other versions.
FORMAT = 1
_META_KEY = b"sktraceprop.export"
TABLES = ("runs", "sources", "parents", "ops", "features", "rows", "input_rows")


def _pyarrow():
    pa = require("pyarrow", "parquet", "Parquet export")
    pq = require("pyarrow.parquet", "parquet", "Parquet export")
    return pa, pq


def _schemas(pa):
    from .. import __version__

    s, i64 = pa.string(), pa.int64()
    names = pa.list_(s)
    ref = pa.struct([("parent_code", i64), ("parent_column", s)])
    label = pa.dictionary(pa.int32(), s)

    def rows(position):
        return [
            ("run_id", label),
            (position, i64),
            ("row_id", i64),
            ("source_code", i64),
            ("line", i64),
            ("source_id", label),
        ]

    fields = {
        "runs": [
            ("run_id", s),
            ("created_at", s),
            ("estimator", s),
            ("params", s),
            ("versions", s),
            ("n_samples", i64),
            ("n_input_rows", i64),
            ("model_fingerprint", s),
            ("notes", names),
            ("purpose", s),
            ("name", s),
            ("tags", s),
            ("parent_run_id", s),
            ("source_stats", s),
            ("selection", s),
            ("search_role", s),
            ("search_id", s),
            ("fit_params", s),
            ("renamed_columns", s),
            ("attached_columns", s),
            ("changed_columns", s),
            ("rows_compared", s),
            ("fingerprint_scheme", i64),
        ],
        "sources": [
            ("run_id", s),
            ("code", i64),
            ("source_id", s),
            ("uri", s),
            ("sha256", s),
            ("n_rows", i64),
            ("columns", names),
            ("dtypes", names),
            ("loaded_at", s),
            ("kind", s),
            ("max_line", i64),
            ("parent_codes", pa.list_(i64)),
            ("columns_from", pa.map_(s, pa.list_(ref))),
            ("has_parents", pa.bool_()),
            ("other_reads", s),
            ("digest_scheme", s),
            ("digest_exact", pa.bool_()),
            ("digest_note", s),
            ("encoding", s),
        ],
        "parents": [
            ("source_id", s),
            ("sha256", s),
            ("line", i64),
            ("parents", pa.large_list(i64)),
        ],
        "ops": [
            ("run_id", s),
            ("position", i64),
            ("name", s),
            ("class", s),
            ("params", s),
            ("fingerprint", s),
            ("features_in", names),
            ("features_out", names),
            ("sources", names),
            ("source_keys", s),
            ("rows", s),
        ],
        "features": [
            ("run_id", s),
            ("position", i64),
            ("feature", s),
            ("columns", names),
            ("sources", names),
            ("aggregates", names),
        ],
        "rows": rows("train_index"),
        "input_rows": rows("input_index"),
    }
    return {
        name: pa.schema(
            columns,
            metadata={
                _META_KEY: json.dumps(
                    {"format": FORMAT, "table": name, "sktraceprop": __version__}
                )
            },
        )
        for name, columns in fields.items()
    }
