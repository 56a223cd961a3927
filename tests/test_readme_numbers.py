"""Figures the prose quotes from a benchmark are that benchmark's latest results: the
README's cost of ``make test`` (``benchmarks/results/make_test.json``) and the user
guide's memory of array lineage (``doc/arrays.rst``, ``results/array_lineage.json``),
each rounded as its script rounds it, so a rerun that changes a figure fails here until
the prose is updated."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _paragraph(readme):
    start = readme.index("What they cost on a fresh clone")
    return " ".join(readme[start : readme.index("\n\n", start)].split())


def _expected(result):
    wheels = result["wheels_bytes"]
    largest = sorted(wheels.items(), key=lambda kv: -kv[1])[:5]
    passed = int(re.match(r"(\d+) passed", result["test_last_line"]).group(1))
    return {
        "commit": f"`{result['commit']}`",
        "passed": f"passed {passed:,} tests",
        "wheels": f"fetches {len(wheels)} wheels",
        "total": f"about {sum(wheels.values()) / 1e6:.0f} MB",
        "venv": f"into a {result['venv_bytes'] / 1e9:.1f} GB `.venv`",
        "setup": f"took {result['setup_seconds'] / 60:.1f} minutes",
        "test": f"`make test` itself {result['test_seconds'] / 60:.1f} minutes",
        "largest": [f"{size / 1e6:.0f} MB" for _, size in largest],
    }


def check(readme, result):
    """The README's figures that differ from ``result`` (empty where all agree)."""
    text, wrong = _paragraph(readme), []
    expected = _expected(result)
    sizes = expected.pop("largest")
    for name, phrase in expected.items():
        if phrase not in text:
            wrong.append(f"{name}: {phrase!r}")
    # the five largest wheels, in the README's order (largest first)
    listed = re.search(r" MB \((.*?);", text)
    quoted = re.findall(r"(\d+) MB", listed.group(1)) if listed else []
    if [f"{q} MB" for q in quoted] != sizes:
        wrong.append(f"largest wheels: {sizes}")
    return wrong


def _inputs():
    readme = (ROOT / "README.md").read_text()
    result = json.loads((ROOT / "benchmarks" / "results" / "make_test.json").read_text())
    return readme, result


def check_arrays(page, result):
    """``doc/arrays.rst``'s memory figures that differ from ``result`` (as
    ``bench_array_lineage.py`` prints them)."""
    pm = result["provenance_memory"]
    text = " ".join(page.split("``bench_array_lineage.py`` measures it", 1)[1].split())
    expected = {
        "alive": f"{pm['lineage_bytes'] / 2**20:.1f} MiB of lineage stays alive "
        f"({pm['lineage_bytes'] / pm['rows']:.0f} bytes per row",
        "read": f"{pm['lineage_bytes_read'] / 2**20:.1f} MiB "
        f"({pm['lineage_bytes_read'] / pm['rows']:.0f} bytes per row) once provenance",
        "own map": f"own map is {pm['own_map_bytes'] / 2**20:.1f} MiB",
        "data": f"{pm['data_bytes'] / 2**20:.1f} MiB of data",
    }
    return [f"{name}: {phrase!r}" for name, phrase in expected.items() if phrase not in text]


def _arrays_inputs():
    page = (ROOT / "doc" / "arrays.rst").read_text()
    result = json.loads((ROOT / "benchmarks" / "results" / "array_lineage.json").read_text())
    return page, result


def test_arrays_memory_figures_are_the_latest_measured():
    assert check_arrays(*_arrays_inputs()) == []


def test_a_stale_memory_figure_is_found():
    page, result = _arrays_inputs()
    pm = result["provenance_memory"]
    rerun = dict(result, provenance_memory=dict(pm, lineage_bytes_read=7_200_000))
    assert check_arrays(page, rerun) == ["read: '6.9 MiB (48 bytes per row) once provenance'"]
    # the figure this check was written for: 6.7 MiB (47 bytes) stayed after a rerun
    stale = page.replace("6.6 MiB (46 bytes", "6.7 MiB (47 bytes")
    assert [w.split(":")[0] for w in check_arrays(stale, result)] == ["read"]


def test_readme_make_test_figures_are_the_latest_measured():
    assert check(*_inputs()) == []


def test_a_stale_figure_is_found():
    readme, result = _inputs()
    assert check(readme, result) == []
    rerun = dict(result, test_seconds=result["test_seconds"] + 120, commit="abc1234")
    wrong = check(readme, rerun)
    assert len(wrong) == 2 and wrong[0].startswith("commit") and wrong[1].startswith("test")
    bigger = dict(result, wheels_bytes=dict(result["wheels_bytes"], extra=300e6))
    assert [w.split(":")[0] for w in check(readme, bigger)] == [
        "wheels",
        "total",
        "largest wheels",
    ]
