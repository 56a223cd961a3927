"""dattri and traker on the features and model of ``bench_influence.py`` (own venv).

Run by ``bench_influence.py`` with ``benchmarks/.venv-attr/bin/python``; reads an npz of
transformed features and the fitted binary logistic regression, writes a JSON list of
``{method, scores (n_test, n_train), wall_s, cpu_s, note, versions}``. Scores are
oriented so that positive means the training row helps the test row.
"""

import json
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _linear(coef, intercept, two_logits=False):
    d = coef.shape[1]
    if two_logits:
        # traker's classification output needs one logit per class: [0, z].
        model = nn.Linear(d, 2, dtype=torch.float64)
        with torch.no_grad():
            model.weight.copy_(torch.tensor(np.vstack([np.zeros(d), coef[0]])))
            model.bias.copy_(torch.tensor([0.0, float(intercept[0])]))
        return model
    model = nn.Linear(d, 1, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(coef))
        model.bias.copy_(torch.tensor(intercept))
    return model


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def run_dattri(d, rows):
    from dattri.algorithm.influence_function import IFAttributorExplicit
    from dattri.algorithm.trak import TRAKAttributor
    from dattri.task import AttributionTask

    Xtr, ytr = torch.tensor(d["Xtr"]), torch.tensor(d["ytr"], dtype=torch.float64)
    Xte, yte = torch.tensor(d["Xte"]), torch.tensor(d["yte"], dtype=torch.float64)
    n = Xtr.shape[0]
    model = _linear(d["coef"], d["intercept"])
    bce = nn.BCEWithLogitsLoss()

    def loss_func(params, data):
        x, y = data
        z = torch.func.functional_call(model, params, x.reshape(-1, model.in_features)).reshape(-1)
        return bce(z, y.reshape(-1))

    def prob_func(params, data):
        x, y = data
        z = torch.func.functional_call(model, params, x.reshape(-1, model.in_features)).reshape(-1)
        return torch.sigmoid(z * (2 * y.reshape(-1) - 1))

    train = DataLoader(TensorDataset(Xtr, ytr), batch_size=n, shuffle=False)
    test = DataLoader(TensorDataset(Xte, yte), batch_size=Xte.shape[0], shuffle=False)
    # The mean-loss Hessian plus 1/(C n) is sklearn's penalty (intercept then penalised).
    reg = 1.0 / (float(d["C"]) * n)

    def explicit():
        task = AttributionTask(loss_func=loss_func, model=model, checkpoints=model.state_dict())
        attr = IFAttributorExplicit(task=task, device="cpu", regularization=reg)
        attr.cache(train)
        return attr.attribute(train, test).detach().numpy().T

    scores, wall, cpu = _timed(explicit)
    rows.append(
        {
            "method": "dattri IFAttributorExplicit",
            "scores": scores.tolist(),
            "wall_s": wall,
            "cpu_s": cpu,
            "note": f"regularization 1/(C n) = {reg:.2e}",
        }
    )

    def trak():
        task = AttributionTask(loss_func=loss_func, model=model, checkpoints=model.state_dict())
        attr = TRAKAttributor(
            task=task,
            correct_probability_func=prob_func,
            device="cpu",
            projector_kwargs={"proj_dim": 512, "device": "cpu"},
        )
        attr.cache(train)
        return attr.attribute(test).detach().numpy().T

    scores, wall, cpu = _timed(trak)
    rows.append(
        {
            "method": "dattri TRAKAttributor",
            "scores": scores.tolist(),
            "wall_s": wall,
            "cpu_s": cpu,
            "note": "proj_dim 512, one checkpoint",
        }
    )


def run_traker(d, rows):
    from trak import TRAKer
    from trak.projectors import BasicProjector, ProjectionType

    Xtr, ytr = torch.tensor(d["Xtr"]), torch.tensor(d["ytr"], dtype=torch.long)
    Xte, yte = torch.tensor(d["Xte"]), torch.tensor(d["yte"], dtype=torch.long)
    model = _linear(d["coef"], d["intercept"], two_logits=True)
    grad_dim = sum(p.numel() for p in model.parameters())

    def trak():
        with tempfile.TemporaryDirectory() as tmp:
            projector = BasicProjector(
                grad_dim=grad_dim,
                proj_dim=512,
                seed=0,
                proj_type=ProjectionType.rademacher,
                device="cpu",
                dtype=torch.float64,
            )
            traker = TRAKer(
                model=model,
                task="image_classification",
                train_set_size=Xtr.shape[0],
                save_dir=tmp,
                device="cpu",
                projector=projector,
                proj_dim=512,
                use_half_precision=False,
            )
            traker.load_checkpoint(model.state_dict(), model_id=0)
            for s in range(0, Xtr.shape[0], 1000):
                batch = (Xtr[s : s + 1000], ytr[s : s + 1000])
                traker.featurize(batch=batch, num_samples=batch[0].shape[0])
            traker.finalize_features()
            traker.start_scoring_checkpoint(
                exp_name="bench",
                checkpoint=model.state_dict(),
                model_id=0,
                num_targets=Xte.shape[0],
            )
            traker.score(batch=(Xte, yte), num_samples=Xte.shape[0])
            return np.asarray(traker.finalize_scores(exp_name="bench")).T

    scores, wall, cpu = _timed(trak)
    rows.append(
        {
            "method": "traker TRAKer (CPU)",
            "scores": scores.tolist(),
            "wall_s": wall,
            "cpu_s": cpu,
            "note": "proj_dim 512, one checkpoint, 2-logit model",
        }
    )


def main():
    d = dict(np.load(sys.argv[1]))
    rows = []
    for name, fn in (("dattri", run_dattri), ("traker", run_traker)):
        try:
            fn(d, rows)
            rows[-1]["versions"] = {name: version(name), "torch": torch.__version__}
        except Exception as exc:  # report, do not hide, a competitor that fails
            rows.append({"method": name, "note": f"failed: {type(exc).__name__}: {exc}"[:300]})
    with open(sys.argv[2], "w") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main()
