"""JaxClassifier / JaxRegressor: scikit-learn compatibility and training against known answers."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp  # noqa: E402


def linear_init(key, n_features, n_outputs):
    """A module-level (hence picklable) init function: a linear model."""
    import jax.numpy as jnp

    return {"W": jnp.zeros((n_features, n_outputs)), "b": jnp.zeros(n_outputs)}


def linear_apply(params, X):
    return X @ params["W"] + params["b"]


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def test_binary_linear_model_matches_logistic_regression():
    # with a linear apply_fn, full-batch Adam and an L2 penalty the objective is strictly
    # convex: its minimiser is LogisticRegression's with C = 1 / (n * alpha), unpenalised
    # intercept aside (alpha small, so the intercept penalty barely matters)
    X, y = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)  # fmt: skip
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    clf = JaxClassifier(linear_apply, linear_init, n_epochs=1500, learning_rate=0.05,
                        alpha=alpha, random_state=0).fit(X, y)  # fmt: skip
    ref = LogisticRegression(C=1 / (len(X) * alpha), tol=1e-10).fit(X, y)
    np.testing.assert_allclose(clf.params_["W"][:, 0], ref.coef_[0], atol=0.02)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X), atol=0.05)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    assert clf.decision_function(X).shape == (200,)
    assert clf.n_outputs_ == 1


def test_multiclass_mlp_learns_and_proba_consistent():
    X, y = _iris()
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    init_fn, apply_fn = mlp(hidden=(16,))
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=200, learning_rate=0.02, random_state=0)
    clf.fit(X, labels)
    assert clf.score(X, labels) > 0.95
    assert clf.loss_curve_[-1] < 0.25 * clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    z = clf.decision_function(X)
    np.testing.assert_allclose(np.log(proba), z - np.log(np.exp(z).sum(1, keepdims=True)),
                               atol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])


def test_minibatch_and_sgd_train():
    X, y = _iris()
    for kwargs in ({"batch_size": 16}, {"optimizer": "sgd", "learning_rate": 0.5}):
        clf = JaxClassifier(*mlp((8,))[::-1], n_epochs=60, random_state=0, **kwargs).fit(X, y)
        assert clf.score(X, y) > 0.9, kwargs


def test_padding_does_not_change_full_batch_training():
    # full batch pads 100 rows to 128 with zero-weight rows; the objective reported for epoch
    # 31 (evaluated before its step) must be the mean loss over the 100 real rows of the
    # model trained for 30 epochs, recomputed here in numpy
    X, y = _iris()
    X, y = X[:100], y[:100]
    clf = JaxClassifier(linear_apply, linear_init, n_epochs=30, random_state=0).fit(X, y)
    z = clf.decision_function(X)
    loss = np.mean(np.logaddexp(0, -(2 * y - 1) * z))
    curve_next = JaxClassifier(linear_apply, linear_init, n_epochs=31, random_state=0)
    curve_next = curve_next.fit(X, y).loss_curve_[-1]
    np.testing.assert_allclose(loss, curve_next, rtol=1e-5)


def test_clone_pickle_and_default_model():
    X, y = _iris()
    clf = JaxClassifier(n_epochs=20, random_state=0)
    assert clf.get_params()["apply_fn"] is None
    clf.fit(X, y)
    assert clf.apply_fn_ == mlp(hidden=(100,))[1]
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    fresh = clone(clf)
    assert not hasattr(fresh, "params_")
    np.testing.assert_allclose(fresh.fit(X, y).decision_function(X), clf.decision_function(X),
                               rtol=1e-6)  # fmt: skip
    picklable = JaxClassifier(linear_apply, linear_init, n_epochs=5).fit(X, y)
    assert pickle.loads(pickle.dumps(picklable)).score(X, y) == picklable.score(X, y)
    with pytest.raises(ValueError, match="both"):
        JaxClassifier(linear_apply).fit(X, y)


def test_grid_search():
    X, y = _iris()
    init_fn, apply_fn = mlp(hidden=(8,))
    grid = GridSearchCV(
        JaxClassifier(apply_fn, init_fn, n_epochs=10, random_state=0),
        {"learning_rate": [1e-4, 5e-2], "alpha": [0.0, 1e-3], "n_epochs": [10, 50]},
        cv=3,
    ).fit(X, y)
    assert grid.best_params_["learning_rate"] == 5e-2
    assert grid.best_score_ > 0.85
    scores = grid.cv_results_["mean_test_score"]
    tiny_lr = np.array([p["learning_rate"] == 1e-4 for p in grid.cv_results_["params"]])
    assert scores[tiny_lr].max() < scores[~tiny_lr].min()


def test_optax_style_optimizer():
    # a minimal optax-like GradientTransformation: plain SGD with init/update
    X, y = _iris()
    clf = JaxClassifier(*mlp((8,))[::-1], n_epochs=60, learning_rate=0.5, optimizer=_sgd,
                        random_state=0).fit(X, y)  # fmt: skip
    ref = JaxClassifier(*mlp((8,))[::-1], n_epochs=60, learning_rate=0.5, optimizer="sgd",
                        random_state=0).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X), rtol=1e-5,
                               atol=1e-5)  # fmt: skip


class _SGD:
    def __init__(self, lr):
        self.lr = lr

    def init(self, params):
        return ()

    def update(self, grads, state, params):
        return jax.tree_util.tree_map(lambda g: -self.lr * g, grads), state

    def __hash__(self):
        return hash(self.lr)

    def __eq__(self, other):
        return isinstance(other, _SGD) and other.lr == self.lr


def _sgd(learning_rate):
    return _SGD(learning_rate)


def test_regressor_fits_linear_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    coef = np.array([1.5, -2.0, 0.5])
    y = X @ coef + 0.3
    reg = JaxRegressor(linear_apply, linear_init, n_epochs=400, learning_rate=0.05,
                       random_state=0).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(reg.params_["W"][:, 0], coef, atol=1e-3)
    np.testing.assert_allclose(reg.params_["b"], [0.3], atol=1e-3)
    Y2 = np.column_stack([y, -y])
    reg2 = clone(reg).fit(X, Y2)
    assert reg2.predict(X).shape == (120, 2)
    np.testing.assert_allclose(reg2.predict(X), Y2, atol=1e-2)


def test_import_does_not_import_jax():
    code = (
        "import sys, sktraceprop, sktraceprop.adapters;"
        "from sktraceprop.adapters import JaxClassifier, mlp; mlp(); JaxClassifier();"
        "assert 'jax' not in sys.modules, 'jax imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mlp_torch_init_matches_torch_linear_bounds():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    from sktraceprop.adapters import mlp

    init_fn, _ = mlp(hidden=(64,), init="torch")
    params = init_fn(jax.random.PRNGKey(0), 400, 10)
    torch.manual_seed(0)
    reference = torch.nn.Linear(400, 64)
    for ours, theirs in (
        (params[0]["weight"], reference.weight),
        (params[0]["bias"], reference.bias),
    ):
        ours = np.asarray(ours)
        theirs = theirs.detach().numpy()
        bound = 1 / np.sqrt(400)
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        # same uniform law: the spreads agree to sampling error
        np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.15)
        np.testing.assert_allclose(ours.std(), bound / np.sqrt(3), rtol=0.15)
    glorot, _ = mlp(hidden=(64,))
    assert np.asarray(glorot(jax.random.PRNGKey(0), 400, 10)[0]["bias"]).max() == 0
    assert init_fn != glorot and init_fn == mlp(hidden=(64,), init="torch")[0]
    with pytest.raises(ValueError, match="init must be"):
        mlp(init="he")
