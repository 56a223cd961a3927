"""Study: what a halved fine-tuning step costs a calibrated neural removal.

A removal whose fine-tuning raised the certificate starts again at half the step; with
a calibration, its root search (each evaluation a fine-tuning) was run anew from
nothing for every halved step. It now starts from the scale found for the step before
(:func:`sktraceprop.unlearning._calibration.calibrate`, ``guess=``). Here a 64-32-10
tanh MLP (skorch, SGD) is trained on 600 digits rows (30 epochs, batches of 64) at a
few learning rates; 30 rows are removed with the holdout calibration (100 other digits
rows as the holdout, 20 fine-tuning steps), once as the library does and once with the
search from nothing for every step. The table gives the halvings, the fine-tunings of
each and the CPU seconds of each removal (this process, torch on one thread). Takes a
few minutes on one CPU core.

Run: ``python benchmarks/study_neural_halving_calibration.py``: prints a table and writes
``results/study_neural_halving_calibration.json`` and ``.md`` (the search from nothing is
no longer the library's: it is run here by the study alone).
"""

import copy
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import skorch
import torch
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from _neural_nets import SeededTanhMLP  # noqa: E402

from sktraceprop.unlearning import GradientCorrectionUnlearner, _neural_step, _neural_torch

LRS = [0.5, 1.0, 2.0]


def _removal(unl, forget, holdout, cold):
    """The removal's event, its fine-tunings and CPU seconds; ``cold``: every search
    from nothing."""
    finetune, search = _neural_torch.finetune, _neural_step.calibrate
    count = [0]

    def counted(*args, **kwargs):
        count[0] += 1
        return finetune(*args, **kwargs)

    def from_nothing(loss_at, target, **kwargs):
        return search(loss_at, target)

    _neural_torch.finetune = counted
    if cold:
        _neural_step.calibrate = from_nothing
    try:
        removed = copy.deepcopy(unl)
        start = time.process_time()
        removed.unlearn(mask=forget, X_holdout=holdout[0], y_holdout=holdout[1])
        seconds = time.process_time() - start
    finally:
        _neural_torch.finetune, _neural_step.calibrate = finetune, search
    return removed.unlearning_log_[-1], count[0], seconds


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the removals' notices of copies holding the rows
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    holdout = X[600:700], y[600:700]
    X, y = X[:600], y[:600]
    forget = np.arange(X.shape[0]) < 30
    start = time.perf_counter()
    rows = []
    for lr in LRS:
        net = skorch.NeuralNetClassifier(
            SeededTanhMLP,
            criterion=torch.nn.CrossEntropyLoss,
            lr=lr,
            max_epochs=30,
            batch_size=64,
            train_split=None,
            verbose=0,
        )
        unl = GradientCorrectionUnlearner(net, calibration="holdout", n_steps=20).fit(X, y)
        warm, n_warm, s_warm = _removal(unl, forget, holdout, cold=False)
        cold, n_cold, s_cold = _removal(unl, forget, holdout, cold=True)
        rows.append(
            {
                "net lr": lr,
                "halvings": len(warm["finetune_fallbacks"]),
                "fine-tunings, from the scale before": n_warm,
                "fine-tunings, from nothing": n_cold,
                "CPU s, from the scale before": round(s_warm, 2),
                "CPU s, from nothing": round(s_cold, 2),
                "same lr": warm["lr"] == cold["lr"],
                "reached (both)": bool(
                    warm["calibration_reached"] and cold["calibration_reached"]
                ),
            }
        )
        print(rows[-1], flush=True)
    elapsed = time.perf_counter() - start
    table = markdown_table(list(rows[0]), [list(r.values()) for r in rows])
    text = (
        "# What a halved fine-tuning step costs a calibrated neural removal\n\n"
        "Removing 30 of 600 digits rows from a 64-32-10 MLP (skorch, SGD at each lr) with "
        "the holdout calibration: fine-tunings and CPU seconds of the removal when each "
        "halved step's calibration starts from the scale found before (the library) and "
        "from nothing (as before).\n\n"
        f"{table}\n\nMeasured in {elapsed:.1f} s on {machine()['cpu']} (load average "
        f"{os.getloadavg()[0]:.1f} at the end: CPU seconds, not wall time, compare). "
        "Command: `python benchmarks/study_neural_halving_calibration.py`.\n"
    )
    print(text)
    write_results(
        "study_neural_halving_calibration",
        {"machine": machine(), "elapsed_s": elapsed, "cases": rows},
        text,
    )


if __name__ == "__main__":
    main()
