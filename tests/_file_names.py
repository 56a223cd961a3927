"""Files whose names are not UTF-8 (latin-1 ``b"caf\\xe9.csv"``), where they can be made."""

import os

import pytest


def latin1_named(folder, name, data):
    """Write ``data`` to ``folder/name`` (``name``: bytes); the path, as ``os.fsdecode``
    gives it. Skips where the file system or platform cannot hold that name as bytes
    (Windows names are text, macOS APFS refuses names that are not UTF-8)."""
    raw = os.path.join(os.fsencode(folder), name)
    try:
        with open(raw, "wb") as f:
            f.write(data)
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"a file name that is not UTF-8 cannot be made here: {exc}")
    if name not in os.listdir(os.fsencode(folder)):
        pytest.skip("the file system changed the name's bytes")
    return os.fsdecode(raw)
