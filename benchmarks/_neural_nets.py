"""The torch networks of ``bench_neural.py``, shared with the competitors' script that
rebuilds them from a state_dict in another venv (imports torch only)."""

import torch

#: Single-output modules return a vector (the binary decision value).


class MnistMLP(torch.nn.Module):
    """784 -> 256 (ReLU) -> ``n_out``."""

    def __init__(self, n_out=10):
        super().__init__()
        self.hidden = torch.nn.Linear(784, 256)
        self.out = torch.nn.Linear(256, n_out)

    def forward(self, x):
        z = self.out(torch.relu(self.hidden(x)))
        return z[:, 0] if z.shape[1] == 1 else z


class TabularMLP(torch.nn.Module):
    """30 -> 32 (tanh) -> 1: the breast-cancer net."""

    def __init__(self, n_out=1):
        super().__init__()
        self.hidden = torch.nn.Linear(30, 32)
        self.out = torch.nn.Linear(32, n_out)

    def forward(self, x):
        z = self.out(torch.tanh(self.hidden(x)))
        return z[:, 0] if z.shape[1] == 1 else z


class DigitsMLP(torch.nn.Module):
    """64 -> 64 (ReLU) -> 10: the 8 x 8 digits as vectors."""

    def __init__(self, n_out=10):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 64)
        self.out = torch.nn.Linear(64, n_out)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


class DigitsCNN(torch.nn.Module):
    """Two 3 x 3 convolutions (8 and 16 channels, ReLU, 2 x 2 max-pooling) and a linear
    layer on the 8 x 8 digits."""

    def __init__(self, n_out=10):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.out = torch.nn.Linear(16 * 2 * 2, n_out)

    def forward(self, x):
        x = x.reshape(-1, 1, 8, 8)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.out(x.flatten(1))


NETS = {cls.__name__: cls for cls in (MnistMLP, TabularMLP, DigitsMLP, DigitsCNN)}


class SeededTanhMLP(torch.nn.Module):
    """64 -> 32 (tanh) -> 10, seeded (``torch.manual_seed(0)``) at construction: the
    digits net of the neural unlearning studies (the same weights on every build)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)
        )

    def forward(self, X):
        return self.net(X)
