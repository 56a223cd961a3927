"""One load of a pickle from before state formats says its objects once: the sources a
traced array or a frame's mark of its read paths carries (said one warning per source:
40 for a frame of 40 files), and objects side by side at protocols 0 and 1 as at 5 (the
search of the unpickler's memo made for each was quadratic: 1,000 sources took 24 s)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._read_paths import READ_PATHS_ATTR, union
from sktraceprop._lineage._source import Source
from sktraceprop.arrays import _array
from sktraceprop.exceptions import EarlierPickleWarning
from tests.test_state_format_records import _earlier

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
LOADS = {"C": pickle.loads, "Python": pickle._loads}


def _said(data, loads=pickle.loads):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = loads(data)
    return [str(w.message) for w in caught if w.category is EarlierPickleWarning], loaded


def _frame_of_files(tmp_path, n):
    parts = []
    for k in range(n):
        path = tmp_path / f"part{k}.csv"
        path.write_text(f"a,b\n{k},{k + 1}\n{k + 2},{k + 3}\n")
        parts.append(stp.read_csv(path, source_id=f"load_part{k}"))
    frame = pd.concat(parts)
    assert frame.attrs[READ_PATHS_ATTR] == union(*(part.attrs[READ_PATHS_ATTR] for part in parts))
    return frame


@pytest.mark.parametrize("loads", LOADS.values(), ids=LOADS.keys())
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_frame_of_40_files_says_its_sources_once(tmp_path, monkeypatch, protocol, loads):
    frame = _frame_of_files(tmp_path, 40)
    codes = sorted(int(c) for c in frame.attrs["sktraceprop_read_paths"])
    assert len(codes) == 40  # (the truth: one source per file read)
    said, loaded = _said(_earlier(monkeypatch, frame, protocol), loads)
    assert len(said) == 1, said[:3]
    assert said[0].startswith(
        "the 40 object(s) loaded inside this frame's attrs['sktraceprop_read_paths'] "
        "(40 Source) record no state format:"
    )
    pd.testing.assert_frame_equal(loaded, frame)
    assert sorted(int(c) for c in loaded.attrs["sktraceprop_read_paths"]) == codes


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_traced_array_of_three_sources_says_them_with_it(monkeypatch, protocol):
    rng = np.random.default_rng(0)
    parts = [stp.array(rng.normal(size=(3, 2)), source_id=f"load_arr{k}") for k in range(3)]
    x = np.concatenate(parts) * 2
    assert len(stp.provenance(x).sources()) == 3
    said, loaded = _said(_earlier(monkeypatch, x, protocol))
    assert said == [said[0]] and said[0].startswith(
        "this TracedArray and the 3 object(s) loaded inside it (3 Source) record"
    )
    np.testing.assert_array_equal(loaded, x)


def _sources(n, prefix):
    return [
        Source(
            source_id=f"{prefix}{i}",
            code=7_000 + i,
            uri=f"file:///{prefix}{i}",
            sha256="cd" * 32,
            n_rows=2,
        )
        for i in range(n)
    ]


def _nested(source_id):
    rng = np.random.default_rng(1)
    X = stp.from_numpy(rng.normal(size=(20, 3)), source_id=source_id)
    inner = stp.make_traced_column_transformer((StandardScaler(), [0, 1, 2]))
    return stp.make_traced_pipeline(inner, LogisticRegression()).fit(X, np.arange(20) % 2)


@pytest.mark.parametrize("loads", LOADS.values(), ids=LOADS.keys())
@pytest.mark.parametrize("protocol", [0, 1])
def test_protocols_0_and_1_say_what_protocol_5_says(monkeypatch, protocol, loads):
    """Standalone sources (each said by itself), pipelines holding others, a traced
    array, and a pipeline that only refers to an object loaded before it: the warnings
    of protocols 0 and 1 (objects allocated by ``object.__new__``, unseen) are those of
    protocol 5 (every allocation seen), in the same order."""
    pipe = _nested("load_nested")
    lone = _sources(30, "load_lone")
    both = [*lone, pipe, {"again": _nested("load_nested2")}, lone[:3], pipe]
    said = {p: _said(_earlier(monkeypatch, both, p), loads)[0] for p in (protocol, 5)}
    assert said[protocol] == said[5]
    assert len(said[5]) == 32
    assert [s.split(" ")[1] for s in said[5][:30]] == ["Source"] * 30
    assert all(s.startswith("this TracedPipeline and the ") for s in said[5][30:])


def test_a_load_that_fails_keeps_no_later_warning(monkeypatch):
    """A failed load whose unpickler (Python's) the exception keeps alive keeps its
    sources waiting (it returned nothing); a later load of the thread is said at its own
    end, not held with them; they are said when the exception is let go."""
    import gc

    data = _earlier(monkeypatch, [*_sources(2, "load_failing"), _array.TracedArray], 5)
    broken = data.replace(b"TracedArray", b"NoSuchClass")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AttributeError) as kept:
            pickle._loads(broken)
        assert _said_in(caught) == []
        said, loaded = _said(_earlier(monkeypatch, _sources(3, "load_after"), 5))
        assert [s.split(" ")[1] for s in said] == ["Source"] * 3 and len(loaded) == 3
        del kept
        gc.collect()
        assert len(_said_in(caught)) == 2


def _said_in(caught):
    return [str(w.message) for w in caught if w.category is EarlierPickleWarning]


def test_a_warning_filtered_as_an_error_stops_the_load(monkeypatch):
    data = _earlier(monkeypatch, _sources(2, "load_error"), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EarlierPickleWarning)
        with pytest.raises(EarlierPickleWarning, match="this Source records no state"):
            pickle.loads(data)
