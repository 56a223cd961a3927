"""Model fingerprints: they change with any fitted value and survive pickling and processes.

The truth is the fitted values themselves: a fingerprint must differ when one weight of a
torch net, one JAX parameter or one cell of a large frame differs (a ``repr`` would elide
them), and must be equal for a pickled copy, also in another process.
"""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import KNNImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from sktraceprop._lineage._fingerprint import fingerprint


class _Holder(LogisticRegression):
    """An estimator whose fitted state holds an arbitrary value."""

    def fit(self, X, y):
        super().fit(X, y)
        return self


def _holding(value):
    est = _Holder()
    est.payload_ = value
    return est


def _in_subprocess(obj, tmp_path):
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps(obj))
    code = (
        "import pickle, sys; sys.path.insert(0, sys.argv[2]);"
        "from sktraceprop._lineage._fingerprint import fingerprint;"
        "print(fingerprint(pickle.load(open(sys.argv[1], 'rb'))))"
    )
    here = str(__import__("pathlib").Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), here], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def _xy(n=120, p=5):
    rng = np.random.RandomState(0)
    X = rng.randn(n, p).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_sklearn_model_changes_with_a_coefficient_and_survives_pickling(tmp_path):
    X, y = _xy()
    model = LogisticRegression().fit(X, y)
    before = fingerprint(model)
    assert fingerprint(pickle.loads(pickle.dumps(model))) == before
    assert _in_subprocess(model, tmp_path) == before
    model.coef_[0, 3] = np.nextafter(model.coef_[0, 3], np.inf)
    assert fingerprint(model) != before


def test_skorch_net_changes_with_one_weight_and_survives_pickling(tmp_path):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    torch.manual_seed(0)
    X, y = _xy()
    # 5 * 300 + 300 * 2 weights: far more than a tensor's repr prints
    module = torch.nn.Sequential(
        torch.nn.Linear(5, 300), torch.nn.ReLU(), torch.nn.Linear(300, 2), torch.nn.Softmax(-1)
    )
    net = skorch.NeuralNetClassifier(module, max_epochs=2, verbose=0, train_split=None)
    net.fit(X, y)
    before = fingerprint(net)
    assert fingerprint(pickle.loads(pickle.dumps(net))) == before
    assert _in_subprocess(net, tmp_path) == before
    with torch.no_grad():
        net.module_[2].weight[1, 150] += 1e-3
    assert fingerprint(net) != before


def test_jax_model_changes_with_one_parameter_and_survives_pickling(tmp_path):
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    init_fn, apply_fn = mlp(hidden=(64,))
    X, y = _xy()
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=3, random_state=0).fit(X, y)
    before = fingerprint(clf)
    assert fingerprint(pickle.loads(pickle.dumps(clf))) == before
    assert _in_subprocess(clf, tmp_path) == before
    jax = __import__("jax")
    leaves, treedef = jax.tree_util.tree_flatten(clf.params_)
    big = int(np.argmax([np.size(leaf) for leaf in leaves]))
    leaves = [np.array(leaf) for leaf in leaves]  # writable copies
    leaves[big].reshape(-1)[leaves[big].size // 2] += 1e-3
    clf.params_ = jax.tree_util.tree_unflatten(treedef, leaves)
    assert fingerprint(clf) != before


def test_frames_in_fitted_state_are_hashed_by_every_cell():
    frame = pd.DataFrame({"a": np.arange(10_000, dtype=float), "b": ["x"] * 10_000})
    before = fingerprint(_holding(frame))
    changed = frame.copy()
    changed.loc[5_000, "a"] = -1.0
    assert fingerprint(_holding(changed)) != before
    changed = frame.copy()
    changed.loc[5_000, "b"] = "y"
    assert fingerprint(_holding(changed)) != before
    assert fingerprint(_holding(frame.copy())) == before


class _Node:
    pass


def test_cycles_and_objects_without_state_are_hashed_stably():
    a, b = _Node(), _Node()
    a.peer, b.peer = b, a
    a.value, b.value = 1, 2
    fp = fingerprint(_holding(a))
    assert fingerprint(_holding(pickle.loads(pickle.dumps(a)))) == fp
    b.value = 3
    assert fingerprint(_holding(a)) != fp
    # a lock has no state to hash: its repr without the memory address is used
    import threading

    assert fingerprint(_holding(threading.Lock())) == fingerprint(_holding(threading.Lock()))


_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
    shape=hnp.array_shapes(max_dims=2, min_side=0, max_side=40),
)
_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=5) | _arrays,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(_values)
@example(np.array([-1.0]))  # found by hypothesis: the change left -1 as it was
def test_pickled_copies_agree_and_a_changed_array_differs(value):
    fp = fingerprint(_holding(value))
    assert fingerprint(_holding(pickle.loads(pickle.dumps(value)))) == fp
    arrays = []

    def collect(v):
        if isinstance(v, np.ndarray):
            arrays.append(v)
        elif isinstance(v, list):
            for item in v:
                collect(item)
        elif isinstance(v, dict):
            for item in v.values():
                collect(item)

    collect(value)
    target = next((a for a in arrays if a.size), None)
    if target is None:
        return
    flat = target.reshape(-1)
    if target.dtype == np.bool_:
        flat[-1] = not flat[-1]
    elif target.dtype.kind == "f" and not np.isfinite(flat[-1]):
        flat[-1] = 0.5
    else:
        old = flat[-1]
        flat[-1] = old + 1 if target.dtype.kind == "i" else np.float32(old) * 2 + 1
        if flat[-1] == old:  # -1 is the fixed point of x * 2 + 1: change it otherwise
            flat[-1] = np.float32(old) * 2 + 3
    assert fingerprint(_holding(value)) != fp


def test_a_store_parameter_is_hashed_by_where_it_writes_not_by_its_contents(tmp_path):
    import sktraceprop as stp

    X, y = _xy()
    frame = stp.from_numpy(X, "fingerprint_store")
    for store in (stp.stores.MemoryStore(), stp.stores.SQLiteStore(tmp_path / "s.db")):
        pipe = stp.make_traced_pipeline(LogisticRegression(), store=store).fit(frame, y)
        before = fingerprint(pipe)
        store.append_event("review", {"note": "an event changes the store, not the model"})
        assert fingerprint(pipe) == before


def test_zero_size_arrays_are_hashed_by_shape():
    assert fingerprint(_holding(np.zeros((0, 3)))) != fingerprint(_holding(np.zeros((3, 0))))
    assert fingerprint(_holding(np.zeros((0, 3)))) == fingerprint(_holding(np.zeros((0, 3))))


_LEARNT_PRIVATELY = {
    "tree": lambda: DecisionTreeClassifier(random_state=0),
    "forest": lambda: RandomForestClassifier(n_estimators=3, random_state=0),
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=5),
    "knn": lambda: KNeighborsClassifier(n_neighbors=3),
    "knn_imputer": lambda: KNNImputer(n_neighbors=2),
}


def _learnt(make, seed):
    X = np.random.RandomState(seed).randn(80, 4)
    return make().fit(X, (X[:, seed % 4] > 0).astype(np.int64)), X


def test_models_that_predict_from_private_or_extension_state_change_when_refitted(tmp_path):
    # Same shapes, classes and row count, other rows: only what the model learnt (tree
    # nodes, HGB's _predictors, KNN's _fit_X) differs, and the fingerprint must see it.
    models = []
    for name, make in _LEARNT_PRIVATELY.items():
        model, X = _learnt(make, 0)
        before = fingerprint(model)
        for method in ("predict", "predict_proba", "transform"):
            if hasattr(model, method):
                getattr(model, method)(X)
        assert fingerprint(model) == before, name  # predicting learns nothing
        assert fingerprint(pickle.loads(pickle.dumps(model))) == before, name
        assert fingerprint(_learnt(make, 1)[0]) != before, name
        models.append(model)
    assert _in_subprocess(models, tmp_path) == fingerprint(models)


def test_a_traced_tree_refitted_on_other_rows_is_not_traced_to_its_run():
    import sktraceprop as stp
    from sktraceprop.exceptions import LineageError

    rng = np.random.RandomState(0)
    X = stp.from_numpy(rng.randn(60, 3), source_id="fp_tree_rows")
    y = (X.iloc[:, 0] > 0).astype(np.int64)
    pipe = stp.make_traced_pipeline(DecisionTreeClassifier(random_state=0)).fit(X, y)
    other = pd.DataFrame(rng.randn(60, 3), columns=X.columns)
    pipe[-1].fit(other, (other.iloc[:, 1] > 0).astype(np.int64))
    with pytest.raises(LineageError, match="decisiontreeclassifier"):
        pipe.trace([0])


def test_own_params_equal_get_params_for_every_estimator():
    """own_params skips get_params' signature inspection: same names, same objects."""
    from sklearn.utils import all_estimators

    from sktraceprop._lineage._fingerprint import own_params

    checked = 0
    for _, cls in all_estimators():
        try:
            est = cls()
        except TypeError:  # needs arguments (meta-estimators)
            continue
        slow = {
            k: v
            for k, v in est.get_params(deep=False).items()
            if not callable(getattr(cls, k, None))
        }
        fast = own_params(est)
        assert list(fast) == list(slow), cls
        assert all(fast[k] is slow[k] for k in slow), cls
        checked += 1
    assert checked > 150


def test_object_arrays_of_leaves_hash_as_their_items_one_by_one():
    """The fast path for category arrays gives the bytes feeding each item gives."""
    import hashlib

    from sktraceprop._lineage._fingerprint_v1 import _feed

    values = np.array(["a", "é", 3, 2.5, None, b"x", np.str_("s"), True], dtype=object)
    fast = hashlib.sha256()
    _feed(fast, values)
    slow = hashlib.sha256(f"nd{values.dtype.str}{values.shape}".encode())
    for item in values:
        _feed(slow, item)
    assert fast.hexdigest() == slow.hexdigest()
    mixed = np.array([["a", [1, 2]], [None, {"k": 1}]], dtype=object)  # not all leaves
    one, two = hashlib.sha256(), hashlib.sha256()
    _feed(one, mixed)
    _feed(two, mixed.copy())
    assert one.hexdigest() == two.hexdigest()


def _reference_feed(h, obj, depth=0, path=()):
    """The fingerprint's byte stream, written plainly (no fast paths): leaves by repr,
    arrays by dtype, shape and bytes, dicts in the order of their keys' repr, lists and
    tuples in order, ``<deep>`` past depth 20 and ``<cycle>`` for an object on its own
    path."""
    import numbers

    if isinstance(obj, str | bytes | numbers.Number | type(None)):
        h.update(repr(obj).encode())
    elif depth > 20:
        h.update(b"<deep>")
    elif any(obj is seen for seen in path):
        h.update(b"<cycle>")
    elif isinstance(obj, np.ndarray):
        h.update(f"nd{obj.dtype.str}{obj.shape}".encode())
        if obj.dtype == object:
            for item in obj.ravel().tolist():
                _reference_feed(h, item, depth + 1, (*path, obj))
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, dict):
        h.update(b"{")
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _reference_feed(h, obj[key], depth + 1, (*path, obj))
        h.update(b"}")
    else:
        assert isinstance(obj, list | tuple), type(obj)
        h.update(b"[")
        for item in obj:
            _reference_feed(h, item, depth + 1, (*path, obj))
        h.update(b"]")


_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=4)
    | st.binary(max_size=4)
    | st.builds(np.float64, st.floats(width=64))
    | st.builds(np.int32, st.integers(-(2**31), 2**31 - 1))
    | _arrays
    | _arrays.map(lambda a: a.T)  # not C-contiguous
    | st.lists(st.text(max_size=3) | st.integers(), max_size=4).map(
        lambda items: np.array(items + [None], dtype=object)
    )
)
_keys = (
    st.text(max_size=3) | st.integers(-3, 3) | st.tuples(st.integers(0, 2), st.text(max_size=2))
)
_nested = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_keys, inner, max_size=4)
        | st.lists(inner, min_size=1, max_size=3).map(
            lambda items: np.array(items + [None], dtype=object)
        )
    ),
    max_leaves=16,
)


@settings(max_examples=200, deadline=None)
@given(_nested, st.integers(0, 3))
def test_fast_paths_feed_the_bytes_of_the_plain_walk(value, shape):
    """The walker's fast paths (exact types, arrays without a cycle check, dict keys'
    reprs made once) hash the bytes a plain walk of the same value hashes."""
    import hashlib

    from sktraceprop._lineage._fingerprint_v1 import _feed

    if shape == 1:  # a cycle through a list and a dict
        holder = {"v": value}
        value = [holder, value]
        holder["back"] = value
    elif shape == 2:  # deeper than the walk goes
        for _ in range(25):
            value = [value]
    elif shape == 3:  # an object array holding itself
        outer = np.empty(2, dtype=object)
        outer[0], outer[1] = value, outer
        value = outer
    fast, plain = hashlib.sha256(), hashlib.sha256()
    _feed(fast, value)
    _reference_feed(plain, value)
    assert fast.hexdigest() == plain.hexdigest()
