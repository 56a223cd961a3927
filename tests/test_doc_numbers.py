"""The user guide's figures quoted from benchmark results are those results
(``benchmarks/check_doc_numbers.py`` computes each from its ``results/*.json`` and
rounds it as the page does), and ``benchmarks/README.md`` is what
``benchmarks/make_readme.py`` assembles from the results files, not edited by hand."""

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # the script puts benchmarks/ first, for its own modules
    return module


@pytest.fixture(scope="module")
def checker():
    return _load("check_doc_numbers")


def _results(name):
    return json.loads((ROOT / "benchmarks" / "results" / f"{name}.json").read_text())


def test_quoted_figures_are_the_latest_measured(checker):
    found = checker.figures()
    assert [f for f in found if f["status"] != "ok"] == []
    # every quoting paragraph contributes, from its own results file
    assert {name for _, _, name, _ in checker.CLAIMS} == {
        f["results"].split("/")[-1][: -len(".json")] for f in found
    }


def test_a_rerun_that_changes_a_figure_is_found(checker):
    result = _results("row_lineage_check")
    rerun = copy.deepcopy(result)
    for row in rerun["rows"]:
        if row["case"] == "100,000 rows" and row["variant"] == "check alone":
            row["fastest_s"] = 0.0046  # rounds to 5 ms
    found = checker.figures(results={"row_lineage_check": rerun})
    stale = [f for f in found if f["status"] == "stale"]
    assert [(f["page"], f["phrase"]) for f in stale] == [
        ("doc/lineage.rst", "about 5 ms for 100,000 rows")
    ]
    text = (ROOT / "doc" / "lineage.rst").read_text()
    # the line reported is the one that starts the quoting paragraph's sentence
    assert "*witness* rows" in text.split("\n")[stale[0]["line"] - 1]


def test_a_page_left_stale_is_found(checker):
    lineage = (ROOT / "doc" / "lineage.rst").read_text()
    # the figures this check was written for: written before their benchmark's rerun
    before = lineage.replace("line: about 3 ms", "line: about 4 ms").replace(
        "took 41-46 ms", "took 42-46 ms"
    )
    assert before != lineage
    stale = [
        f["phrase"]
        for f in checker.figures(pages={"doc/lineage.rst": before})
        if f["status"] != "ok"
    ]
    assert stale == [
        "about 3 ms for 100,000 rows",
        "took 41-46 ms with one or three files loaded",
    ]
    neural = (ROOT / "doc" / "influence.rst").read_text().replace("0.780 / 0.672", "0.78 / 0.67")
    stale = [
        f for f in checker.figures(pages={"doc/influence.rst": neural}) if f["status"] != "ok"
    ]
    assert [f["results"] for f in stale] == ["benchmarks/results/neural.json"]


def test_an_anchor_must_name_one_paragraph(checker):
    page = (ROOT / "doc" / "lineage.rst").read_text()
    twice = page + "\n\n1. Ids first: again\n"
    with pytest.raises(ValueError, match="exactly once"):
        checker.figures(pages={"doc/lineage.rst": twice})


def test_numbers_no_results_file_holds_are_listed(checker):
    found = checker.figures()
    page = (ROOT / "doc" / "lineage.rst").read_text()
    # a figure typed in with no evidence, beside covered ones and a shape (569 x 30)
    typed = page.replace("machine):\n", "machine; about 9.9 s in all):\n", 1)
    assert typed != page

    def listed(text):
        return checker.unchecked(found, pages={"doc/lineage.rst": text})

    line = page[: page.index("machine):\n")].count("\n") + 1
    new = [n for n in listed(typed) if n not in listed(page)]
    assert new == [(f"doc/lineage.rst:{line}", "9.9 s")]
    numbers = [number for _, number in listed(page)]
    assert "4.4 ms" not in numbers and "569 x" not in numbers  # covered; a shape
    # a figure taken from an earlier run, accounted for by name
    unlearning = (ROOT / "doc" / "unlearning.rst").read_text()
    assert "2.45 s" in unlearning
    rest = checker.unchecked(found, pages={"doc/unlearning.rst": unlearning})
    assert "2.45 s" not in [number for _, number in rest]
    assert checker.ELSEWHERE[("doc/unlearning.rst", "2.45 s")].startswith("earlier run")


def test_benchmarks_readme_is_assembled_from_the_results_files():
    make_readme = _load("make_readme")
    assert (ROOT / "benchmarks" / "README.md").read_text() == make_readme.render()


def test_a_benchmarks_readme_edited_by_hand_is_found(tmp_path, monkeypatch):
    make_readme = _load("make_readme")
    rendered = make_readme.render()
    (tmp_path / "results").mkdir()
    for path in (ROOT / "benchmarks" / "results").glob("*.md"):
        (tmp_path / "results" / path.name).write_text(path.read_text())
    monkeypatch.setattr(make_readme, "HERE", tmp_path)
    assert make_readme.render() == rendered
    # a figure changed in a results table changes the page
    frame = tmp_path / "results" / "frame_digest.md"
    frame.write_text(frame.read_text().replace("| 52 |", "| 53 |"))
    assert make_readme.render() != rendered


def test_every_number_with_a_unit_in_the_docs_is_measured_or_accounted_for(checker):
    """A figure typed into a page (a timing, a size) that no results file holds and
    ``ELSEWHERE`` does not account for fails here: measure it in benchmarks/ and quote
    it through a ``CLAIMS`` entry, or say where it comes from in ``ELSEWHERE``."""
    assert checker.unchecked(checker.figures()) == []


def test_table_rerender_keeps_the_platform_it_was_measured_on(tmp_path, monkeypatch):
    # ``--table`` re-renders a saved results file; the figures stay those of the
    # machine that measured them, so its platform must not become this one's.
    common = _load("_common")
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    saved = {"machine": {"cpu": "old cpu"}, "platform": "Measured-OS-1.0", "cases": [1, 2]}
    (tmp_path / "case.json").write_text(json.dumps(saved))

    def render(cases, info):  # what the scripts' render does: a fresh payload
        payload = {"machine": info, "platform": "This-OS-2.0", "cases": cases}
        common.write_results("case", payload, "| table |")

    common.render_saved("case", render)
    assert json.loads((tmp_path / "case.json").read_text()) == saved
    assert (tmp_path / "case.md").read_text() == "| table |\n"
