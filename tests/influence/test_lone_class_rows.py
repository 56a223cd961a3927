import pickle
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from sktraceprop import InfluenceExplainer
from sktraceprop.influence._lone_class import lone_class_rows

LONE = "only row of their class"


def _wine_with_one_row_of_class_2():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :4]
    rows = np.r_[np.flatnonzero(y != 2)[:80], np.flatnonzero(y == 2)[:1]]
    return X[rows], y[rows], X[[0, 60, 100]]


def _margins(model, X, classes):
    """Explained class's logit less the logsumexp of the model's other logits."""
    logits = model.decision_function(X)
    if logits.ndim == 1:  # two classes: the decision value, signed
        return logits * np.where(classes == model.classes_[1], 1, -1)
    columns = np.searchsorted(model.classes_, classes)
    return np.array([row[c] - logsumexp(np.delete(row, c)) for row, c in zip(logits, columns)])


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_the_only_row_of_a_class_is_named_and_its_refit_lacks_the_class(class_weight):
    X, y, X_test = _wine_with_one_row_of_class_2()
    lone = y.size - 1
    model = LogisticRegression(tol=1e-12, max_iter=5000, class_weight=class_weight).fit(X, y)
    with pytest.warns(UserWarning, match=LONE) as record:
        explainer = InfluenceExplainer(model).fit(X, y)
    message = next(str(w.message) for w in record if LONE in str(w.message))
    assert f"train_index {lone} (class 2)" in message
    explained = np.array([0, 1, 1])  # classes the refit still has
    explanation = explainer.explain(X_test, explained)
    assert [note for note in explanation.notes if LONE in note] == [message]
    # the slow truth: a refit without the row knows two classes, and its margins
    # moved otherwise than the row's first-order score predicts (the other way, for
    # some test rows: all three unbalanced, two of three balanced)
    refit = clone(model).fit(np.delete(X, lone, axis=0), np.delete(y, lone))
    assert refit.classes_.tolist() == [0, 1]
    moved = _margins(refit, X_test, explained) - _margins(model, X_test, explained)
    predicted = -explanation.scores[:, lone]
    assert np.sum(np.sign(moved) != np.sign(predicted)) >= 2
    assert np.abs(predicted - moved).max() > 0.5 * np.abs(moved).max()
    # a row of a class with other rows is predicted as the refit moves it
    refit = clone(model).fit(X[1:], y[1:])
    moved = _margins(refit, X_test, explained) - _margins(model, X_test, explained)
    np.testing.assert_allclose(-explanation.scores[:, 0], moved, rtol=0.05, atol=1e-4)
    # a pickled explainer says it too
    again = pickle.loads(pickle.dumps(explainer)).explain(X_test, explained)
    assert any(LONE in note for note in again.notes)


def test_a_binary_model_with_one_row_of_a_class_says_no_refit_exists():
    X, y, X_test = _wine_with_one_row_of_class_2()
    X, y = X[40:], (y[40:] == 2).astype(int)  # one positive row, at the end
    model = LogisticRegression(tol=1e-12).fit(X, y)
    with pytest.raises(ValueError, match="class"):
        clone(model).fit(X[:-1], y[:-1])  # the truth: no refit without it
    with pytest.warns(UserWarning, match="sees a single class"):
        explainer = InfluenceExplainer(model).fit(X, y)
    assert any(LONE in note for note in explainer.explain(X_test).notes)


def test_no_word_where_every_class_has_two_rows_or_for_a_regressor():
    X, y, X_test = _wine_with_one_row_of_class_2()
    X, y = X[:-1], y[:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=".*fitted before the explainer.*")
        explainer = InfluenceExplainer(LogisticRegression(tol=1e-12)).fit(X, y)
        notes = explainer.explain(X_test).notes
        explainer_r = InfluenceExplainer(Ridge()).fit(X, np.arange(y.size, dtype=float))
        notes_r = explainer_r.explain(X_test).notes
    assert not any(LONE in note for note in notes + notes_r)


def test_lone_class_rows_of_labels():
    model = LogisticRegression()
    assert lone_class_rows(model, np.array(["a", "b", "a", "c", "b"])).tolist() == [3]
    assert lone_class_rows(model, np.array(["a", "a"])).tolist() == []
    assert lone_class_rows(Ridge(), np.array([1.0, 2.0, 3.0])).tolist() == []


def test_copies_of_the_only_row_of_a_class_are_named_as_one_row():
    # the frame given twice (pd.concat, as a file read twice would be): the class-2 row
    # is two training rows of one row id, and removing its line removes both and the
    # class with them; counted by labels only, the class had two rows and was not named
    import pandas as pd

    import sktraceprop as stp

    X, y, X_test = _wine_with_one_row_of_class_2()
    frame = stp.from_pandas(pd.DataFrame(X, columns=list("abcd")), source_id="wine_lone")
    twice = pd.concat([frame, frame])
    y2 = np.r_[y, y]
    pipe = stp.make_traced_pipeline(LogisticRegression(tol=1e-10, max_iter=5000))
    pipe.fit(twice, y2)
    with pytest.warns(UserWarning, match=LONE) as record:
        explainer = InfluenceExplainer(pipe).fit(twice, y2)
    ids = explainer.train_row_ids_
    # the truth: classes of one distinct row id, from the ids and labels themselves
    lone_ids = {c for c in np.unique(y2) if np.unique(ids[y2 == c]).size == 1}
    assert lone_ids == {2}
    expected = np.flatnonzero(y2 == 2)
    message = " ".join(str(w.message) for w in record if LONE in str(w.message))
    assert f"{expected.size} training row(s) are the only row of their class" in message
    assert "1 of them copies of another of these rows" in message
    assert all(f"{int(i)} (class 2)" in message for i in expected)
    assert LONE in " ".join(explainer.explain(X_test).notes)
