"""The optional fields of a stored run's record, checked and rebuilt.

What :meth:`~sktraceprop._lineage._run.Lineage.from_dict` (and the Parquet exporter's
decoder) make of ``changed_columns``, ``rows_compared``, ``attached_columns`` and
``fingerprint_scheme`` as stored, and the ops with their ``op_source_keys`` and
``op_rows``: a record that holds something else is refused.
"""

from dataclasses import replace

from ._row_sets import from_json
from ._run_op import Op

_CHANGED_COUNTS = ("rows_checked", "rows_changed", "missing_filled")


def changed_from(entries):
    """:attr:`Lineage.changed_columns` from its record (None stays None: not recorded)."""
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"changed_columns holds {entries!r}, not a list of columns")
    return [
        {
            "code": int(e["code"]),
            "column": str(e["column"]),
            **({"input_column": str(e["input_column"])} if "input_column" in e else {}),
            **{k: int(e[k]) for k in _CHANGED_COUNTS},
            **({"rows_not_known": int(e["rows_not_known"])} if "rows_not_known" in e else {}),
            **({"through": int(e["through"])} if "through" in e else {}),
            **({"retained": str(e["retained"])} if "retained" in e else {}),
        }
        for e in entries
    ]


def scheme_from(value):
    """:attr:`Lineage.fingerprint_scheme` from its record: a positive int, or None
    (absent: not recorded)."""
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise ValueError(f"fingerprint_scheme holds {value!r}, not a scheme number")
    return value


def compared_from(entries):
    """:attr:`Lineage.rows_compared` from its record (None stays None: not recorded)."""
    if entries is None:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"rows_compared holds {entries!r}, not a list of sources")
    return [
        {
            "code": int(e["code"]),
            "rows": int(e["rows"]),
            **({"through": int(e["through"])} if "through" in e else {}),
            **({"retained": str(e["retained"])} if "retained" in e else {}),
        }
        for e in entries
    ]


_ATTACHED_INTS = ("rows_matched", "rows_compared")


def attached_from(entries):
    """:attr:`Lineage.attached_columns` from a stored record (absent: none)."""
    return [
        {k: (int(v) if k in _ATTACHED_INTS else str(v)) for k, v in e.items()}
        for e in entries or ()
    ]


def ops_from(d):
    """The ops of a run's record, with their ``source_keys`` (see :meth:`Lineage.to_dict`)."""
    ops = [Op.from_dict(o) for o in d["ops"]]
    for name, field_name in (("op_source_keys", "source_keys"), ("op_rows", "rows")):
        values = d.get(name)
        if values is None:
            continue
        if not isinstance(values, list) or len(values) != len(ops):
            raise ValueError(
                f"{name} holds {len(values) if isinstance(values, list) else repr(values)} "
                f"entries for {len(ops)} ops"
            )
        if field_name == "rows":
            values = [from_json(v) for v in values]
        ops = [op if v is None else replace(op, **{field_name: v}) for op, v in zip(ops, values)]
    return ops
