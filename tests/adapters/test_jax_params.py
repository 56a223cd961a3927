"""JAX models nobody here wrote: nested pytrees, jitted apply functions, state that is
not a parameter, and outputs that are not one array."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from sktraceprop.adapters import JaxClassifier  # noqa: E402
from sktraceprop.adapters._jax_params import check_params  # noqa: E402
from sktraceprop.gradients import jax_parameter_names, jax_per_sample_gradients  # noqa: E402


def _data(n_classes=3):
    X, y = make_classification(
        40, 3, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=0
    )
    return X.astype(np.float32), y


def _init_with_counter(key, n_features, n_outputs):
    return {
        "w": jax.random.normal(key, (n_features, n_outputs)) * 0.1,
        "b": jnp.zeros(n_outputs),
        "state": {"mean": jnp.zeros(n_features), "count": jnp.array(3)},
    }


def _apply_with_state(params, X):
    return (X - jax.lax.stop_gradient(params["state"]["mean"])) @ params["w"] + params["b"]


def test_an_integer_leaf_is_refused_by_name_before_training():
    # was: TypeError "grad requires real- or complex-valued inputs ... but got int32"
    # from inside the compiled training loop, naming neither the leaf nor the model
    X, y = _data()
    clf = JaxClassifier(_apply_with_state, _init_with_counter, n_epochs=2, random_state=0)
    with pytest.raises(ValueError, match=r"state\.count \(int32\).*non-trainable state"):
        clf.fit(X, y)
    assert not hasattr(clf, "params_")


def test_check_params_accepts_floats_of_either_width_and_python_floats():
    check_params({"a": np.zeros(2, np.float32), "b": [np.ones(1, np.float64), 1.5]})
    with pytest.raises(ValueError, match=r"b\.1 \(int64\)"):
        check_params({"a": np.zeros(2, np.float32), "b": [np.ones(1), 3]})
    with pytest.raises(ValueError, match="no array"):
        check_params({})


def test_an_apply_fn_returning_logits_and_state_is_refused_with_its_reason():
    # was: AttributeError: 'tuple' object has no attribute 'ndim'
    X, y = _data()

    def init(key, n_features, n_outputs):
        return {"w": jnp.zeros((n_features, n_outputs)), "mean": jnp.zeros(n_features)}

    def apply(params, X):
        return X @ params["w"], {"mean": X.mean(0)}

    with pytest.raises(ValueError, match="apply_fn returned a tuple, not an array"):
        JaxClassifier(apply, init, n_epochs=2, random_state=0).fit(X, y)


def test_gradients_of_a_bare_apply_fn_refuse_a_selected_integer_leaf():
    X, y = _data()
    params = _init_with_counter(jax.random.PRNGKey(0), 3, 3)
    with pytest.raises(ValueError, match=r"state\.count \(int32\).*parameters="):
        jax_per_sample_gradients(_apply_with_state, X, y, params=params)
    # leaving it out: the others are differentiated (state.mean is behind stop_gradient)
    G = jax_per_sample_gradients(
        _apply_with_state, X[:4], y[:4], params=params, parameters=lambda n: n != "state.count"
    )
    assert jax_parameter_names(params, lambda n: n != "state.count") == [
        "b",
        "state.mean",
        "w",
    ]
    assert G.shape == (4, 3 + 3 + 9) and np.all(G[:, 3:6] == 0)


def _np_apply(params, X, order):
    h = X
    for name in order[:-1]:
        W, b = params["hidden"][name]
        h = np.tanh(h @ W + b)
    out = params["hidden"][order[-1]]
    return h @ out[0] + out[1]


def _margin(z, t):
    if z.shape[0] == 1:
        return z[0] * (2 * t - 1)
    others = np.delete(z, t)
    return z[t] - np.log(np.exp(others).sum())


@settings(deadline=None, max_examples=12)
@given(
    names=st.lists(st.sampled_from("abcdefgh"), min_size=2, max_size=3, unique=True),
    n_out=st.sampled_from([1, 3]),
    jit=st.booleans(),
)
@example(names=["b", "a"], n_out=3, jit=True)  # layer "b" first: flattening sorts it last
def test_gradient_columns_follow_the_named_leaves_of_any_pytree(names, n_out, jit):
    """Each column block named by jax_parameter_names is the derivative of the margin
    with respect to that leaf, by central differences in float64 numpy."""
    widths = [3] + [4] * (len(names) - 1) + [n_out]
    rng = np.random.default_rng(len(names) * 10 + n_out)
    # dict keys in layer order, which jax flattens sorted: another order than the layers'
    params = {
        "hidden": {
            name: (
                rng.normal(size=(widths[k], widths[k + 1])).astype(np.float32),
                rng.normal(size=widths[k + 1]).astype(np.float32),
            )
            for k, name in enumerate(names)
        }
    }

    def apply(p, X):
        h = X
        for name in names[:-1]:
            W, b = p["hidden"][name]
            h = jnp.tanh(h @ W + b)
        W, b = p["hidden"][names[-1]]
        return h @ W + b

    X = rng.normal(size=(3, 3)).astype(np.float32)
    y = np.arange(3) % (2 if n_out == 1 else n_out)
    G = jax_per_sample_gradients(jax.jit(apply) if jit else apply, X, y, params=params)
    columns = jax_parameter_names(params)
    assert columns == [f"hidden.{n}.{k}" for n in sorted(names) for k in (0, 1)]
    p64 = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params)
    start = 0
    for column in columns:
        _, name, k = column.split(".")
        leaf = p64["hidden"][name][int(k)]
        for j in range(leaf.size):
            for r in range(3):
                values = []
                for step in (1e-6, -1e-6):
                    leaf.flat[j] += step
                    values.append(_margin(_np_apply(p64, X[r : r + 1], names)[0], y[r]))
                    leaf.flat[j] -= step
                fd = (values[0] - values[1]) / 2e-6
                assert abs(G[r, start + j] - fd) <= 1e-4 * max(1.0, abs(fd)), column
        start += leaf.size
    assert start == G.shape[1]


def _softmax_apply(params, X):
    return jax.nn.softmax(X @ params["w"] + params["b"])


def _log_softmax_apply(params, X):
    return jax.nn.log_softmax(X @ params["w"] + params["b"])


def _linear_init(key, n_features, n_outputs):
    return {"w": jax.random.normal(key, (n_features, n_outputs)), "b": jnp.zeros(n_outputs)}


def test_an_apply_fn_returning_probabilities_is_refused():
    # was trained silently: the cross-entropy took the probabilities for logits, and
    # predict_proba returned the softmax of probabilities (all near 1/3 here)
    X, y = _data()
    clf = JaxClassifier(_softmax_apply, _linear_init, n_epochs=50, random_state=0)
    with pytest.raises(ValueError, match="returns probabilities"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="returns probabilities"):
        jax_per_sample_gradients(
            _softmax_apply, X, y, params=_linear_init(jax.random.PRNGKey(0), 3, 3)
        )
    # log-probabilities are logits up to a shift per row: accepted, same predictions
    logp = JaxClassifier(_log_softmax_apply, _linear_init, n_epochs=50, random_state=0).fit(X, y)
    assert logp.predict_proba(X).max() > 0.9


def test_leaves_whose_dotted_names_collide_are_refused():
    # were both named "a.b": parameters=["a.b"] selected the two leaves, and the
    # column names could not say which columns were which
    params = {"a.b": np.ones(2, np.float32), "a": {"b": np.zeros(3, np.float32)}}
    with pytest.raises(ValueError, match=r"same dotted name \['a\.b'\]"):
        jax_parameter_names(params)

    def apply(p, X):
        return X @ p["a"]["b"][:, None] + p["a.b"].sum()

    X = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="same dotted name"):
        jax_per_sample_gradients(apply, X, np.array([0, 1]), params=params, parameters=["a.b"])
