"""An sktraceprop object unpickled from an earlier sktraceprop whose class lacked some
of this version's parameters warns on loading, naming them (a pipeline pickled at
07b48ff had no ``log_predictions``: before, the first get_params, clone or repr raised a
bare ``AttributeError``); objects of versions with every parameter, and of this one, load
without it."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageWarning
from tests._earlier_pickles import NEEDS_NUMPY_2

DATA = Path(__file__).parent
pytestmark = NEEDS_NUMPY_2


def _unpickle(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", LineageWarning)
        with open(path, "rb") as f:
            obj = pickle.load(f)
    return obj, [str(w.message) for w in caught if "earlier sktraceprop" in str(w.message)]


def test_a_pipeline_without_a_parameter_of_now_says_so_on_loading():
    pipe, said = _unpickle(DATA / "_lineage" / "data" / "scheme1_forms" / "linear_07b48ff.pkl")
    assert len(said) == 1  # for the pipeline only (its steps are scikit-learn's)
    assert said[0].startswith(
        "this TracedPipeline was pickled by an earlier sktraceprop, whose TracedPipeline "
        "had no parameter(s) log_predictions:"
    )
    assert "log_predictions" not in vars(pipe)
    with pytest.raises(AttributeError, match="log_predictions"):  # as the warning says
        clone(pipe)


@pytest.mark.parametrize(
    "path",
    [
        DATA / "_lineage" / "data" / "pipeline_29414bb" / "pipeline.pkl",
        DATA / "influence" / "data" / "explainer_c5065de" / "explainer.pkl",
    ],
)
def test_objects_with_every_parameter_load_without_it(path):
    _, said = _unpickle(path)
    assert said == []


def test_an_object_pickled_now_loads_without_it():
    X = stp.from_numpy(np.arange(20.0).reshape(10, 2), source_id="earlier_params_now")
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, np.arange(10) % 2)
    explainer = stp.InfluenceExplainer(pipe).fit(X, np.arange(10) % 2)
    _, said = _unpickle_bytes(pickle.dumps(explainer))
    assert said == []


def _unpickle_bytes(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = pickle.loads(data)
    return obj, [str(w.message) for w in caught if "earlier sktraceprop" in str(w.message)]
