"""OpenLineage names a file whose name is not UTF-8 by its own bytes.

The dataset name was the URI's path decoded with ``unquote``: ``caf%E9.csv`` and
``caf%E8.csv`` (latin-1 "café" and "cafè") both became ``caf\\ufffd.csv``, one dataset
of two files, which a lineage catalogue merges.
"""

import json
import os

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
