"""``pd.concat`` of many frames, among them frames read from two copies of one file
(one source_id: the same row ids): the result's mark holds every input's paths under
pandas 2.2 as under pandas 3. pandas 2.2 hands ``__finalize__`` its ``_Concatenator``
(inputs under ``objs``, not ``input_objs``): the mark was found in the first 64 frames
of the user's list alone, so a copy's frame after them was missed and its rows named by
the first copy's path with no word. The truth: the raw bytes of each path named, read
at the line named, and which frame fed each row."""

import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import _read_paths_ops
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._read_paths import READ_PATHS_ATTR
from sktraceprop.exceptions import LineageWarning
from tests._lineage.test_copied_file import _write
from tests._lineage.test_read_paths_ops import (
    _check,
    _fed,
    _joined_fed,
    _lineage_of,
    _read_copies,
    _values,
)


def _other(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        return stp.read_csv(_write(root / "other.csv", seed=9), source_id="other")


@pytest.mark.parametrize("at", [1, 40, 65, 68])
def test_a_copys_frame_anywhere_in_a_long_concat_is_named_by_its_path(tmp_path, at):
    """70 frames: the first read from ``a.csv``, one (at ``at``) from its copy, the
    others another file's rows. Before, under pandas 2.2, the copy's rows at 65 named
    ``a.csv`` alone, said nothing."""
    a, b, uri_a, uri_b = _read_copies(tmp_path)
    other = _other(tmp_path)
    frames = [a.iloc[:4], *[other.iloc[k % 12 : k % 12 + 1] for k in range(68)]]
    frames.insert(at, b.iloc[2:8])
    whole = pd.concat(frames)
    assert whole.attrs[READ_PATHS_ATTR] == {
        str(_code(a)): [uri_a, uri_b],
        **other.attrs[READ_PATHS_ATTR],
    }
    copies = whole[codes_of(stp.row_ids(whole)) == _code(a)]  # (the rows of both copies)
    table, said = _lineage_of(copies)
    fed = _joined_fed(_fed(a.iloc[:4], uri_a), _fed(b.iloc[2:8], uri_b))
    named = _check(table, fed, _values(a, b), said)
    assert named == [(uri_a, uri_b)] * len(copies)


def _code(frame):
    return int(next(iter(frame.attrs[READ_PATHS_ATTR])))


def test_a_concat_keeps_every_frames_mark_where_no_copy_was_read(tmp_path, monkeypatch):
    """In a process that has read no copy (no mark of it named two paths for one code,
    so pandas' calls are not walked), pandas 2.2 gave a concat the first frame's mark
    alone: the mark of the second file was lost (its rows then named every path a later
    read of a copy added, not the one they came from)."""
    first = stp.read_csv(_write(tmp_path / "first.csv", seed=1), source_id="concat_first")
    second = stp.read_csv(_write(tmp_path / "second.csv", seed=2), source_id="concat_second")
    monkeypatch.setattr(_read_paths_ops, "_OTHER_PATHS_SEEN", False)
    whole = pd.concat([first.iloc[:3], second.iloc[3:]])
    assert whole.attrs[READ_PATHS_ATTR] == {
        **first.attrs[READ_PATHS_ATTR],
        **second.attrs[READ_PATHS_ATTR],
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(
        st.tuples(st.sampled_from("abo"), st.integers(0, 11), st.integers(1, 3)),
        min_size=1,
        max_size=90,
    )
)
@example(picks=[("a", 0, 2), *[("o", 0, 1)] * 66, ("b", 4, 2), ("o", 1, 1)])
def test_any_concat_of_slices_of_two_copies_never_names_a_wrong_path(tmp_path_factory, picks):
    """Slices of ``a.csv``, its copy and another file, in any order and number: each
    copied row is named by paths that hold its values at its line, among them every
    path whose frame fed it; by its one path where only that path's frames gave it."""
    root = tmp_path_factory.mktemp("concat")
    a, b, uri_a, uri_b = _read_copies(root)
    frames = {"a": (a, uri_a), "b": (b, uri_b), "o": (_other(root), None)}
    parts, fed = [], {}
    for which, start, size in picks:
        frame, uri = frames[which]
        part = frame.iloc[start : start + size]
        parts.append(part)
        if uri is not None:
            fed = _joined_fed(fed, _fed(part, uri))
    whole = pd.concat(parts)
    copied = codes_of(stp.row_ids(whole)) == _code(a)
    if not copied.any():
        return
    table, said = _lineage_of(whole[copied])
    named = _check(table, fed, _values(a, b), said)
    used = {u for paths in fed.values() for u in paths}
    if len(used) == 1:
        assert not said and named == [tuple(used)] * int(copied.sum())
