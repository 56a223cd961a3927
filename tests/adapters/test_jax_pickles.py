"""JaxClassifier, JaxRegressor, MLPInit and MLPApply are named by pickles (and by model
fingerprints) at ``sktraceprop.adapters._jax``: pickles written by earlier releases load,
and those written now name the same classes."""

import pickle
import pickletools

import pytest

from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp

# pickle.dumps([JaxClassifier(apply_fn, init_fn, n_epochs=7, alpha=0.5, batch_size=4),
# JaxRegressor(n_epochs=3, learning_rate=0.1)], protocol=2) with
# init_fn, apply_fn = mlp((3,), activation="tanh", init="torch"), written by main at
# 1949af7c, before _jax.py's outputs moved to _jax_outputs.py
_MAIN_1949AF7C = (
    b"\x80\x02]q\x00(csktraceprop.adapters._jax\nJaxClassifier\nq\x01)\x81q\x02}q\x03(X\x08"
    b"\x00\x00\x00apply_fnq\x04csktraceprop.adapters._jax\nMLPApply\nq\x05)\x81q\x06}q\x07X"
    b"\n\x00\x00\x00activationq\x08X\x04\x00\x00\x00tanhq\tsbX\x07\x00\x00\x00init_fnq\n"
    b"csktraceprop.adapters._jax\nMLPInit\nq\x0b)\x81q\x0c}q\r(X\x06\x00\x00\x00hiddenq\x0e"
    b"K\x03\x85q\x0fX\x04\x00\x00\x00initq\x10X\x05\x00\x00\x00torchq\x11ubX\x08\x00\x00"
    b"\x00n_epochsq\x12K\x07X\r\x00\x00\x00learning_rateq\x13G?\x84z\xe1G\xae\x14{X\n\x00"
    b"\x00\x00batch_sizeq\x14K\x04X\x05\x00\x00\x00alphaq\x15G?\xe0\x00\x00\x00\x00\x00\x00"
    b"X\x0c\x00\x00\x00random_stateq\x16NX\t\x00\x00\x00optimizerq\x17X\x04\x00\x00\x00adam"
    b"q\x18ubcsktraceprop.adapters._jax\nJaxRegressor\nq\x19)\x81q\x1a}q\x1b(h\x04Nh\nNh"
    b"\x12K\x03h\x13G?\xb9\x99\x99\x99\x99\x99\x9ah\x14Nh\x15G\x00\x00\x00\x00\x00\x00\x00"
    b"\x00h\x16Nh\x17h\x18ube."
)


def _globals(data):
    """The ``module name`` of every class a protocol-2 pickle names."""
    return {arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}


def test_a_pickle_written_before_the_split_loads_as_the_same_estimators():
    init_fn, apply_fn = mlp((3,), activation="tanh", init="torch")
    expected = [
        JaxClassifier(apply_fn, init_fn, n_epochs=7, alpha=0.5, batch_size=4),
        JaxRegressor(n_epochs=3, learning_rate=0.1),
    ]
    loaded = pickle.loads(_MAIN_1949AF7C)
    assert [type(e) for e in loaded] == [JaxClassifier, JaxRegressor]
    for got, want in zip(loaded, expected):
        assert got.get_params() == want.get_params()


def test_pickles_name_the_classes_where_earlier_releases_find_them():
    jax = pytest.importorskip("jax")  # noqa: F841 (fitting needs it)
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    init_fn, apply_fn = mlp((4,))
    clf = JaxClassifier(apply_fn, init_fn, n_epochs=2, random_state=0).fit(X, X[:, 0] > 0)
    reg = JaxRegressor(apply_fn, init_fn, n_epochs=2, random_state=0).fit(X, X[:, 1])
    named = {g for g in _globals(pickle.dumps([clf, reg], protocol=2)) if "sktraceprop" in g}
    old = "sktraceprop.adapters._jax"
    assert named == {
        f"{old} {c}" for c in ("JaxClassifier", "JaxRegressor", "MLPInit", "MLPApply")
    }
    assert _globals(_MAIN_1949AF7C) <= named
