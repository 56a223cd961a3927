"""Study: the default step size of the neural removal's fine-tuning, by optimizer.

A 64-32-10 tanh MLP (skorch) is trained on 600 digits rows (30 epochs, batches of 64)
with each of SGD, SGD with momentum, Adam, AdamW (``weight_decay=0``), RMSprop and
Adagrad; 30 rows are removed (no calibration, 20 fine-tuning steps) three ways: with no
fine-tuning (``n_steps=0``), with the net's ``lr`` taken as the SGD step (the default
until 2026-12), and with the default (the net's ``lr`` for SGD, halved where its
fine-tuning raised the certificate, else the step measured by
``sktraceprop/unlearning/_finetune_lr.py``). The table gives each removal's certificate
(the retained objective's gradient norm) and the default's step. Takes under a minute on
one CPU core.

Run: ``python benchmarks/study_neural_finetune_lr.py``: prints a table and writes
``results/study_neural_finetune_lr.json`` and ``.md``.
"""

import copy
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

from sktraceprop.unlearning import GradientCorrectionUnlearner

CASES = [
    ("SGD", torch.optim.SGD, 0.1, {}),
    ("SGD(momentum=0.9)", torch.optim.SGD, 0.05, {"optimizer__momentum": 0.9}),
    ("Adam", torch.optim.Adam, 1e-3, {}),
    ("AdamW(weight_decay=0)", torch.optim.AdamW, 1e-3, {"optimizer__weight_decay": 0.0}),
    ("RMSprop", torch.optim.RMSprop, 1e-3, {}),
    ("Adagrad", torch.optim.Adagrad, 0.05, {}),
]


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the removals' notices of copies holding the rows
    X, y = load_digits(return_X_y=True)
    X, y = (X / 16.0).astype(np.float32)[:600], y[:600]
    forget = np.arange(X.shape[0]) < 30
    start = time.perf_counter()
    rows = []
    for name, optimizer, lr, kwargs in CASES:
        net = skorch.NeuralNetClassifier(
            SeededTanhMLP,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=optimizer,
            lr=lr,
            max_epochs=30,
            batch_size=64,
            train_split=None,
            verbose=0,
            **kwargs,
        )
        unl = GradientCorrectionUnlearner(net, calibration="none", n_steps=20).fit(X, y)
        events = {}
        for key, params in [("none", {"n_steps": 0}), ("net_lr", {"lr": lr}), ("default", {})]:
            removed = copy.deepcopy(unl).set_params(**params)
            removed.unlearn(mask=forget)
            events[key] = removed.unlearning_log_[-1]
        rows.append(
            {
                "optimizer": name,
                "net_lr": lr,
                "certificate_no_finetune": events["none"]["certificate"],
                "certificate_net_lr": events["net_lr"]["certificate"],
                "certificate_default": events["default"]["certificate"],
                "default_lr": events["default"]["lr"],
                "lr_source": events["default"]["lr_source"],
            }
        )
        print(rows[-1])
    results = {
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
        "torch": torch.__version__,
        "command": "python benchmarks/study_neural_finetune_lr.py",
    }
    table = markdown_table(
        ["optimizer", "net lr", "no fine-tuning", "net lr as SGD step", "default", "default lr"],
        [
            [
                r["optimizer"],
                f"{r['net_lr']:g}",
                f"{r['certificate_no_finetune']:.3g}",
                f"{r['certificate_net_lr']:.3g}",
                f"{r['certificate_default']:.3g}",
                f"{r['default_lr']:.3g}",
            ]
            for r in rows
        ],
    )
    print(table)
    md = f"""# The neural removal's default fine-tuning step, by optimizer

Certificates (the retained objective's gradient norm) after removing 30 of 600 digits
rows from a 64-32-10 MLP trained by each optimizer: no fine-tuning, 20 SGD steps of the
net's `lr`, and 20 SGD steps of the default step (the net's `lr` for SGD, halved where
its fine-tuning raised the certificate; else measured).

{table}

Measured in {results["seconds"]} s on {results["machine"]["cpu"]}
(torch {results["torch"]} on one thread). Command: `{results["command"]}`.
"""
    write_results("study_neural_finetune_lr", results, md)


if __name__ == "__main__":
    main()
