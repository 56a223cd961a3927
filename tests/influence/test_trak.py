import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop._lineage._capture import resolve_row_ids


def _data(n=120, d=5, n_classes=2, seed=0):
    X, y = make_classification(
        n, d, n_informative=d, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X.astype(np.float32), y.astype(np.int64)


def _skorch_net(train_split, n_out=2, d=5):
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    from tests._torch_nets import TanhNet

    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(
        TanhNet,
        module__n_in=d,
        module__n_hidden=8,
        module__n_out=n_out,
        max_epochs=5,
        lr=0.05,
        batch_size=32,
        train_split=train_split,
        criterion=torch.nn.CrossEntropyLoss,
        verbose=0,
    )


def _fit(explainer, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return explainer.fit(X, y)


def test_bare_skorch_net_attributes_only_to_trained_rows():
    skorch = pytest.importorskip("skorch")
    X, y = _data()
    net = _skorch_net(skorch.dataset.ValidSplit(0.2, random_state=0))
    exp = _fit(InfluenceExplainer(net, n_components=32, random_state=0), X, y)
    # independent truth: skorch's own (deterministic) split of the same data
    ds_train, _ = exp.model_.get_split_datasets(X, y)
    trained = np.sort(np.asarray(ds_train.indices))
    assert trained.size == 96 and exp.n_train_ == 96
    ids = resolve_row_ids(X)
    np.testing.assert_array_equal(np.sort(exp.train_row_ids_), ids[trained])
    explanation = exp.explain(X[:4], y[:4], top_k=96)
    assert explanation.scores.shape == (4, 96)
    held_out = np.setdiff1d(ids, exp.train_row_ids_)
    assert held_out.size == 24
    assert not np.isin(explanation.top()["row_id"], held_out).any()


def test_traced_pipeline_with_skorch_split_lineage():
    skorch = pytest.importorskip("skorch")
    X, y = _data()
    frame = stp.from_pandas(pd.DataFrame(X, columns=[f"f{j}" for j in range(5)]), "toy")
    net = _skorch_net(skorch.dataset.ValidSplit(0.25, random_state=0))
    pipe = stp.make_traced_pipeline(StandardScaler(), net)
    exp = _fit(InfluenceExplainer(pipe, n_components=32, random_state=0), frame, y)
    lineage = exp.estimator_.lineage_
    np.testing.assert_array_equal(exp.train_row_ids_, lineage.row_ids)
    assert exp.n_train_ == 90 and lineage.input_row_ids.size == 120
    explanation = exp.explain(frame.iloc[:3], y[:3], top_k=5)
    held_out = np.setdiff1d(lineage.input_row_ids, lineage.row_ids)
    top = pd.concat([explanation.top(), explanation.top(opponents=True)])
    assert not np.isin(top["row_id"], held_out).any()
    # the training positions map back to the rows of X the net saw, with their lines
    pos = np.searchsorted(stp.row_ids(frame), top["row_id"].to_numpy())
    np.testing.assert_array_equal(top["line"].to_numpy(), pos + 1)
    assert explanation.scores.shape == (3, 90)
    trace = explanation.trace(0, 0)
    assert trace["row_id"] == top["row_id"].iloc[0]
    assert trace["values"]["f0"] == pytest.approx(float(X[pos[0], 0]))


def _exact_linear_scores(X, y, Xte, yte, C):
    exp = InfluenceExplainer(LogisticRegression(C=C, tol=1e-12, max_iter=10_000)).fit(X, y)
    return exp.explain(Xte, yte, keep_scores=True).scores


def test_jax_linear_trak_matches_exact_linear_influence():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=150, d=4)
    Xtr, ytr, Xte, yte = X[:120], y[:120], X[120:], y[120:]
    alpha = 0.05
    init_fn, apply_fn = mlp(hidden=())
    clf = JaxClassifier(
        apply_fn, init_fn, n_epochs=3000, learning_rate=0.05, alpha=alpha, random_state=0
    )
    # same objective up to the (small) penalty on the intercept: C = 1 / (alpha n)
    truth = _exact_linear_scores(Xtr, ytr, Xte, yte, C=1.0 / (alpha * 120))
    for method in ("trak", "ggn"):
        exp = InfluenceExplainer(
            clf, method=method, n_components=64, damping=1e-8, random_state=0
        ).fit(Xtr, ytr)
        scores = exp.explain(Xte, yte, keep_scores=True).scores
        # The Gauss-Newton matrix of a linear model is its Hessian without the penalty:
        # close to the exact influence, not equal.
        assert np.corrcoef(scores.ravel(), truth.ravel())[0, 1] > 0.95
        row = [np.corrcoef(s, t)[0, 1] for s, t in zip(scores, truth)]
        assert np.median(row) > 0.95


def test_torch_linear_trak_matches_exact_linear_influence():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    X, y = _data(n=150, d=4, seed=1)
    Xtr, ytr, Xte, yte = X[:120], y[:120], X[120:], y[120:]
    torch.manual_seed(0)
    net = skorch.NeuralNetBinaryClassifier(
        torch.nn.Linear(4, 1),
        max_epochs=300,
        lr=0.5,
        batch_size=-1,
        train_split=None,
        optimizer=torch.optim.LBFGS,
        verbose=0,
    )
    exp = _fit(
        InfluenceExplainer(net, n_components=64, damping=1e-8, random_state=0),
        Xtr,
        ytr.astype(np.float32),
    )
    scores = exp.explain(Xte, yte, keep_scores=True).scores
    truth = _exact_linear_scores(Xtr, ytr, Xte, yte, C=1e4)
    assert np.corrcoef(scores.ravel(), truth.ravel())[0, 1] > 0.9


def test_ensemble_members_and_projection_seeds_differ():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=100, d=5, n_classes=3)
    init_fn, apply_fn = mlp(hidden=(8,))
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=50, learning_rate=0.05, random_state=0)
    kw = dict(method="trak", n_components=32, damping=1.0, random_state=0)
    exp = InfluenceExplainer(clf, n_models=3, **kw).fit(X, y)
    state = exp.trak_
    seeds = [p.seed_ for p in state.projectors]
    assert len(set(seeds)) == 3
    assert state.models[0] is exp.model_
    w = [np.asarray(m.params_[0]["weight"]) for m in state.models]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[1], w[2])
    # the scores are the mean of the members' own, with the members' mean 1 - p
    s3 = exp.explain(X[:5], y[:5], keep_scores=True).scores
    alone = []
    for m in range(3):
        # (built on the explained model: a member trained on a subset, explained alone,
        # refuses the rows it did not train on; its member replaces the model's)
        one = InfluenceExplainer(FrozenEstimator(exp.model_), **kw).fit(X, y)
        one.trak_.members[0] = state.members[m]  # same projection, no other change
        one.trak_.set_damping(1.0, state.weights)
        alone.append(one.explain(X[:5], y[:5], keep_scores=True).scores)
    np.testing.assert_allclose(s3, np.mean(alone, axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state.weights, np.mean([m.q for m in state.members], axis=0))
    assert not np.allclose(alone[0], s3)
    # last layer only: fewer gradient columns, still a working explanation
    last = InfluenceExplainer(clf, parameters=["1.weight", "1.bias"], **kw).fit(X, y)
    # (27 parameters, fewer than n_components=32: their gradients are kept unprojected)
    assert last.trak_.projectors == [None]
    assert last.trak_.members[0].F.shape[1] == 8 * 3 + 3


def test_ensemble_members_trained_in_worker_processes_equal_serial():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=80, d=5)
    init_fn, apply_fn = mlp(hidden=(8,))
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=30, learning_rate=0.05, random_state=0)
    kw = dict(method="trak", n_components=32, damping=1.0, n_models=3, random_state=0)
    serial = InfluenceExplainer(clf, **kw).fit(X, y)
    parallel = InfluenceExplainer(clf, n_jobs=2, **kw).fit(X, y)
    for a, b in zip(serial.trak_.models[1:], parallel.trak_.models[1:]):
        np.testing.assert_array_equal(
            np.asarray(a.params_[0]["weight"]), np.asarray(b.params_[0]["weight"])
        )
    np.testing.assert_allclose(
        parallel.explain(X[:5], y[:5], keep_scores=True).scores,
        serial.explain(X[:5], y[:5], keep_scores=True).scores,
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("method", ["trak", "ggn"])
def test_memmap_gradient_store_equals_memory(tmp_path, method):
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=90)
    init_fn, apply_fn = mlp(hidden=(8,))
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=30, learning_rate=0.05, random_state=0)
    kw = dict(
        method=method, damping=1.0, n_models=2, n_components=32, block_size=16, random_state=0
    )
    mem = InfluenceExplainer(clf, **kw).fit(X, y)
    disk = InfluenceExplainer(clf, gradient_store=tmp_path, **kw).fit(X, y)
    assert isinstance(disk.trak_.features[0], np.memmap)
    (store,) = tmp_path.iterdir()  # the fit's own directory
    assert store.name.startswith("fit_") and str(store) == disk.trak_.store
    assert sorted(p.name for p in store.iterdir()) == [
        "trak_features_0.npy",
        "trak_features_1.npy",
    ]
    np.testing.assert_array_equal(np.load(store / "trak_features_1.npy"), mem.trak_.features[1])
    a = mem.explain(X[:6], y[:6], keep_scores=True, top_k=3)
    b = disk.explain(X[:6], y[:6], keep_scores=True, top_k=3)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(a.top_indices, b.top_indices)


def test_score_retrains_neural_models_from_scratch():
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=160, d=4)
    init_fn, apply_fn = mlp(hidden=())
    clf = JaxClassifier(
        apply_fn, init_fn, n_epochs=300, learning_rate=0.05, alpha=0.01, random_state=0
    )
    exp = InfluenceExplainer(clf, n_components=16, n_subsets=12, random_state=0)
    exp.fit(X[:120], y[:120])
    # a linear model retrained to convergence: attribution ranks subsets well
    assert exp.score(X[120:], y[120:]) > 0.6


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_rows_to_explain_with_nan_or_infinity_raise(bad):
    """A NaN input gave the row a NaN margin, scores NaN and top rows -1; infinity a
    finite margin (0.548) with non-finite scores, both silently. Truth: the row's
    margin under the net is not a number there."""
    X, y = _data()
    exp = _fit(InfluenceExplainer(_skorch_net(None), n_components=32, random_state=0), X, y)
    Xte = X[:3].copy()
    Xte[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        exp.explain(Xte, y[:3])
    # StandardScaler passes NaN through and refuses infinity itself
    match = "NaN or infinity after the pipeline's preprocessing" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=match):
        frame = pd.DataFrame(Xte, columns=[f"f{j}" for j in range(5)])
        pipe = stp.make_traced_pipeline(StandardScaler(), _skorch_net(None))
        pexp = InfluenceExplainer(pipe, n_components=32, random_state=0)
        _fit(pexp, pd.DataFrame(X, columns=frame.columns), y).explain(frame, y[:3])
    # the finite rows alone are explained
    assert np.isfinite(exp.explain(Xte[[0, 2]], y[[0, 2]]).scores).all()


@pytest.mark.parametrize("method", ["trak", "ggn"])
def test_neural_explanations_say_the_scores_are_estimates(method):
    """Explanations of a neural net had empty notes: nothing said the scores are
    projected / Gauss-Newton estimates over n_models models, not exact influence."""
    X, y = _data()
    exp = InfluenceExplainer(_skorch_net(None), method=method, n_components=16, random_state=0)
    explanation = _fit(exp, X, y).explain(X[:2], y[:2])
    (note,) = [n for n in explanation.notes if n.startswith("neural model")]
    assert "not exact influence" in note and "averaged over 1 model(s)" in note
    if method == "trak":
        assert "TRAK estimates" in note and "projected to 16 dimensions" in note
    else:
        assert "Gauss-Newton estimates" in note and "not projected" in note


def test_fits_into_one_gradient_store_keep_their_own_features(tmp_path):
    # a second explainer fitted into the same gradient_store wrote over the first one's
    # memmapped features: its scores changed by three times their size, with no word
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, mlp

    X, y = _data(n=160)
    init_fn, apply_fn = mlp(hidden=(6,))
    kw = dict(method="trak", n_components=16, damping=1.0, gradient_store=tmp_path)

    def explainer(seed, rows):
        clf = JaxClassifier(apply_fn, init_fn, n_epochs=20, random_state=seed)
        return InfluenceExplainer(clf, random_state=seed, **kw).fit(X[rows], y[rows])

    a = explainer(0, slice(0, 80))
    before = a.explain(X[:3], y[:3], keep_scores=True).scores
    explainer(1, slice(80, 160))
    np.testing.assert_array_equal(a.explain(X[:3], y[:3], keep_scores=True).scores, before)
    # pickled, the features travel in memory: the files may go
    copy = pickle.loads(pickle.dumps(a))
    # a file changed behind its back is refused, not read
    path = a.trak_.features[0].filename
    np.save(path, np.zeros_like(np.asarray(a.trak_.features[0])))
    with pytest.raises(ValueError, match="was written or replaced after"):
        a.explain(X[:3], y[:3])
    np.testing.assert_array_equal(copy.explain(X[:3], y[:3], keep_scores=True).scores, before)
