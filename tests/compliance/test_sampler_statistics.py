"""A sampler in the pipeline trains the model on other rows than those given to fit: the
report's label balance (counted on the rows given to fit) is said not to be the model's."""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._sections import articles

from .conftest import DEPLOYER, before_format_16

imblearn = pytest.importorskip("imblearn")

pytestmark = pytest.mark.filterwarnings("ignore:the report is of format:UserWarning")


@pytest.fixture
def loans(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 90).round(2), "age": rng.integers(18, 80, 90)}
    )
    frame.loc[[3, 17, 40], "income"] = np.nan
    frame["label"] = (np.arange(90) % 3 == 0).astype(int)  # 30 of 1, 60 of 0
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    return path


def _report(loans, sampler):
    data = stp.read_csv(loans)
    store = stp.stores.MemoryStore()
    steps = [SimpleImputer(), *([sampler] if sampler is not None else []), LogisticRegression()]
    pipe = stp.make_traced_pipeline(*steps, store=store, log_predictions=True)
    pipe.fit(data[["income", "age"]], data["label"])
    pipe.predict(data[["income", "age"]].iloc[:3])
    return compliance_report(pipe, **DEPLOYER).to_dict(), store, pipe


def _input_data(report):
    (article,) = [a for a in report["articles"] if a["article"] == "26(4)"]
    return article["why"]


@pytest.mark.parametrize(
    "sampler",
    [
        imblearn.under_sampling.RandomUnderSampler(random_state=0),
        imblearn.over_sampling.RandomOverSampler(random_state=0),
    ],
    ids=["under", "over"],
)
def test_statistics_of_rows_a_sampler_changed_are_said_not_to_be_the_models(loans, sampler):
    report, store, pipe = _report(loans, sampler)
    (source,) = report["sources"]
    raw = pd.read_csv(loans)
    trained = len(pipe.steps[1][1].sample_indices_)
    # the figures: counted on the rows given to fit (the file), not on the training rows
    assert source["statistics"]["rows_given_to_fit"] == len(raw) == 90
    assert source["training_rows"] == trained != 90
    assert source["statistics"]["labels"]["counts"] == {"0": 60, "1": 30}
    income = next(c for c in source["columns"] if c["name"] == "income")
    assert income["missing"] == raw["income"].isna().sum() == 3
    # and the statement says they are not the model's
    said = _input_data(report)
    assert f"loans (90 rows given to fit, {trained} training rows)" in said
    assert "the model learned from a label balance these counts do not show" in said
    assert "count every copy, as the model saw them" not in said
    if "repeated_rows" in source:  # the over-sampler's copies are not counted
        assert "count every copy" not in source["repeated_rows"]["note"]
        assert "are of the 90 rows given to fit" in source["repeated_rows"]["note"]
    assert verify(report, store=store) is True
    # a report of format 15 said otherwise, and is checked as it was written
    old = copy.deepcopy(report)
    old["report"]["format_version"] = 15
    before_format_16(old)
    old["articles"] = articles(body_of(old))
    old["integrity"] = seal(body_of(old))
    assert "the model learned from a label balance" not in _input_data(old)
    assert verify(old, store=store) is True


def test_without_a_sampler_nothing_is_said(loans):
    report, store, _ = _report(loans, None)
    assert report["sources"][0]["training_rows"] == 90
    assert "rows given to fit" not in _input_data(report)
    assert verify(report, store=store) is True
