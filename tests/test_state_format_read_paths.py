"""A frame's read-path mark (``ReadPaths`` in ``attrs``) records its state format like
every other pickled object of the library: one from a newer sktraceprop is refused,
naming the class and versions, before any record it carries is adopted (it was read as
this version's, with no word); one from before it recorded a format (its pickle called
``_unpickled`` with ``(marks,)``, then ``(marks, records, spans)``) is read as it was
written, with no word of its own. The truth: the raw bytes of the file at the line each
row is named by, in a registry that knew nothing before the load (a new process)."""

import pickle
import warnings

import pandas as pd
import pytest

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY, _read_paths
from sktraceprop._lineage._read_paths import READ_PATHS_ATTR, ReadPaths
from sktraceprop.exceptions import (
    EarlierPickleWarning,
    LineageError,
    LineageWarning,
    StateFormatError,
)
from tests._lineage.test_copied_file import _line_holds, _write
from tests.test_state_format_records import _earlier

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
LOADS = {"C": pickle.loads, "Python": pickle._loads}
#: How each earlier sktraceprop pickled a mark: (marks,), then (marks, records, spans).
EARLIER = {
    "marks": lambda self: (_read_paths._unpickled, (dict(self),)),
    "marks, records, spans": lambda self: (
        _read_paths._unpickled,
        (dict(self), *_read_paths._carried(self)),
    ),
}


def _frame(tmp_path):
    path = _write(tmp_path / "marked.csv", seed=3)
    return stp.read_csv(path, source_id="format_marked").iloc[2:7], path.resolve().as_uri()


def _pickled(frame, monkeypatch, protocol, reduce=None):
    if reduce is not None:
        monkeypatch.setattr(ReadPaths, "__reduce__", reduce)
    data = pickle.dumps(frame, protocol=protocol)
    monkeypatch.undo()
    return data


def _loaded_in_a_new_process(data, loads=pickle.loads):
    """``data`` loaded with no source known before (as another process would), and
    the EarlierPickleWarnings said."""
    REGISTRY.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = loads(data)
    return loaded, [str(w.message) for w in caught if w.category is EarlierPickleWarning]


def _named_right(frame, uri):
    """Each row of ``frame`` is named by ``uri`` alone, at a line whose raw bytes hold
    its values."""
    with warnings.catch_warnings():
        # (loaded in a new process: its values were not kept here to compare, said)
        warnings.simplefilter("ignore", LineageWarning)
        table = stp.row_lineage(frame)
    assert list(table["uri"]) == [uri] * len(frame)
    values = frame[["a", "b", "y"]].to_numpy(dtype=object)
    for row, line in zip(values, table["line"]):
        assert _line_holds(uri, int(line), list(row), ["a", "b", "y"]), (uri, line)


@pytest.mark.parametrize("loads", LOADS.values(), ids=LOADS.keys())
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("form", [None, "marks, records, spans"])
def test_a_mark_loads_in_a_new_process_naming_its_rows(
    tmp_path, monkeypatch, protocol, loads, form
):
    """This version's mark and the one before it recorded a format: the same mark,
    the rows named by their file and line, nothing said."""
    frame, uri = _frame(tmp_path)
    data = _pickled(frame, monkeypatch, protocol, EARLIER.get(form))
    assert (b"_loaded" in data) is (form is None)
    loaded, said = _loaded_in_a_new_process(data, loads)
    assert said == []
    assert type(loaded.attrs[READ_PATHS_ATTR]) is ReadPaths
    assert loaded.attrs[READ_PATHS_ATTR] == {next(iter(frame.attrs[READ_PATHS_ATTR])): [uri]}
    pd.testing.assert_frame_equal(loaded, frame)
    _named_right(loaded, uri)


def test_a_mark_of_marks_alone_loads_as_it_was_written(tmp_path, monkeypatch):
    """The first pickled marks carried no records: loaded where the file's source is
    known (the process that read it), its rows are named as before; nothing said."""
    frame, uri = _frame(tmp_path)
    data = _pickled(frame, monkeypatch, pickle.HIGHEST_PROTOCOL, EARLIER["marks"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(data)
    assert loaded.attrs[READ_PATHS_ATTR] == frame.attrs[READ_PATHS_ATTR]
    _named_right(loaded, uri)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_mark_from_a_newer_sktraceprop_is_refused_adopting_nothing(
    tmp_path, monkeypatch, protocol
):
    """Before, ReadPaths recorded no format: a newer sktraceprop's mark was read as
    this version's and its records adopted, with no word."""
    frame, _ = _frame(tmp_path)
    code = int(next(iter(frame.attrs[READ_PATHS_ATTR])))
    monkeypatch.setattr(ReadPaths, "_state_format", ReadPaths._state_format + 1)
    data = _pickled(frame, monkeypatch, protocol)
    REGISTRY.clear()
    with pytest.raises(StateFormatError) as raised:
        pickle.loads(data)
    said = str(raised.value)
    assert said.startswith("this ReadPaths was made by a newer sktraceprop")
    assert f"state format {ReadPaths._state_format + 1})" in said
    with pytest.raises(LineageError):
        REGISTRY.by_code(code)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_mark_and_its_sources_from_before_formats_say_the_sources_once(
    tmp_path, monkeypatch, protocol
):
    """Everything pickled as before state formats: the mark says nothing of its own,
    its source (which records no format) is said once, as the mark's; rows named right."""
    frame, uri = _frame(tmp_path)
    loaded, said = _loaded_in_a_new_process(_earlier(monkeypatch, frame, protocol))
    assert len(said) == 1 and said[0].startswith(
        "the 1 object(s) loaded inside this frame's attrs['sktraceprop_read_paths'] "
        "(Source) record no state format:"
    )
    pd.testing.assert_frame_equal(loaded, frame)
    _named_right(loaded, uri)
