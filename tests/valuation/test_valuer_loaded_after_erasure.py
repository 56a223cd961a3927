"""A valuer pickled before an erasure says so at every accessor once loaded.

A KNNShapleyValuer of this process drops the rows an erasure request names; one pickled
before the request and loaded after (in this process, or in another that opens the
store) kept them and handed out ``values_``, ``value()``, ``score()`` and its tables,
numbers computed from the erased rows' features and labels, with no word. Each public
accessor of what it holds of its fit (enumerated with ``dir``, so that a new one
cannot escape) now warns (ErasedRowsHeldWarning) naming the request; where the store
of its traced transformer cannot be read, that whether rows were erased is not known
(ErasuresUnknownWarning). The truth: the store's erasure record (its ``store.erasure``
events) and the rows' keys in the file.
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from sktraceprop.exceptions import ErasedRowsHeldWarning, ErasuresUnknownWarning
from sktraceprop.stores import SQLiteStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_ROOT = Path(__file__).resolve().parents[2]
#: Public names that hold nothing of the rows (the input's description, the record of a
#: removal) or are not reads (fitting, parameters, routing); the constructor's
#: parameters besides.
_READABLE = {
    "fit",
    "get_params",
    "set_params",
    "get_metadata_routing",
    "set_fit_request",
    "n_features_in_",
    "feature_names_in_",
    "task_",
    "n_samples_fit_",
    "removed_row_ids_",
}
_CATEGORIES = (ErasedRowsHeldWarning, ErasuresUnknownWarning)


def _data(folder, n=24):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(5)
    lines = ["key,a,b,label"] + [
        f"{1000 + i},{a:.6f},{b:.6f},{i % 2}" for i, (a, b) in enumerate(rng.normal(size=(n, 2)))
    ]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    return stp.read_csv(folder / "rows.csv", source_id="valued_rows")


def _validation(df):
    return df[["a", "b"]].iloc[:6], df["label"].iloc[:6]


def _read_all(valuer, X, y):
    """``{name: {"said": [[category, message]]}}`` of every public name of ``valuer``
    (``value`` and ``score`` called on ``X``, ``y``; the tables with no arguments), and
    the values it hands out; JSON, so that another process can return it."""
    calls = {
        "value": lambda f: f(X, y),
        "score": lambda f: f(X, y),
        "by_source": lambda f: f(),
        "by_op": lambda f: f(),
    }
    out = {}
    for name in dir(valuer):
        if name.startswith("_"):
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = getattr(valuer, name)
            except AttributeError:  # (not set: the tie count of a score never asked)
                continue
            if name in calls:
                value = calls[name](value)
        out[name] = {
            "said": [
                [w.category.__name__, str(w.message)]
                for w in caught
                if issubclass(w.category, _CATEGORIES)
            ]
        }
        if name in ("values_", "value"):
            out[name]["values"] = np.asarray(value).tolist()
    return out


def _loaded(blob, where, tmp_path, df):
    """:func:`_read_all` of the valuer pickled in ``blob``, loaded in this process or in
    a new one."""
    X, y = _validation(df)
    if where == "here":
        return _read_all(pickle.loads(blob), X, y)
    (tmp_path / "valuer.pkl").write_bytes(blob)
    code = (
        "import json, pickle, sys\n"
        "import sktraceprop as stp\n"
        "from tests.valuation.test_valuer_loaded_after_erasure import _read_all, _validation\n"
        "df = stp.read_csv(sys.argv[2], source_id='valued_rows')\n"
        "X, y = _validation(df)\n"
        "valuer = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(json.dumps(_read_all(valuer, X, y)))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(tmp_path / "valuer.pkl"),
            str(tmp_path / "data" / "rows.csv"),
        ],
        cwd=_ROOT,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _accessors_said(read, valuer):
    names = set(read) - _READABLE - set(valuer.get_params(deep=False))
    # (the enumeration finds what a user reads: a new accessor joins it)
    assert {"values_", "row_ids_", "value", "score", "by_source", "by_op"} <= names
    return {name: read[name]["said"] for name in names}


def _erase(store, df, keys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (it names the valuer of this process)
        store.erase_rows(sample_id=stp.row_ids(df[df["key"].isin(keys)]), reason="art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    return event


def _traced_valuer(store, df):
    pre = stp.make_traced_pipeline(StandardScaler(), store=store).fit(df[["a", "b"]])
    valuer = KNNShapleyValuer(n_neighbors=3, transformer=pre).fit(df[["a", "b"]], df["label"])
    valuer.value(*_validation(df))
    return valuer


@pytest.mark.parametrize("where", ["here", "new process"])
def test_every_accessor_of_a_valuer_loaded_after_an_erasure_says_so(tmp_path, where):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path / "data")
    valuer = _traced_valuer(store, df)
    before = _read_all(valuer, *_validation(df))
    assert all(not said for said in _accessors_said(before, valuer).values())  # none erased
    keys = {1002, 1009, 1017}
    blob = pickle.dumps(valuer)
    event = _erase(store, df, keys)
    # the valuer of this process dropped them: its accessors say nothing
    assert valuer.row_ids_.size == len(df) - len(keys)
    valuer.value(*_validation(df))  # (its values_ went with the rows)
    live = _read_all(valuer, *_validation(df))
    assert all(not said for said in _accessors_said(live, valuer).values())

    read = _loaded(blob, where, tmp_path, df)
    # the truth: the keys in the file of the rows the loaded valuer holds
    truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    assert truth == len(keys)
    for name, said in _accessors_said(read, valuer).items():
        assert len(said) == 1, (name, said)
        category, message = said[0]
        assert category == "ErasedRowsHeldWarning", (name, message)
        assert message.startswith(f"KNNShapleyValuer.{name}: "), (name, message)
        assert f"{truth} of the {len(df)} training row(s) valued" in message, message
        assert f"seq {event['seq']}" in message, message
        assert "Fit it again on the rows kept" in message
    for name in _READABLE & set(read):
        assert read[name]["said"] == [], name
    # handed out as they were (said, not changed)
    assert read["values_"]["values"] == before["values_"]["values"]
    assert read["value"]["values"] == before["value"]["values"]


def test_a_valuer_without_a_store_names_the_request_made_in_this_process(tmp_path):
    store = SQLiteStore(tmp_path / "audit.db")  # (the valuer knows no store)
    df = _data(tmp_path / "data")
    valuer = KNNShapleyValuer(n_neighbors=3).fit(df[["a", "b"]], df["label"])
    stp.make_traced_pipeline(StandardScaler(), store=store).fit(df[["a", "b"]])  # (its run)
    valuer.value(*_validation(df))
    blob = pickle.dumps(valuer)
    keys = {1000, 1023}
    event = _erase(store, df, keys)
    loaded = pickle.loads(blob)
    read = _read_all(loaded, *_validation(df))
    for name, said in _accessors_said(read, loaded).items():
        assert len(said) == 1, (name, said)
        category, message = said[0]
        assert category == "ErasedRowsHeldWarning", (name, message)
        assert f"{len(keys)} of the {len(df)} training row(s) valued" in message
        assert f"erasure event {event['seq']} in {store!r} at " in message, message


@pytest.mark.parametrize("how", ["moved", "replaced"])
@pytest.mark.parametrize("where", ["here", "new process"])
def test_a_valuer_whose_store_cannot_be_read_says_erasures_are_not_known(tmp_path, where, how):
    store = SQLiteStore(tmp_path / "audit.db")
    df = _data(tmp_path / "data")
    valuer = _traced_valuer(store, df)
    blob = pickle.dumps(valuer)
    if where == "new process":
        # erased, then the store moved: a check that claimed "no erasures" would be wrong
        _erase(store, df, {1001, 1004})
    moved = tmp_path / "elsewhere.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{tmp_path / 'audit.db'}{suffix}").exists():
            shutil.move(f"{tmp_path / 'audit.db'}{suffix}", f"{moved}{suffix}")
    if how == "replaced":  # another, empty, store made at its path: it records nothing
        SQLiteStore(tmp_path / "audit.db")

    read = _loaded(blob, where, tmp_path, df)
    for name, said in _accessors_said(read, valuer).items():
        assert len(said) == 1, (name, said)
        category, message = said[0]
        assert category == "ErasuresUnknownWarning", (name, message)
        assert f"SQLiteStore('{tmp_path / 'audit.db'}'), cannot be read" in message, message
        assert "is not known here" in message
