"""The outputs of :class:`~sktraceprop.adapters.JaxClassifier` and
:class:`~sktraceprop.adapters.JaxRegressor` on new rows, as scikit-learn names them:
decision values, class probabilities and classes; predictions of one or several targets.

Each is read from the model's logits in blocks (``_decision``, :mod:`._jax_base`). The
estimators themselves stay in :mod:`._jax`, whose classes pickles and fingerprints name;
these mixins hold no state.
"""

import numpy as np
from scipy.special import expit, softmax


def _one_or_all(z, one):
    """The logits ``z`` (n, k): their one column as a 1D array where ``one``, else all."""
    return z[:, 0] if one else z


class _ClassifierOutputs:
    """Decision values, probabilities and classes from the logits of a fitted classifier
    (one logit for two classes, one per class otherwise)."""

    def decision_function(self, X):
        """Logits: the decision value (binary, shape (n,)) or the class logits (n, K).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return _one_or_all(self._decision(X), self.n_outputs_ == 1)

    def predict_proba(self, X):
        """Class probabilities (sigmoid or softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        z = self._decision(X)
        if self.n_outputs_ == 1:
            p = expit(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(z, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        z = self._decision(X)
        if self.n_outputs_ == 1:
            return self.classes_[(z[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]


class _RegressorOutputs:
    """Predictions of a fitted regressor, 1D when it was fitted on a 1D target."""

    def predict(self, X):
        """Model outputs, one column per target (1D for a 1D target at ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict, with the features seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return _one_or_all(self._decision(X), self._y_1d)
