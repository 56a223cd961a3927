"""Shared by the tests of stores written with an earlier fingerprint scheme.

Each ``data/fingerprintN/`` folder holds a ``store.db`` written by the sktraceprop of
scheme ``N`` and the ``make_fingerprintN.py`` that wrote it (its ``frame()`` and
``pipeline(store)``): the tests refit that pipeline now and compare with the stored run.
"""

import contextlib
import shutil
import sys

import numpy as np
import pytest
import scipy
import sklearn

import sktraceprop as stp
from tests.stores._stored_fits import install_fitted_state


def skip_unless_written_by_these_versions(stored):
    """Skip where the stored model was fitted by other numpy/scipy/sklearn versions."""
    here = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    here["scipy"] = scipy.__version__
    differ = {k: (stored.versions.get(k), v) for k, v in here.items()}
    differ = {k: pair for k, pair in differ.items() if pair[0] != pair[1]}
    if differ:
        pytest.skip(f"the store's model is refitted exactly only by its versions: {differ}")


@contextlib.contextmanager
def maker_module(data, name):
    """The folder's ``make_fingerprintN`` module, importable while the block runs."""
    sys.path.insert(0, str(data))
    try:
        yield __import__(name)
    finally:
        sys.path.remove(str(data))


def refit(
    data, tmp_path, maker, *, scheme=None, log_predictions=True, before_fit=None, install=True
):
    """The store's copy, its run, and its pipeline fitted again now carrying the stored
    run as its ``lineage_`` (as a model pickled then would).

    ``scheme``: the fingerprint scheme the stored run must record (None: not checked);
    ``before_fit(pipe)``: what to do to the unfitted pipeline first; ``install``: put
    the store's fitted state of its logistic regression (``fit.npz``, see
    :mod:`tests.stores._stored_fits`) into the model refitted here.
    """
    shutil.copyfile(data / "store.db", tmp_path / "store.db")
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    assert store.verify()
    (run_id,) = store.list_runs()["run_id"]
    stored = store.load_run(run_id)
    if scheme is not None:
        assert stored.fingerprint_scheme == scheme
    skip_unless_written_by_these_versions(stored)
    df = stp.from_pandas(maker.frame(), "points")
    pipe = maker.pipeline(store).set_params(log_predictions=log_predictions)
    if before_fit is not None:
        before_fit(pipe)
    pipe.fit(df[["a", "b"]], df["y"])
    if install:
        install_fitted_state(pipe.named_steps["logisticregression"], data / "fit.npz")
    pipe.lineage_ = stored
    return store, stored, pipe, df
