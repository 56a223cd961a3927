"""The user transformer of ``make_fingerprint4.py``'s pipeline (imported by name): its
class-level dict ``_seen`` is a cache its ``transform`` fills (scheme 4 hashed its
contents, so the model read as changed after a ``predict`` of another shape)."""

from sklearn.base import BaseEstimator, TransformerMixin


class Memo(TransformerMixin, BaseEstimator):
    SCALE = 2.0
    _seen = {}

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        self._seen[X.shape] = True
        return X * self.SCALE
