"""JaxClassifier / JaxRegressor: scikit-learn compatibility and training against known answers."""

import pickle
import subprocess
import sys
from functools import partial

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


# -- sample_weight ----------------------------------------------------------------------


def _leaves(est):
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(est.params_)]


def _assert_same_params(a, b, **tol):
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, z in zip(la, lb):
        if tol:
            np.testing.assert_allclose(x, z, **tol)
        else:
            np.testing.assert_array_equal(x, z)


def _weighted_cases():
    """(estimator factory, X, y) for binary, multiclass and multi-output regression."""
    X, y = _iris()
    init_fn, apply_fn = mlp(hidden=(8,))
    rng = np.random.default_rng(0)
    Y = np.column_stack([X @ rng.normal(size=4), np.tanh(X[:, 0])]).astype(np.float32)
    return [
        (partial(JaxClassifier, linear_apply, linear_init, random_state=0), X, y > 0),
        (partial(JaxClassifier, apply_fn, init_fn, random_state=0), X, y),
        (partial(JaxRegressor, apply_fn, init_fn, random_state=0), X, Y),
    ]


@pytest.mark.parametrize("batch_size", [None, 32])
def test_sample_weight_none_ones_and_constant_are_bitwise_unweighted(batch_size):
    # None leaves training untouched (the pre-sample_weight code path: all-ones row
    # weights); weights are divided by their maximum, so any constant weight is exactly 1
    for make, X, y in _weighted_cases():
        ref = make(n_epochs=20, batch_size=batch_size).fit(X, y)
        n = X.shape[0]
        for sw in (None, np.ones(n), np.full(n, 3.7), [2] * n, 0.5):
            est = make(n_epochs=20, batch_size=batch_size).fit(X, y, sample_weight=sw)
            _assert_same_params(est, ref)
            np.testing.assert_array_equal(est.loss_curve_, ref.loss_curve_)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_zero_weights_are_removed_rows(batch_size):
    # full batch: weights [1, ..., 1, 0, ..., 0] give the model fitted on the first rows;
    # zero-weight rows are left out before batching, so this holds for mini-batches too,
    # wherever the zeros are
    rng = np.random.default_rng(1)
    for make, X, y in _weighted_cases():
        n, m = X.shape[0], 100
        head = np.r_[np.ones(m), np.zeros(n - m)]
        scattered = (rng.random(n) < 0.7) * rng.uniform(0.5, 2.0, n)
        scattered[0] = 1.0
        for sw in (head, scattered):
            kept = sw > 0
            weighted = make(n_epochs=25, batch_size=batch_size).fit(X, y, sample_weight=sw)
            dropped = make(n_epochs=25, batch_size=batch_size)
            dropped.fit(X[kept], y[kept], sample_weight=None if sw is head else sw[kept])
            _assert_same_params(weighted, dropped)
            assert weighted.n_features_in_ == X.shape[1]


def test_zero_weight_class_is_dropped_from_classes():
    X, y = _iris()
    labels = np.array(["a", "b", "c"])[y]
    sw = (y != 2).astype(float)  # class "c" only has weight 0
    clf = JaxClassifier(linear_apply, linear_init, n_epochs=20, random_state=0)
    clf.fit(X, labels, sample_weight=sw)
    np.testing.assert_array_equal(clf.classes_, ["a", "b"])
    assert clf.n_outputs_ == 1
    ref = clone(clf).fit(X[y != 2], labels[y != 2])
    _assert_same_params(clf, ref)
    with pytest.raises(ValueError, match="2 classes.*non-zero sample_weight"):
        clf.fit(X, labels, sample_weight=(y == 1).astype(float))


def test_integer_weight_equals_duplicated_rows_full_batch():
    # full batch: sum_i w_i loss_i / sum_i w_i with w_i = 2 is the mean over the data with
    # row i duplicated; the two sum their terms in another order, hence float32 tolerances
    rng = np.random.default_rng(2)
    for make, X, y in _weighted_cases():
        n = X.shape[0]
        dup = rng.choice(n, size=20, replace=False)
        sw = np.ones(n, dtype=int)
        sw[dup] = 2
        weighted = make(n_epochs=100, learning_rate=0.02).fit(X, y, sample_weight=sw)
        repeated = make(n_epochs=100, learning_rate=0.02)
        repeated.fit(np.concatenate([X, X[dup]]), np.concatenate([y, y[dup]]))
        _assert_same_params(weighted, repeated, rtol=2e-4, atol=2e-5)
        # random integer weights 0..4 against np.repeat, as scikit-learn's
        # check_sample_weight_equivalence_on_dense_data does (at rtol=1e-7, see
        # test_jax_sklearn_checks.py)
        sw = rng.integers(0, 5, size=n)
        weighted = make(n_epochs=100, learning_rate=0.02).fit(X, y, sample_weight=sw)
        repeated = make(n_epochs=100, learning_rate=0.02).fit(X.repeat(sw, 0), y.repeat(sw, 0))
        _assert_same_params(weighted, repeated, rtol=2e-4, atol=2e-5)
        # and the weights matter: weight 1 everywhere is another model
        unweighted = make(n_epochs=100, learning_rate=0.02).fit(X, y)
        diff = max(np.abs(a - b).max() for a, b in zip(_leaves(weighted), _leaves(unweighted)))
        assert diff > 1e-2


def test_loss_curve_is_the_weighted_mean_loss():
    # the objective reported for epoch 31 (evaluated before its step) is the weighted mean
    # loss of the model trained for 30 epochs, recomputed here in numpy
    X, y = _iris()
    X, y = X[:100], y[:100]
    sw = np.random.default_rng(3).uniform(0.0, 3.0, size=100)
    clf = JaxClassifier(linear_apply, linear_init, n_epochs=30, random_state=0)
    z = clf.fit(X, y, sample_weight=sw).decision_function(X)
    loss = np.sum(sw * np.logaddexp(0, -(2 * y - 1) * z)) / np.sum(sw)
    curve_next = clone(clf).set_params(n_epochs=31).fit(X, y, sample_weight=sw).loss_curve_[-1]
    np.testing.assert_allclose(loss, curve_next, rtol=1e-5)


def test_weighted_least_squares_known_answer():
    # a linear apply_fn without penalty reaches the weighted least-squares solution
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + rng.normal(scale=0.5, size=120)
    sw = rng.uniform(0.0, 5.0, size=120)
    reg = JaxRegressor(linear_apply, linear_init, n_epochs=600, learning_rate=0.05,
                       random_state=0).fit(X, y, sample_weight=sw)  # fmt: skip
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.params_["W"][:, 0], ref.coef_, atol=1e-3)
    np.testing.assert_allclose(reg.params_["b"], [ref.intercept_], atol=1e-3)
    unweighted = LinearRegression().fit(X, y)
    assert np.abs(unweighted.coef_ - ref.coef_).max() > 1e-2  # the weights matter here


def test_minibatch_weights_are_normalised_per_batch():
    # each mini-batch step minimises sum_{i in B} w_i loss_i / sum_{i in B} w_i: with one
    # row per batch a positive weight cancels, so the steps are the unweighted ones
    X, y = _iris()
    sw = np.random.default_rng(5).uniform(0.1, 10.0, size=X.shape[0])
    make = partial(JaxClassifier, linear_apply, linear_init, n_epochs=3, optimizer="sgd",
                   learning_rate=0.01, random_state=0)  # fmt: skip
    weighted = make(batch_size=1).fit(X, y, sample_weight=sw)
    _assert_same_params(weighted, make(batch_size=1).fit(X, y), rtol=1e-5, atol=1e-6)
    # with several rows per batch the weights count
    weighted = make(batch_size=8).fit(X, y, sample_weight=sw)
    unweighted = make(batch_size=8).fit(X, y)
    assert max(np.abs(a - b).max() for a, b in zip(_leaves(weighted), _leaves(unweighted))) > 1e-3


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.ones(149), "149 entries but X has 150 samples"),
        (np.ones((150, 2)), "1D array or a scalar"),
        (np.r_[-1.0, np.ones(149)], "negative"),
        (np.r_[np.nan, np.ones(149)], "NaN"),
        (np.r_[np.inf, np.ones(149)], "infinite"),
        (np.zeros(150), "zero for every sample"),
        (-1.0, "negative"),
    ],
)
def test_sample_weight_validation(sample_weight, match):
    X, y = _iris()
    for est in (JaxClassifier(n_epochs=1), JaxRegressor(n_epochs=1)):
        with pytest.raises(ValueError, match=match):
            est.fit(X, y, sample_weight=sample_weight)


def test_sample_weight_containers_and_not_modified():
    pd = pytest.importorskip("pandas")
    X, y = _iris()
    sw = np.r_[10.0, np.ones(149)]
    original = sw.copy()
    ref = JaxClassifier(linear_apply, linear_init, n_epochs=10, random_state=0)
    ref.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(sw, original)
    for container in (list, pd.Series, lambda a: a.astype(np.float32)):
        est = clone(ref).fit(X, y, sample_weight=container(sw))
        _assert_same_params(est, ref)


def batch_norm_apply(params, X):
    """Normalises by the statistics of the batch: not row-wise."""
    import jax.numpy as jnp

    h = (X - X.mean(0)) / (X.std(0) + 1e-5)
    return jnp.tanh(h @ params["W"] + params["b"]) @ params["V"]


def dropout_apply(params, X):
    """Dropout with a fixed key: the mask depends on the batch shape."""
    keep = jax.random.bernoulli(jax.random.PRNGKey(0), 0.5, (X.shape[0], params["W"].shape[1]))
    return (jax.numpy.tanh(X @ params["W"] + params["b"]) * keep) @ params["V"]


def zero_init(key, n_features, n_outputs):
    """A zero output layer: every batch gives zero outputs at the initialisation."""
    params = hidden_init(key, n_features, n_outputs)
    return {**params, "V": jax.numpy.zeros_like(params["V"])}


def layer_norm_apply(params, X):
    """Normalises each row by its own statistics: row-wise."""
    h = (X - X.mean(1, keepdims=True)) / (X.std(1, keepdims=True) + 1e-5)
    return jax.numpy.tanh(h @ params["W"] + params["b"]) @ params["V"]


def hidden_init(key, n_features, n_outputs):
    k1, k2 = jax.random.split(key)
    return {
        "W": jax.random.normal(k1, (n_features, 8)),
        "b": jax.numpy.zeros(8),
        "V": jax.random.normal(k2, (8, n_outputs)),
    }


def two_logit_init(key, n_features, n_outputs):
    """Ignores n_outputs: two logits even for a binary problem."""
    return hidden_init(key, n_features, 2)


@pytest.mark.parametrize("apply_fn", [batch_norm_apply, dropout_apply])
def test_apply_fn_that_is_not_row_wise_is_refused_before_training(apply_fn):
    # A batch-statistics model was trained on the data padded with zero rows, predicted
    # in blocks of 256 and differentiated one row at a time: three different functions,
    # silently (the first rows' decision values alone and in the full set differed by
    # 36 on a shifted data set). Truth: the model's own outputs, alone and in a batch.
    X, y = _iris()
    X = X + 3.0
    params = hidden_init(jax.random.PRNGKey(0), 4, 3)
    alone = np.concatenate([np.asarray(apply_fn(params, X[i : i + 1])) for i in range(4)])
    assert np.abs(alone - np.asarray(apply_fn(params, X[:4]))).max() > 1e-2
    clf = JaxClassifier(apply_fn, hidden_init, n_epochs=5, random_state=0)
    with pytest.raises(ValueError, match="apply_fn is not row-wise"):
        clf.fit(X, y)
    assert not hasattr(clf, "params_")
    with pytest.raises(ValueError, match="apply_fn is not row-wise"):
        JaxRegressor(apply_fn, hidden_init, n_epochs=5).fit(X, X[:, 0])
    from sktraceprop.gradients import jax_per_sample_gradients

    with pytest.raises(ValueError, match="apply_fn is not row-wise"):
        jax_per_sample_gradients(apply_fn, X, y, params=params)
    # an initialisation that hides it: found at the trained parameters
    clf = JaxClassifier(apply_fn, zero_init, n_epochs=5, random_state=0)
    with pytest.raises(ValueError, match="apply_fn is not row-wise"):
        clf.fit(X, y)
    assert not hasattr(clf, "params_")


def test_row_wise_normalisation_is_accepted():
    X, y = _iris()
    clf = JaxClassifier(layer_norm_apply, hidden_init, n_epochs=50, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.7
    # a single row: nothing to compare it with
    JaxRegressor(batch_norm_apply, hidden_init, n_epochs=1).fit(X[:1], y[:1])


def test_apply_fn_of_the_wrong_width_is_refused_before_training():
    # init_fn asked for 1 output (binary) but built 2: the logistic loss trained the first
    # column only, and the error came at predict
    X, y = _iris()
    keep = y < 2
    clf = JaxClassifier(layer_norm_apply, two_logit_init, n_epochs=5, random_state=0)
    with pytest.raises(ValueError, match=r"expected \(4, 1\)"):
        clf.fit(X[keep], y[keep])
    assert not hasattr(clf, "params_")
