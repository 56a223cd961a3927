"""Random chains of pandas operations between ``read_csv`` and a traced fit, against the bytes.

One to three generated CSV files (comment and blank lines, quoted keys, ``\\n`` or
``\\r\\n``) carry a ``key`` column unique over all files. A chain of operations a data
scientist writes (concatenations, ``stp.merge`` of every kind, plain ``DataFrame.merge``,
filters, sorting (stable or not, on ties), sampling, ``drop_duplicates(keep="last")``,
``explode``, negative ``iloc`` steps, whole rows replaced by ``where`` with the row before,
group statistics joined back, index round trips, reshaping, pickling...) builds the
training frame; every key column (``key`` and the suffixed keys that merges add) is
carried along, so a row's keys are the records it was built from.

The outcome must be one of: each training row's traced lines (``trace``, ``row_lineage``
and the stored run) are exactly the lines holding its keys in the raw file bytes (an
aggregate row, where one was joined, naming the group the row holds), a
:class:`~sktraceprop.exceptions.LineageError`, or an explicit anonymous source with a
:class:`~sktraceprop.exceptions.LineageWarning`. One exception: a row that holds its
own record beside columns joined from a frame whose ids were moved (a lag feature, for
the library, which sees only the values) may be traced to its own line where the run
names those columns as changed after loading or as in none of its sources. Anything
else (a wrong line, a key not named, an anonymous source without a warning, an internal
error) fails.
``STP_CHAINS=1000`` runs more chains (100 by default: about 15 s).
"""

import csv
import io
import os
import pickle
import re
import warnings
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning

_MAX_ROWS = 240


@st.composite
def _files(draw):
    files = []
    for s in range(draw(st.integers(1, 3))):
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        lines = ["key,g,k,a,b,y"]
        for i in range(draw(st.integers(3, 9))):
            for _ in range(draw(st.integers(0, 1))):
                lines.append(draw(st.sampled_from(["", "# a comment, with a comma"])))
            key = f"s{s}r{i}"
            key = f'"{key}"' if draw(st.booleans()) else key
            # values unique over the files, so a row's values never equal another row's
            a, b = 1000 * s + 10 * i + 0.125, -(1000 * s + 10 * i) - 0.375
            g, k = draw(st.sampled_from(["g0", "g1", "g2"])), draw(st.integers(0, 3))
            lines.append(f"{key},{g},{k},{a},{b},{i % 2}")
        files.append(newline.join(lines) + newline)
    return files


def _key_at(uri, line):
    """The key of the record starting at physical line ``line`` (1-based) of the file."""
    data = open(unquote(urlparse(uri).path), "rb").read()
    rest = b"".join(data.splitlines(keepends=True)[line - 1 :])
    return next(csv.reader(io.StringIO(rest.decode(), newline="")))[0]


def _keys(frame):
    return [c for c in frame.columns if str(c).startswith("key")]


def _copies_checked(traced, folder):
    """``traced`` with each row named by several paths (copies of one file: each
    example writes its files into a fresh folder, and a chain that loses the frame's
    mark of the path read, get_dummies say, cannot say which copy) named by the copy in
    ``folder``, after checking that every path named holds the same record at that line
    and that ``folder``'s copy is among them (the truth: the file this example read)."""
    if "uris" not in traced:
        assert traced["uri"].notna().all()
        return traced
    out = traced.copy()
    uri = out["uri"].astype(object)
    for k in np.flatnonzero(uri.isna().to_numpy()):
        paths, line = out["uris"].iloc[k], int(out["line"].iloc[k])
        assert len(paths) > 1 and len({_key_at(u, line) for u in paths}) == 1, paths
        (mine,) = [u for u in paths if Path(unquote(urlparse(u).path)).parent == folder.resolve()]
        uri.iloc[k] = mine
    out["uri"] = uri
    return out


def _groups(frame):
    """The group columns (``g``, merged and suffixed copies): what an aggregate row names."""
    return [c for c in frame.columns if re.fullmatch(r"g(_[mcjo]\d+)*", str(c))]


def _numeric(frame):
    return [
        c
        for c in frame.columns
        if not str(c).startswith(("key", "y")) and pd.api.types.is_numeric_dtype(frame[c])
    ]


class _Chain:
    """Draws and applies operations; ``log`` says what was done (hypothesis' note)."""

    def __init__(self, draw, frames):
        self.draw, self.pool, self.log, self.n = draw, list(frames), [], 0
        self.aggregates = {}  # aggregate row id -> its group key

    def pick(self):
        return self.draw(st.sampled_from(range(len(self.pool))))

    def step(self):
        self.n += 1
        ops = [m[3:] for m in dir(self) if m.startswith("op_")]
        name = self.draw(st.sampled_from(sorted(ops)))
        i = self.pick()
        out = getattr(self, "op_" + name)(self.pool[i])
        if out is None:
            return
        if len(out) > _MAX_ROWS:
            self.log.append(f"{name}(#{i}) skipped: {len(out)} rows")
            return
        self.log.append(f"#{len(self.pool)} = {name}(#{i}) -> {len(out)} rows")
        event(name)
        self.pool.append(out)

    def other(self):
        j = self.pick()
        self.log.append(f"   with #{j}")
        return self.pool[j]

    # one frame
    def op_mask(self, f):
        cols = _numeric(f)
        if not cols:
            return None
        c = self.draw(st.sampled_from(cols))
        return f[f[c] > f[c].median()] if self.draw(st.booleans()) else f.query(f"`{c}` < 500")

    def op_where_dropna_fillna(self, f):
        cols = _numeric(f)
        if not cols:
            return None
        c = self.draw(st.sampled_from(cols))
        g = f.assign(**{c: f[c].where(f[c] > f[c].median())})
        return g.dropna(subset=[c]) if self.draw(st.booleans()) else g.fillna({c: 0.0})

    def op_sort(self, f):
        cols = _numeric(f) + _keys(f)
        return f.sort_values(self.draw(st.sampled_from(cols)), kind="stable") if cols else None

    def op_drop_duplicates(self, f):
        return f.drop_duplicates(subset=["g"]) if "g" in f.columns else f.drop_duplicates()

    def op_sort_kinds(self, f):
        # an unstable sort, on a column of ties, either way: rows move with their ids
        cols = _numeric(f) + _keys(f) + _groups(f)
        if not cols:
            return None
        by = self.draw(st.sampled_from(cols))
        kind = self.draw(st.sampled_from(["quicksort", "heapsort", "mergesort"]))
        return f.sort_values(by, kind=kind, ascending=self.draw(st.booleans()))

    def op_drop_duplicates_last(self, f):
        subset = [c for c in ("g", "k") if c in f.columns]
        return f.drop_duplicates(subset=subset or None, keep="last")

    def op_explode(self, f):
        # each row repeated under its id, once per item of a list
        n = self.draw(st.integers(1, 2))
        return f.assign(_items=[list(range(n))] * len(f)).explode("_items").drop(columns="_items")

    def op_iloc_negative_step(self, f):
        return f.iloc[:: -self.draw(st.integers(1, 3))]

    def op_where_rows(self, f):
        # whole rows (keys too) replaced by the row before: such a row holds another
        # record under its own id
        if len(f) < 2 or not f.index.is_unique or "key" not in f.columns:
            return None
        keep = self.draw(st.lists(st.booleans(), min_size=len(f), max_size=len(f)))
        if all(keep):
            return None
        out = f.where(pd.Series(keep, index=f.index), f.shift(1))
        return out[out["key"].notna()]

    def op_sample(self, f):
        if not len(f):
            return None
        replace = self.draw(st.booleans())
        return f.sample(
            n=self.draw(st.integers(1, 12)) if replace else None,
            frac=None if replace else 0.7,
            replace=replace,
            random_state=self.draw(st.integers(0, 9)),
        )

    def op_head_tail(self, f):
        n = self.draw(st.integers(1, 8))
        return f.head(n) if self.draw(st.booleans()) else f.tail(n)

    def op_assign_apply(self, f):
        cols = _numeric(f)
        if not cols:
            return None
        c = self.draw(st.sampled_from(cols))
        if self.draw(st.booleans()):
            return f.assign(**{f"z{self.n}": f[c] * 2 + 1})
        if not len(f):
            return None
        return f.assign(**{f"z{self.n}": f.apply(lambda r: r[c] - 1, axis=1)})

    def op_rename_astype(self, f):
        cols = _numeric(f)
        if not cols:
            return None
        c = self.draw(st.sampled_from(cols))
        if self.draw(st.booleans()):
            return f.rename(columns={c: f"{c}_r{self.n}"})
        return f.astype({c: "float32"})

    def op_get_dummies(self, f):
        return pd.get_dummies(f, columns=["g"], dtype=float) if "g" in f.columns else None

    def op_groupby_transform(self, f):
        if "g" not in f.columns or not _numeric(f):
            return None
        c = self.draw(st.sampled_from(_numeric(f)))
        return f.assign(**{f"t{self.n}": f.groupby("g")[c].transform("mean")})

    def op_groupby_agg_join(self, f):
        if "g" not in f.columns or not _numeric(f):
            return None
        c = self.draw(st.sampled_from(_numeric(f)))
        stats = f.groupby("g")[c].agg(["mean", "count"]).add_suffix(f"_{self.n}")
        return f.join(stats, on="g")

    def op_index_round_trip(self, f):
        how = self.draw(st.sampled_from(["reset_set", "append_g", "drop_level"]))
        if how == "reset_set":
            if "stp_row_id" not in f.index.names:
                return None
            return f.reset_index().set_index("stp_row_id")
        if how == "append_g":
            return f.set_index("g", append=True) if "g" in f.columns else None
        if f.index.nlevels > 1 and "g" in f.index.names:
            return f.reset_index(level="g")
        return None

    def op_loc_iloc(self, f):
        if not len(f):
            return None
        positions = self.draw(st.lists(st.integers(0, len(f) - 1), min_size=1, max_size=8))
        how = self.draw(st.sampled_from(["iloc_list", "iloc_slice", "loc_list", "loc_slice"]))
        if how == "iloc_list":
            return f.iloc[positions]
        if how == "iloc_slice":
            return f.iloc[min(positions) : max(positions) + 1 : self.draw(st.integers(1, 2))]
        if f.index.nlevels > 1 or not f.index.is_unique:
            return None
        if how == "loc_list":
            return f.loc[f.index[positions]]
        return f.loc[f.index[min(positions)] : f.index[max(positions)]]

    def op_melt_pivot(self, f):
        cols = _numeric(f)
        if not cols or f.index.nlevels > 1 or not f.index.is_unique or not len(f):
            return None
        long = f[cols].melt(ignore_index=False)
        wide = long.pivot(columns="variable", values="value")[cols]
        return pd.concat([f.drop(columns=cols), wide], axis=1)

    def op_split_join(self, f):
        # train_test_split, then the kept part joined back to (or concatenated with) a frame
        from sklearn.model_selection import train_test_split

        if len(f) < 2:
            return None
        part, _ = train_test_split(f, test_size=0.4, random_state=self.draw(st.integers(0, 9)))
        if self.draw(st.booleans()) or not f.index.is_unique or f.index.nlevels > 1:
            return part
        held = _keys(f) + _groups(f)  # every record (and aggregated group) the rows hold
        return f[held].join(part[_numeric(part)].add_suffix(f"_j{self.n}"), how="inner")

    def op_lose_ids(self, f):
        # what pandas does to the ids; the fit must refuse (or warn and say anonymous)
        how = self.draw(st.sampled_from(["ignore_index", "reset_drop", "set_key", "values"]))
        if how == "ignore_index":  # (the key may be the index: set_key)
            keys = _keys(f)
            return f.sort_values(keys[0], ignore_index=True) if keys else f.reset_index()
        if how == "reset_drop":
            return f.reset_index(drop=True)
        if how == "set_key":
            return f.set_index("key") if "key" in f.columns else None
        return pd.DataFrame(f.to_numpy(), columns=f.columns).astype(f.dtypes.to_dict())

    def op_groupby_apply(self, f):
        if "g" not in f.columns:
            return None
        n = self.draw(st.integers(1, 3))
        if self.draw(st.booleans()):
            return f.groupby("g").head(n)
        return f.groupby("g", group_keys=True)[[c for c in f.columns if c != "g"]].apply(
            lambda d: d.iloc[::-1].head(n)
        )

    def op_reorder(self, f):
        how = self.draw(st.sampled_from(["reverse", "reindex", "nlargest", "category"]))
        if how == "reverse":
            return f.iloc[::-1]
        if how == "reindex":
            return f.reindex(f.index[::-1]) if f.index.is_unique else None
        if how == "category":
            return f.astype({"g": "category"}) if "g" in f.columns else None
        cols = _numeric(f)
        return f.nlargest(4, cols[0]) if cols else None

    def op_move_index(self, f):
        # ids moved off their rows: refused, never a wrong line (see _check)
        if len(f) < 2:
            return None
        order = self.draw(st.permutations(range(len(f))))
        if list(order) == list(range(len(f))):
            return None
        return f.set_axis(f.index[list(order)], axis=0)

    def op_copy_pickle(self, f):
        return pickle.loads(pickle.dumps(f)) if self.draw(st.booleans()) else f.copy()

    # two frames
    def op_concat_rows(self, f):
        return pd.concat([f, self.other()])

    def op_concat_columns(self, f):
        g = self.other()
        if not (f.index.is_unique and g.index.is_unique) or f.index.nlevels != g.index.nlevels:
            return None
        mine = _keys(g) + _groups(g) + _numeric(g)[:1]  # every record (and group) held
        return pd.concat([f, g[mine].add_suffix(f"_c{self.n}")], axis=1)

    def op_stp_merge(self, f):
        g = self.other()
        how = self.draw(st.sampled_from(["inner", "left", "right", "outer"]))
        on = self.draw(st.sampled_from(["k", "g"]))
        names = set(f.columns) | set(f.index.names)  # a key may be an index level
        if on not in names or on not in g.columns:
            return None
        extra = {}
        if self.draw(st.booleans()):  # many to one
            g = g.drop_duplicates(subset=[on])
            extra = {"validate": "many_to_one"}
        if self.draw(st.booleans()):
            extra["sort"] = True
        if self.draw(st.booleans()) and on in f.columns:  # keys of other names
            return stp.merge(
                f,
                g.rename(columns={on: f"other{self.n}"}),
                left_on=on,
                right_on=f"other{self.n}",
                how=how,
                suffixes=("", f"_m{self.n}"),
                **extra,
            )
        return stp.merge(f, g, on=on, how=how, suffixes=("", f"_m{self.n}"), **extra)

    def op_stp_aggregate_merge(self, f):
        g = self.other()
        cols = _numeric(g)
        if "g" not in f.columns or "g" not in g.columns or not cols:
            return None
        name = f"agg{self.n}"
        stats = stp.aggregate(g, by="g", **{name: (self.draw(st.sampled_from(cols)), "mean")})
        self.aggregates.update(zip(stp.row_ids(stats).tolist(), stats["g"]))
        how = self.draw(st.sampled_from(["inner", "left", "right", "outer"]))
        return stp.merge(f, stats, on="g", how=how, suffixes=("", f"_m{self.n}"))

    def op_join_concat_keys(self, f):
        g = self.other()
        if f.index.nlevels != g.index.nlevels:  # (pandas refuses both: a test's own error)
            return None
        if self.draw(st.booleans()):
            return pd.concat({"one": f, "two": g}).droplevel(0)
        how = self.draw(st.sampled_from(["inner", "outer", "left"]))
        right = g[_keys(g) + _groups(g) + _numeric(g)[:1]]
        if self.draw(st.booleans()):
            return f.join(right.add_suffix(f"_o{self.n}"), how=how)
        return f.merge(
            right, left_index=True, right_index=True, how=how, suffixes=("", f"_o{self.n}")
        )

    def op_pandas_merge(self, f):
        g = self.other()
        if "k" not in f.columns or "k" not in g.columns:
            return None
        if self.draw(st.booleans()):
            stats = g.groupby("k")[_numeric(g)].mean().add_suffix(f"_p{self.n}")
            return f.merge(stats.reset_index(), on="k", how="left")
        return f.merge(g, on="k", suffixes=("", f"_p{self.n}"))


def _check(X, traced, aggregates, keys_too=True):
    """Each training row's traced leaves against its keys (and its groups)."""
    keys, groups = _keys(X), _groups(X)
    for i, rows in traced.groupby("train_index"):
        row = X.iloc[i]
        # a set: a row may hold one record twice (a frame concatenated with its own columns)
        want = {str(row[c]) for c in keys if pd.notna(row[c])}
        files = rows[rows["uri"].str.startswith("file:")]
        got = {_key_at(u, n) for u, n in zip(files["uri"], files["line"])}
        assert got == want or not keys_too, (i, got, want)
        # the group a joined aggregate row summarises: a g column, or a dummy of g set
        held = {row[c] for c in groups} | {
            m.group(1) for c in X.columns if (m := re.match(r"g_(g\d)", str(c))) and row[c] == 1
        }
        for row_id in rows.loc[rows["uri"].str.startswith("aggregate:"), "row_id"]:
            assert aggregates[int(row_id)] in held, (i, row_id, held)
        assert len(files) + (rows["uri"].str.startswith("aggregate:")).sum() == len(rows)


def _records(files):
    """Key -> the record's values, read back from the raw file text."""
    out = {}
    for text in files:
        frame = pd.read_csv(io.StringIO(text), comment="#", skip_blank_lines=True)
        out.update({str(r["key"]): r for r in frame.to_dict("records")})
    return out


def _unsourced(run):
    """The input columns the run's note names as in none of its sources, of those whose
    features all name no source (``feature_sources``): lineage said to be unknown."""
    named = set()
    for n in run.notes:
        if m := re.match(r"input column\(s\) (.+?) are in none of the sources", n):
            named.update(m.group(1).split(", "))
    sources = run.feature_sources()
    return {
        c
        for c in named
        if not any(sources[f] for f, cols in run.feature_lineage.items() if c in (cols or ()))
    }


def _moved_column_noted(X, traced, records, run):
    """Whether each key a row holds that its traced lines miss came with numeric columns
    that hold a traced record's value, that a note names as changed after loading, or
    that the run names as in none of its sources (too few distinct values to be
    identified as a loaded column, so compared with none)."""
    changed = " ".join(n for n in run.notes if "differ from what was loaded" in n)
    unsourced = _unsourced(run)
    for i, rows in traced.groupby("train_index"):
        row = X.iloc[i]
        files = rows[rows["uri"].str.startswith("file:")]
        got = {_key_at(u, n) for u, n in zip(files["uri"], files["line"])}
        for c in _keys(X):
            if pd.isna(row[c]) or str(row[c]) in got:
                continue
            suffix = str(c)[len("key") :]
            if not suffix:  # the row's own key: a wrong line
                return False
            for d in _numeric(X):
                if not str(d).endswith(suffix) or pd.isna(row[d]):
                    continue
                base = str(d).split("_")[0]
                held = any(records[g].get(base) == row[d] for g in got if g in records)
                if not held and f"{d} (" not in changed and str(d) not in unsourced:
                    return False
    return True


@settings(
    max_examples=int(os.environ.get("STP_CHAINS", 100)),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(files=_files(), data=st.data())
def test_chains_of_pandas_operations_name_the_right_lines(tmp_path_factory, files, data):
    tmp_path = tmp_path_factory.mktemp("chains")
    frames = []
    for s, text in enumerate(files):
        path = tmp_path / f"chain_{s}.csv"
        path.write_bytes(text.encode())
        frames.append(stp.read_csv(path, source_id=f"chain_{s}", comment="#"))
    chain = _Chain(data.draw, frames)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for _ in range(data.draw(st.integers(1, 6))):
                chain.step()
            final = chain.pool[-1]
            if final.index.nlevels > 1 and "g" in final.index.names:
                final = final.reset_index(level="g")
            event(f"index levels {final.index.names}")
            X = final[_numeric(final)]
            y = final["y"].fillna(0.0).astype(float) if "y" in final.columns else None
            if y is None or X.shape[1] == 0 or len(X) < 2:
                return
            if data.draw(st.booleans(), label="column transformer"):
                half = list(X.columns[: max(1, X.shape[1] // 2)])
                pre = stp.make_traced_column_transformer(
                    (SimpleImputer(), half), remainder=SimpleImputer()
                )
                pipe = stp.make_traced_pipeline(pre, StandardScaler(), Ridge())
            else:
                pipe = stp.make_traced_pipeline(SimpleImputer(), StandardScaler(), Ridge())
            pipe.fit(X, y)
        except LineageError as e:
            note(f"refused: {e}")
            event(f"refused: {type(e).__name__}: {str(e)[:60]}")
            assert len(str(e)) > 60, e  # says what happened, not a bare key
            return
        finally:
            for line in chain.log:
                note(line)
    warned = any(
        issubclass(w.category, LineageWarning) and "anonymous source" in str(w.message)
        for w in caught
    )
    run = pipe.lineage_
    as_traced = pipe.trace(np.arange(len(X)))
    traced = _copies_checked(as_traced, tmp_path)
    anonymous = ~traced["uri"].str.startswith(("file:", "aggregate:"))
    event("fitted")
    if anonymous.any():
        # lineage lost: said so, and nothing else named
        assert warned and anonymous.all(), traced[anonymous].head()
        assert traced["source_id"].astype(str).str.startswith("anonymous").all()
        return
    assert traced["train_index"].unique().tolist() == list(range(len(X)))
    # ids moved, then the moved rows' columns renamed (a join with add_suffix): the
    # renamed columns are identified by their values and compared (refused above)
    try:
        _check(final, traced, chain.aggregates)
    except AssertionError:
        # a row holding its own record beside a column joined from a frame whose ids
        # were moved (a lag feature, for the library): right where that column holds
        # the traced record's value, else named by the notes of changed columns, or,
        # where its values identify no loaded column (a 0/1 column), by the note of
        # columns in none of the sources, its features naming no source
        if not _moved_column_noted(final, traced, _records(files), run):
            raise
        _check(final, traced, chain.aggregates, keys_too=False)  # the groups still right
        event("a column of moved rows beside a row's own record: noted changed or unsourced")
        return
    assert np.array_equal(run.row_ids, stp.row_ids(X))
    frame = stp.row_lineage(X).rename(columns={"row": "train_index"})
    _check(final, _copies_checked(frame, tmp_path), chain.aggregates)
    # rows per file: each training row counted once for each file its keys come from
    counts = run.source_counts()
    for s in range(len(files)):
        holding = sum(
            any(str(row[c]).startswith(f"s{s}r") for c in _keys(final) if pd.notna(row[c]))
            for _, row in final.iterrows()
        )
        assert counts.get(f"chain_{s}", 0) == holding, (s, counts)
    stored = stp.stores.MemoryStore()
    stored.save_run(run)
    pd.testing.assert_frame_equal(
        stored.load_run(run.run_id).trace(np.arange(len(X)), store=pipe.store), as_traced
    )


def test_a_binary_column_of_moved_rows_beside_the_rows_own_records_has_no_source(tmp_path):
    # the chain hypothesis found: train_test_split of s0 joined back, its ids permuted
    # (two swapped), its key and k columns concatenated beside s0. Row 4 holds s0r4's
    # record and, in k_j1_c4, s0r5's k (1). The 0/1 values of k_j1_c4 identify no loaded
    # column (k or y), so nothing compares it: the run must say it has no known source
    text = "key,g,k,a,b,y\n" + "".join(
        f"s0r{i},g0,{int(i == 5)},{10 * i + 0.125},{-(10 * i) - 0.375},{i % 2}\n" for i in range(7)
    )
    path = tmp_path / "chain_0.csv"
    path.write_text(text)
    f = stp.read_csv(path, source_id="chain_0", comment="#")
    from sklearn.model_selection import train_test_split

    part, _ = train_test_split(f, test_size=0.4, random_state=0)
    joined = f[["key", "g"]].join(part[["k", "a", "b"]].add_suffix("_j1"), how="inner")
    moved = joined.set_axis(joined.index[[0, 1, 3, 2]], axis=0)
    final = pd.concat([f, moved[["key", "g", "k_j1"]].add_suffix("_c4")], axis=1)
    assert final["key_c4"].iloc[4] == "s0r5" and final["k_j1_c4"].iloc[4] == 1
    X = final[["k", "a", "b", "k_j1_c4"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(SimpleImputer(), StandardScaler(), Ridge())
        pipe.fit(X, final["y"].astype(float))
    run = pipe.lineage_
    traced = pipe.trace(np.arange(len(X)))
    # every row traced to the line of its own record (k, a, b are its own values)
    assert [_key_at(u, n) for u, n in zip(traced["uri"], traced["line"])] == list(final["key"])
    assert _unsourced(run) == {"k_j1_c4"}
    assert run.feature_sources()["k_j1_c4"] == [] and "k_j1_c4" not in run.renamed_columns
    (said,) = [n for n in run.notes if "are in none of the sources" in n]
    assert said.startswith("input column(s) k_j1_c4 ") and "data of other rows" in said
    assert _moved_column_noted(final, traced, _records([text]), run)
    assert not any("differ from what was loaded" in n for n in run.notes)
