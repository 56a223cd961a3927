"""An explanation pickled before an erasure says so at every accessor once loaded.

An explanation pickled before an erasure request, loaded after it (in this process or
another that opens the same store), cannot know that the erasure dropped its
explainer's fit: ``top()`` marked the rows erased and ``by_source()`` warned, but its
arrays (``scores``, ``source_scores``, ``margins``...), numbers computed from the
erased rows' data, were handed out with no word. Each public accessor (enumerated with
``dir``, so that a new one cannot escape) now warns (ErasedRowsHeldWarning) naming the
store's erasure event, as ``by_source()`` does. Loaded where its store cannot be read
(the file moved, or another store made at its path; another machine), it no longer
raises at every accessor: each says that whether rows were erased is not known
(ErasuresUnknownWarning), marks ``<NA>``, never False, and withholds a row's values.
The truth: the store's erasure record (its ``store.erasure`` events) and the data's
keys of the rows erased.
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

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning, ErasuresUnknownWarning
from sktraceprop.influence import Explanation
from tests.stores.test_erasure_marks import _explained, _keys_at
from tests.stores.test_trace_erasures import _erased_by_key

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: Accessors that hold nothing of the fit: the test rows' count, the model's identity.
_READABLE = {"n_test", "model_fingerprint"}
_ROOT = Path(__file__).resolve().parents[2]


def _read_all(loaded):
    """``{name: {"said": [[category, message]], ...}}`` of every public name of
    ``loaded`` (its methods called with their defaults), with what ``top()`` marked and
    what ``trace()`` handed out; JSON, so that another process can return it."""
    out = {}
    for name in dir(loaded):
        if name.startswith("_"):
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(loaded, name)
            if callable(getattr(Explanation, name, None)):
                value = value()
        said = [
            [w.category.__name__, str(w.message)]
            for w in caught
            if issubclass(w.category, ErasedRowsHeldWarning)
        ]
        out[name] = {"said": said}
        if name == "top":
            out[name]["erased"] = [str(v) for v in value["erased"]]
            out[name]["checked"] = value.attrs["erasures_checked"]
        if name == "trace":
            out[name]["values"] = value["values"]
            out[name]["removed"] = value["removed"]
        if name == "scores":
            out[name]["sum"] = float(np.asarray(value).sum())
    return out


def _loaded(blob, where, tmp_path):
    """:func:`_read_all` of the explanation pickled in ``blob``, loaded in this process
    or in a new one."""
    if where == "here":
        return _read_all(pickle.loads(blob))
    path = tmp_path / "explanation.pkl"
    path.write_bytes(blob)
    code = (
        "import json, pickle, sys\n"
        "from tests.influence.test_explanation_loaded_after_erasure import _read_all\n"
        "print(json.dumps(_read_all(pickle.loads(open(sys.argv[1], 'rb').read()))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _accessors_said(read):
    # (the enumeration finds what a user reads: a new accessor joins it)
    assert {"scores", "margins", "source_scores", "by_source", "top", "trace"} <= set(read)
    return {name: got["said"] for name, got in read.items() if name not in _READABLE}


@pytest.mark.parametrize("where", ["here", "new process"])
def test_every_accessor_of_an_explanation_loaded_after_an_erasure_says_so(tmp_path, where):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits, explanation = _explained(store, tmp_path / "data")
    before = _read_all(explanation)
    assert all(not said for said in _accessors_said(before).values())  # nothing erased yet
    # the top row of test row 0 (which trace() reads by default) and one other
    keys = set(_keys_at(df, explanation.top())[[0, 7]].tolist())
    blob = pickle.dumps(explanation)
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)

    read = _loaded(blob, where, tmp_path)
    truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    assert truth >= 2
    for name, said in _accessors_said(read).items():
        assert len(said) == 1, (name, said)
        category, message = said[0]
        assert category == "ErasedRowsHeldWarning", (name, message)
        assert message.startswith(f"Explanation.{name}: "), (name, message)
        assert f"seq {event['seq']}" in message, (name, message)
        if name not in ("top", "train_rows"):  # (those count the rows they show)
            assert f"{truth} of the {len(df)} training row(s) scored" in message, message
    for name in _READABLE:
        assert read[name]["said"] == []
    # handed out as they were (marked, not changed), but not the erased row's values
    assert read["scores"]["sum"] == before["scores"]["sum"]
    assert read["top"]["erased"][0] == "True" and read["top"]["checked"] is True
    assert read["trace"]["values"] is None
    assert f"erasure event {event['seq']}" in read["trace"]["removed"]


@pytest.mark.parametrize("how", ["moved", "replaced"])
@pytest.mark.parametrize("where", ["here", "new process"])
def test_an_explanation_whose_store_cannot_be_read_says_erasures_are_not_known(
    tmp_path, where, how
):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits, explanation = _explained(store, tmp_path / "data")
    blob = pickle.dumps(explanation)
    if where == "new process":
        # erased, then the store moved: a check that claimed "no erasures" would be wrong
        _erased_by_key(store, visits, set(df["key"].iloc[:3]), "art. 17")
    moved = tmp_path / "elsewhere.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{tmp_path / 'audit.db'}{suffix}").exists():
            shutil.move(f"{tmp_path / 'audit.db'}{suffix}", f"{moved}{suffix}")
    if how == "replaced":  # another, empty, store made at its path: it records nothing
        stp.stores.SQLiteStore(tmp_path / "audit.db")

    read = _loaded(blob, where, tmp_path)
    for name, said in _accessors_said(read).items():
        assert len(said) == 1, (name, said)
        category, message = said[0]
        assert category == ErasuresUnknownWarning.__name__, (name, message)
        assert f"SQLiteStore('{tmp_path / 'audit.db'}'), cannot be read" in message, message
        assert "is not known here" in message
    # nothing claims the rows were not erased
    assert "False" not in read["top"]["erased"] and read["top"]["checked"] is False
    assert set(read["top"]["erased"]) == {"<NA>"}
    assert read["trace"]["values"] is None and read["trace"]["removed"] is None


def test_an_explainer_loaded_after_an_erasure_says_so_at_each_query(tmp_path):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits, explanation = _explained(store, tmp_path / "data")
    explainer = explanation._explainer._explainer
    explainer.set_params(n_subsets=4)
    X, y = df[["city", "age"]], df["y"]
    blob = pickle.dumps(explainer)
    keys = {1000, 1001}
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    loaded = pickle.loads(blob)
    queries = {
        "explain": lambda: loaded.explain(X.iloc[:2]),
        "influence_sums": lambda: loaded.influence_sums(
            X.iloc[:2], None, np.ones((2, len(df)), dtype=bool)
        ),
        "score": lambda: loaded.score(X.iloc[:5], y.iloc[:5]),
    }
    for name, query in queries.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            query()
        said = [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]
        assert len(said) == 1, (name, said)
        assert said[0].startswith(f"InfluenceExplainer.{name}: {truth} of the {len(df)} ")
        assert f"seq {event['seq']})" in said[0]
