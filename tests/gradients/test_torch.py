"""Per-sample torch gradients against one ``loss.backward()`` per sample."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sktraceprop.gradients._torch import torch_per_sample_gradients  # noqa: E402
from sktraceprop.gradients._torch_margins import torch_margins  # noqa: E402
from sktraceprop.gradients._torch_module import torch_parameter_names  # noqa: E402


def _data(n=23, d=5, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, n_classes, size=n)
    return X, y


def _mlp(d, n_out, seed=0, final=None):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(d, 7), torch.nn.Tanh(), torch.nn.Linear(7, n_out)]
    if final is not None:
        layers.append(final)
    return torch.nn.Sequential(*layers)


def _loop_truth(module, X, y, names, output="margin"):
    """One backward pass per sample, margin written out by hand (no shared code)."""
    rows = []
    params = dict(module.named_parameters())
    for x, t in zip(X, y):
        module.zero_grad()
        z = module(torch.as_tensor(x[None])).reshape(-1)
        t = int(t)
        if z.shape[0] == 1:
            m = z[0] if t == 1 else -z[0]
        else:
            others = torch.cat([z[:t], z[t + 1 :]])
            m = z[t] - torch.logsumexp(others, 0)
        value = torch.log1p(torch.exp(-m)) if output == "loss" else m
        value.backward()
        rows.append(np.concatenate([params[k].grad.numpy().ravel() for k in names]))
    return np.array(rows)


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("subset", [None, ["2.weight", "2.bias"]])
@pytest.mark.parametrize("output", ["margin", "loss"])
def test_matches_per_sample_backward(n_out, subset, output):
    X, y = _data(n_classes=2 if n_out == 1 else n_out)
    module = _mlp(X.shape[1], n_out)
    names = torch_parameter_names(module, subset)
    G = torch_per_sample_gradients(module, X, y, parameters=subset, output=output, block_size=5)
    truth = _loop_truth(module, X, y, names, output=output)
    assert G.dtype == np.float32
    assert G.shape == truth.shape
    np.testing.assert_allclose(G, truth, rtol=1e-4, atol=1e-5)
    assert np.abs(truth).max() > 1e-2


def test_subset_by_predicate_and_columns_in_order():
    X, y = _data()
    module = _mlp(X.shape[1], 3)
    full = torch_per_sample_gradients(module, X, y)
    last = torch_per_sample_gradients(module, X, y, parameters=lambda name: name.startswith("2."))
    # 5*7 + 7 first-layer columns come first
    np.testing.assert_allclose(last, full[:, 42:], rtol=1e-5, atol=1e-6)
    assert torch_parameter_names(module) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_loss_gradient_is_reweighted_margin_gradient():
    X, y = _data()
    module = _mlp(X.shape[1], 3)
    gm = torch_per_sample_gradients(module, X, y)
    gl = torch_per_sample_gradients(module, X, y, output="loss")
    _, p_true = torch_margins(module, X, y)
    np.testing.assert_allclose(gl, -(1 - p_true)[:, None] * gm, rtol=1e-4, atol=1e-6)


def test_margin_sign_on_known_linear_case():
    # one linear unit z = w.x + b with w = (2, -1), b = 0.5: margin and gradient by hand
    lin = torch.nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight[:] = torch.tensor([[2.0, -1.0]])
        lin.bias[:] = 0.5
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 3.0]], dtype=np.float32)
    y = np.array([1, 0, 0])
    margins, p_true = torch_margins(lin, X, y)
    np.testing.assert_allclose(margins, [2.5, -2.5, 2.5])
    np.testing.assert_allclose(p_true, 1 / (1 + np.exp(-margins)), rtol=1e-6)
    G = torch_per_sample_gradients(lin, X, y)
    # d m / d(w, b) = (2y - 1) * (x, 1)
    np.testing.assert_allclose(G, [[1, 0, 1], [-1, 0, -1], [0, -3, -1]])
    # multiclass: logits (3, 1, 1) for class 0 give 3 - logsumexp(1, 1) = 2 - log 2
    lin3 = torch.nn.Linear(1, 3, bias=False)
    with torch.no_grad():
        lin3.weight[:] = torch.tensor([[3.0], [1.0], [1.0]])
    m3, p3 = torch_margins(lin3, np.ones((1, 1), np.float32), [0])
    np.testing.assert_allclose(m3, [2 - np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(p3, [np.exp(3) / (np.exp(3) + 2 * np.e)], rtol=1e-6)


def test_memmap_and_out_array_equal_in_memory(tmp_path):
    X, y = _data(n=31)
    module = _mlp(X.shape[1], 3)
    G = torch_per_sample_gradients(module, X, y, block_size=8)
    path = tmp_path / "g.npy"
    M = torch_per_sample_gradients(module, X, y, block_size=8, out=path)
    assert isinstance(M, np.memmap)
    np.testing.assert_array_equal(np.load(path, mmap_mode="r"), G)
    buf = np.zeros_like(G)
    assert torch_per_sample_gradients(module, X, y, block_size=7, out=buf) is buf
    np.testing.assert_allclose(buf, G, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="shape"):
        torch_per_sample_gradients(module, X, y, out=np.zeros((31, 3), np.float32))


def test_projector_applied_per_block(tmp_path):
    X, y = _data(n=19)
    module = _mlp(X.shape[1], 3)
    G = torch_per_sample_gradients(module, X, y)
    R = np.random.default_rng(1).normal(size=(G.shape[1], 4)).astype(np.float32)
    calls = []

    def project(block):
        calls.append(block.shape[0])
        assert block.dtype == np.float32
        return block @ R

    P = torch_per_sample_gradients(
        module, X, y, block_size=6, projector=project, out=tmp_path / "p.npy"
    )
    assert calls == [6, 6, 6, 1]
    np.testing.assert_allclose(P, G @ R, rtol=1e-4, atol=1e-5)


def test_softmax_module_detected():
    X, y = _data()
    module = _mlp(X.shape[1], 3, final=torch.nn.Softmax(dim=-1))
    with pytest.raises(ValueError, match="Softmax"):
        torch_per_sample_gradients(module, X, y)
    logits_module = module[:-1]
    G = torch_per_sample_gradients(module, X, y, outputs="proba")
    # log(softmax(z) + eps) has the margin of z up to eps
    np.testing.assert_allclose(G, torch_per_sample_gradients(logits_module, X, y), atol=1e-4)


def test_labels_out_of_range():
    X, y = _data()
    with pytest.raises(ValueError, match="class indices"):
        torch_per_sample_gradients(_mlp(X.shape[1], 1), X, y)


def test_skorch_nets_binary_and_multiclass():
    skorch = pytest.importorskip("skorch")
    X, y = _data(n=40, n_classes=3)

    class Net(torch.nn.Module):
        def __init__(self, n_out=3, softmax=True):
            super().__init__()
            self.hidden = torch.nn.Linear(5, 6)
            self.out = torch.nn.Linear(6, n_out)
            self.softmax = softmax

        def forward(self, X):
            z = self.out(torch.relu(self.hidden(X)))
            if self.softmax:
                return torch.softmax(z, dim=-1)
            return z.squeeze(-1) if z.shape[-1] == 1 else z

    # NeuralNetClassifier's default NLLLoss: the module returns probabilities
    net = skorch.NeuralNetClassifier(Net, max_epochs=2, train_split=None, verbose=0)
    net.fit(X, y)
    G = torch_per_sample_gradients(net, X, y, parameters=["out.weight", "out.bias"])
    plain = Net(softmax=False)
    plain.load_state_dict(net.module_.state_dict())
    truth = _loop_truth(plain, X, y, ["out.weight", "out.bias"])
    np.testing.assert_allclose(G, truth, rtol=1e-3, atol=1e-4)
    # the skorch loss agrees with the margin: loss_i = log(1 + exp(-m_i))
    margins, p_true = torch_margins(net, X, y)
    np.testing.assert_allclose(p_true, net.predict_proba(X)[np.arange(40), y], rtol=1e-4)

    yb = (y > 0).astype(np.float32)
    bnet = skorch.NeuralNetBinaryClassifier(
        Net, module__n_out=1, module__softmax=False, max_epochs=2, train_split=None, verbose=0
    )
    bnet.fit(X, yb)
    Gb = torch_per_sample_gradients(bnet, X, yb)
    names = torch_parameter_names(bnet)
    np.testing.assert_allclose(Gb, _loop_truth(bnet.module_, X, yb, names), rtol=1e-4, atol=1e-5)
    mb, pb = torch_margins(bnet, X, yb)
    np.testing.assert_allclose(
        pb, np.where(yb == 1, bnet.predict_proba(X)[:, 1], bnet.predict_proba(X)[:, 0]), rtol=1e-4
    )


@pytest.mark.parametrize("n_out", [1, 2, 4])
@pytest.mark.parametrize("subset", [None, ["2.weight", "2.bias"]])
def test_gauss_newton_factors_equal_the_dense_matrix(n_out, subset):
    from sktraceprop.gradients import torch_gauss_newton_factors

    X, _ = _data(n=11)
    module = _mlp(X.shape[1], n_out)
    names = torch_parameter_names(module, subset)
    A = torch_gauss_newton_factors(module, X, parameters=subset, block_size=4)
    params = dict(module.named_parameters())
    G = 0.0
    for x in X:  # one backward pass per logit, the loss Hessian written out
        z = module(torch.as_tensor(x[None])).reshape(-1)
        J = []
        for k in range(n_out):
            grads = torch.autograd.grad(z[k], [params[n] for n in names], retain_graph=True)
            J.append(np.concatenate([g.numpy().ravel() for g in grads]))
        J, zz = np.array(J, dtype=np.float64), z.detach().double().numpy()
        if n_out == 1:
            p = 1 / (1 + np.exp(-zz))
            lam = np.diag(p * (1 - p))
        else:
            p = np.exp(zz - zz.max())
            p /= p.sum()
            lam = np.diag(p) - np.outer(p, p)
        G = G + J.T @ lam @ J
    assert A.dtype == np.float32
    assert A.shape[0] == X.shape[0] * max(1, n_out - 1)
    np.testing.assert_allclose(A.astype(np.float64).T @ A, G, rtol=1e-4, atol=1e-6)
    assert np.abs(G).max() > 1e-2


def test_fractional_labels_are_refused():
    # 0.5 was cast to class 0 silently
    X, y = _data(n=6)
    module = _mlp(X.shape[1], 3)
    with pytest.raises(ValueError, match="whole numbers"):
        torch_margins(module, X, y + 0.5)
    with pytest.raises(ValueError, match="not one-hot"):
        torch_per_sample_gradients(module, X, np.eye(3)[y])
    np.testing.assert_array_equal(
        torch_margins(module, X, y.astype(np.float32))[0], torch_margins(module, X, y)[0]
    )
