"""The default step size of the neural removal's fine-tuning (plain SGD steps).

A skorch net's learning rate is the step size of plain SGD steps only when its optimizer
is ``torch.optim.SGD`` (with or without momentum: its plain step is the smaller one), and
then the rate its optimizer's parameter groups hold at the end of training, not ``lr``,
which a learning-rate schedule never changes (:func:`._neural_torch.default_lr`); a
:class:`~sktraceprop.adapters.JaxClassifier`'s ``learning_rate`` only with
``optimizer="sgd"`` (its default ``"adam"`` is Adam).
Any other optimizer's ``lr`` scales another step: Adam's, RMSprop's and Adagrad's
divide the gradient per coordinate by a running scale, so their ``lr`` of about 1e-3
taken as an SGD step hardly moves the net; a trust ratio (LARS) steps by ``lr`` times
``||params||`` per tensor, so its ``lr`` of 20 taken as one diverges; an optimizer
sktraceprop does not know may mean anything by it. For those nets the step is measured:
``1 / (lambda_max + wd)``, ``lambda_max`` the largest eigenvalue of the Gauss-Newton
matrix of the retained mean loss in all parameters (power iteration on at most
``GN_MAX_ROWS`` retained rows), the step that gradient descent on the quadratic model
of the retained objective takes without overshooting along any direction. Mini-batch
steps of that size can still raise the certificate (the retained objective's gradient
norm) by their noise, and the certificate need not fall monotonically as the step
shrinks: ``N_TRIALS`` steps are tried, ``1 / (lambda_max + wd)`` and its halvings (each
trial the influence step, unscaled, then the fine-tuning), and the one that left the
lowest certificate is taken. The range follows the best step when it lies at an edge:
on a net trained by Adagrad (whose own steps, ``lr / sqrt(accumulated squares)``, shrink
with training) the smallest halving was the best, so smaller ones are tried (up to
``EXTRA_HALVINGS`` more, until one leaves a higher certificate); at the top,
``2 / (lambda_max + wd)``, the stability limit of gradient descent on the quadratic
model, is tried. A best step still at an edge is said in the event (``lr_at_edge``).
The removal reports the certificate before and after its fine-tuning, and where the
fine-tuning raised it falls back to smaller steps (:mod:`._neural_step`), whatever the
step.
"""

import numpy as np

from ._influence_step import GN_MAX_ROWS

__all__ = [
    "EXTRA_HALVINGS",
    "FALLBACK_HALVINGS",
    "N_TRIALS",
    "POWER_ITER",
    "choose_step",
    "curvature_step",
    "finite",
    "measured_source",
]

#: Power iterations for ``lambda_max``; it needs a scale, not many digits.
POWER_ITER = 30
#: Steps tried: ``1 / (lambda_max + wd)`` and ``N_TRIALS - 1`` halvings of it.
N_TRIALS = 8
#: Further halvings tried while the smallest step tried is the best.
EXTRA_HALVINGS = 8
#: Halvings of a step (not given) whose fine-tuning raised the certificate, at most.
FALLBACK_HALVINGS = 4


def curvature_step(backend, model, Z, weight_decay):
    """``1 / (lambda_max + wd)`` and ``lambda_max``, ``lambda_max`` the largest eigenvalue
    of the Gauss-Newton matrix of the mean loss over the rows ``Z`` (all parameters)."""
    rows = np.arange(Z.shape[0])
    if rows.shape[0] > GN_MAX_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, GN_MAX_ROWS, replace=False))
    gnvp = backend.gauss_newton_operator(model, Z[rows])
    v = np.random.default_rng(0).normal(size=backend.params_vector(model).shape[0])
    v /= np.linalg.norm(v)
    top = 0.0
    for _ in range(POWER_ITER):
        w = gnvp(v)
        top = float(v @ w)  # a Rayleigh quotient: a lower bound of lambda_max
        norm = float(np.linalg.norm(w))
        if not norm > 0:
            break
        v = w / norm
    curvature = max(top, 0.0) + weight_decay
    if not curvature > 0:
        raise ValueError(
            "the retained objective has no curvature at the model (a Gauss-Newton matrix of "
            "zeros and no weight decay): the fine-tuning's step size cannot be measured; "
            "pass it as lr= to the unlearner."
        )
    return 1.0 / curvature, top


def measured_source(what, why, top, lr):
    """How a measured step was chosen, for the event's ``lr_source``."""
    return (
        f"the {what}'s optimizer is {why}: measured, from 1 / (the largest Gauss-Newton "
        f"eigenvalue {top:.4g} of the retained objective + its weight decay) = {lr:.4g}"
    )


def finite(value):
    """``value`` as a float, None where it is not finite (an event holds JSON numbers)."""
    return float(value) if np.isfinite(value) else None


def _score(certificate):
    # a step that diverged (a non-finite certificate) is the worst, never the best
    return certificate if np.isfinite(certificate) else np.inf


def choose_step(largest, source, certificate_after):
    """The step whose fine-tuning leaves the lowest certificate, ``certificate_after(step)``,
    of ``largest / 2**k`` (``k < N_TRIALS``), extended while the best is at an edge; how
    it was chosen; and, for the event, the edge it is still at (``lr_at_edge``:
    ``"smallest"``, ``"largest"`` or None) and each step tried with its certificate
    (``lr_tried``, by step)."""
    tried = {largest / 2**k: certificate_after(largest / 2**k) for k in range(N_TRIALS)}

    def best():
        return min(tried, key=lambda step: _score(tried[step]))

    if best() == largest and np.isfinite(tried[largest]):
        tried[2 * largest] = certificate_after(2 * largest)
    extra = 0
    while best() == min(tried) and np.isfinite(tried[best()]) and extra < EXTRA_HALVINGS:
        tried[min(tried) / 2] = certificate_after(min(tried) / 2)
        extra += 1
    lr = best()
    edge = None
    if np.isfinite(tried[lr]):
        edge = "smallest" if lr == min(tried) else "largest" if lr == max(tried) else None
    beyond = {
        None: "",
        "smallest": f"; the smallest step tried, {EXTRA_HALVINGS} halvings past the first "
        f"{N_TRIALS} steps: a smaller step may leave a lower certificate; pass a smaller "
        "lr= to try one, or more n_steps=",
        "largest": "; the largest step tried, the stability limit 2 / (lambda_max + wd) of "
        "gradient descent on the quadratic model: a larger step may leave a lower "
        "certificate or overshoot; pass a larger lr= to try one (the event's certificate "
        "says which), or more n_steps=",
    }[edge]
    said = (
        f"{source}, halved {N_TRIALS - 1 + extra} times"
        + (", doubled once" if 2 * largest in tried else "")
        + ": the step of the lowest certificate after the unscaled influence step and the "
        f"fine-tuning ({tried[lr]:.4g} at lr={lr:.4g}{beyond})"
    )
    steps = [[step, finite(tried[step])] for step in sorted(tried)]
    return lr, said, {"lr_at_edge": edge, "lr_tried": steps}
