"""The names scikit-learn's callback API sets on an estimator around its fit, which the
step watch leaves out (``_fingerprint_params._CALLBACKS``: how a fit reports, set and
removed by the pipeline once a step's fit returned, not what it learnt), are listed by
hand: a scikit-learn that sets one more would have every traced fit with callbacks
refused as "changed by other code". Its source is scanned for them here."""

import ast
import importlib
import importlib.util
import pathlib

import pytest
import sklearn
from sklearn.base import BaseEstimator

from sktraceprop._lineage._fingerprint_params import _CALLBACKS, watched_state

_ROOT = pathlib.Path(sklearn.__file__).parent


def _estimator_class(module, name):
    """Whether ``module.name`` is an estimator or a mixin of one (where ``self`` is an
    estimator), not a helper such as a callback's context."""
    cls = getattr(module, name, None)
    return isinstance(cls, type) and (issubclass(cls, BaseEstimator) or name.endswith("Mixin"))


def _set_on_estimators(tree, module):
    """Private attribute names about callbacks that ``tree`` (the source of ``module``)
    sets, deletes or pops on an estimator: ``self`` in an estimator's (or mixin's)
    method, or any other object but a callback context (``ctx``, ``context``)."""
    found = set()

    def visit(node, cls):
        if isinstance(node, ast.ClassDef):
            cls = node.name

        def owner_ok(owner):
            if owner == "self":
                return cls is not None and _estimator_class(module, cls)
            return "ctx" not in owner and "context" not in owner

        targets = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and owner_ok(ast.unparse(t.value)):
                found.add(t.attr)
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[-1], ast.Constant):
            func = node.func
            if isinstance(func, ast.Name) and func.id in {"setattr", "delattr"}:
                if len(node.args) >= 2 and owner_ok(ast.unparse(node.args[0])):
                    found.add(node.args[1].value)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "pop"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "__dict__"
                and owner_ok(ast.unparse(func.value.value))
            ):
                found.add(node.args[0].value)
        for child in ast.iter_child_nodes(node):
            visit(child, cls)

    visit(tree, None)
    return {
        name
        for name in found
        if isinstance(name, str) and name.startswith("_") and "callback" in name
    }


def _scan():
    found = {}
    for path in sorted(_ROOT.rglob("*.py")):
        if "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "callback" not in text:
            continue
        parts = path.relative_to(_ROOT).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        name = ".".join(("sklearn", *parts))
        try:
            module = importlib.import_module(name)
        except ImportError:  # (an optional dependency's module)
            continue
        for attr in _set_on_estimators(ast.parse(text), module):
            found.setdefault(attr, []).append(name)
    return found


def test_every_callback_attribute_scikit_learn_sets_on_an_estimator_is_left_out():
    found = _scan()
    missing = {k: v for k, v in found.items() if k not in _CALLBACKS}
    assert not missing, f"scikit-learn sets callback state the watch digests: {missing}"
    if importlib.util.find_spec("sklearn.callback") is None:
        pytest.skip(f"scikit-learn {sklearn.__version__} has no callback API")
    # the scan finds what it is for (not a scan that finds nothing)
    assert set(found) == _CALLBACKS, found


def test_the_left_out_names_are_not_watched():
    class Step(BaseEstimator):
        pass

    step = Step()
    for name in _CALLBACKS:
        setattr(step, name, [name])
    step.coef_ = 1.0
    assert watched_state(step) == {"coef_": 1.0}
