"""A loaded column overwritten with another source's column by position
(``a["x"] = b["x"].to_numpy()``): warned of as attached, against the raw bytes.

Under its own loaded name, the column was compared with its own source only and noted
as changed: every row's value was another file's, on a line its lineage does not name,
with no warning (a new column of those values was named). The truth is the raw files.
"""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._lineage._raw_files import records_by_line


def _write(tmp_path, name, n, seed):
    rng = np.random.default_rng(seed)
    lines = ["key,a,b,y"]
    for i in range(n):
        lines.append(f"{name}{i},{rng.normal():.6f},{rng.normal():.6f},{i % 2}")
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id=path.stem)


def _fit(X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe = stp.make_traced_pipeline(Ridge()).fit(X[["a", "b"]], X["y"])
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    return pipe, [m for m in said if "attached by position" in m or "attached" in m]


def _other_held(paths, X, pipe, name):
    """Rows whose value in ``a`` is not on the line their lineage names but is on a
    line of file ``name`` (the raw bytes)."""
    truth = records_by_line(*paths)
    theirs = {float(r["a"]) for (s, _), r in truth.items() if s == name}
    rows = pipe.lineage_.rows()
    return sum(
        float(truth[s, int(line)]["a"]) != v and v in theirs
        for s, line, v in zip(rows["source_id"], rows["line"], X["a"])
    )


@pytest.mark.parametrize("n", [40, 120])
@pytest.mark.parametrize("how", ["in order", "a subset in order", "reordered"])
def test_a_loaded_column_overwritten_from_another_source_is_warned_of(tmp_path, n, how):
    # (reordered: the whole of the other file, or it could be a chance overlap)
    m = n if how == "reordered" else 2 * n
    (pa, A), (pb, B) = _write(tmp_path, "left", n, 0), _write(tmp_path, "right", m, 1)
    if how == "in order":
        values = B["a"].to_numpy()[:n]
    elif how == "a subset in order":
        values = B["a"].to_numpy()[np.sort(np.random.default_rng(2).choice(m, n, False))]
    else:
        values = B["a"].to_numpy()[np.random.default_rng(2).permutation(m)]
    X = A.assign(a=values)
    pipe, said = _fit(X)
    # the truth: every row holds the other file's value, on a line its lineage misses
    assert _other_held([pa, pb], X, pipe, "right") == n
    assert said, "a column of another file's values, with no warning"
    (entry,) = pipe.lineage_.attached_columns
    assert entry["input_column"] == "a" and entry["source_id"] == "right"
    assert pipe.lineage_.feature_sources()["a"] == ["left", "right"]


@pytest.mark.parametrize(
    "change",
    [
        lambda A, B: A.assign(a=A["a"] * 2.5),
        lambda A, B: A.assign(a=A["a"].round(2)),
        lambda A, B: A.assign(a=A["b"]),
        lambda A, B: A.assign(a=A["a"] + B["a"].to_numpy()[: len(A)]),
    ],
    ids=["scaled", "rounded", "own-column", "sum-with-other"],
)
def test_a_loaded_column_computed_otherwise_is_not_said_attached(tmp_path, change):
    (_, A), (_, B) = _write(tmp_path, "left", 120, 0), _write(tmp_path, "right", 240, 1)
    pipe, said = _fit(change(A, B))
    assert not said and pipe.lineage_.attached_columns == []
    assert any("a (" in n and "differ from what was loaded" in n for n in pipe.lineage_.notes)
