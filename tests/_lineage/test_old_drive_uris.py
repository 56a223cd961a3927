"""One Windows file named by an older record (``file:///c:/...``, the drive as typed)
and by a new one (``file:///C:/...``) is one file wherever records are compared.

Records written before the drive letter was settled keep the letter as typed, and a
share's host as typed: a record of those bytes read again now (a pickle of the old
process's frame adopted, a store's run beside a new one) listed two paths, so the
compliance report left ``uri`` empty ("read from 2 paths"), OpenLineage listed both,
per-source tables held two contents and a removal or erasure by ``source_id`` warned of
two files. Truth: ``PureWindowsPath`` (its ``==`` folds case as Windows does) and
RFC 3986's case-insensitive host.
"""

import hashlib
import warnings
from dataclasses import replace
from pathlib import PureWindowsPath
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop._lineage import _io
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._labels import content_key, group_codes, source_labels
from sktraceprop._lineage._source import REGISTRY, Source
from sktraceprop._lineage._uri_path import same_file_uri, uri_of_path
from sktraceprop.compliance._source_evidence import _paths_note
from sktraceprop.exceptions import LineageWarning
from sktraceprop.exporters._column_lineage import dataset_name
from sktraceprop.stores._erase_plan import _warn_if_several_files as _erase_warns
from sktraceprop.unlearning._request import _warn_if_several_files as _removal_warns

_NAME = st.text("abcXYZé_-1 .", min_size=1, max_size=8).filter(
    lambda s: s.strip(" .") == s and s not in (".", "..")
)


def _flip(text, data):
    return "".join(c.swapcase() if data.draw(st.booleans()) else c for c in text)


def _source(uri, code=7, other_uris=()):
    reads = tuple(
        {"n_rows": 3, "columns": ["a"], "dtypes": ["int64"], "loaded_at": "t", "uri": u}
        for u in other_uris
    )
    return Source(
        source_id="data",
        code=code,
        uri=uri,
        sha256="ab" * 32,
        n_rows=3,
        columns=("a",),
        dtypes=("int64",),
        kind="file",
        loaded_at="2026-01-01T00:00:00+00:00",
        other_reads=reads,
    )


@given(
    drive=st.sampled_from("cdzCDZ"), parts=st.lists(_NAME, min_size=1, max_size=3), data=st.data()
)
def test_an_old_drive_spelling_is_the_new_one(drive, parts, data):
    path = PureWindowsPath(f"{drive}:\\", *parts)
    old = path.as_uri()  # (what records wrote before: the letter as typed)
    new = uri_of_path(path)
    assert same_file_uri(old) == same_file_uri(new) == new
    # another drive letter's case, the same file; the folders' case is kept apart
    other = PureWindowsPath(f"{drive.swapcase()}:\\", *parts)
    assert same_file_uri(other.as_uri()) == new
    flipped = PureWindowsPath(f"{drive}:\\", *[_flip(p, data) for p in parts])
    assert (same_file_uri(flipped.as_uri()) == new) == (flipped.parts == path.parts)


@given(
    host=st.text("abcdefgXYZ-", min_size=1, max_size=8).filter(lambda h: h[0] != "-"),
    data=st.data(),
)
def test_a_share_with_its_host_in_any_case_is_one_file_and_one_dataset(host, data):
    share = PureWindowsPath(f"\\\\{host}\\share\\", "a.csv")
    spelled = [
        PureWindowsPath(f"\\\\{_flip(host, data)}\\share\\", "a.csv").as_uri(),
        f"file:////{_flip(host, data)}/share/a.csv",
        f"file://///{_flip(host, data)}/share/a.csv",
    ]
    new = uri_of_path(share)
    for uri in spelled:
        assert same_file_uri(uri) == new
        assert dataset_name(SimpleNamespace(uri=uri, source_id="a"), "x") == (
            f"file://{host.lower()}",
            "/share/a.csv",
        )
    # another host is another file
    assert same_file_uri(f"file://{host}q/share/a.csv") != new


def test_other_uris_are_kept_as_they_are():
    for uri in ("file:///tmp/Data.csv", "file:///c%3A/a.csv", "s3://Bucket/Key.csv", "frame://x"):
        assert same_file_uri(uri) == uri
    assert same_file_uri("file:///tmp/a.csv") != same_file_uri("file:///tmp/A.csv")
    assert same_file_uri("file://localhost/tmp/a.csv") == "file:///tmp/a.csv"


def test_an_old_record_read_again_names_one_path():
    # an old process's record (c:) adopted, the file read again here (C:)
    both = _source("file:///c:/data/x.csv", other_uris=["file:///C:/data/x.csv"])
    assert both.uris() == ["file:///c:/data/x.csv"]  # (before: both, "2 paths")
    assert _paths_note(both) == ""
    copies = _source("file:///c:/data/x.csv", other_uris=["file:///C:/data/y.csv"])
    assert copies.uris() == ["file:///c:/data/x.csv", "file:///C:/data/y.csv"]


def test_old_and_new_records_of_one_file_are_one_content():
    old = _source("file:///c:/data/x.csv", code=7)
    new = replace(old, code=9, uri="file:///C:/data/x.csv")  # (an alias code)
    other = replace(old, code=11, uri="file:///C:/data/y.csv")
    assert content_key(old) == content_key(new) != content_key(other)
    sources = {7: old, 9: new, 11: other}
    group, contents = group_codes([7, 9, 11, 9], sources.__getitem__)
    assert group.tolist() == [0, 0, 1, 0] and len(contents) == 2
    assert source_labels(contents) == ["data [abababababab] (file:///c:/data/x.csv)"] + [
        "data [abababababab] (file:///C:/data/y.csv)"
    ]


@pytest.mark.parametrize("warns", ["erase", "removal"])
def test_one_file_under_two_spellings_is_not_two_files(warns):
    old, new = _source("file:///c:/data/x.csv"), _source("file:///C:/data/x.csv")
    copy = _source("file:///C:/data/y.csv")

    def said(sources):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            if warns == "erase":
                runs = [SimpleNamespace(sources={k: s}) for k, s in enumerate(sources)]
                _erase_warns(runs, ["data"])
            else:
                _removal_warns("data", sources, 1)
        return [str(w.message) for w in record if issubclass(w.category, LineageWarning)]

    assert said([old, new]) == []  # (before: "names ... 2 files")
    (message,) = said([old, new, copy])
    assert "2 files" in message and "file:///C:/data/y.csv" in message


def test_a_file_read_again_after_its_old_record_is_no_other_path(tmp_path, monkeypatch):
    # this process adopted an old process's record of the file (c:, a pickled frame's),
    # then reads the file itself (C:): the same file, no "the same bytes as ..." warning
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n2\n3\n")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    name = f"data-{tmp_path.name}"  # (a source of this test alone)
    old = replace(_source("file:///c:/data/x.csv"), source_id=name, sha256=sha, code=None)
    REGISTRY.adopt(REGISTRY.register(old))
    monkeypatch.setattr(_io, "file_uri", lambda p: "file:///C:/data/x.csv")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frame = stp.read_csv(path, source_id=name)
    said = [str(w.message) for w in record if issubclass(w.category, LineageWarning)]
    assert said == []  # (before: "file:///C:/data/x.csv holds the same bytes as ...")
    source = REGISTRY.by_code(int(codes_of(stp.row_ids(frame))[0]))
    assert source.uris() == ["file:///c:/data/x.csv"]  # (before: both, "2 paths")


def test_a_new_mark_narrows_an_old_record_to_its_file():
    # an old record of copies x (c:) and y; a frame read here from x marks C:
    from sktraceprop._lineage._read_paths import narrowed

    copies = _source("file:///c:/data/x.csv", other_uris=["file:///C:/data/y.csv"])
    one = narrowed(copies, ("file:///C:/data/x.csv",))
    assert one.uris() == ["file:///c:/data/x.csv"]  # (before: both, not known which)
    assert narrowed(copies, ("file:///C:/data/z.csv",)) is copies  # (no such read)
