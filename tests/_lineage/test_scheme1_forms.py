"""Runs recorded by the two earliest forms of fingerprint scheme 1 (``data/scheme1_forms``:
pipelines pickled at commits 07b48ff and de48847, see ``data/README.md``) match their
unchanged models, said to match by scheme 1 only. Before, a one-hot encoder fitted then
(its ``dtype=np.float64`` parameter and private fitted state fed otherwise since) and the
column transformer holding it were said to be 'refitted, replaced, given other parameters
or modified in place', and trace() refused. A model changed since still is refused, also
a decision tree, whose nodes those forms did not see: it cannot be checked (said so,
not 'changed': the form could not tell)."""

import pickle
import warnings
from pathlib import Path

import pytest

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning
from tests._earlier_pickles import NEEDS_NUMPY_2

HERE = Path(__file__).parent / "data" / "scheme1_forms"
pytestmark = NEEDS_NUMPY_2


def _load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        with open(HERE / f"{name}.pkl", "rb") as f:
            pipe = pickle.load(f)
        people = stp.read_csv(HERE / "people.csv", source_id="people")
    return pipe, people[["city", "x"]], people["label"]


def _file_line(row):
    """The truth: the line of people.csv holding the row's values (header on line 1)."""
    return 2 + row


@pytest.mark.parametrize("name", ["linear_07b48ff", "linear_de48847"])
def test_an_unchanged_model_matches_its_scheme_1_run(name):
    pipe, X, y = _load(name)
    with pytest.warns(LineageWarning, match="only by an earlier scheme: recorded with "):
        traced = pipe.trace([0, 5, 29])
    assert list(traced["line"]) == [_file_line(r) for r in (0, 5, 29)]
    lines = (HERE / "people.csv").read_text().splitlines()
    city, x = X.iloc[5]
    assert lines[traced["line"].iloc[1] - 1] == f"{city},{x},{y.iloc[5]}"


@pytest.mark.parametrize(
    "name, step",
    [
        ("linear_07b48ff", lambda p: p[0].named_transformers_["onehotencoder"]),
        ("linear_de48847", lambda p: p[0].named_transformers_["onehotencoder"]),
        ("tree_de48847", lambda p: p[-1]),
    ],
)
def test_a_model_refitted_on_other_rows_is_still_refused(name, step):
    pipe, X, y = _load(name)
    fitted = step(pipe)
    if name.startswith("tree"):
        inputs = pipe[0].transform(X.iloc[:12])
        fitted.fit(inputs, 1 - y.iloc[:12].to_numpy())
    else:
        fitted.fit(X.iloc[:2][["city"]])  # 2 of the 3 cities: other categories
    said = "cannot be checked against its run" if name.startswith("tree") else "changed since"
    with pytest.raises(LineageError, match=said):
        pipe.trace([0])
