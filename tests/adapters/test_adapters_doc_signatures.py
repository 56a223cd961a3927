"""The signatures doc/adapters.rst writes out in its literal blocks are the functions'
own: the same parameters, kinds (keyword-only after ``*``) and defaults. The guide's
``code-block:: python`` blocks are run by tests/test_docs.py; these ``::`` blocks list
signatures and are read by nobody else."""

import inspect
import re
from pathlib import Path

import pytest

import sktraceprop.adapters as adapters
import sktraceprop.gradients as gradients
from sktraceprop.gradients import _jax

PAGE = Path(__file__).resolve().parents[2] / "doc" / "adapters.rst"
_OBJECTS = {
    "JaxClassifier": adapters.JaxClassifier,
    "JaxClassifier.fit": adapters.JaxClassifier.fit,
    "jax_per_sample_gradients": _jax.jax_per_sample_gradients,
    "jax_margins": _jax.jax_margins,
    "torch_per_sample_gradients": gradients.torch_per_sample_gradients,
    "torch_margins": gradients.torch_margins,
}


def _literal_blocks(text):
    """The indented blocks that follow a paragraph ending in ``::``."""
    return re.findall(r"::\n\n((?:(?: {4}.*)?\n)+)", text)


def _documented_signatures(text):
    """``{name: parameter text}`` of each ``name(...)`` written at the start of a line of
    a literal block (a call spanning lines joined)."""
    found = {}
    for block in _literal_blocks(text):
        for match in re.finditer(r"^ {4}([A-Za-z_][\w.]*)\(([^)]*)\)", block, flags=re.M):
            found[match.group(1)] = " ".join(match.group(2).split())
    return found


def _as_signature(params):
    namespace = {}
    exec(f"def documented({params}): pass", namespace)  # the page's text, as Python
    return inspect.signature(namespace["documented"])


def _parameters(signature):
    return [
        (p.name, p.kind, p.default)
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
    ]


def test_the_page_writes_out_each_signature():
    assert set(_OBJECTS) <= set(_documented_signatures(PAGE.read_text()))


@pytest.mark.parametrize("name", sorted(_OBJECTS))
def test_documented_signature_is_the_functions(name):
    documented = _as_signature(_documented_signatures(PAGE.read_text())[name])
    assert _parameters(documented) == _parameters(inspect.signature(_OBJECTS[name]))


def test_a_changed_default_is_found():
    text = "x::\n\n    jax_margins(model, X, y, *, params=None, block_size=512)\n\nmore\n"
    documented = _as_signature(_documented_signatures(text)["jax_margins"])
    assert _parameters(documented) != _parameters(inspect.signature(_jax.jax_margins))


def test_the_regressor_is_written_out_as_the_classifier_likewise():
    documented = _documented_signatures(PAGE.read_text())
    for name, regressor in [
        ("JaxClassifier", adapters.JaxRegressor),
        ("JaxClassifier.fit", adapters.JaxRegressor.fit),
    ]:
        assert _parameters(_as_signature(documented[name])) == _parameters(
            inspect.signature(regressor)
        )
