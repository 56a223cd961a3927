"""``stp.aggregate`` by a categorical key: each group row's parents are its rows.

pandas 2 made a group of every category, observed or not (its ``ngroup()`` numbers
only the observed ones), so the rows and the statistics did not align and the
aggregate was refused with pandas 2.2; the groups are the observed ones in both pandas
versions. The truth is the raw file read back with ``csv``: the lines whose key field
is the group's.
"""

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._source import REGISTRY


def _write(path, wards, scores):
    """``ward,score`` rows, a quoted two-line note every 4th; missing wards stay empty."""
    lines = ["ward,score,note"]
    for i, (w, s) in enumerate(zip(wards, scores)):
        note = '"a\nb"' if i % 4 == 1 else "x"
        lines.append(f"{'' if w is None else w},{s},{note}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _lines_by_key(path):
    """Physical line of each record -> its ward field ('' when missing), from the bytes."""
    text = path.read_text()
    reader = csv.reader(io.StringIO(text))
    next(reader)
    out, line = {}, 2
    for row in reader:
        out[line] = row[0]
        line = reader.line_num + 1
    return out


def _parents(groups):
    """Per group row, the sorted lines of its parent rows (one source)."""
    ids = stp.row_ids(groups)
    parents = REGISTRY.by_code(int(codes_of(ids[:1])[0])).parents
    return [
        sorted(lines_of(parents.ids[parents.indptr[i] : parents.indptr[i + 1]]).tolist())
        for i in range(len(groups))
    ]


def _check(path, categories, dropna):
    df = stp.read_csv(path, source_id="wards")
    df["ward"] = df["ward"].astype(pd.CategoricalDtype(categories))
    groups = stp.aggregate(df, by="ward", dropna=dropna, mean=("score", "mean"))
    keys = _lines_by_key(path)
    observed = [c for c in categories if c in keys.values()]
    missing = [] if dropna or "" not in keys.values() else [""]
    assert [str(w) for w in groups["ward"].tolist()] == observed + (["nan"] if missing else [])
    for i, key in enumerate(observed + missing):
        assert _parents(groups)[i] == sorted(k for k, v in keys.items() if v == key)
        rows = [k for k, v in keys.items() if v == key]
        assert groups["mean"].iloc[i] == pytest.approx(
            df.loc[df["ward"].isna() if key == "" else df["ward"] == key, "score"].mean()
        )
        assert len(rows) == int(
            df["ward"].isna().sum() if key == "" else (df["ward"] == key).sum()
        )


@pytest.mark.parametrize("dropna", [True, False])
@pytest.mark.parametrize(
    "categories",
    [["b", "zz", "a", "c"], ["c", "b", "a", "zz"], ["zz", "a", "b", "c"]],
    ids=["unobserved-mid", "unobserved-last", "unobserved-first"],
)
def test_groups_of_a_categorical_key_are_its_observed_rows(tmp_path, categories, dropna):
    wards = ["a", "b", None, "c", "a", "b", "b", None, "c", "a"]
    _check(_write(tmp_path / "w.csv", wards, range(10)), categories, dropna)


@settings(deadline=None, max_examples=20)
@given(
    wards=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=25),
    extra=st.lists(st.sampled_from(["u", "v", "w"]), unique=True, max_size=3),
    seed=st.integers(0, 2**16),
    dropna=st.booleans(),
)
@example(wards=["a", "c"], extra=["u"], seed=1, dropna=True)
def test_groups_match_the_raw_file(tmp_path_factory, wards, extra, seed, dropna):
    REGISTRY.clear()  # (a registry per example)
    present = sorted({w for w in wards if w is not None})
    if not present:
        return
    categories = list(np.random.default_rng(seed).permutation(present + extra))
    path = _write(tmp_path_factory.mktemp("w") / "w.csv", wards, range(len(wards)))
    _check(path, categories, dropna)
