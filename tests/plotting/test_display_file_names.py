"""Displays name files whose names are not UTF-8 apart, by their own bytes.

The label was the URI's path decoded with ``unquote``: ``caf%E9.csv`` and ``caf%E8.csv``
(latin-1 "café" and "cafè") both became ``caf\\ufffd.csv``, shown as one file with two
versions (``[sha256]`` after each), though they are two files.
"""

import hashlib
from pathlib import PureWindowsPath
from types import SimpleNamespace

import pytest

import sktraceprop as stp
from sktraceprop.plotting import BySourceDisplay
from sktraceprop.plotting._base import source_names
from tests._file_names import latin1_frames

pytest.importorskip("matplotlib.pyplot")


def test_two_files_named_in_latin1_are_two_labels(tmp_path):
    train = latin1_frames(tmp_path)
    X, y = train[["a", "b"]], train["y"].to_numpy()
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    display = BySourceDisplay.from_estimator(valuer, X.iloc[:5], y[:5])
    # the names' bytes, shown as escapes (not a lone surrogate, which text output refuses)
    labels = ["caf\\xe9.csv (20 rows)", "caf\\xe8.csv (20 rows)"]
    assert sorted(display.values) == sorted(labels)
    assert sorted(t.get_text() for t in display.ax_.get_yticklabels()) == sorted(labels)
    display.figure_.savefig(tmp_path / "by_source.svg")


def test_files_of_one_path_on_two_hosts_are_two_labels():
    # Before, the host was dropped: file://server/share/a.csv and file://other/share/a.csv
    # (copies, one SHA-256) were both "a.csv [<sha>]", one label for two files, and a
    # Windows drive's file was in a folder "/" before "C:".
    sha = hashlib.sha256(b"a,y\n1,0\n").hexdigest()
    paths = ["\\\\server\\share\\a.csv", "\\\\other\\share\\a.csv", "C:\\share\\a.csv"]
    sources = [
        SimpleNamespace(source_id="a", uri=PureWindowsPath(p).as_uri(), sha256=sha) for p in paths
    ]
    sources.append(SimpleNamespace(source_id="a", uri="file:///share/a.csv", sha256=sha))
    names = source_names(sources)
    assert names == [
        "server/share/a.csv",
        "other/share/a.csv",
        "C:/share/a.csv",
        "/share/a.csv",
    ]
