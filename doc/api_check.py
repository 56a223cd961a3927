"""Every public name of sktraceprop is in the API reference (``doc/api.rst``).

Used by ``conf.py`` (the build fails on a missing name) and by ``tests/test_docs.py``.
Public names are the names in ``sktraceprop.__all__`` (dunders aside) and, for each
public submodule, the names in its ``__all__``. A name is documented when its
qualified name, or another public name of the same object (``sktraceprop.X`` for
``sktraceprop.influence.X``), is an entry of an ``autosummary`` table or a module of
an ``automodule`` directive.
"""

import inspect
import re
from pathlib import Path

API = Path(__file__).resolve().with_name("api.rst")


def public_names():
    """``{qualified name: object}`` of every public name."""
    import sktraceprop

    names = {}
    for name in sktraceprop.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(sktraceprop, name)
        names[f"sktraceprop.{name}"] = obj
        if inspect.ismodule(obj):
            for sub in obj.__all__:
                names[f"sktraceprop.{name}.{sub}"] = getattr(obj, sub)
    return names


def documented_names(text):
    """Qualified names of the autosummary entries and automodule directives in ``text``."""
    names, module, in_table = set(), None, False
    for line in text.splitlines():
        directive = re.match(r"\.\. (currentmodule|automodule|autosummary)::\s*(\S*)", line)
        if directive:
            kind, arg = directive.groups()
            if kind == "currentmodule":
                module = arg
            elif kind == "automodule":
                names.add(arg)
            in_table = kind == "autosummary"
            continue
        if in_table:
            entry = re.match(r"^\s+([A-Za-z_][\w.]*)\s*$", line)
            if entry:
                name = entry.group(1).lstrip("~")
                names.add(name if name.startswith("sktraceprop.") else f"{module}.{name}")
            elif line.strip() and not line.startswith(" "):
                in_table = False
    return names


def missing_names(text=None):
    """Public names documented under none of their object's names, sorted."""
    documented = documented_names(API.read_text() if text is None else text)
    names = public_names()
    aliases = {}
    for qualified, obj in names.items():
        aliases.setdefault(id(obj), []).append(qualified)
    return sorted(
        q for q, obj in names.items() if not any(a in documented for a in aliases[id(obj)])
    )
