"""One read of a file's bytes, described: its canonical record, and what tells two reads
apart.

A file read again with other options (``nrows``, ``usecols``, ``dtype``) or from another
path keeps one code; :meth:`~sktraceprop._lineage._source.Source.with_read` and the
registry list each read by these descriptions.
"""


def _read_dict(read):
    """A read description in its canonical form (the keys :meth:`Source.read` gives;
    ``"uri"`` only where the read names its path, ``"encoding"`` only where it names
    one: a record written before reads kept them reads back, and hashes, as it was
    written)."""
    out = {
        "n_rows": int(read["n_rows"]),
        "columns": [str(c) for c in read["columns"]],
        "dtypes": [str(t) for t in read["dtypes"]],
        "loaded_at": str(read["loaded_at"]),
    }
    if read.get("uri") is not None:
        out["uri"] = str(read["uri"])
    if read.get("encoding") is not None:
        out["encoding"] = str(read["encoding"])
    return out


def _read_key(code, read):
    return (int(code), int(read["n_rows"]), *_shape_of(read)[1:])


def _shape_of(read):
    """What tells two reads apart: their rows, columns, dtypes, path (None: a read
    recorded before reads kept their path) and encoding (None: UTF-8, or not recorded),
    which the lines of its rows are counted in."""
    return (
        read["n_rows"],
        tuple(read["columns"]),
        tuple(read["dtypes"]),
        read.get("uri"),
        read.get("encoding"),
    )
