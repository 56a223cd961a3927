"""Each public estimator's pickle records its class's state format and the sktraceprop
version, and loading checks them before anything is set: a newer format is refused
('made by a newer sktraceprop'), an earlier one the class cannot read is refused, one
it can read is upgraded, and a fitted state with no format (pickled before formats were
recorded) is warned about, or refused where the class cannot read such states (an
unlearner pickled at commit 29414bb loaded silently and raised ``AttributeError:
'PipelineRefit' object has no attribute 'weighted'`` in ``unlearn``)."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn.base
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._state_format import KEY, RecordedFormatMixin, StateFormatMixin
from sktraceprop.exceptions import EarlierPickleWarning, LineageWarning, StateFormatError
from sktraceprop.utils.discovery import all_estimators
from tests._earlier_pickles import NEEDS_NUMPY_2

DATA = Path(__file__).parent


def _fitted():
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id="state_format_rows")
    y = np.arange(20) % 2
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return {
        "pipeline": pipe,
        "explainer": stp.InfluenceExplainer(pipe).fit(X, y),
        "unlearner": stp.GradientCorrectionUnlearner(
            stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
        ).fit(X, y),
        "valuer": stp.KNNShapleyValuer(n_neighbors=3).fit(X, y),
        "projector": stp.JLProjector(n_components=2, random_state=0).fit(X),
    }


@pytest.mark.parametrize("name, cls", all_estimators())
def test_every_public_estimator_sets_its_own_format(name, cls):
    assert isinstance(vars(cls).get("_state_format"), int), name
    assert vars(cls)["_state_format"] >= 1


@pytest.mark.parametrize("which", ["pipeline", "explainer", "unlearner", "valuer", "projector"])
def test_a_pickle_records_its_format_and_loads_silently(which):
    obj = _fitted()[which]
    record = obj.__getstate__()[KEY]
    assert record == {"format": type(obj)._state_format, "sktraceprop": stp.__version__}
    assert KEY not in vars(obj)  # (a copy of the state: the object itself untouched)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(obj))
    assert KEY not in vars(loaded)
    assert set(vars(loaded)) <= set(vars(obj)) | {"_fingerprint_now"}


def _loaded_from(obj, state):
    new = type(obj).__new__(type(obj))
    new.__setstate__(dict(state))  # (a copy: freed once set, as an unpickler's memo is at its end)
    return new


def test_a_fitted_state_without_a_format_is_warned_about():
    pipe = _fitted()["pipeline"]
    state = pipe.__getstate__()
    del state[KEY]
    with pytest.warns(EarlierPickleWarning) as caught:
        loaded = _loaded_from(pipe, state)
    (said,) = [str(w.message) for w in caught if w.category is EarlierPickleWarning]
    assert said.startswith("this TracedPipeline records no state format:")
    assert "(state format 1)" in said and "Fit it again" in said
    assert loaded.lineage_.run_id == pipe.lineage_.run_id


def test_an_unfitted_state_without_a_format_loads_silently():
    pipe = stp.make_traced_pipeline(LogisticRegression())
    state = pipe.__getstate__()
    del state[KEY]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _loaded_from(pipe, state)


def test_a_fitted_unlearner_without_a_format_is_refused():
    unlearner = _fitted()["unlearner"]
    state = unlearner.__getstate__()
    del state[KEY]
    with pytest.raises(StateFormatError, match="this GradientCorrectionUnlearner records no"):
        _loaded_from(unlearner, state)


@pytest.mark.parametrize("which", ["pipeline", "explainer", "valuer"])
def test_a_newer_format_is_refused(which, monkeypatch):
    obj = _fitted()[which]
    cls = type(obj)
    monkeypatch.setattr(cls, "_state_format", cls._state_format + 1)
    data = pickle.dumps(obj)
    monkeypatch.undo()
    with pytest.raises(StateFormatError) as raised:
        pickle.loads(data)
    said = str(raised.value)
    assert said.startswith(f"this {cls.__name__} was made by a newer sktraceprop")
    assert f"state format {cls._state_format + 1}" in said
    assert f"state format {cls._state_format} and earlier only" in said
    assert isinstance(raised.value, pickle.UnpicklingError)


def test_an_earlier_format_is_refused_unless_the_class_reads_it(monkeypatch):
    projector = _fitted()["projector"]
    data = pickle.dumps(projector)
    monkeypatch.setattr(stp.JLProjector, "_state_format", 2)
    with pytest.raises(StateFormatError, match=r"format 1; .* format\(s\) 2 only \(expected 2\)"):
        pickle.loads(data)
    seen = []

    def upgrade(state):
        seen.append(dict(state))
        return state

    monkeypatch.setattr(stp.JLProjector, "_state_upgrades", {1: upgrade})
    loaded = pickle.loads(data)
    assert len(seen) == 1 and KEY not in seen[0]
    np.testing.assert_array_equal(loaded.transform(np.eye(3)), projector.transform(np.eye(3)))


def test_a_format_that_is_not_a_number_is_refused():
    valuer = _fitted()["valuer"]
    state = valuer.__getstate__()
    state[KEY] = {"format": "1"}
    with pytest.raises(StateFormatError, match="not a number"):
        _loaded_from(valuer, state)


def test_scikit_learns_version_warning_still_comes(monkeypatch):
    pipe = _fitted()["pipeline"]
    monkeypatch.setattr(sklearn.base, "__version__", "0.0.1")
    data = pickle.dumps(pipe)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="StandardScaler from version 0.0.1"):
        pickle.loads(data)


@NEEDS_NUMPY_2
def test_the_unlearner_pickled_at_29414bb_is_refused_on_loading():
    path = DATA / "unlearning" / "data" / "unlearner_29414bb" / "unlearner.pkl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        with pytest.raises(StateFormatError, match="this GradientCorrectionUnlearner records"):
            pickle.loads(path.read_bytes())


def _said(caught):
    return [str(w.message) for w in caught if w.category is EarlierPickleWarning]


@NEEDS_NUMPY_2
@pytest.mark.parametrize(
    "path, outer, inner",
    [
        ("_lineage/data/pipeline_29414bb/pipeline.pkl", "TracedPipeline", 7),
        ("influence/data/explainer_c5065de/explainer.pkl", "InfluenceExplainer", 8),
        ("_lineage/data/scheme1_forms/tree_de48847.pkl", "TracedPipeline", 7),
    ],
)
def test_earlier_fixtures_load_with_one_warning_naming_their_objects(path, outer, inner):
    """Each traced object inside gave a warning of its own (the explainer's fixture
    three): one is given per load, naming them all (their runs' sources and ops too)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads((DATA / path).read_bytes())
    said, *others = _said(caught)
    if isinstance(loaded, tuple):  # (explainer, explanation): one warning each
        assert [o.split(" ")[1] for o in others] == [type(o).__name__ for o in loaded[1:]]
        loaded = loaded[0]
    else:
        assert others == []
    # the independent truth: the objects with a state format loaded (estimators where
    # fitted), the outermost first
    first, *held = [
        type(o).__name__
        for o in _objects(loaded)
        if isinstance(o, RecordedFormatMixin)
        or (
            isinstance(o, StateFormatMixin)
            and any(k.endswith("_") and not k.startswith("__") for k in vars(o))
        )
    ]
    assert first == outer and len(held) == inner
    start = f"this {outer} and the {inner} object(s) loaded inside it ("
    assert said.startswith(start)
    listed = said[len(start) : said.index(")", len(start))].split(", ")
    assert sorted(held) == sorted(n for name in listed for n in _repeated(name))


def _repeated(listed):
    """``"2 Lineage"`` -> ``["Lineage", "Lineage"]``."""
    count, _, name = listed.partition(" ")
    return [name] * int(count) if count.isdigit() else [listed]


def _objects(obj, seen=None):
    """Every object reachable from ``obj`` through attributes and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        items = list(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(("sktraceprop", "sklearn")):
        items = list(vars(obj).values())
    else:
        return
    for item in items:
        yield from _objects(item, seen)


def _nested():
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id="state_format_nested")
    inner = stp.make_traced_column_transformer((StandardScaler(), [0, 1, 2]))
    return stp.make_traced_pipeline(inner, LogisticRegression()).fit(X, np.arange(20) % 2)


def _pickled_without_formats(monkeypatch, obj, names):
    """``obj`` pickled as an sktraceprop from before formats did, for the classes named."""
    written = StateFormatMixin.__getstate__

    def getstate(self):
        state = written(self)
        if type(self).__name__ in names:
            del state[KEY]
        return state

    monkeypatch.setattr(StateFormatMixin, "__getstate__", getstate)
    data = pickle.dumps(obj)
    monkeypatch.undo()
    return data


@pytest.mark.parametrize(
    "names, start",
    [
        (
            {"TracedPipeline", "TracedColumnTransformer"},
            "this TracedPipeline and the 1 object(s) loaded inside it "
            "(TracedColumnTransformer) record no state format",
        ),
        (
            {"TracedColumnTransformer"},
            "the 1 object(s) loaded inside this TracedPipeline "
            "(TracedColumnTransformer) record no state format",
        ),
        ({"TracedPipeline"}, "this TracedPipeline records no state format"),
    ],
)
def test_a_nested_load_warns_once_naming_the_objects(monkeypatch, names, start):
    data = _pickled_without_formats(monkeypatch, _nested(), names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    (said,) = _said(caught)
    assert said.startswith(start)
    # and a second load is said again, alone (nothing of the first is left to say)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    assert _said(caught) == [said]


def test_objects_loaded_side_by_side_each_warn(monkeypatch):
    names = {"TracedPipeline", "TracedColumnTransformer"}
    data = _pickled_without_formats(monkeypatch, [_nested(), _nested()], names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    said = _said(caught)
    assert len(said) == 2
    assert all("this TracedPipeline and the 1 object(s)" in s for s in said)


def test_objects_made_between_loads_change_nothing(monkeypatch):
    data = _pickled_without_formats(monkeypatch, _nested(), {"TracedColumnTransformer"})
    made = stp.make_traced_pipeline(LogisticRegression())  # (allocated, then given its params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    assert len(_said(caught)) == 1
    assert made.steps[0][1].C == 1.0


def _records():
    """A run, an explanation and stores, each as pickled now."""
    fitted = _fitted()
    explanation = fitted["explainer"].explain(np.zeros((2, 3)))
    store = stp.stores.MemoryStore()
    store.save_run(fitted["pipeline"].lineage_)
    return {
        "run": fitted["pipeline"].lineage_,
        "explanation": explanation,
        "memory store": store,
    }


@pytest.mark.parametrize("which", ["run", "explanation", "memory store", "sqlite store"])
def test_runs_explanations_and_stores_record_their_format(which, tmp_path, monkeypatch):
    """A run, an explanation or a store pickled by another sktraceprop was read as if
    this one had written it: a newer one is now refused, one without a format warned
    about."""
    if which == "sqlite store":
        obj = stp.stores.SQLiteStore(tmp_path / "s.db")
    else:
        obj = _records()[which]
    cls = type(obj)
    assert isinstance(vars(cls).get("_state_format"), int)
    state = obj.__getstate__()
    assert state[KEY] == {"format": cls._state_format, "sktraceprop": stp.__version__}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(obj))
    assert KEY not in vars(loaded)
    del state[KEY]
    with pytest.warns(EarlierPickleWarning) as caught:
        _loaded_from(obj, dict(state))
    (said,) = _said(caught)
    assert said.startswith(f"this {cls.__name__} records no state format:")
    monkeypatch.setattr(cls, "_state_format", cls._state_format + 1)
    data = pickle.dumps(obj)
    monkeypatch.undo()
    with pytest.raises(StateFormatError, match=f"this {cls.__name__} was made by a newer"):
        pickle.loads(data)


def test_a_run_without_a_format_inside_a_pipeline_is_said_with_it(monkeypatch):
    pipe = _nested()
    written = RecordedFormatMixin.__getstate__

    def getstate(self):
        state = written(self)
        del state[KEY]
        return state

    monkeypatch.setattr(RecordedFormatMixin, "__getstate__", getstate)
    data = pickle.dumps(pipe)
    monkeypatch.undo()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads(data)
    (said,) = _said(caught)
    # the run and what it holds (its sources and ops record formats too)
    held = [type(o).__name__ for o in _objects(loaded) if isinstance(o, RecordedFormatMixin)]
    start = f"the {len(held)} object(s) loaded inside this TracedPipeline ("
    assert said.startswith(start) and "Lineage" in held
    listed = said[len(start) : said.index(")", len(start))].split(", ")
    assert sorted(held) == sorted(n for name in listed for n in _repeated(name))
    assert loaded.lineage_.run_id == pipe.lineage_.run_id


def test_an_object_left_unset_by_a_failed_constructor_swallows_no_warning(tmp_path, monkeypatch):
    """Objects being unpickled are known by their empty ``__dict__``: one whose
    constructor failed before setting any (kept alive by the exception held) is not
    taken for one that a later load would say its warning with."""
    data = _pickled_without_formats(monkeypatch, _nested(), {"TracedPipeline"})
    with pytest.raises(ValueError) as kept:
        stp.stores.SQLiteStore(tmp_path / "s.db", mode="nope")
    assert not vars(kept.value.__traceback__.tb_next.tb_frame.f_locals["self"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    assert len(_said(caught)) == 1
