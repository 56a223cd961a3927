"""The API reference lists every public name (the documentation build checks it too),
and the user guide's Python blocks run on the bundled demo data."""

import importlib.util
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "doc"


def _api_check():
    spec = importlib.util.spec_from_file_location("api_check", DOC / "api_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_in_the_api_reference():
    assert _api_check().missing_names() == []


def test_a_missing_name_is_found():
    check = _api_check()
    text = (DOC / "api.rst").read_text()
    assert "   KNNShapleyValuer\n" in text and "   write_blockwise\n" in text
    trimmed = text.replace("   KNNShapleyValuer\n", "").replace("   write_blockwise\n", "")
    # documented under no name: both the top-level and the subpackage name are missing
    assert check.missing_names(trimmed) == [
        "sktraceprop.KNNShapleyValuer",
        "sktraceprop.gradients.write_blockwise",
        "sktraceprop.valuation.KNNShapleyValuer",
    ]
    names = check.public_names()
    assert "sktraceprop.plotting.LineageDisplay" in names
    assert "sktraceprop.InfluenceExplainer" in names and "sktraceprop.metrics" in names


# The user guide's ``.. code-block:: python`` blocks, run as a user would on the bundled
# demo data (README.md's blocks: tests/test_readme.py). A page's blocks share one
# namespace, in order, in a fresh folder, after the block of doc/index.rst that defines
# the names the guide leaves to the reader (X_train, pipe, store, ...), as that page says.
# A block that starts a Dask cluster is left to tests/test_dask.py.
_SKIPPED_BLOCKS = ("LocalCluster",)
_PAGE_NEEDS = {
    "compliance.rst": ("cryptography", "jsonschema"),
    "exporters.rst": ("pyarrow", "opentelemetry.sdk"),
    "plotting.rst": ("matplotlib",),
}


def _rst_python_blocks(path):
    """``(line, code)`` of every ``.. code-block:: python`` of an .rst file."""
    import re
    import textwrap

    lines = path.read_text().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        match = re.match(r"^(\s*)\.\. code-block:: python\s*$", lines[i])
        if not match:
            i += 1
            continue
        indent, j, body = len(match.group(1)), i + 1, []
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            body.append(lines[j])
            j += 1
        blocks.append((i + 1, textwrap.dedent("\n".join(body)).strip("\n")))
        i = j
    return blocks


def _guide_pages():
    pages = (p for p in DOC.glob("*.rst") if p.name != "index.rst" and _rst_python_blocks(p))
    return sorted(p.name for p in pages)


def _guide_namespace():
    """The names doc/index.rst's block defines, run in the current folder."""
    ((line, code),) = _rst_python_blocks(DOC / "index.rst")
    ns = {}
    exec(compile(code, f"{DOC / 'index.rst'}:{line}", "exec"), ns)
    return ns


def _page_namespace(page):
    """The names a page's blocks take from the reader, built only where it uses them."""
    ns = _guide_namespace()
    if page == "stores.rst":
        ns.update(_stores_namespace(ns))
    if page == "compliance.rst":
        from sktraceprop import signing

        key = signing.generate_key()
        signing.save_key(key, "audit.pem")
        signing.save_key(key.public_key(), "audit.pub.pem")
    return ns


def _stores_namespace(ns):
    """A run whose one-hot category "city_Zed" only hospital_b's rows have, fitted with
    sample weights (what the erasure examples name), twice; and a search's refit."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    stp, store, X, y = ns["stp"], ns["store"], ns["X"], ns["y"]
    from_b = stp.row_lineage(X)["source_id"].eq("hospital_b").to_numpy()
    X = X.assign(city=np.where(from_b & (np.arange(len(X)) % 3 == 0), "Zed", "Ash"))
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["city"]), (StandardScaler(), ["age", "bp", "cholesterol"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    weights = {"logisticregression__sample_weight": np.ones(len(y))}
    pipe.fit(X, y, **weights)
    run_id = pipe.lineage_.run_id
    clone_of = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    clone_of.fit(X, y, **weights)  # a second run given the same rows: erase_rows finds both
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X, y)
    sources = pipe.lineage_.sources.values()
    return dict(
        X=X, y=y, pipe=pipe, run_id=run_id, run=search.best_estimator_.lineage_,
        search=search,
        sha256=next(s.sha256 for s in sources if s.source_id == "hospital_a"),
        ids=stp.row_ids(X)[from_b][:3],
    )  # fmt: skip


@pytest.mark.parametrize("page", _guide_pages())
def test_user_guide_python_blocks_run(page, tmp_path, monkeypatch):
    for module in _PAGE_NEEDS.get(page, ()):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    ns = _page_namespace(page)
    ran = 0
    for line, code in _rst_python_blocks(DOC / page):
        if any(marker in code for marker in _SKIPPED_BLOCKS):
            continue
        if "import polars" in code and importlib.util.find_spec("polars") is None:
            continue  # polars is a test extra; the page's other blocks still run
        exec(compile(code, f"{DOC / page}:{line}", "exec"), ns)
        ran += 1
    assert ran >= 1
