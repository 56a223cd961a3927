"""Removal from skorch classifiers: last-layer access, fine-tuning, gradient norm."""

import sys

import numpy as np
import torch

from ..adapters._digest import module_digest
from ..gradients._torch_objective import check_torch_objective
from ..gradients._weight_decay import coupled_decays, decay_holder, decay_refusal
from ._finetune_lr import curvature_step, measured_source
from ._neural_backend import minibatches

BLOCK = 1024


def _head(net):
    linear = [m for m in net.module_.modules() if isinstance(m, torch.nn.Linear)]
    if not linear:
        raise NotImplementedError(
            f"{type(net.module_).__name__} has no torch.nn.Linear layer; the neural "
            "correction needs the module to end in one."
        )
    return linear[-1]


def _binary(net):
    return isinstance(net.criterion_, torch.nn.BCEWithLogitsLoss)


def fit_clone(fitted, template, Z, Y, seed):
    """Fit the unfitted clone ``template`` of ``fitted`` on module inputs and targets.

    torch's random state is seeded with ``seed`` for the fit (initialisation and batch
    order, unless the module seeds itself) and restored afterwards. A module given as an
    instance (which the clone holds with the trained weights) is drawn anew first
    (:mod:`sktraceprop.utils._fresh_module_torch`), as its class would be built.
    """
    import skorch

    from ..utils._fresh_module_torch import fresh_module

    # ``prepare`` keeps skorch's own targets (class indices), as float for a binary net
    binary = isinstance(template, skorch.NeuralNetBinaryClassifier)
    on_gpu = torch.cuda.is_available() and str(template.device).startswith("cuda")
    devices = list(range(torch.cuda.device_count())) if on_gpu else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        fresh_module(template, "calibration='crossfit'")
        return template.fit(Z, Y.astype(np.float32) if binary else Y)


def fresh_clones(fitted):
    """Whether the clones :func:`fit_clone` fits of ``fitted`` have their module drawn
    anew (a module given as an instance). Raises ValueError, before any clone is fitted,
    where it cannot be (:func:`~sktraceprop.utils._fresh_module_torch.fresh_module`);
    torch's random state is left as it was."""
    from sklearn.base import clone

    from ..utils._fresh_module_torch import fresh_module, module_instance

    if not module_instance(fitted):
        return False
    on_gpu = torch.cuda.is_available() and str(fitted.device).startswith("cuda")
    with torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if on_gpu else []):
        return fresh_module(clone(fitted), "calibration='crossfit'")


def fit_retrain(fitted, template, Z, Y, seed):
    """As :func:`fit_clone`, seeded by ``seed`` whatever the module's constructor does
    (:mod:`._neural_seed_torch`). Returns ``(net, note)``: ``note`` says where the
    initial weights do not depend on ``seed`` (else None)."""
    import skorch

    from ._neural_seed_torch import seed_note, seeded

    binary = isinstance(template, skorch.NeuralNetBinaryClassifier)
    on_gpu = torch.cuda.is_available() and str(template.device).startswith("cuda")
    devices = list(range(torch.cuda.device_count())) if on_gpu else []
    note = seed_note(fitted, template, seed, devices)
    with seeded(seed, devices):
        return template.fit(Z, Y.astype(np.float32) if binary else Y), note


def _forward_with_head(net, X):
    """Module outputs, last-layer inputs and last-layer outputs, in eval mode."""
    head = _head(net)
    seen = {}

    def hook(module, inputs, output):
        seen["a"], seen["z"] = inputs[0], output

    module = net.module_
    training = module.training
    handle = head.register_forward_hook(hook)
    module.eval()
    outs, feats, logits = [], [], []
    try:
        with torch.no_grad():
            for start in range(0, X.shape[0], BLOCK):
                xb = torch.as_tensor(X[start : start + BLOCK], device=net.device)
                outs.append(module(xb).detach().cpu().numpy())
                feats.append(seen["a"].detach().cpu().numpy())
                logits.append(seen["z"].detach().cpu().numpy())
    finally:
        handle.remove()
        module.train(training)
    return np.concatenate(outs), np.concatenate(feats), np.concatenate(logits)


def _class_indices(y, n_classes):
    """``y`` as int64 class indices in ``[0, n_classes)``, skorch's targets; raise for
    any other value (a cast would make -1 the last class and 0.5 class 0)."""
    y = np.asarray(y).ravel()
    if y.dtype.kind not in "iufb":
        raise ValueError(
            f"y must hold class indices (skorch's targets); got values of dtype {y.dtype}."
        )
    bad = (y != np.round(y)) | (y < 0) | (y >= n_classes) if y.size else np.zeros(0, bool)
    if bad.any():
        raise ValueError(
            f"y must hold class indices in [0, {n_classes - 1}] for this net; got "
            f"{np.unique(y[bad])[:5].tolist()}."
        )
    return y.astype(np.int64)


def prepare(net, Z, y):
    """Float32 module inputs and integer targets; raise if the head is not supported."""
    criterion = getattr(net, "criterion_", None)
    if not isinstance(
        criterion, torch.nn.NLLLoss | torch.nn.CrossEntropyLoss | torch.nn.BCEWithLogitsLoss
    ):
        raise NotImplementedError(
            f"the neural correction needs NLLLoss, CrossEntropyLoss or BCEWithLogitsLoss; "
            f"{type(net).__name__} uses {type(criterion).__name__}."
        )
    check_torch_objective(net, "the neural correction")
    weight_decay(net)  # one for all parameters, checked at fit
    Z = np.ascontiguousarray(Z, dtype=np.float32)
    # The last Linear layer must produce the logits: check on a few rows.
    out, _, z = _forward_with_head(net, Z[:64])
    z = z.reshape(z.shape[0], -1).astype(np.float64)
    Y = _class_indices(y, 2 if z.shape[1] == 1 else z.shape[1])
    out = out.reshape(out.shape[0], -1).astype(np.float64)
    if isinstance(criterion, torch.nn.NLLLoss):
        top = z.max(1, keepdims=True)
        expected = z - top - np.log(np.exp(z - top).sum(1, keepdims=True))
        out = np.log(np.clip(out, 1e-30, None))
        ok = np.allclose(out, expected, atol=1e-3)
    else:
        ok = out.shape == z.shape and np.allclose(out, z, atol=1e-5)
    if not ok:
        raise NotImplementedError(
            f"the last torch.nn.Linear of {type(net.module_).__name__} does not produce the "
            "logits the loss is taken on (only a softmax may follow it); the neural "
            "correction works on that layer."
        )
    return Z, Y


def last_layer_inputs(net, Z):
    _, a, z = _forward_with_head(net, Z)
    a = a.reshape(a.shape[0], -1)
    if _head(net).bias is not None:
        a = np.hstack([a, np.ones((a.shape[0], 1), a.dtype)])
    return a, z.reshape(z.shape[0], -1)


def get_last_layer(net):
    head = _head(net)
    W = head.weight.detach().cpu().numpy().astype(np.float64)
    if head.bias is not None:
        W = np.hstack([W, head.bias.detach().cpu().numpy()[:, None]])
    return W


def set_last_layer(net, W):
    head = _head(net)
    with torch.no_grad():
        n_in = head.weight.shape[1]
        head.weight.copy_(torch.as_tensor(W[:, :n_in], dtype=head.weight.dtype))
        if head.bias is not None:
            head.bias.copy_(torch.as_tensor(W[:, n_in], dtype=head.bias.dtype))


def reset_optimizer(net):
    """Clear the state of the net's optimizers (momentum buffers hold past gradients)."""
    for value in vars(net).values():
        if isinstance(value, torch.optim.Optimizer):
            value.state.clear()


def record_held_rows(net, Z, Y):
    """Record on the net how many rows it holds after a removal, with its corrected
    parameters (``_held_rows``): its ``history_`` counts the rows of its fit's last
    epoch, removed rows included, which an explainer given the net alone (a pickled
    ``unlearner.estimator_``) compared with the rows it was given."""
    # the instance's own dict: skorch's __setattr__ inspects what it is given
    net.__dict__["_held_rows"] = (int(Z.shape[0]), module_digest(net))


def weight_decay(net):
    """The weight decay the net's optimizer applies, read from its parameter groups.

    Not from ``optimizer__weight_decay`` alone: an optimizer's own default is not a
    parameter of the net. Groups with different weight decays
    (``optimizer__param_groups``) make an objective the removal does not model, and a
    decoupled decay (``AdamW``, :mod:`sktraceprop.gradients._weight_decay`) is no L2
    term of any objective: both refused.
    """
    refusal = decay_refusal(net, "the neural correction")
    if refusal is not None:
        raise refusal
    groups = getattr(decay_holder(getattr(net, "optimizer_", None)), "param_groups", None)
    if not groups:
        return float(getattr(net, "optimizer__weight_decay", 0.0) or 0.0)
    values = coupled_decays(net.optimizer_)
    if len(values) > 1:
        raise NotImplementedError(
            f"the optimizer of {type(net).__name__} has parameter groups with different "
            f"weight decays {values}; the neural correction needs one for all parameters."
        )
    return values[0]


def default_lr(net, Z, weight_decay):
    """The fine-tuning's step size, how it was chosen, and whether it is the largest of
    the steps to try (:mod:`._finetune_lr`): the learning rate the net's
    ``torch.optim.SGD`` holds at the end of training (one for all parameter groups), else
    the step measured from the curvature of the retained objective at the rows ``Z``.

    The rate is read from the optimizer's parameter groups, not the net's ``lr``: a
    learning-rate schedule (skorch's ``LRScheduler`` callback, a torch scheduler the
    user stepped) changes the groups' rate, never ``lr``, and after a decaying one the
    net's ``lr`` is a step the training stopped taking long before its end (the rate
    held is the one the training's next step would have taken).
    """
    optimizer = getattr(net, "optimizer_", None)
    if type(optimizer) is torch.optim.SGD:
        rates = {float(group["lr"]) for group in optimizer.param_groups}
        if not rates or rates == {float(net.lr)}:
            return float(net.lr), "the net's lr (its optimizer is SGD)", False
        if len(rates) == 1 and min(rates) > 0:
            (rate,) = rates
            return (
                rate,
                f"the learning rate {rate:.4g} the net's SGD optimizer holds at the end of "
                f"training (a learning-rate schedule moved it from the net's "
                f"lr={float(net.lr):g})",
                False,
            )
        why = (
            f"SGD with parameter groups of different learning rates {sorted(rates)}"
            if len(rates) > 1
            else "SGD whose learning rate a schedule brought to 0 by the end of training"
        )
    else:
        name = type(optimizer).__name__
        why = f"{name}, whose lr={float(net.lr):g} is no step size of plain SGD steps"
    lr, top = curvature_step(sys.modules[__name__], net, Z, weight_decay)
    return lr, measured_source("net", why, top, lr), True


def _loss(net, X, Y):
    xb = torch.as_tensor(X, device=net.device)
    y_pred = net.module_(xb)
    if _binary(net):
        yb = torch.as_tensor(Y, dtype=y_pred.dtype, device=net.device).reshape(y_pred.shape)
    else:
        yb = torch.as_tensor(Y, device=net.device)
    return net.get_loss(y_pred, yb, X=xb, training=True)


def finetune(net, X, Y, *, n_steps, lr, weight_decay):
    """``n_steps`` plain SGD steps on the retained rows, the net's batch size and loss."""
    if n_steps == 0:
        return
    module = net.module_
    training = module.training
    module.train()
    optimizer = torch.optim.SGD(module.parameters(), lr=lr, weight_decay=weight_decay)
    try:
        for idx in minibatches(X.shape[0], net.batch_size, n_steps):
            optimizer.zero_grad()
            _loss(net, X[idx], Y[idx]).backward()
            optimizer.step()
    finally:
        module.train(training)
        optimizer.zero_grad()


def gradient_norm(net, X, Y, weight_decay):
    """Norm of the gradient of the mean retained loss plus ``wd / 2 ||theta||^2``."""
    module = net.module_
    training = module.training
    module.eval()
    params = [p for p in module.parameters() if p.requires_grad]
    grads = [torch.zeros_like(p) for p in params]
    n = X.shape[0]
    try:
        for start in range(0, n, BLOCK):
            stop = min(start + BLOCK, n)
            loss = _loss(net, X[start:stop], Y[start:stop]) * ((stop - start) / n)
            for g, gb in zip(grads, torch.autograd.grad(loss, params)):
                g += gb
    finally:
        module.train(training)
    total = sum(float(((g + weight_decay * p.detach()) ** 2).sum()) for g, p in zip(grads, params))
    return float(np.sqrt(total))


def _named_params(net):
    return [(n, p) for n, p in net.module_.named_parameters() if p.requires_grad]


def params_vector(net):
    """All trainable parameters, flattened in float64."""
    return np.concatenate(
        [p.detach().cpu().numpy().astype(np.float64).ravel() for _, p in _named_params(net)]
    )


def set_params_vector(net, v):
    with torch.no_grad():
        start = 0
        for _, p in _named_params(net):
            stop = start + p.numel()
            p.copy_(torch.as_tensor(v[start:stop], dtype=p.dtype).reshape(p.shape))
            start = stop


def loss_gradient(net, X, Y):
    """Sum over the rows of the per-row loss gradients, flattened in float64."""
    module = net.module_
    training = module.training
    module.eval()
    params = [p for _, p in _named_params(net)]
    grads = [torch.zeros_like(p) for p in params]
    try:
        for start in range(0, X.shape[0], BLOCK):
            stop = min(start + BLOCK, X.shape[0])
            loss = _loss(net, X[start:stop], Y[start:stop]) * (stop - start)
            for g, gb in zip(grads, torch.autograd.grad(loss, params)):
                g += gb
    finally:
        module.train(training)
    return np.concatenate([g.cpu().numpy().astype(np.float64).ravel() for g in grads])


def gauss_newton_operator(net, X):
    """``v -> G v``, ``G`` the Gauss-Newton matrix of the mean loss over ``X`` in all
    parameters: ``mean_i J_i^T Lambda_i J_i`` with ``J_i`` the Jacobian of the last
    layer's outputs and ``Lambda_i`` the softmax or sigmoid Hessian."""
    from torch.func import functional_call, jvp, vjp

    module, head = net.module_, _head(net)
    params = {n: p.detach() for n, p in _named_params(net)}
    names = list(params)
    shapes = [p.shape for p in params.values()]
    sizes = [p.numel() for p in params.values()]
    binary = _binary(net)
    n = X.shape[0]
    blocks = [torch.as_tensor(X[s : s + BLOCK], device=net.device) for s in range(0, n, BLOCK)]

    def logits(p, xb):
        seen = {}
        handle = head.register_forward_hook(lambda m, i, o: seen.__setitem__("z", o))
        try:
            functional_call(module, p, (xb,))
        finally:
            handle.remove()
        return seen["z"].reshape(xb.shape[0], -1)

    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            probs = []
            for xb in blocks:
                z = logits(params, xb)
                probs.append(torch.sigmoid(z) if binary else torch.softmax(z, dim=1))
    finally:
        module.train(training)

    def matvec(v):
        dtype = next(iter(params.values())).dtype
        parts = torch.split(torch.as_tensor(v, dtype=dtype, device=net.device), sizes)
        tangent = {k: t.reshape(s) for k, t, s in zip(names, parts, shapes)}
        out = {k: torch.zeros_like(p) for k, p in params.items()}
        module.eval()
        try:
            for xb, P in zip(blocks, probs):
                _, Jv = jvp(lambda p, xb=xb: logits(p, xb), (params,), (tangent,))
                if binary:
                    LJv = P * (1.0 - P) * Jv
                else:
                    LJv = P * Jv - P * (P * Jv).sum(dim=1, keepdim=True)
                _, pullback = vjp(lambda p, xb=xb: logits(p, xb), params)
                (g,) = pullback(LJv / n)
                for k in names:
                    out[k] += g[k]
        finally:
            module.train(training)
        return np.concatenate([out[k].cpu().numpy().astype(np.float64).ravel() for k in names])

    return matvec
