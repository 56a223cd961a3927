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


def _text(folder, name):
    """The example's code and comments as one line of words."""
    text = (EXAMPLES[0].parent.parent / folder / name).read_text()
    return " ".join(re.sub(r"^\s*# ?", "", text, flags=re.M).split())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_never_silences_the_librarys_warnings_for_the_whole_run(path):
    # plot_neural_unlearning ignored every UserWarning for a torch notice, and with it
    # the removal's warning that a copy of the model still holds the removed rows (an
    # "ignore" inside a catch_warnings block ends with it, and is indented)
    text = path.read_text()
    calls = r"^warnings\.(?:filterwarnings|simplefilter)\((.*?)\)\s*(?:#.*)?$"
    for call in re.findall(calls, text, re.M):
        if "ignore" in call:
            assert "message=" in call or "module=" in call, call


@pytest.mark.parametrize("name", ["plot_unlearning.py", "plot_neural_unlearning.py"])
def test_unlearning_examples_explain_the_warning_their_kept_copy_raises(name):
    # both keep the original model to compare with, and the removal warns that it keeps
    # data of the removed rows: the text says what that means and what to do
    text = _text("unlearning", name)
    assert "other fitted objects in this process keep data of removed rows" in text
    assert "refit or discard each named object" in text
    assert 'print("still held elsewhere:", event["held_elsewhere"])' in text


def test_knn_shapley_example_prints_the_fraction_it_flips():
    # the text said "a third" of the labels are wrong; the run flipped 63 of 210 (30%)
    text = _text("valuation", "plot_knn_shapley.py")
    assert "a third" not in text
    assert "flipped with probability 1/3" in text and "< 1 / 3" in text
    assert "{flipped.sum() / from_b.sum():.0%}" in text
