"""OpenLineage names a file whose name is not UTF-8 by its own bytes.

The dataset name was the URI's path decoded with ``unquote``: ``caf%E9.csv`` and
``caf%E8.csv`` (latin-1 "café" and "cafè") both became ``caf\\ufffd.csv``, one dataset
of two files, which a lineage catalogue merges. A Windows drive's file is named as
Windows names it, a file on another host in that host's namespace.
"""

import dataclasses
import json
import os
from pathlib import PureWindowsPath

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exporters import to_openlineage
from tests._file_names import latin1_frames


def test_two_files_named_in_latin1_are_two_datasets(tmp_path):
    train = latin1_frames(tmp_path)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(train[["a", "b"]], train["y"].to_numpy())
    event = json.loads(json.dumps(to_openlineage(pipe.lineage_, job_name="cafe")))
    # the folder's path (UTF-8 here), then the names' bytes as escapes
    folder = os.fsencode(tmp_path.resolve()).decode()
    names = sorted(d["name"] for d in event["inputs"] if d["namespace"] == "file")
    assert names == [f"{folder}/caf\\xe8.csv", f"{folder}/caf\\xe9.csv"]


def _with_uris(lineage, uris):
    """The run with its file sources' URIs replaced, in order of their codes, as a
    record written on another machine holds them (the export reads only the record)."""
    files = sorted(code for code, s in lineage.sources.items() if s.uri.startswith("file:"))
    sources = dict(lineage.sources)
    for code, uri in zip(files, uris, strict=True):
        sources[code] = dataclasses.replace(sources[code], uri=uri)
    return dataclasses.replace(lineage, sources=sources)


def test_windows_drives_and_hosts_name_their_files(tmp_path):
    # Truth: OpenLineage's naming (namespace file or file://host, the path on it) of the
    # path the URI names. Before, C:\data\a.csv was named /C:/data/a.csv (no path).
    frames = []
    for k in range(3):
        (tmp_path / f"{k}.csv").write_text(f"a,b,y\n{k},1,0\n2,{k},1\n3,3,{k % 2}\n")
        frames.append(stp.read_csv(tmp_path / f"{k}.csv"))
    train = pd.concat(frames)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(train[["a", "b"]], train["y"].to_numpy())
    uris = [
        PureWindowsPath("C:\\data\\a.csv").as_uri(),
        PureWindowsPath("\\\\server\\share\\a.csv").as_uri(),
        PureWindowsPath("\\\\other\\share\\a.csv").as_uri(),
    ]
    event = json.loads(json.dumps(to_openlineage(_with_uris(pipe.lineage_, uris))))
    named = sorted((d["namespace"], d["name"]) for d in event["inputs"])
    assert named == [
        ("file", "C:/data/a.csv"),
        ("file://other", "/share/a.csv"),
        ("file://server", "/share/a.csv"),
    ]


def test_one_share_spelt_three_ways_is_one_dataset(tmp_path):
    # Truth: RFC 8089 E.3.2 (file:////server/share is the share \\server\share) and
    # RFC 3986 3.2.2 (host names are case-insensitive): one file, one dataset. Before,
    # file:////server/... was the local file //server/share/a.csv (namespace file) and
    # file://SERVER/ another namespace than file://server/.
    frames = []
    for k in range(3):
        (tmp_path / f"{k}.csv").write_text(f"a,b,y\n{k},1,0\n2,{k},1\n3,3,{k % 2}\n")
        frames.append(stp.read_csv(tmp_path / f"{k}.csv"))
    train = pd.concat(frames)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(train[["a", "b"]], train["y"].to_numpy())
    share = PureWindowsPath("\\\\server\\share\\a.csv").as_uri()
    uris = [share, share.replace("file://", "file:////"), share.replace("server", "SeRvEr")]
    event = json.loads(json.dumps(to_openlineage(_with_uris(pipe.lineage_, uris))))
    named = {(d["namespace"], d["name"]) for d in event["inputs"]}
    assert named == {("file://server", "/share/a.csv")}
