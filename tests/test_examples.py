"""The gallery examples follow the gallery's rules.

They are run (and their figures checked) by the documentation build, ``make docs``,
which ``make test`` runs: running them here too would double the test time.
"""

import re
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*/plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_leaves_the_backend_alone_and_has_a_gallery_header(path):
    text = path.read_text()
    # the backend is chosen by whoever runs the example (doc/conf.py, tests/conftest.py)
    assert "matplotlib.use(" not in text
    header = re.match(r'r"""\n(=+)\n(.+)\n(=+)\n\n(.+?)\n"""', text, flags=re.S)
    assert header, "an r-docstring with a === title, then one paragraph"
    assert len(header.group(1)) >= len(header.group(2)) <= len(header.group(3))
    assert "\n# %%\n" in text


def test_every_example_folder_has_a_readme():
    folders = {p.parent for p in EXAMPLES}
    assert folders and all((folder / "README.txt").exists() for folder in folders)
