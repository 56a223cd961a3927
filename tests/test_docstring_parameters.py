"""Every public function's and method's docstring lists its parameters as the signature
does: the same names, in the same order.

``unlearning_report(unlearned, retrained, original, ...)`` and its two neighbours were
documented as ``unlearned, original`` then ``retrained``: a reader passing them in that
order gets the retrain and the original swapped, and metrics of the wrong comparison
with no error.
"""

import importlib.util
import inspect
from pathlib import Path

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape")

DOC = Path(__file__).resolve().parent.parent / "doc"


def _public_names():
    spec = importlib.util.spec_from_file_location("api_check", DOC / "api_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.public_names()


def _documented_callables():
    """``{name: callable}`` of the public functions, classes and their public methods
    that carry a docstring of their own (not one inherited from numpy or scikit-learn)."""
    found, seen = {}, set()
    for name, obj in sorted(_public_names().items()):
        if not callable(obj) or id(obj) in seen:
            continue
        seen.add(id(obj))
        found[name] = obj
        if inspect.isclass(obj):
            for attr, method in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(method):
                    found[f"{name}.{attr}"] = method
    return {name: obj for name, obj in found.items() if obj.__doc__}


def _listed(obj):
    """The parameter names the docstring lists, in order (``a, b : str`` is two)."""
    doc = docscrape.ClassDoc(obj) if inspect.isclass(obj) else docscrape.FunctionDoc(obj)
    names = []
    for param in doc["Parameters"]:
        names += [part.strip() for part in param.name.split(",")]
    return [name for name in names if not name.startswith("*")]


def _signature_names(obj):
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    parameters = inspect.signature(obj).parameters.values()
    return [p.name for p in parameters if p.name not in ("self", "cls") and p.kind not in skip]


def _mismatches():
    out = {}
    for name, obj in _documented_callables().items():
        try:
            signature = _signature_names(obj)
        except ValueError:  # exception classes: a builtin type's signature
            continue
        listed = _listed(obj)
        if listed and listed != signature:  # (a docstring without Parameters lists none)
            out[name] = (signature, listed)
    return out


def test_docstring_parameters_are_the_signatures_in_order():
    assert _mismatches() == {}


def test_the_walk_reaches_the_metrics_and_finds_a_swapped_pair():
    callables = _documented_callables()
    ratio = callables["sktraceprop.metrics.function_space_distance_ratio"]
    assert _signature_names(ratio)[:3] == ["unlearned", "retrained", "original"]
    assert len(callables) > 150

    def swapped(unlearned, retrained, original):
        """Swapped.

        Parameters
        ----------
        unlearned, original : fitted estimators
        retrained : fitted estimator
        """

    assert _listed(swapped) == ["unlearned", "original", "retrained"]
