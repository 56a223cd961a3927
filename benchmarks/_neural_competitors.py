"""traker and dattri TRAK on the torch nets of ``bench_neural.py`` (own venv, CPU).

Run by ``bench_neural.py`` with ``benchmarks/.venv-attr/bin/python``; reads an npz holding
the explained model's state_dict (keys ``sd__<name>``), its class name in
``_neural_nets.py`` (``net``), the train/test arrays, ``n_out`` (1: binary single-logit
net, K: K-class net) and ``proj_dim``, and writes a JSON list of ``{method, scores
(n_test, n_train), wall_s, cpu_s, note, versions}``. Positive scores mean the training
row raises the test row's margin.

Model output (what is differentiated, on both sides, by both libraries):

* binary (one logit ``z``): the signed margin ``z * (2y - 1)``; train-side weight
  ``1 - sigmoid(margin)``. traker gets it through a custom ``AbstractModelOutput``.
* K classes: TRAK's margin ``z_y - logsumexp_{j != y} z_j`` (traker's own
  ``image_classification`` output; the same function written for dattri).

Each library runs once on one checkpoint (the explained model), with projection dimension
``proj_dim`` (normal JL matrix, float32, CPU) and its default kernel regularisation (0),
and once with a damping of the mean nonzero eigenvalue of its own ``Phi^T Phi`` (computed
from its kernel just before inversion): TRAK's unweighted kernel, regularised.
"""

import json
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
import torch
from _neural_nets import NETS
from torch.utils.data import DataLoader, TensorDataset

BATCH = 500
RTOL = 1e-7


def _margin(z, y, n_out):
    """Margin of logits ``z`` (n,) or (n, K) for labels ``y``."""
    if n_out == 1:
        return z * (2 * y.to(z.dtype) - 1)
    idx = torch.arange(z.shape[0])
    correct = z[idx, y]
    others = z.clone()
    others[idx, y] = -torch.inf
    return correct - others.logsumexp(dim=-1)


def _mean_nonzero_eig(kernel):
    s2 = torch.linalg.eigvalsh(kernel.double())
    return float(s2[s2 > RTOL * s2.max().clamp(min=0)].mean())


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _load(d):
    n_out = int(d["n_out"])
    model = NETS[str(d["net"])](n_out)
    sd = {k[4:]: torch.tensor(v) for k, v in d.items() if k.startswith("sd__")}
    model.load_state_dict(sd)
    model.eval()
    return model, n_out


def run_dattri(d, factor):
    from dattri.algorithm.trak import TRAKAttributor
    from dattri.task import AttributionTask

    model, n_out = _load(d)
    Xtr, ytr = torch.tensor(d["Xtr"]), torch.tensor(d["ytr"], dtype=torch.long)
    Xte, yte = torch.tensor(d["Xte"]), torch.tensor(d["yte"], dtype=torch.long)

    def margin_func(params, data):  # one row (vmapped by dattri)
        x, y = data
        z = torch.func.functional_call(model, params, x.unsqueeze(0))
        return _margin(z, y.reshape(1), n_out).sum()

    def prob_func(params, data):
        return torch.sigmoid(margin_func(params, data))

    train = DataLoader(TensorDataset(Xtr, ytr), batch_size=BATCH, shuffle=False)
    test = DataLoader(TensorDataset(Xte, yte), batch_size=BATCH, shuffle=False)
    solve = torch.linalg.solve
    used = []

    def damped_solve(A, B):
        # dattri adds ``regularization * I`` (here 0) and solves; add sktraceprop's
        # relative damping instead, computed from dattri's own kernel.
        lam = factor * _mean_nonzero_eig(A)
        used.append(lam)
        return solve(A + lam * torch.eye(A.shape[0], dtype=A.dtype), B)

    def trak():
        task = AttributionTask(loss_func=margin_func, model=model, checkpoints=model.state_dict())
        attr = TRAKAttributor(
            task=task,
            correct_probability_func=prob_func,
            device="cpu",
            projector_kwargs={
                "proj_dim": int(d["proj_dim"]),
                "proj_type": "normal",
                "device": "cpu",
            },
        )
        if factor:
            torch.linalg.solve = damped_solve
        try:
            attr.cache(train)
        finally:
            torch.linalg.solve = solve
        return attr.attribute(test).detach().numpy().T

    scores, wall, cpu = _timed(trak)
    note = f"proj_dim {int(d['proj_dim'])}, one checkpoint, " + (
        f"damping {factor:g} x mean eigenvalue (lambda {used[0]:.3g})"
        if factor
        else "regularization 0 (default)"
    )
    return scores, wall, cpu, note


def run_traker(d, factor):
    from trak import TRAKer
    from trak.modelout_functions import AbstractModelOutput
    from trak.projectors import BasicProjector, ProjectionType
    from trak.score_computers import BasicScoreComputer

    model, n_out = _load(d)
    Xtr, ytr = torch.tensor(d["Xtr"]), torch.tensor(d["ytr"], dtype=torch.long)
    Xte, yte = torch.tensor(d["Xte"]), torch.tensor(d["yte"], dtype=torch.long)
    grad_dim = sum(p.numel() for p in model.parameters())
    used = []

    class BinaryMargin(AbstractModelOutput):
        """Signed margin ``z (2y - 1)`` of a single-logit binary model."""

        def __init__(self):
            super().__init__()

        @staticmethod
        def get_output(model, weights, buffers, image, label):
            z = torch.func.functional_call(model, (weights, buffers), image.unsqueeze(0))
            return _margin(z, label.reshape(1), 1).sum()

        def get_out_to_loss_grad(self, model, weights, buffers, batch):
            images, labels = batch
            z = torch.func.functional_call(model, (weights, buffers), images)
            return (1 - torch.sigmoid(_margin(z, labels, 1))).detach().unsqueeze(-1)

    class DampedScoreComputer(BasicScoreComputer):
        def get_x_xtx_inv(self, grads, xtx):
            if factor:
                self.lambda_reg = factor * _mean_nonzero_eig(xtx)
                used.append(self.lambda_reg)
            return super().get_x_xtx_inv(grads, xtx)

    def trak():
        with tempfile.TemporaryDirectory() as tmp:
            projector = BasicProjector(
                grad_dim=grad_dim,
                proj_dim=int(d["proj_dim"]),
                seed=0,
                proj_type=ProjectionType.normal,
                device="cpu",
                dtype=torch.float32,
            )
            traker = TRAKer(
                model=model,
                task=BinaryMargin() if n_out == 1 else "image_classification",
                train_set_size=Xtr.shape[0],
                save_dir=tmp,
                device="cpu",
                projector=projector,
                proj_dim=int(d["proj_dim"]),
                use_half_precision=False,
                score_computer=DampedScoreComputer,
            )
            traker.load_checkpoint(model.state_dict(), model_id=0)
            for s in range(0, Xtr.shape[0], BATCH):
                batch = (Xtr[s : s + BATCH], ytr[s : s + BATCH])
                traker.featurize(batch=batch, num_samples=batch[0].shape[0])
            traker.finalize_features()
            traker.start_scoring_checkpoint(
                exp_name="bench",
                checkpoint=model.state_dict(),
                model_id=0,
                num_targets=Xte.shape[0],
            )
            for s in range(0, Xte.shape[0], BATCH):
                batch = (Xte[s : s + BATCH], yte[s : s + BATCH])
                traker.score(batch=batch, num_samples=batch[0].shape[0])
            return np.asarray(traker.finalize_scores(exp_name="bench")).T

    scores, wall, cpu = _timed(trak)
    task = "custom binary-margin AbstractModelOutput" if n_out == 1 else "image_classification"
    note = f"proj_dim {int(d['proj_dim'])}, one checkpoint, {task}, " + (
        f"damping {factor:g} x mean eigenvalue (lambda_reg {used[0]:.3g})"
        if factor
        else "lambda_reg 0 (default)"
    )
    return scores, wall, cpu, note


def main():
    import logging

    logging.disable(logging.WARNING)
    torch.set_num_threads(2)
    d = dict(np.load(sys.argv[1]))
    factor = 1.0
    rows = []
    for name, fn, label in (
        ("traker", run_traker, "traker TRAKer (CPU)"),
        ("dattri", run_dattri, "dattri TRAKAttributor"),
    ):
        for f, damping in ((0.0, "default"), (factor, "damped")):
            try:
                scores, wall, cpu, note = fn(d, f)
                ok = bool(np.isfinite(scores).all())
                rows.append(
                    {
                        "method": f"{label}, {damping}",
                        "scores": np.nan_to_num(scores).tolist(),
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "note": note + ("" if ok else "; non-finite scores set to 0"),
                        "versions": {name: version(name), "torch": torch.__version__},
                    }
                )
            except Exception as exc:  # report, do not hide, a competitor that fails
                rows.append(
                    {
                        "method": f"{label}, {damping}",
                        "note": f"failed: {type(exc).__name__}: {exc}"[:300],
                    }
                )
            print(rows[-1]["method"], damping, rows[-1].get("wall_s"), rows[-1]["note"])
            sys.stdout.flush()
    with open(sys.argv[2], "w") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main()
