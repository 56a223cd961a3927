"""KNN-Shapley values of rows of a free-text column, on their sparse TF-IDF features.

Against Shapley's formula over every subset of the training rows (exact distances
computed here from the transformed features' doubles), with notes that tie (empty and
missing notes are all the zero vector) and notes read from a messy CSV file.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

import sktraceprop as stp
from tests._text_data import notes_file
from tests.valuation.test_knn_shapley import exhaustive_shapley


@pytest.mark.parametrize(
    "vectorizer, k",
    [(TfidfVectorizer(), 3), (CountVectorizer(), 1), (TfidfVectorizer(sublinear_tf=True), 2)],
)
def test_text_values_equal_exhaustive_shapley(tmp_path, vectorizer, k):
    X, y, _ = notes_file(tmp_path, seed=0, n=15)
    X_tr, X_val = X["text"].iloc[:10], X["text"].iloc[10:]
    y_tr, y_val = y.iloc[:10].to_numpy(), y.iloc[10:].to_numpy()
    # missing notes: the zero vector, tied with each other
    assert (X_tr == "").sum() >= 2 and (X_val == "").any()

    valuer = stp.KNNShapleyValuer(n_neighbors=k, transformer=vectorizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ties ranked by index: the truth ranks them so
        values = valuer.fit(X_tr, y_tr).value(X_val, y_val)

    Z = valuer.transformer_.transform(X_tr)
    Zv = valuer.transformer_.transform(X_val)
    assert sparse.issparse(Z)
    # exact squared distances of the stored doubles: L2-normalised TF-IDF rows are all
    # at distance 1 from an empty note, and rows sharing no word at 2, up to rounding,
    # which must not decide their order
    Z, Zv = Z.toarray(), Zv.toarray()
    exact = [[Fraction(0)] * Z.shape[0] for _ in range(Zv.shape[0])]
    for a in range(Zv.shape[0]):
        for b in range(Z.shape[0]):
            exact[a][b] = sum((Fraction(u) - Fraction(w)) ** 2 for u, w in zip(Zv[a], Z[b]))
    dist = np.array(exact, dtype=object)
    assert_allclose(values, exhaustive_shapley(dist, y_tr, y_val, k), rtol=0, atol=1e-12)
    # per source: the one file, the values' sum
    by_source = valuer.by_source()
    assert by_source["source_id"].tolist() == ["notes"]
    assert by_source["n_rows"].tolist() == [10]
    assert_allclose(by_source["sum"].sum(), values.sum(), atol=1e-12)
