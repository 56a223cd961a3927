"""Stores holding frame and array digests of the scheme before "frame-2".

``data/frame_digest1.db`` was written by sktraceprop before frames were named by the
exact digest (see ``data/README.md``): it must still verify and load, and the same data
registered now is a version of its own, which a warning names as such.
"""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._ids import pack
from sktraceprop.exceptions import LineageWarning
from tests.stores._frame_digest1 import fixture_frames as _fixture_frames

DATA = Path(__file__).parent / "data"


def test_a_store_of_the_earlier_scheme_verifies_loads_and_takes_new_versions(tmp_path):
    path = tmp_path / "frame_digest1.db"
    shutil.copyfile(DATA / "frame_digest1.db", path)
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    old = {}
    for run_id in store.list_runs()["run_id"]:
        for source in store.load_run(run_id).sources.values():
            old[source.source_id] = source
    assert sorted(old) == ["measures", "patients"]
    assert all(s.digest_scheme is None for s in old.values())

    patients, measures, labels = _fixture_frames()
    df = stp.from_pandas(patients, "patients")
    m = stp.from_numpy(measures, "measures", columns=labels)
    new = {"patients": REGISTRY.by_id("patients"), "measures": REGISTRY.by_id("measures")}
    for name in new:
        # the same data, a digest of the new scheme: never equal to the stored one
        assert new[name].sha256 != old[name].sha256
        assert new[name].digest_scheme == "frame-2"
    with pytest.warns(LineageWarning, match=r"'patients' in SQLiteStore.*earlier sktraceprop"):
        stp.TracedEstimator(LogisticRegression(), store=store).fit(df[["age", "x"]], df["y"])
    with pytest.warns(LineageWarning, match=rf"'measures' .*{old['measures'].sha256[:12]}"):
        stp.TracedEstimator(LogisticRegression(), store=store).fit(m, df["y"].to_numpy())
    assert store.verify()
    # both versions kept, each run naming its own
    runs = store.list_runs(source="patients")
    assert len(runs) == 2
    stored = {
        s.sha256
        for run_id in runs["run_id"]
        for s in store.load_run(run_id).sources.values()
        if s.source_id == "patients"
    }
    assert stored == {old["patients"].sha256, new["patients"].sha256}
    # saved once, the new version is known: nothing more to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stp.TracedEstimator(LogisticRegression(), store=store).fit(df[["age", "x"]], df["y"])


def test_saving_beside_a_stored_version_of_the_earlier_scheme_warns(store):
    """On every backend: a run of a frame record of the earlier scheme (learnt from a
    pickle), then a run of the frame registered now."""
    frame = pd.DataFrame({"a": [0.1, 0.9, 0.4, 0.6], "y": [0, 1, 0, 1]})
    legacy = stp.Source(
        source_id="p",
        code=4242,
        uri="pandas:p",
        sha256="ab" * 32,
        n_rows=4,
        columns=("a", "y"),
        dtypes=("float64", "float64"),
        kind="frame",
    )
    REGISTRY.adopt(legacy)
    old = frame.set_axis(pd.Index(pack(4242, np.arange(1, 5)), name="stp_row_id"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        stp.TracedEstimator(LogisticRegression(), store=store).fit(old[["a"]], old["y"])
    with pytest.warns(LineageWarning, match="'p' in this process"):
        df = stp.from_pandas(frame, "p")
    with pytest.warns(LineageWarning, match=r"'p' in \w+Store.*abababababab\.\.\..*frame-2"):
        stp.TracedEstimator(LogisticRegression(), store=store).fit(df[["a"]], df["y"])
    assert store.verify()
