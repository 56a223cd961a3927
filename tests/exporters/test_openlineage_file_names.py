"""OpenLineage names a file whose name is not UTF-8 by its own bytes.

The dataset name was the URI's path decoded with ``unquote``: ``caf%E9.csv`` and
``caf%E8.csv`` (latin-1 "café" and "cafè") both became ``caf\\ufffd.csv``, one dataset
of two files, which a lineage catalogue merges.
"""

import json
import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exporters import to_openlineage
from tests._file_names import latin1_named


def test_two_files_named_in_latin1_are_two_datasets(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for name in (b"caf\xe9.csv", b"caf\xe8.csv"):
        rows = "".join(f"{a:.3f},{b:.3f},{int(a > b)}\n" for a, b in rng.random((20, 2)))
        frames.append(stp.read_csv(latin1_named(tmp_path, name, f"a,b,y\n{rows}".encode())))
    train = pd.concat(frames)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(train[["a", "b"]], train["y"].to_numpy())
    event = json.loads(json.dumps(to_openlineage(pipe.lineage_, job_name="cafe")))
    # the folder's path (UTF-8 here), then the names' bytes as escapes
    folder = os.fsencode(tmp_path.resolve()).decode()
    names = sorted(d["name"] for d in event["inputs"] if d["namespace"] == "file")
    assert names == [f"{folder}/caf\\xe8.csv", f"{folder}/caf\\xe9.csv"]
