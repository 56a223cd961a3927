"""The independent truth of lineage tests: what the raw files hold, read with ``csv``."""

import csv
import io


def keys_by_line(*paths):
    """``(source_id, physical line)`` -> first field (the key) of the record starting
    there, read from the raw files (``source_id``: the file's stem); comment lines
    (``#``) and the header are left out."""
    out = {}
    for path in paths:
        text = path.read_text().splitlines(keepends=True)
        for line in range(2, len(text) + 1):
            row = next(csv.reader(io.StringIO(text[line - 1])), None)
            if row and not row[0].startswith("#"):
                out[path.stem, line] = row[0]
    return out


def records_by_line(*paths):
    """``(source_id, physical line)`` -> the fields of the record starting there, as
    strings (see :func:`keys_by_line`), under the header's names."""
    out = {}
    for path in paths:
        text = path.read_text().splitlines(keepends=True)
        header = next(csv.reader(io.StringIO(text[0])))
        for line in range(2, len(text) + 1):
            row = next(csv.reader(io.StringIO(text[line - 1])), None)
            if row and not row[0].startswith("#"):
                out[path.stem, line] = dict(zip(header, row))
    return out
