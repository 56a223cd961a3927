"""``LinearObjective.encode_targets`` refuses labels the model does not know.

A bare ``np.searchsorted`` on ``classes_`` gave an unknown label its insertion point:
a neighbouring class's index (or one past the last), so its gradient was another class's.
Truth: Python equality of each label with each class (text never equals a number).
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier

from sktraceprop.gradients import linear_model_objective

CLASS_SETS = {
    "ints": [0, 2, 5],
    "strings": ["ant", "bee", "cat"],
    "bools": [False, True],
}
LABELS = st.one_of(
    st.integers(-2, 6),
    st.sampled_from(["ant", "bee", "cat", "ab", "zz", "0", "2"]),
    st.booleans(),
)
MODELS = {
    "logistic": lambda: LogisticRegression(),
    "ridge": lambda: RidgeClassifier(),
    "sgd": lambda: SGDClassifier(loss="log_loss", max_iter=5, tol=None, random_state=0),
}


def _fitted(kind, model):
    classes = CLASS_SETS[kind]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = np.array((classes * 15)[:30], dtype=object if kind == "strings" else None)
    return MODELS[model]().fit(X, y), classes


def _truth(label, classes):
    """Position of ``label`` among sorted ``classes`` by equality, ``None`` if absent."""
    for i, c in enumerate(sorted(classes)):
        if isinstance(label, str) == isinstance(c, str) and label == c:
            return i
    return None


@settings(deadline=None, max_examples=40)
@given(
    kind=st.sampled_from(sorted(CLASS_SETS)),
    model=st.sampled_from(sorted(MODELS)),
    labels=st.lists(LABELS, min_size=1, max_size=6),
)
@example(kind="ints", model="logistic", labels=[1])  # between 0 and 2: was class 2
@example(kind="ints", model="ridge", labels=[9 - 3])  # past the last: was out of range
@example(kind="strings", model="sgd", labels=["bat"])  # between ant and bee: was bee
@example(kind="strings", model="logistic", labels=["ant", 2])  # mixed: was a TypeError
@example(kind="bools", model="logistic", labels=[True, 1, 0])
def test_encode_targets_matches_equality_or_refuses(kind, model, labels):
    est, classes = _fitted(kind, model)
    obj = linear_model_objective(est)
    y = np.array(labels, dtype=object) if len({type(v) for v in labels}) > 1 else labels
    truth = [_truth(v, classes) for v in labels]
    if any(t is None for t in truth):
        with pytest.raises(ValueError, match="labels|classes of"):
            obj.encode_targets(y)
        return
    encoded = obj.encode_targets(y)
    truth = np.array(truth)
    if obj.loss in ("binomial", "multinomial"):
        np.testing.assert_array_equal(encoded, truth)
    elif len(classes) == 2:
        np.testing.assert_array_equal(encoded[:, 0], 2.0 * truth - 1.0)
    else:
        expected = -np.ones((len(labels), len(classes)))
        expected[np.arange(len(labels)), truth] = 1.0
        np.testing.assert_array_equal(encoded, expected)


def test_unknown_label_is_named_with_the_model():
    est, _ = _fitted("ints", "logistic")
    with pytest.raises(ValueError, match=r"labels \['1', '9'\] are not classes of Logistic"):
        linear_model_objective(est).encode_targets([0, 1, 9])


def test_mixed_text_and_numbers_are_refused_by_name():
    est, _ = _fitted("strings", "ridge")
    with pytest.raises(ValueError, match=r"mixes labels of kinds \['int', 'str'\]"):
        linear_model_objective(est).encode_targets(np.array(["ant", 2], dtype=object))


@pytest.mark.parametrize("label", [0, "cat"])
def test_ridge_classifier_of_one_class_is_coded_as_scikit_learn_fits_it(label):
    # scikit-learn fits a RidgeClassifier on one class (a refit without every row of
    # the other is one) with that class coded -1; it was coded +1 here, so the
    # objective's gradient at the fitted model was far from 0 and a Newton step moved
    # the intercept to +1 (and predict then raised)
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.full(20, label, dtype=object if isinstance(label, str) else int)
    model = RidgeClassifier().fit(X, y)
    objective = linear_model_objective(model)
    np.testing.assert_array_equal(objective.encode_targets(y), -np.ones((20, 1)))
    gradient = objective.objective_gradient(X, y, None)
    assert np.linalg.norm(gradient) < 1e-10
