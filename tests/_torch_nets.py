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
