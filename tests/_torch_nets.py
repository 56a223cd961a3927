"""Small torch modules shared by the skorch tests (imports torch: import it after
``pytest.importorskip("torch")``)."""

import torch


class TanhNet(torch.nn.Module):
    """``n_in`` inputs, one tanh hidden layer of ``n_hidden`` units, ``n_out`` logits.

    Given to skorch as the module class, sized with ``module__n_in=...`` and the like.
    """

    def __init__(self, n_in=4, n_hidden=6, n_out=2):
        super().__init__()
        self.hidden = torch.nn.Linear(n_in, n_hidden)
        self.out = torch.nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


def split_net(fold):
    """A 4-6-3 :class:`TanhNet` classifier (skorch, seeded) whose validation split is
    ``PredefinedSplit(fold)``: the rows ``fold >= 0`` held out of training."""
    import skorch
    from sklearn.model_selection import PredefinedSplit

    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(
        TanhNet,
        module__n_in=4,
        module__n_hidden=6,
        module__n_out=3,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        lr=0.05,
        train_split=skorch.dataset.ValidSplit(PredefinedSplit(fold)),
        verbose=0,
    )


#: The rows :class:`RecordingNet` received while training, one array per forward call
#: (cleared by the test before each fit).
FED = []


class RecordingNet(torch.nn.Module):
    """A linear ``3 -> n_out`` module that appends each training batch it receives to
    :data:`FED`: the rows a skorch training loop actually fed, the tests' truth."""

    def __init__(self, n_out=2):
        super().__init__()
        self.out = torch.nn.Linear(3, n_out)

    def forward(self, x):
        if self.training:
            FED.append(x.detach().numpy().copy())
        return self.out(x)


def to_float32(X):
    """``X`` as float32 (the FunctionTransformer in front of the skorch nets)."""
    import numpy as np

    return np.asarray(X, dtype=np.float32)


def tanh_classifier(binary=False, n_out=3, max_epochs=10, lr=0.1, train_split=None):
    """A 4-6-``n_out`` :class:`TanhNet` skorch classifier (``binary``: one output,
    ``NeuralNetBinaryClassifier``; else cross-entropy), trained on every row it is given
    unless ``train_split`` says otherwise. Not seeded: seed torch before building it."""
    import skorch

    cls = skorch.NeuralNetBinaryClassifier if binary else skorch.NeuralNetClassifier
    extra = {} if binary else {"criterion": torch.nn.CrossEntropyLoss}
    return cls(
        TanhNet,
        module__n_in=4,
        module__n_hidden=6,
        module__n_out=1 if binary else n_out,
        max_epochs=max_epochs,
        lr=lr,
        train_split=train_split,
        verbose=0,
        **extra,
    )
