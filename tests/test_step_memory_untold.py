"""A traced pipeline given ``memory=`` whose memory's cached calls cannot be matched to
its steps: refused, and the refusal names the pipeline (scikit-learn's, or
imbalanced-learn's, nested or not).

The stand-in memory (``_watch_memory.WatchedMemory``) takes each cached call's step to be
the pipeline's next step (scikit-learn's and imbalanced-learn's ``Pipeline._fit`` call
``memory.cache`` once per step, in order; imbalanced-learn's through one of two cached
functions, ``_fit_transform_one`` or ``_fit_resample_one``). A step it cannot match (here
a step whose clone is of another class) is refused; the refusal said only "the
pipeline's memory", not which pipeline.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import shifted_data


class _OtherClone(StandardScaler):
    """A scaler whose clone is of another class (the memory's step cannot be matched)."""

    def __sklearn_clone__(self):
        return _Cloned(**self.get_params())


class _Cloned(_OtherClone):
    pass


def _sklearn(path):
    return stp.make_traced_pipeline(_OtherClone(), LogisticRegression(), memory=str(path))


def _imblearn(path):
    under_sampling = pytest.importorskip("imblearn.under_sampling")
    sampler = under_sampling.RandomUnderSampler(random_state=0)
    return stp.make_traced_pipeline(sampler, _OtherClone(), LogisticRegression(), memory=str(path))


def _imblearn_nested(path):
    imb_pipeline = pytest.importorskip("imblearn.pipeline")
    steps = [("scale", _OtherClone()), ("last", StandardScaler())]  # (the last: in place)
    inner = imb_pipeline.Pipeline(steps, memory=str(path))
    return stp.TracedPipeline([("prep", inner), ("lr", LogisticRegression())])


LAYOUTS = {
    "sklearn": (_sklearn, "the pipeline sktraceprop.pipeline.TracedPipeline"),
    "imblearn": (_imblearn, "the pipeline sktraceprop._imblearn.TracedImbPipeline"),
    "imblearn-nested": (_imblearn_nested, "the pipeline 'prep' (imblearn.pipeline.Pipeline)"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_step_the_memory_fitted_not_told_apart_is_refused_naming_the_pipeline(tmp_path, layout):
    make, said = LAYOUTS[layout]
    X, y = shifted_data(0, "memory_untold")
    store = MemoryStore()
    pipe = make(tmp_path).set_params(store=store)
    with pytest.raises(LineageError) as raised:
        pipe.fit(X, y)
    message = str(raised.value)
    assert f"1 step(s) fitted through the memory of {said} could not be told apart" in (message), (
        message
    )
    assert "No run was recorded" in message and "no longer the object" not in message
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_imblearn_steps_the_memory_fitted_are_told_apart_and_recorded(tmp_path):
    # imbalanced-learn's _fit calls memory.cache twice (a transformer's and a sampler's
    # cached function) and each step through one: every step matched, the run recorded
    under_sampling = pytest.importorskip("imblearn.under_sampling")
    X, y = shifted_data(0, "memory_untold")
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(),
        under_sampling.RandomUnderSampler(random_state=0),
        StandardScaler(),
        LogisticRegression(),
        memory=str(tmp_path),
        store=store,
    ).fit(X, y)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    kept = pipe.steps[1][1].sample_indices_
    np.testing.assert_array_equal(pipe.lineage_.row_ids, stp.row_ids(X)[kept])
