"""List the figures the user guide and README quote from benchmark results, each with
the results file and value it comes from, and flag those that no longer match them.

Run: python benchmarks/check_doc_numbers.py [--unchecked]

Each figure is written down (``_doc_figures_*.py``) as its page prints it, computed from
``results/<name>.json`` and rounded as the page rounds it; it must appear in the
paragraph that starts at its anchor. A rerun of a benchmark that changes a figure makes
this script (and ``tests/test_doc_numbers.py``) report it until the page is updated.
Nothing is measured here. ``--unchecked`` also lists every number with a unit (ms, s,
MiB, x, %, ...) in README.md and doc/*.rst that no figure here covers and
:data:`ELSEWHERE` does not account for (a setting, a target, arithmetic, a test, an
earlier run): each is for a reader to trace to its measurement, or to soften.
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _doc_figures_influence import CLAIMS as INFLUENCE  # noqa: E402
from _doc_figures_lineage import CLAIMS as LINEAGE  # noqa: E402
from _doc_figures_unlearning import CLAIMS as UNLEARNING  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


# (page, anchor: the start of the quoting paragraph, results name, figures)
CLAIMS = LINEAGE + INFLUENCE + UNLEARNING


def _flat(text):
    """``text`` with each run of whitespace made one space, and each character's
    position in ``text``."""
    out, pos, space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space and out:
                out.append(" ")
                pos.append(i)
            space = True
        else:
            out.append(ch)
            pos.append(i)
            space = False
    return "".join(out), pos


def _paragraph(page_text, anchor):
    """The whitespace-flattened paragraph starting at ``anchor`` (to the next blank line
    that is not inside a list item), with each character's offset in the page."""
    if page_text.count(anchor) != 1:
        raise ValueError(f"anchor {anchor!r} is not in the page exactly once")
    start = page_text.index(anchor)
    end = page_text.find("\n\n", start)
    end = len(page_text) if end < 0 else end
    flat, pos = _flat(page_text[start:end])
    return flat, [p + start for p in pos]


def figures(pages=None, results=None):
    """Every quoted figure: dicts of ``page``, ``line``, ``phrase``, ``results``,
    ``evidence`` and ``status`` ("ok" or "stale"). ``pages`` and ``results`` (name ->
    text / parsed json) replace the files, for tests."""
    pages, results = dict(pages or {}), dict(results or {})
    out = []
    for page, anchor, name, compute in CLAIMS:
        if page not in pages:
            pages[page] = (ROOT / page).read_text()
        if name not in results:
            results[name] = json.loads((RESULTS / f"{name}.json").read_text())
        text = pages[page]
        flat, pos = _paragraph(text, anchor)
        for phrase, evidence in compute(results[name]):
            at = flat.find(phrase)
            offset = pos[at] if at >= 0 else pos[0]
            out.append(
                {
                    "page": page,
                    "line": text.count("\n", 0, offset) + 1,
                    "phrase": phrase,
                    "results": f"benchmarks/results/{name}.json",
                    "evidence": evidence,
                    "status": "ok" if at >= 0 else "stale",
                }
            )
    return out


# a number and its unit; "N x M" is a shape, not a ratio
_UNIT = re.compile(
    r"(?<![\w.])\d(?:[\d,]*\d)?(?:\.\d+)?(?:e-?\d+)?\s?"
    r"(?:ms|s|MiB|GiB|MB|GB|KiB|x(?!\s*\d)|%)(?![\w-])"
)


# Numbers with a unit on the pages that no results file holds, and why each is no
# measurement to check here (a setting, a target, arithmetic) or where it was measured.
# ``--unchecked`` lists the numbers in neither table.
ELSEWHERE = {
    ("README.md", "1.5x"): "target: the issue's op-mode overhead targets",
    ("README.md", "1.05x"): "target: the issue's op-mode overhead targets",
    ("README.md", "1.01x"): "target: the issue's op-mode overhead targets",
    ("README.md", "2 s"): "setting: file times this far before a read",
    ("doc/adapters.rst", "128 MiB"): "setting: per-block memory budget",
    ("doc/arrays.rst", "256 KiB"): "setting: size from which a temporary is reused",
    ("doc/arrays.rst", "1.5x"): "target: the issue's op-mode overhead targets",
    ("doc/arrays.rst", "1.05x"): "target: the issue's op-mode overhead targets",
    ("doc/arrays.rst", "1.01x"): "target: the issue's op-mode overhead targets",
    ("doc/compliance.rst", "64 KiB"): "setting: input sizes hashed beside the call",
    ("doc/compliance.rst", "64 MiB"): "setting: input sizes hashed beside the call",
    ("doc/influence.rst", "25%"): "test: tests/influence/test_class_balance_assumption.py",
    ("doc/influence.rst", "44%"): "test: tests/influence/test_class_balance_assumption.py",
    ("doc/influence.rst", "2%"): "test: tests/influence/test_class_balance_assumption.py",
    (
        "doc/influence.rst",
        "8%",
    ): "test: test_class_balance_assumption.py, test_stationarity_note.py",
    ("doc/influence.rst", "400 GB"): "arithmetic: dense matrices of p = 10^5 parameters",
    ("doc/influence.rst", "256 MiB"): "setting: _woodbury_scores.WORK_BYTES",
    ("doc/influence.rst", "3 GB"): "arithmetic: a 20,000 x 20,000 float64 matrix",
    (
        "doc/influence.rst",
        "8 GiB",
    ): "setting: bench_influence_matrix_free.py's address-space limit",
    (
        "doc/influence.rst",
        "2.98 GiB",
    ): "arithmetic: 20,000^2 float64 (the MemoryError in the json)",
    ("doc/influence.rst", "80%"): "arithmetic: skorch's ValidSplit(5)",
    ("doc/lineage.rst", "32 MiB"): "setting: 2,097,152 rows of 16-byte digests",
    ("doc/lineage.rst", "90%"): "setting: witness-value threshold",
    ("doc/lineage.rst", "5%"): "setting: witness-value threshold",
    ("doc/projection.rst", "24 MB"): "arithmetic: the nonzeros generated at a time",
    ("doc/projection.rst", "15.1 GB"): "earlier run: projection.json before its latest commit",
    ("doc/projection.rst", "2 s"): "setting: bench_projection.py's pause after the import",
    ("doc/stores.rst", "1 GB"): "setting: SQLite's and PostgreSQL's value limits",
    ("doc/stores.rst", "1 GiB"): "setting: SQLite's and PostgreSQL's value limits",
    ("doc/stores.rst", "2 MB"): "example of a corrupt length",
    ("doc/unlearning.rst", "4x"): "setting: the Newton steps' shrink rule",
    ("doc/unlearning.rst", "30%"): "example: TfidfVectorizer(max_df=0.3)",
    ("doc/unlearning.rst", "2.45 s"): "earlier run: unlearn_woodbury.json at f5e2118e",
    ("doc/unlearning.rst", "1.8 s"): "earlier run: unlearn_woodbury.json at f5e2118e",
    ("doc/unlearning.rst", "0.02 s"): "earlier run: unlearn_woodbury.json at f5e2118e",
    ("doc/unlearning.rst", "100%"): "definition: a retrain closes 100% of the gap",
    ("doc/unlearning.rst", "5%"): "setting: removals tested or benchmarked",
    ("doc/unlearning.rst", "10%"): "setting: removals benchmarked",
    ("doc/unlearning.rst", "110%"): "target: the 90-110% band",
    ("doc/unlearning.rst", "36 x"): "arithmetic: clones times holdout rows",
    ("doc/unlearning.rst", "0.1%"): "setting: the calibration's tolerance",
    ("doc/valuation.rst", "30%"): "setting: scikit-learn's sparse_threshold",
}


def unchecked(found, pages=None):
    """``(page:line, number)`` of numbers with a unit in README.md and doc/*.rst that no
    figure of ``found`` covers and :data:`ELSEWHERE` does not account for. ``pages``
    (path -> text) replaces those files, for tests."""
    covered = {}
    for f in found:
        covered.setdefault(f["page"], []).append(f["phrase"])
    if pages is None:
        paths = [ROOT / "README.md", *sorted((ROOT / "doc").glob("*.rst"))]
        pages = {str(p.relative_to(ROOT)): p.read_text() for p in paths}
    out = []
    for page, text in pages.items():
        for n, line in enumerate(text.split("\n"), 1):
            for match in _UNIT.finditer(line):
                number = match.group(0).strip()
                if (page, number) in ELSEWHERE:
                    continue
                if not any(number in phrase for phrase in covered.get(page, [])):
                    out.append((f"{page}:{n}", number))
    return out


def main(argv):
    found = figures()
    for f in found:
        print(f"{f['status']:5}  {f['page']}:{f['line']}  {f['phrase']!r}")
        print(f"       from {f['results']}: {f['evidence']}")
    stale = [f for f in found if f["status"] != "ok"]
    print(f"{len(found)} figures, {len(stale)} stale")
    if "--unchecked" in argv:
        rest = unchecked(found)
        for where, number in rest:
            print(f"unchecked  {where}  {number}")
        print(f"{len(rest)} numbers with a unit neither checked nor accounted for")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
