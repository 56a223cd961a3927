"""The MNIST MLP (784-256-n_out) of ``bench_neural.py``, shared with the competitors'
script that reloads its state_dict in another venv (imports torch only)."""

import torch


def mlp_class(n_out):
    """A ``torch.nn.Module`` class: 784 -> 256 (ReLU) -> ``n_out`` logits; one output is
    returned as a vector (the binary decision value)."""

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(784, 256)
            self.out = torch.nn.Linear(256, n_out)

        def forward(self, x):
            z = self.out(torch.relu(self.hidden(x)))
            return z[:, 0] if n_out == 1 else z

    return MLP
