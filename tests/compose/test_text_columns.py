"""A text vectorizer in a traced column transformer: its column named, not listed.

``TfidfVectorizer`` and its kin take a 1-D column of documents. Selected with a list
(``["text"]``), the column transformer hands them a 2-D frame, whose iteration yields
the column names: the vectorizer fits one document, ``"text"``, and scikit-learn's
error says only that the numbers of samples differ. The traced column transformer
refuses the list before fitting, naming the selector that works.
"""

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from tests._text_data import notes_file


@pytest.mark.parametrize(
    "vectorizer",
    [
        TfidfVectorizer(),
        CountVectorizer(),
        HashingVectorizer(n_features=16),
        make_pipeline(CountVectorizer(), SelectKBest(chi2, k=3)),
    ],
)
def test_a_listed_text_column_is_refused_with_the_selector_that_works(tmp_path, vectorizer):
    X, y, _ = notes_file(tmp_path, seed=2, n=30)
    # scikit-learn fails on it too, with a message about array sizes
    plain = make_column_transformer((vectorizer, ["text"]), (StandardScaler(), ["x"]))
    with pytest.raises(ValueError) as plain_error:
        make_pipeline(plain, LogisticRegression()).fit(X, y)
    assert "list" not in str(plain_error.value)

    listed = stp.make_traced_column_transformer((vectorizer, ["text"]), (StandardScaler(), ["x"]))
    pipe = stp.make_traced_pipeline(listed, LogisticRegression())
    with pytest.raises(ValueError, match=r"selected by its name \('text'\), not by a list"):
        pipe.fit(X, y)
    assert not hasattr(pipe, "lineage_")

    named = stp.make_traced_column_transformer((vectorizer, "text"), (StandardScaler(), ["x"]))
    pipe = stp.make_traced_pipeline(named, LogisticRegression()).fit(X, y)
    features = pipe[:-1].transform(X)
    assert features.shape[0] == len(X)
    # every note's words reach its own row: the empty notes' rows have no text feature
    empty = (X["text"] == "").to_numpy()
    text_part = features[:, : features.shape[1] - 1]
    text_part = text_part.toarray() if hasattr(text_part, "toarray") else text_part
    assert empty.any() and not np.any(text_part[empty]) and np.any(text_part[~empty])
