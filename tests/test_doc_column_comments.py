"""The columns that the README's and the user guide's code comments list are the columns
the call returns (tests/test_docs.py and tests/test_readme.py run the code; they do not
read the comments, which listed ``exp.top(5)`` without ``row_id``, ``file_state`` and
``erased`` for several releases)."""

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a call of a page's code and what it returns: the receiver names the pages use
_CALLS = {
    r"stp\.row_lineage\(": "row_lineage",
    r"pipe\.trace\(\[": "pipe.trace",
    r"exp\.top\(": "exp.top",
    r"exp\.by_source\(\)": "exp.by_source",
    r"val\.by_source\(\)": "val.by_source",
}
_PAGES = ("README.md", "doc/influence.rst", "doc/valuation.rst", "doc/lineage.rst")


def _listed_columns(lines, i):
    """The first run of three or more names separated by ", " in the comment of line
    ``i`` and the comment lines right under it, or None where it lists none."""
    line = lines[i]
    comment = [line.split("#", 1)[1]] if "#" in line else []
    for below in lines[i + 1 :]:
        if not below.strip().startswith("#"):
            break
        comment.append(below.strip()[1:])
    text = " ".join(part.strip() for part in comment)
    found = re.search(r"[a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*){2,}", text)
    return found.group(0).split(", ") if found else None


def _documented():
    """``(page, line, call, columns)`` of each call whose comment lists columns."""
    out = []
    for page in _PAGES:
        lines = (ROOT / page).read_text().split("\n")
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0]
            for pattern, call in _CALLS.items():
                if re.search(pattern, code):
                    columns = _listed_columns(lines, i)
                    if columns:
                        out.append((page, i + 1, call, columns))
    return out


def test_the_pages_list_columns_for_each_call():
    calls = {call for _, _, call, _ in _documented()}
    assert calls == set(_CALLS.values())


def test_a_stale_list_is_found():
    lines = ["exp.top(5)   # test_index, rank, train_index,", "   # score, line", "x = 1"]
    assert _listed_columns(lines, 0) == ["test_index", "rank", "train_index", "score", "line"]
    assert _listed_columns(["exp.by_source()  # per source (uri, sha256)"], 0) is None
    assert _listed_columns(["v.by_source()  # source_id, uri, sha256"], 0)[2] == "sha256"


@pytest.fixture(scope="module")
def returned():
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp

    paths = stp.datasets.demo_paths()
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    df = pd.concat([a, b]).dropna()
    X, y = df[["age", "bp", "cholesterol"]], df["label"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X_tr, y_tr)
    exp = stp.InfluenceExplainer(pipe, random_state=0).fit(X_tr, y_tr).explain(X_te)
    with warnings.catch_warnings():
        # the demo data's ties in distance are warned of; the columns do not depend on it
        warnings.simplefilter("ignore", UserWarning)
        val = stp.KNNShapleyValuer(5, transformer=pipe[:-1]).fit(X_tr, y_tr)
        val.value(X_te, y_te)
    return {
        "row_lineage": stp.row_lineage(X_tr.iloc[:3]),
        "pipe.trace": pipe.trace([0, 5]),
        "exp.top": exp.top(5),
        "exp.by_source": exp.by_source(),
        "val.by_source": val.by_source(),
    }


@pytest.mark.parametrize(
    "page, line, call, columns",
    _documented(),
    ids=[f"{page}:{line}" for page, line, _, _ in _documented()],
)
def test_listed_columns_are_the_returned_ones(page, line, call, columns, returned):
    assert columns == list(returned[call].columns)
