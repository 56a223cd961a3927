"""Traced reads, merges, fits, searches and logged predictions run at once in threads.

Services fit one model per hospital in a thread pool, run searches under joblib's
threading backend, and predict from a web server's worker threads, all in one process
that keeps the sources, witness rows and search ids process-wide. Each thread here has
its own file of distinct values; the truth is the raw bytes of that file (every row a
run names must be on the line holding its values, in that thread's file), the splitter's
own splits, and the calls made (one prediction event per call, with that call's input).
``sys.setswitchinterval(1e-6)`` switches threads every few bytecodes, to make a race
likely.
"""

import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of
from sktraceprop.compliance import hash_rows
from sktraceprop.stores._prediction_salts import input_was


def _write(path, k, n):
    """Rows keyed ``k * 100000 + i``, blank lines here and there (lines != rows)."""
    rng = np.random.default_rng(k)
    lines = ["key,b,label"]
    for i in range(n):
        if rng.random() < 0.25:
            lines.append("")
        lines.append(f"{k * 100000 + i},{rng.normal():.6f},{i % 2}")
    path.write_text("\n".join(lines) + "\n")


def _pipe(store, **kw):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store, **kw)


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_fits_in_threads_name_their_own_file_and_lines(tmp_path, fast_switching, store_kind):
    store = (
        stp.stores.MemoryStore()
        if store_kind == "memory"
        else stp.stores.SQLiteStore(tmp_path / "s.db")
    )

    def hospital(k):
        path = tmp_path / f"h{k}.csv"
        _write(path, k, 30 + k)
        df = stp.read_csv(path, source_id=f"h{k}")
        other = stp.read_csv(path, source_id=f"h{k}", usecols=["key", "label"])  # a 2nd read
        m = stp.merge(df, other.rename(columns={"label": "l2"}), on="key", source_id=f"m{k}")
        X, y = m[["key", "b"]], m["label"]
        pipe = _pipe(store).fit(X, y)
        return k, path, X, pipe

    with ThreadPoolExecutor(6) as ex:
        done = list(ex.map(hospital, range(8)))
    for k, path, X, pipe in done:
        raw = path.read_text().split("\n")
        run = store.load_run(pipe.lineage_.run_id)
        assert sorted(run.sources[c].source_id for c in run.sources) == [f"h{k}", f"m{k}"]
        files = pipe.trace(list(range(len(X))))
        assert set(files["source_id"]) == {f"h{k}"} and set(files["via"]) == {f"m{k}"}
        # every row traced to its own line of its own file, once per parent
        assert len(files) == 2 * len(X)
        for r in files.itertuples():
            assert r.uri.endswith(f"/h{k}.csv")
            assert raw[r.line - 1].startswith(f"{X['key'].iloc[r.train_index]},")
    assert store.verify()


def test_searches_in_threads_keep_their_own_runs(tmp_path, fast_switching):
    store = stp.stores.MemoryStore()

    def search(k):
        path = tmp_path / f"s{k}.csv"
        _write(path, k, 30)
        df = stp.read_csv(path, source_id=f"s{k}")
        X, y = df[["key", "b"]], df["label"]
        cv = KFold(3, shuffle=True, random_state=k)
        s = GridSearchCV(_pipe(store), {"logisticregression__C": [0.1, 1.0]}, cv=cv, n_jobs=2)
        with parallel_backend("threading"):
            s.fit(X, y)
        return s, X, list(cv.split(X, y))

    with ThreadPoolExecutor(4) as ex:
        done = list(ex.map(search, range(4)))
    ids_seen = set()
    for s, X, splits in done:
        runs = stp.search_runs(s, store)
        sid = runs.attrs["search_id"]
        assert sid not in ids_seen
        ids_seen.add(sid)
        named = runs.to_numpy().ravel().tolist()
        mine = store.list_runs(search_id=sid, search_role="cv_fold")["run_id"]
        assert sorted(named) == sorted(mine)
        for i, params in enumerate(s.cv_results_["params"]):
            for j, (train, _) in enumerate(splits):
                run = store.load_run(runs.iloc[i, j])
                np.testing.assert_array_equal(run.row_ids, X.index.to_numpy()[train])
                assert run.ops[-1].params["C"] == params["logisticregression__C"]
        assert s.best_estimator_.lineage_.selection["search_id"] == sid
    assert store.verify()


def test_predictions_from_threads_are_each_logged_once(tmp_path, fast_switching):
    store = stp.stores.SQLiteStore(tmp_path / "p.db")
    reference = stp.stores.MemoryStore()
    path = tmp_path / "p.csv"
    _write(path, 1, 40)
    df = stp.read_csv(path, source_id="p")
    X, y = df[["key", "b"]], df["label"]
    served = _pipe(store, log_predictions=True).fit(X, y)
    alone = _pipe(reference, log_predictions=True).fit(X, y)

    def ask(model, i):
        rows = pd.DataFrame({"key": [float(i)], "b": [float(-i)]})
        return [model.predict, model.predict_proba, model.decision_function][i % 3](rows)

    n = 150
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: ask(served, i), range(n)))
    for i in range(n):
        ask(alone, i)

    asked = [hash_rows(pd.DataFrame({"key": [float(i)], "b": [float(-i)]})) for i in range(n)]

    def logged(s):
        # each call's input: the one asked digest its salted commitment matches
        return sorted(
            (
                [d for d in asked if input_was(s, e, d)],
                e["payload"]["method"],
                e["payload"]["outputs"]["sha256"],
            )
            for e in s.events(kind="prediction")
        )

    assert logged(store) == logged(reference)  # each call once, with its input and output
    assert len(logged(store)) == n
    assert store.verify()


def test_one_source_id_read_in_threads_keeps_each_version_apart(tmp_path, fast_switching):
    # four versions of one source_id (a notebook's edited file), each read whole, in
    # chunks and with usecols, from several threads at once
    paths = []
    for v in range(4):
        lines = [f"{v * 1000 + i},{i}\n" + ("\n" if i % 3 == v % 3 else "") for i in range(40)]
        paths.append(tmp_path / f"v{v}.csv")
        paths[-1].write_text("a,b\n" + "".join(lines))

    def read(i):
        v = i % 4
        kw = {} if i % 3 else {"usecols": ["a"]}
        if i % 5 == 0:
            df = pd.concat(list(stp.read_csv(paths[v], source_id="same", chunksize=7, **kw)))
        else:
            df = stp.read_csv(paths[v], source_id="same", **kw)
        return v, df

    with ThreadPoolExecutor(8) as ex:
        done = list(ex.map(read, range(32)))
    codes = {}
    for v, df in done:
        raw = paths[v].read_text().split("\n")
        lineage = stp.row_lineage(df)
        assert lineage["uri"].str.endswith(f"/v{v}.csv").all()
        for a, line in zip(df["a"], lineage["line"]):
            assert raw[line - 1].startswith(f"{a},")
        codes.setdefault(v, set()).update(codes_of(stp.row_ids(df)).tolist())
    # one code per version, four versions, four codes
    assert all(len(c) == 1 for c in codes.values())
    assert len(set().union(*codes.values())) == 4


def test_untraced_data_in_threads_names_a_row_of_its_own_file(tmp_path, fast_switching):
    # ids dropped (to_numpy) in every thread while the others read files: the warning
    # must name a line of the thread's own file holding the row it names
    frames = {}

    def fit(k):
        rng = np.random.default_rng(k)
        values = rng.normal(size=(40, 3)).round(6) + [100 * k, -100 * k, 0]
        pd.DataFrame(values, columns=["a", "b", "c"]).assign(y=np.arange(40) % 2).to_csv(
            tmp_path / f"u{k}.csv", index=False
        )
        df = stp.read_csv(tmp_path / f"u{k}.csv", source_id=f"u{k}")
        X = pd.DataFrame(df[["a", "b", "c"]].to_numpy(), columns=[f"z{k}_{j}" for j in range(3)])
        frames[k] = X
        _pipe(None).fit(X, df["y"].to_numpy())

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(6) as ex:
            list(ex.map(fit, range(6)))
    pattern = re.compile(r"row (\d+) of X holds .* loaded for u(\d+) line (\d+):")
    named = [pattern.search(str(w.message)) for w in got]
    named = [tuple(int(g) for g in m.groups()) for m in named if m is not None]
    assert sorted(k for _, k, _ in named) == list(range(6))  # one per fit
    for position, k, line in named:
        raw = (tmp_path / f"u{k}.csv").read_text().split("\n")[line - 1].split(",")
        np.testing.assert_allclose(np.float64(raw[:3]), frames[k].iloc[position].to_numpy())
