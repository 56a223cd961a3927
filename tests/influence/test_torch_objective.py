"""A skorch net trained on another loss than the plain mean cross-entropy is refused.

TRAK and the Gauss-Newton influence differentiate the plain cross-entropy of the net's
outputs; a net trained with class weights, pos_weight, label smoothing, a summed loss,
another criterion or an overridden get_loss was scored as if trained without them.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sktraceprop import InfluenceExplainer

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import TanhNet  # noqa: E402


class _CustomLoss(torch.nn.Module):
    def forward(self, z, y):
        return torch.nn.functional.cross_entropy(z, y) + 0.1 * z.pow(2).mean()


class _ShiftedCrossEntropy(torch.nn.CrossEntropyLoss):
    def forward(self, z, y):
        return super().forward(z - z[:, :1], y) + 0.1 * z.abs().mean()


class _PenalisedNet(skorch.NeuralNetClassifier):
    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        return loss + 1e-2 * sum(p.abs().sum() for p in self.module_.parameters())


def _data():
    X, y = make_classification(48, 4, n_informative=4, n_redundant=0, random_state=0)
    return X.astype(np.float32), y.astype(np.int64)


def _net(cls=skorch.NeuralNetClassifier, **kwargs):
    params = dict(
        module=TanhNet, max_epochs=2, lr=0.05, batch_size=16, train_split=None, verbose=0
    )
    if issubclass(cls, skorch.NeuralNetClassifier):
        params["criterion"] = torch.nn.CrossEntropyLoss
    params.update(kwargs)
    torch.manual_seed(0)
    return cls(**params)


REFUSED = {
    "class weights": (dict(criterion__weight=torch.tensor([1.0, 5.0])), "per-class weights"),
    "label smoothing": (dict(criterion__label_smoothing=0.1), "label_smoothing=0.1"),
    "summed": (dict(criterion__reduction="sum"), "reduction='sum'"),
    "ignore_index a class": (dict(criterion__ignore_index=1), "ignore_index=1"),
    "custom criterion": (dict(criterion=_CustomLoss), "criterion is _CustomLoss"),
    "subclass forward": (dict(criterion=_ShiftedCrossEntropy), "overrides the forward"),
    "nll weights": (
        dict(criterion=torch.nn.NLLLoss, criterion__weight=torch.tensor([2.0, 1.0])),
        "per-class weights",
    ),
    "pos_weight": (
        dict(
            cls=skorch.NeuralNetBinaryClassifier,
            module__n_out=1,
            criterion__pos_weight=torch.tensor(3.0),
        ),
        "pos_weight",
    ),
    "regressor": (dict(cls=skorch.NeuralNetRegressor, module__n_out=1), "MSELoss"),
    "get_loss": (dict(cls=_PenalisedNet), "_PenalisedNet overrides get_loss"),
}


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_net_with_another_objective_is_refused(case, fitted):
    kwargs, named = REFUSED[case]
    X, y = _data()
    net = _net(**kwargs)
    if isinstance(net, skorch.NeuralNetBinaryClassifier | skorch.NeuralNetRegressor):
        y = y.astype(np.float32)
    if fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net.fit(X, y)
    with pytest.raises(ValueError, match="plain mean cross-entropy") as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            InfluenceExplainer(net, method="ggn", random_state=0).fit(X, y)
    assert named in str(info.value)


def _softmax_net():
    return torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2), torch.nn.Softmax(-1)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(criterion=torch.nn.NLLLoss, module=_softmax_net),
        dict(cls=skorch.NeuralNetBinaryClassifier, module__n_out=1),
    ],
    ids=["cross-entropy", "nll-on-softmax", "binary"],
)
def test_plain_cross_entropy_nets_are_explained(kwargs):
    X, y = _data()
    net = _net(**kwargs)
    if isinstance(net, skorch.NeuralNetBinaryClassifier):
        y = y.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(net, method="ggn", damping=0.1, random_state=0).fit(X, y)
    assert np.isfinite(exp.explain(X[:2], y[:2]).scores).all()


class _OwnNet(skorch.NeuralNetClassifier):
    """A user's subclass that changes nothing the loss depends on."""


def test_user_subclass_of_a_skorch_net_is_explained_as_the_net():
    # a subclass defined outside skorch was taken for a linear model and refused with
    # "not supported by the closed-form linear gradients"
    X, y = _data()
    scores = []
    for cls in (skorch.NeuralNetClassifier, _OwnNet):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exp = InfluenceExplainer(_net(cls), method="ggn", damping=0.1, random_state=0)
            scores.append(exp.fit(X, y).explain(X[:3], y[:3]).scores)
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-6, atol=1e-9)


class _TwoInputNet(torch.nn.Module):
    built = 0

    def __init__(self):
        super().__init__()
        type(self).built += 1
        self.hidden = torch.nn.Linear(4, 6)
        self.out = torch.nn.Linear(6, 2)

    def forward(self, data, shift=None):
        h = self.hidden(data)
        return self.out(torch.tanh(h if shift is None else h + shift))


@pytest.mark.parametrize("form", ["dict", "tuple"])
def test_dict_or_tuple_inputs_are_refused_before_the_fit(form):
    # skorch hands a dict's entries to forward as keywords: the gradients were taken of
    # np.asarray(dict), which raised "float() argument must be ... not 'dict'" after fitting
    X, y = _data()
    X_in = {"data": X, "shift": np.ones((48, 6), np.float32)}
    if form == "tuple":
        X_in = tuple(X_in.values())
    _TwoInputNet.built = 0
    net = _net(module=_TwoInputNet)
    with pytest.raises(TypeError, match=f"X is a {form} of module inputs"):
        InfluenceExplainer(net, method="ggn", random_state=0).fit(X_in, y)
    assert _TwoInputNet.built == 0


def test_sample_weight_is_refused_before_the_fit():
    # skorch handed sample_weight to the module's forward: "forward() got an unexpected
    # keyword argument 'sample_weight'" after the module was built
    X, y = _data()
    _TwoInputNet.built = 0
    net = _net(module=_TwoInputNet)
    with pytest.raises(ValueError, match="sample_weight is not supported for neural models"):
        InfluenceExplainer(net, method="ggn", random_state=0).fit(X, y, sample_weight=np.ones(48))
    assert _TwoInputNet.built == 0


def test_retrains_of_a_net_with_a_validation_split_count_only_the_rows_they_trained_on():
    # the LDS retrain (and the damping retrains) of a clone keeping train_split=ValidSplit
    # trained on 3/4 of each subset, while the prediction summed the scores of all of it
    from sktraceprop.metrics import linear_datamodeling_score

    X, y = _data()
    split = skorch.dataset.ValidSplit(4)
    net = _net(train_split=split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = InfluenceExplainer(net, method="ggn", damping=0.1, random_state=0).fit(X, y)
    assert exp.n_train_ == 36
    seen = []
    influence_sums = exp.influence_sums

    def spy(X_test, y_test, masks):
        seen.append(np.array(masks))
        return influence_sums(X_test, y_test, masks)

    exp.influence_sums = spy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linear_datamodeling_score(exp, X, y, X[:5], y[:5], n_subsets=3, random_state=0)
    (masks,) = seen
    assert masks.shape == (3, 36)
    # independent truth: skorch's own (deterministic) split of each subset's rows
    rng = np.random.RandomState(0)
    for m in masks:
        subset = np.zeros(36, dtype=bool)
        subset[rng.choice(36, size=18, replace=False)] = True
        rows = np.flatnonzero(subset)
        ds_train, _ = exp.model_.get_split_datasets(exp.Xt_[rows], exp.y_[rows])
        expected = np.zeros(36, dtype=bool)
        expected[rows[np.asarray(ds_train.indices)]] = True
        assert expected.sum() < subset.sum()
        np.testing.assert_array_equal(m, expected)
        from sktraceprop.influence._neural_refit import refit_on

        _, trained = refit_on(exp.model_, exp.Xt_, exp.y_, subset, 0)
        np.testing.assert_array_equal(trained, expected)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_net_fitted_twice_is_explained_with_a_warning(how):
    # a fitted bare net trained by two fits (the first on other rows) was explained as if
    # X were all it trained on, with no word
    from sktraceprop.exceptions import LineageWarning

    X, y = _data()
    X_other, y_other = X[::-1] + 1.0, y[::-1]
    net = _net(warm_start=how == "warm_start").fit(X_other, y_other)
    if how == "warm_start":
        net.fit(X, y)
    else:
        net.partial_fit(X, y)
    with pytest.warns(LineageWarning, match="ran 4 epochs, more than max_epochs=2"):
        InfluenceExplainer(net, method="ggn", damping=0.1, random_state=0).fit(X, y)
    once = _net().fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LineageWarning)
        InfluenceExplainer(once, method="ggn", damping=0.1, random_state=0).fit(X, y)
    # (a bare net's training rows are unknown, which is said; not that it was refitted)
    assert not [w for w in caught if "epochs" in str(w.message)]
    assert [w for w in caught if "nothing records which rows" in str(w.message)]


class _CountingNet(TanhNet):
    forwards = 0

    def forward(self, x):
        type(self).forwards += 1
        return super().forward(x)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"criterion__weight": torch.tensor([1.0, 3.0])},
        {"criterion__label_smoothing": 0.1},
        {"criterion": _CustomLoss},
    ],
    ids=["weight", "label_smoothing", "custom"],
)
def test_an_unfitted_net_is_refused_before_it_is_fitted(kwargs):
    """The criterion an unfitted net will train with is checked before any fit: the
    explainer and the unlearner trained the net, then refused it."""
    from sktraceprop.unlearning import GradientCorrectionUnlearner

    X, y = _data()
    for make in (InfluenceExplainer, GradientCorrectionUnlearner):
        _CountingNet.forwards = 0
        with pytest.raises(ValueError, match="another objective than the plain mean"):
            make(_net(module=_CountingNet, **kwargs)).fit(X, y)
        assert _CountingNet.forwards == 0  # nothing was trained


def _sigmoid_net():
    return torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2), torch.nn.Sigmoid()
    )


@pytest.mark.parametrize("module", [_sigmoid_net, TanhNet], ids=["sigmoid", "logits"])
def test_nll_loss_on_outputs_that_are_not_probabilities_is_refused(module):
    # skorch trains NLLLoss on the log of the module's outputs: two sigmoids (rows summing
    # to 1.03) were explained with no word as a softmax cross-entropy; logits gave NaN
    # and "array must not contain infs or NaNs" from scipy
    from sktraceprop.gradients import torch_margins

    X, y = _data()
    net = _net(criterion=torch.nn.NLLLoss, module=module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y)
    with pytest.raises(ValueError, match="must then be probabilities"):
        torch_margins(net, X, y)
    with pytest.raises(ValueError, match="must then be probabilities"):
        InfluenceExplainer(_net(criterion=torch.nn.NLLLoss, module=module), damping=0.1).fit(X, y)


def test_a_net_with_non_finite_outputs_is_refused_with_its_cause():
    X, y = _data()
    net = _net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y)
    with torch.no_grad():
        net.module_.out.bias.fill_(float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="margins of 48 of 48 training rows are NaN"):
            InfluenceExplainer(net, damping=0.1).fit(X, y)
