"""Row lineage through the pandas operations between ``read_csv`` and ``fit``, against the bytes.

Random chains of operations that keep each row's values (masks, sorts with ties,
samples, ``drop_duplicates``, ``groupby`` filters and samples, ``query``, slices,
``stack``/``unstack``, ``melt(ignore_index=False)``, ``explode``, concatenations with
keys or repeated rows, index levels appended and swapped, categories) over several CSV
files (a preamble skipped, comment lines, quoted fields holding commas). Every row's
lineage must name the line whose record, read from the raw file with ``csv``, holds the
row's values, and a traced fit must record those lines without a warning. Operations
that drop the ids (``ignore_index``, an aggregate's group index, ``set_index``) must be
refused, never traced to some line.
"""

import csv
import io
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning

HEADER = ["key", "g", "q", "a", "b", "n", "y"]
_READS = itertools.count()  # (a source id per read: equal bytes in two examples are no copy)


def _write(folder, n_files, n_rows, seed):
    rng = np.random.default_rng(seed)
    paths = []
    for s in range(n_files):
        lines = ["a preamble line", ",".join(HEADER)]
        for i in range(n_rows):
            if rng.random() < 0.15:
                lines.append("# a comment, with a comma")
            q = f'"text, {i}"' if i % 2 else f"plain{i}"
            g, n = f"g{rng.integers(3)}", int(rng.integers(4))
            a, b = 1000 * s + 10 * i + 0.125, -(1000 * s + 10 * i) - 0.375
            lines.append(f"s{seed}f{s}r{i},{g},{q},{a},{b},{n},{i % 2}")
        path = folder / f"f{seed}_{s}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _records(paths):
    """``(file name, physical line)`` -> record, from the bytes with ``csv``."""
    out = {}
    for path in paths:
        for line, raw in enumerate(path.read_bytes().decode().split("\n"), start=1):
            row = next(csv.reader(io.StringIO(raw)), None)
            if line > 2 and row and not row[0].startswith("#"):
                out[path.name, line] = dict(zip(HEADER, row))
    return out


def _same(value, raw):
    if isinstance(value, float | np.floating):
        return float(raw) == value
    return str(value) == raw


def _check(frame, records):
    """Each row's loaded values are those of the record its lineage names."""
    lineage = stp.row_lineage(frame)
    assert len(lineage) == len(frame)
    flat = frame if isinstance(frame, pd.DataFrame) else frame.to_frame("value")
    for pos, (uri, line) in enumerate(zip(lineage["uri"], lineage["line"])):
        record = records[uri.rsplit("/", 1)[1], int(line)]
        row = flat.iloc[pos]
        for column in flat.columns:
            if column in HEADER:
                assert _same(row[column], record[column]), (pos, column, line)
            elif column == "value":  # (stack, melt: the value of the variable named)
                level = flat.index.get_level_values(-1)[pos] if "variable" not in flat else None
                variable = row["variable"] if "variable" in flat else level
                assert _same(row["value"], record[variable]), (pos, variable, line)
            elif column == "item":  # (explode: one element of the row's own list)
                assert row["item"] in (record["key"], record["g"]), (pos, line)


OPS = {
    "mask": lambda d, r: d[d["n"] != r.integers(4)],
    "sort_ties": lambda d, r: d.sort_values(["n", "g"][: r.integers(1, 3)], kind="quicksort"),
    "sort_index": lambda d, r: d.sort_index(ascending=bool(r.integers(2))),
    "sample": lambda d, r: d.sample(frac=0.7, random_state=int(r.integers(99))),
    "sample_replace": lambda d, r: d.sample(frac=1.2, replace=True, random_state=1),
    "drop_duplicates": lambda d, r: d.drop_duplicates(
        ["g", "n"], keep=["first", "last", False][r.integers(3)]
    ),
    "groupby_head": lambda d, r: d.groupby("g").head(int(r.integers(1, 4))),
    "groupby_filter": lambda d, r: d.groupby("g").filter(lambda x: len(x) > 2),
    "groupby_nth": lambda d, r: d.groupby("g").nth(int(r.integers(0, 3))),
    "groupby_sample": lambda d, r: d.groupby("n").sample(frac=0.5, random_state=2),
    "groupby_apply": lambda d, r: d.groupby("g", group_keys=False)[HEADER].apply(
        lambda x: x.sort_values("a").tail(2)
    ),
    "query": lambda d, r: d.query("a > @d.a.median() or n == 1"),
    "iloc_slice": lambda d, r: d.iloc[int(r.integers(3)) :: int(r.integers(1, 4))],
    "loc_id_slice": lambda d, r: (
        d.loc[d.index[1] : d.index[-2]]
        if len(d) > 2 and d.index.is_unique and d.index.nlevels == 1
        else d.iloc[1:-1]  # (pandas 2 slices no repeated or unsorted MultiIndex labels)
    ),
    "stack_unstack": lambda d, r: d[["a", "b", "y"]].stack().unstack(),
    "concat_keys": lambda d, r: pd.concat({"u": d, "v": d.iloc[::2]}),
    "concat_repeat": lambda d, r: pd.concat([d, d.iloc[:3]]),
    "append_level": lambda d, r: d.assign(lev=d["g"]).set_index("lev", append=True),
    "swap_levels": lambda d, r: d.assign(lev=d["n"]).set_index("lev", append=True).swaplevel(),
    "category": lambda d, r: d.astype({"g": "category"}),
    "reset_set": lambda d, r: d.reset_index().set_index("stp_row_id"),
    "eval_new": lambda d, r: d.eval("c = a + b"),
}


@st.composite
def _chains(draw):
    return draw(st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=3))


@settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_files=st.integers(1, 3),
    n_rows=st.integers(4, 25),
    seed=st.integers(0, 2**20),
    chain=_chains(),
)
@example(n_files=2, n_rows=10, seed=0, chain=["drop_duplicates", "concat_keys", "swap_levels"])
@example(n_files=3, n_rows=12, seed=1, chain=["stack_unstack", "groupby_apply", "sample_replace"])
def test_operations_keeping_rows_name_the_line_holding_each_row(
    tmp_path_factory, n_files, n_rows, seed, chain
):
    paths = _write(tmp_path_factory.mktemp("ops"), n_files, n_rows, seed)
    records = _records(paths)
    rng = np.random.default_rng(seed)
    df = pd.concat(
        [stp.read_csv(p, f"{p.stem}_{next(_READS)}", skiprows=1, comment="#") for p in paths]
    )
    for name in chain:
        if len(df) == 0 or "g" not in df.columns:
            break
        df = OPS[name](df, rng)
    _check(df, records)
    if len(df) < 2 or not {"a", "b", "y"} <= set(df.columns):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        pipe = stp.make_traced_pipeline(Ridge()).fit(df[["a", "b"]], df["y"])
    rows = pipe.lineage_.rows()
    for pos, (uri, line) in enumerate(zip(rows["uri"], rows["line"])):
        assert _same(df["a"].iloc[pos], records[uri.rsplit("/", 1)[1], int(line)]["a"])


def test_reshaped_rows_keep_the_line_of_each_value(tmp_path):
    paths = _write(tmp_path, 2, 8, 7)
    records = _records(paths)
    df = pd.concat([stp.read_csv(p, skiprows=1, comment="#") for p in paths])
    _check(df[["a", "b"]].stack().rename("value"), records)
    _check(df.melt(id_vars=["key"], value_vars=["a", "b"], ignore_index=False), records)
    lists = df.assign(item=[[k, g] for k, g in zip(df["key"], df["g"])])
    _check(lists.explode("item"), records)


@pytest.mark.parametrize(
    "lose",
    [
        lambda d: pd.concat([d, d], ignore_index=True),
        lambda d: d.groupby("g")[["a", "b"]].mean(),
        lambda d: d.groupby("g", as_index=False)[["a", "b"]].mean(),
        lambda d: d.groupby("g").first(),
        lambda d: d.pivot_table(index="key", columns="g", values="a"),
        lambda d: d.melt(id_vars=["key"], value_vars=["a", "b"]),
        lambda d: d.set_index("key"),
        lambda d: d.reset_index(drop=True),
        lambda d: d.sort_values("a", ignore_index=True),
    ],
    ids=[
        "ignore_index",
        "agg",
        "agg-as_index",
        "first",
        "pivot_table",
        "melt",
        "set_index",
        "reset-drop",
        "sort-ignore",
    ],
)
def test_operations_dropping_the_ids_are_refused(tmp_path, lose):
    paths = _write(tmp_path, 2, 8, 3)
    df = pd.concat([stp.read_csv(p, skiprows=1, comment="#") for p in paths])
    with pytest.raises(LineageError, match="row ids"):
        stp.row_lineage(lose(df))
