"""The user transformer of ``make_fingerprint3.py``'s pipeline (imported by name): its
class constant ``LIMIT`` is read through ``self``."""

from sklearn.base import BaseEstimator, TransformerMixin


class Clip(TransformerMixin, BaseEstimator):
    LIMIT = 1.0

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X.clip(-self.LIMIT, self.LIMIT)
