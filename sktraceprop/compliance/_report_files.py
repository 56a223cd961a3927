"""New report files: a path refused before anything is made if it exists (a link
included) or its folder does not; the file then created, never overwritten."""

import os
from pathlib import Path

from ..exceptions import ComplianceError


def check_new_file(path, what):
    """Refuse, before anything is made or written, a path a new report file cannot take:
    an existing file (a link included) or one in a folder that does not exist."""
    if path is None:
        return
    path = Path(os.fspath(path))
    if os.path.lexists(path):
        raise ComplianceError(f"{what} {path} exists; reports are never overwritten")
    if not path.parent.is_dir():
        raise ComplianceError(
            f"{what} {path} cannot be written: folder {path.parent} does not exist. Nothing "
            "was written."
        )


def _write_new(path, text):
    with open(os.fspath(path), "x", encoding="utf-8") as f:
        f.write(text)
