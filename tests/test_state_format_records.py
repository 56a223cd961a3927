"""Every pickled object of sktraceprop records its state format: sources, ops, traced
arrays and their provenance, removal records, a frame's read-path mark, displays and
compliance reports (each loaded with whatever fields matched, with no word, where a
later sktraceprop had pickled it); one load of a pickle from before formats warns once
at every pickle protocol (0 and 1 warned once per object: their objects are allocated by
``object.__new__``); an explanation from before the process's file digests were shared
keeps no ``_digests``."""

import copy
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_set as removed_set
from sktraceprop._lineage import _read_paths
from sktraceprop._lineage._file_digests import FileDigests
from sktraceprop._lineage._read_paths import READ_PATHS_ATTR, ReadPaths
from sktraceprop._lineage._run import Op
from sktraceprop._lineage._source import Source
from sktraceprop._state_format import KEY, RecordedFormatMixin, StateFormatMixin
from sktraceprop.arrays import _array
from sktraceprop.arrays._fit import sources_of
from sktraceprop.arrays._provenance import Provenance
from sktraceprop.compliance import ComplianceReport, compliance_report
from sktraceprop.exceptions import EarlierPickleWarning, StateFormatError
from sktraceprop.plotting import (
    BySourceDisplay,
    InfluenceDisplay,
    LineageDisplay,
    UnlearningDisplay,
)
from sktraceprop.unlearning import RemovedRows

pytest.importorskip("matplotlib")

#: The classes pickled by their state (``__dict__``), and those through a function.
STATED = [
    "source",
    "op",
    "provenance",
    "influence display",
    "lineage display",
    "by source display",
    "unlearning display",
    "report",
]
#: Those pickled through a function of theirs that say an earlier pickle (one of before
#: they recorded a format: FileDigests(max_kept, max_path_chars), copyreg's slots).
SAID = ["traced array", "file digests", "removed set"]
ALL = [*STATED, *SAID, "unlearning event", "removed rows", "read paths"]


def _rows():
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id="records_rows")
    return X, np.arange(20) % 2


def _pipe():
    X, y = _rows()
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=True
    ).fit(X, y)
    pipe.predict(X[:3])
    return pipe


def _event():
    X, y = _rows()
    unlearner = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X, y)
    unlearner.unlearn(sample_id=np.asarray(unlearner.train_row_ids_)[:2])
    return unlearner.unlearning_log_[-1]


def _traced():
    return stp.array(np.random.default_rng(1).normal(size=(5, 2)), source_id="records_a") * 2


_FILES = tempfile.TemporaryDirectory()


def _mark():
    """The mark ``read_csv`` gives a frame (with the record of the file it read)."""
    path = Path(_FILES.name) / "records_read_paths.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    return stp.read_csv(path, source_id="records_read_paths").attrs[READ_PATHS_ATTR]


def _report():
    return compliance_report(
        _pipe(),
        system_name="s",
        system_version="1",
        deployer_name="d",
        high_risk_category="creditworthiness",
        intended_purpose="p",
        human_oversight=["h"],
    )


#: How each object is made (in the test: the registry of sources is the test's own).
MAKE = {
    "source": lambda: next(iter(_pipe().lineage_.sources.values())),
    "op": lambda: _pipe().lineage_.ops[0],
    "provenance": lambda: stp.provenance(_traced()),
    "influence display": lambda: InfluenceDisplay(
        scores=np.array([1.0, -1.0]), labels=["a.csv:2", "b.csv:3"], test_index=0
    ),
    "lineage display": lambda: LineageDisplay.from_estimator(_pipe()),
    "by source display": lambda: BySourceDisplay(values={"a (3 rows)": np.ones(3)}, xlabel="v"),
    "unlearning display": lambda: UnlearningDisplay(
        original=np.ones(3), unlearned=np.zeros(3), retrained=np.ones(3), response="predict"
    ),
    "report": _report,
    "traced array": _traced,
    "unlearning event": _event,
    "removed rows": lambda: _event()["row_ids"],
    "file digests": lambda: FileDigests(max_kept=7, max_path_chars=99),
    "read paths": _mark,
    "removed set": lambda: removed_set.RemovedRows(
        np.array([2**40 + 5, 2**40 + 3, 7]), "a removal", {1: "people"}, ([7], [2**40 + 3])
    ),
}


def _made(which):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (an unlearning: other objects keep its rows)
        return MAKE[which]()


def _comparable(value):
    """``value`` as plain data: arrays as lists, a matplotlib object by its type."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [value.dtype.str, value.shape, value.tolist()]
    if type(value).__module__.startswith("matplotlib"):
        return type(value).__name__
    return value


def _same(loaded, obj):
    """Whether ``loaded`` holds what ``obj`` does (by what each class shows)."""
    assert type(loaded) is type(obj)
    if isinstance(obj, np.ndarray):  # a traced array: its values and its provenance
        assert np.array_equal(loaded, obj)
        return _same(stp.provenance(loaded), stp.provenance(obj))
    if isinstance(obj, Provenance):
        pd.testing.assert_frame_equal(loaded.sources(), obj.sources())
        pd.testing.assert_frame_equal(loaded.ops(), obj.ops())
        return all(
            loaded.rows(i).equals(obj.rows(i)) for i in range(obj.shape[0])
        ) and loaded.shape == (obj.shape)
    if isinstance(obj, ComplianceReport):
        return loaded.to_json() == obj.to_json() and loaded.verify() == obj.verify()
    if isinstance(obj, RemovedRows):
        return loaded == obj and loaded.lines == obj.lines
    if isinstance(obj, removed_set.RemovedRows):
        kept = ("ids", "_alias", "_by")
        assert not loaded.ids.flags.writeable
        return all(np.array_equal(getattr(loaded, k), getattr(obj, k)) for k in kept) and (
            loaded.what,
            loaded._sources,
            [loaded.get(i) for i in obj.ids],
        ) == (obj.what, obj._sources, [obj.get(i) for i in obj.ids])
    if isinstance(obj, FileDigests):
        return (loaded.max_kept, loaded.max_path_chars, len(loaded)) == (7, 99, 0)
    if isinstance(obj, Source | Op | dict):
        return loaded == obj
    return _comparable(vars(loaded)) == _comparable(vars(obj))


def _counted(n, name="Source"):
    return name if n == 1 else f"{n} {name}"


def _said(caught):
    return [str(w.message) for w in caught if w.category is EarlierPickleWarning]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("which", ALL)
def test_each_class_records_its_format_and_loads_the_same(which, protocol):
    obj = _made(which)
    assert isinstance(vars(type(obj)).get("_state_format"), int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(obj, protocol=protocol))
    assert _same(loaded, obj)
    assert KEY not in getattr(loaded, "__dict__", {})


@pytest.mark.parametrize("which", ALL)
def test_a_newer_format_is_refused_naming_the_class(which, monkeypatch):
    obj = _made(which)
    cls = type(obj)
    monkeypatch.setattr(cls, "_state_format", cls._state_format + 1)
    data = pickle.dumps(obj)
    monkeypatch.undo()
    with pytest.raises(StateFormatError) as raised:
        pickle.loads(data)
    said = str(raised.value)
    assert said.startswith(f"this {cls.__name__} was made by a newer sktraceprop")
    assert f"state format {cls._state_format + 1})" in said


def _earlier(monkeypatch, obj, protocol=pickle.HIGHEST_PROTOCOL):
    """``obj`` pickled as an sktraceprop from before pickles recorded formats did."""
    stated = {m: m.__getstate__ for m in (RecordedFormatMixin, StateFormatMixin)}
    for mixin, written in stated.items():

        def getstate(self, written=written):
            state = written(self)
            del state[KEY]
            return state

        monkeypatch.setattr(mixin, "__getstate__", getstate)
    reduced = _array.TracedArray.__reduce__
    # (the traced array's _rebuild was given four arguments)
    monkeypatch.setattr(
        _array.TracedArray, "__reduce__", lambda self: (_array._rebuild, reduced(self)[1][:4])
    )
    # (FileDigests called its constructor; RemovedRows pickled its slots, as copyreg does)
    monkeypatch.setattr(
        FileDigests, "__reduce__", lambda self: (FileDigests, (self.max_kept, self.max_path_chars))
    )
    monkeypatch.setattr(removed_set.RemovedRows, "__reduce__", object.__reduce__)
    # (a frame's read-path mark called _unpickled with its marks, records and spans)
    monkeypatch.setattr(
        ReadPaths,
        "__reduce__",
        lambda self: (_read_paths._unpickled, (dict(self), *_read_paths._carried(self))),
    )
    data = pickle.dumps(obj, protocol=protocol)
    monkeypatch.undo()
    return data


@pytest.mark.parametrize("which", [*STATED, *SAID])
def test_a_pickle_without_a_format_warns_once_and_loads_the_same(which, monkeypatch):
    obj = _made(which)
    data = _earlier(monkeypatch, obj)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.loads(data)
    (said,) = _said(caught)
    if which == "traced array":
        # (its sources are its rebuild's arguments, loaded before it is made: each said
        # its own before they waited for the load's end)
        n = len(sources_of(obj))
        assert said.startswith(
            f"this TracedArray and the {n} object(s) loaded inside it ({_counted(n)}) record"
        )
    else:
        assert said.startswith(f"this {type(obj).__name__} records no state format:")
    assert _same(loaded, obj)


@pytest.mark.parametrize("which", ["unlearning event", "removed rows"])
def test_a_record_pickled_through_its_constructor_before_loads_as_constructed(which):
    """These pickled as a call of their constructor before (they hold its arguments
    only): such a pickle cannot be told from a construction, and is read as one."""
    obj = _made(which)
    args = obj.__reduce__()[1][2]
    earlier = pickle.dumps(type(obj)(*args))
    assert pickle.loads(earlier) == obj  # (what the earlier pickle gave)
    data = pickle.dumps(obj)
    assert b"constructed" in data
    assert _same(pickle.loads(data), obj)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(deadline=None, max_examples=40)
@given(
    source_id=_TEXT,
    code=st.integers(0, 2**40),
    n_rows=st.integers(0, 10**6),
    columns=st.lists(_TEXT, max_size=4),
    kind=st.sampled_from(["file", "frame", "array", "anonymous"]),
    other_reads=st.lists(
        st.fixed_dictionaries({"n_rows": st.integers(0, 99), "uri": _TEXT}), max_size=2
    ),
    digest_scheme=st.sampled_from([None, "frame-2", "polars-1"]),
    encoding=st.sampled_from([None, "utf-16", "cp500"]),
    max_line=st.none() | st.integers(0, 10**6),
)
def test_a_source_of_any_shape_round_trips_and_warns_once_without_a_format(
    source_id, code, n_rows, columns, kind, other_reads, digest_scheme, encoding, max_line
):
    source = Source(
        source_id=source_id,
        code=code,
        uri=f"file:///{source_id}",
        sha256="ab" * 32,
        n_rows=n_rows,
        columns=tuple(columns),
        dtypes=("int64",) * len(columns),
        kind=kind,
        max_line=max_line,
        other_reads=tuple(other_reads),
        digest_scheme=digest_scheme,
        encoding=encoding,
    )
    assert pickle.loads(pickle.dumps(source)) == source
    state = source.__getstate__()
    del state[KEY]
    earlier = Source.__new__(Source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        earlier.__setstate__(dict(state))  # (a copy: freed once set, as a memo at its end)
    assert len(_said(caught)) == 1
    assert earlier == source and earlier.to_dict() == source.to_dict()


@settings(deadline=None, max_examples=40)
@given(
    name=_TEXT,
    params=st.dictionaries(_TEXT, st.none() | st.integers() | _TEXT, max_size=3),
    features=st.lists(_TEXT, max_size=3),
    sources=st.none() | st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2),
)
def test_an_op_of_any_shape_round_trips(name, params, features, sources):
    keys = None if sources is None else [[s, "cd" * 32] for s in sources]
    op = Op(name, "m.C", params, "ef" * 32, features, features[::-1], sources, keys)
    assert pickle.loads(pickle.dumps(op)) == op
    assert op.__getstate__()[KEY]["format"] == Op._state_format


def _nested():
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id="records_nested")
    inner = stp.make_traced_column_transformer((StandardScaler(), [0, 1, 2]))
    return stp.make_traced_pipeline(inner, LogisticRegression()).fit(X, np.arange(20) % 2)


@pytest.mark.parametrize("loads", [pickle.loads, pickle._loads], ids=["C", "Python"])
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_one_load_warns_once_at_every_protocol(protocol, loads, monkeypatch):
    """Protocols 0 and 1 warned once per object (11 warnings for this pipeline)."""
    pipe = _nested()
    data = _earlier(monkeypatch, pipe, protocol)
    for _ in range(2):  # (a second load is said again: nothing of the first is left)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = loads(data)
        (said,) = _said(caught)
        assert said.startswith("this TracedPipeline and the 6 object(s) loaded inside it (")
        assert loaded.lineage_.run_id == pipe.lineage_.run_id
    # and loads of pickles that record their formats still say nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(pipe, protocol=protocol))


@pytest.mark.parametrize("protocol", [0, 1])
def test_objects_side_by_side_each_warn_at_protocols_0_and_1(protocol, monkeypatch):
    """As at protocol 5: one warning each (the second pipeline's run shares the
    first's source, loaded once, with the first)."""
    both = {"a": [_nested()], "b": _nested()}
    said = {}
    for p in (protocol, pickle.HIGHEST_PROTOCOL):
        data = _earlier(monkeypatch, both, p)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pickle.loads(data)
        said[p] = _said(caught)
    assert said[protocol] == said[pickle.HIGHEST_PROTOCOL]
    assert len(said[protocol]) == 2
    assert all(s.startswith("this TracedPipeline and the ") for s in said[protocol])


def test_an_explanation_from_before_shared_digests_keeps_no_digests_of_its_own():
    """Explanations pickled between d9dee25c and dc23a111 held their own FileDigests,
    read by nothing since."""
    rng = np.random.default_rng(0)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id="records_digests")
    y = np.arange(20) % 2
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X[:2])
    state = explanation.__getstate__()
    state["_digests"] = FileDigests()
    loaded = type(explanation).__new__(type(explanation))
    loaded.__setstate__(state)
    assert "_digests" not in vars(loaded)
    assert set(vars(loaded)) == set(vars(explanation))
    np.testing.assert_array_equal(loaded.scores, explanation.scores)
    assert _comparable(loaded.trace(0)) == _comparable(explanation.trace(0))


def _warnings_of_an_earlier_load(monkeypatch, pipe):
    """How many EarlierPickleWarnings one load of ``pipe`` pickled as before says."""
    data = _earlier(monkeypatch, pipe)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    return len(_said(caught))


def test_a_failed_load_kept_alive_swallows_no_later_warning(monkeypatch):
    """A load refused (a newer format) left its object allocated and empty, kept alive
    by the exception held (a notebook keeps the last): a later load of an earlier
    pickle took it for the object being loaded around it and said nothing."""
    pipe = _nested()
    monkeypatch.setattr(type(pipe), "_state_format", type(pipe)._state_format + 1)
    newer = pickle.dumps(pipe)
    monkeypatch.undo()
    with pytest.raises(StateFormatError) as kept:
        pickle.loads(newer)
    assert _warnings_of_an_earlier_load(monkeypatch, pipe) == 1
    assert kept.value is not None


def test_a_load_refused_after_its_format_was_read_swallows_no_later_warning(monkeypatch):
    """A run's pickle refused after its format was read (its sources could not be
    completed: a derived source whose parents this process lacks) left its object
    allocated and empty, kept alive by the exception held: a later load of an earlier
    pickle took it for the object being loaded around it and said nothing (0 warnings,
    not 1)."""
    from sktraceprop._lineage._source import REGISTRY

    pipe = _nested()
    blob = pickle.dumps(pipe.lineage_)

    def incomplete(source):
        raise KeyError(f"parents of {source!r} not known here")

    with monkeypatch.context() as patched:
        patched.setattr(REGISTRY, "complete", incomplete)
        with pytest.raises(KeyError) as kept:
            pickle.loads(blob)
    assert _warnings_of_an_earlier_load(monkeypatch, pipe) == 1
    assert kept.value is not None


def test_a_pickled_report_edited_after_it_was_made_is_refused_on_loading():
    """A report's pickle was loaded unchecked: one edited after it was made rendered
    as if made so (ComplianceReport(data) refuses the same data)."""
    from sktraceprop.exceptions import ReportVerificationError

    report = _made("report")
    state = report.__getstate__()
    edited = copy.deepcopy(state)
    edited["_data"]["system"]["name"] = "Another system"
    with pytest.raises(ReportVerificationError):
        ComplianceReport(edited["_data"])
    loaded = ComplianceReport.__new__(ComplianceReport)
    with pytest.raises(ReportVerificationError):
        loaded.__setstate__(edited)
    loaded.__setstate__(state)
    assert loaded.to_html() == report.to_html()
