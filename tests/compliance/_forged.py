"""A report edited and sealed again with its statements rebuilt: a forgery consistent on
its own, which only the store it names can refute."""

import json

from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles as statements


def forged(path, edit, folder):
    """Write the report at ``path`` as ``edit(report)`` leaves it, its articles rebuilt
    and its integrity re-sealed, to ``folder / "edited.json"``; return that path."""
    d = json.loads(path.read_text())
    edit(d)
    d["articles"] = statements(d)
    d["integrity"] = seal(body_of(d))
    edited = folder / "edited.json"
    edited.write_text(json.dumps(d))
    return edited
