"""No library code reads another thread's frames.

Walking the frames of a thread that goes on running (:func:`sys._current_frames`, then
``f_back``/``f_locals``) crashed CPython 3.11 in CI (a segmentation fault, and a frame's
``f_back`` that was a ``str``) when the step watch did it. The library reads only the
calling thread's own stack; this guards against the call coming back, in any spelling.
"""

import ast
from pathlib import Path

import sktraceprop

ROOT = Path(sktraceprop.__file__).parent
FORBIDDEN = {"_current_frames", "_current_exceptions"}


def _uses(path, root=ROOT):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.append(f"{path.relative_to(root)}:{node.lineno}")
        elif isinstance(node, ast.Constant) and node.value in FORBIDDEN:
            found.append(f"{path.relative_to(root)}:{node.lineno} (as a string)")
        elif isinstance(node, ast.alias) and node.name in FORBIDDEN:
            found.append(f"{path.relative_to(root)}:{node.lineno} (imported)")
    return found


def test_no_module_of_the_library_reads_other_threads_frames():
    found = [hit for path in sorted(ROOT.rglob("*.py")) for hit in _uses(path)]
    assert found == []


def test_the_guard_finds_each_spelling(tmp_path):
    sources = [
        "import sys\nsys._current_frames()\n",
        "from sys import _current_frames\n",
        "import sys\ngetattr(sys, '_current_frames')()\n",
    ]
    for i, source in enumerate(sources):
        probe = tmp_path / f"probe_{i}.py"
        probe.write_text(source)
        assert len(_uses(probe, tmp_path)) == 1
