"""The fit docstring the two JAX estimators share: each reads as its own, in numpydoc."""

import inspect

import pytest

from sktraceprop.adapters import JaxClassifier, JaxRegressor

docscrape = pytest.importorskip("numpydoc.docscrape")


@pytest.mark.parametrize(
    "cls, what, y",
    [(JaxClassifier, "classifier", "Class labels."), (JaxRegressor, "regressor", "Targets.")],
)
def test_each_fit_documents_its_own_signature_and_return(cls, what, y):
    # Truth: the signature, and the class itself (a shared template once named the
    # other estimator, or dropped a parameter, without any error)
    doc = docscrape.FunctionDoc(cls.fit)
    names = [p.name for p in doc["Parameters"]]
    assert names == [n for n in inspect.signature(cls.fit).parameters if n != "self"]
    assert all(p.desc for p in doc["Parameters"])
    assert dict((p.name, " ".join(p.desc)) for p in doc["Parameters"])["y"] == y
    (returned,) = doc["Returns"]
    assert (returned.name, returned.type, returned.desc) == (
        "self",
        cls.__name__,
        [f"The fitted {what}."],
    )
    assert [r.type for r in doc["Raises"]] == ["ValueError"]
    assert "{" not in cls.fit.__doc__  # every field of the template filled
