"""What a fitted neural explainer keeps: its ensemble members, their damping and the
train-side weights, and the gradient-store files the features are read from."""

import os

import numpy as np

from ._neural_model import _margins


def _file_state(path):
    """What changes when a file is written or replaced: inode, size, modification and
    status-change times. The status-change time is kept because the modification time
    can be set back over a write of the same size (``cp -p``, ``rsync -t``,
    ``os.utime``), which no program can do to the status-change time."""
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class NeuralState:
    """What :meth:`InfluenceExplainer.explain` needs for a neural model.

    Attributes
    ----------
    method : {"trak", "ggn"}
        How the Gauss-Newton influence was computed.
    models : list of estimators
        The ensemble; ``models[0]`` is the explained model itself.
    members : list
        Per model: projector (None for "ggn"), features, ``1 - p``, solver, damping.
    weights : ndarray of shape (n_train,)
        Train-side weight of every row (``1 - p``, see :mod:`._damping`).
    factor : float
        Damping as a multiple of each member's mean nonzero eigenvalue of ``G``.
    dampings : ndarray of shape (n_models,)
        Absolute damping ``lambda_m`` per member: the factor times the member's scale,
        at least ``n`` times the model's own L2 coefficient (:mod:`._penalty`).
    penalty : str
        What the curvature includes of the model's own L2 penalty, in words.
    selection : dict
        How the damping (and the weights) were chosen.
    """

    def __init__(self, method, members, parameters):
        self.method = method
        self.members = members
        self.models = [m.model for m in members]
        self.parameters = parameters
        self.weights = None
        self.factor = None
        self.n_used = len(members)
        self.selection = None
        self.penalty = "no L2"
        self.store = None
        self.store_files = {}

    def check_store(self):
        """Raise if a training-feature file of ``gradient_store`` changed since the fit:
        the features are read from it, so its scores would be another fit's or none."""
        files = getattr(self, "store_files", {})
        # (an unpickled explainer holds its features in memory: no file is read)
        mapped = {getattr(m.F, "filename", None) for m in self.members}
        for path, was in files.items():
            if path not in mapped:
                continue
            try:
                now = _file_state(path)
            except OSError:
                now = None
            if now != was:
                what = "was deleted" if now is None else "was written or replaced"
                raise ValueError(
                    f"The gradient store file {path} {what} after InfluenceExplainer.fit: "
                    "the training features are read from it, so the scores would not be "
                    "those of this fit. Fit the explainer again."
                )

    @property
    def projectors(self):
        return [m.projector for m in self.members]

    @property
    def features(self):
        return [m.F for m in self.members]

    @property
    def dampings(self):
        return np.array([m.damping for m in self.members])

    def set_damping(self, factor, weights, n_used=None):
        """Damping ``factor`` for every member, train-side ``weights``, and the members
        whose scores are averaged: the first ``n_used`` (all by default)."""
        self.factor = float(factor)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.n_used = len(self.members) if n_used is None else int(n_used)
        for m in self.members:
            m.set_damping(factor * m.solver.scale)

    @property
    def used(self):
        return self.members[: self.n_used]

    def margins(self, Xt, y):
        """Margins of the explained model (member 0) on ``(Xt, y)``."""
        return _margins(self.models[0], Xt, y)[0].astype(np.float64)

    def test_features(self, Xt, y, block_size):
        """The members' test parts side by side: shape (n_test, sum of widths)."""
        return np.hstack([m.test_part(Xt, y, self.parameters, block_size) for m in self.used])

    def train_block(self, A, tr):
        """Scores ``(n_test, len(tr))`` of the training rows ``tr``."""
        S = np.zeros((A.shape[0], tr.stop - tr.start))
        start = 0
        for m in self.used:
            width = m.width()
            S += m.train_block(A[:, start : start + width], tr)
            start += width
        return S * (self.weights[tr] / self.n_used)
