"""``row_sources`` of a fit parameter counts every row of a source_id, whatever code
its rows carry.

The rows per source of a parameter that carries row ids (``X_val``) were a dict built
code by code, keyed by ``source_id``: rows under a second code of one name (a second
version of the file read under that name, an alias adopted from another process)
replaced the first code's count instead of adding to it, so an ``X_val`` of 7 + 5 rows
of ``val`` was recorded as ``{"val": 5}`` (or 7). Truth: the rows of each file, counted
in the raw bytes.
"""

import dataclasses

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

import sktraceprop as stp
from sktraceprop._lineage._fit_params import _row_sources
from sktraceprop._lineage._ids import codes_of, lines_of, pack
from sktraceprop._lineage._source import REGISTRY


class _WithValidation(ClassifierMixin, BaseEstimator):
    """Takes a validation frame as a fit parameter, as HistGradientBoosting does."""

    def fit(self, X, y, X_val=None):
        self.classes_ = np.unique(y)
        self.n_val_ = len(X_val)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _data_rows(path):
    return path.read_bytes().count(b"\n") - 1  # (header line; each row ends in \n)


def test_row_sources_add_the_rows_of_two_versions_of_one_name(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "val.csv"
    pd.DataFrame({"a": rng.normal(size=7), "y": np.arange(7) % 2}).to_csv(path, index=False)
    first, n_first = stp.read_csv(path, source_id="val"), _data_rows(path)
    pd.DataFrame({"a": rng.normal(size=5), "y": np.arange(5) % 2}).to_csv(path, index=False)
    second, n_second = stp.read_csv(path, source_id="val"), _data_rows(path)
    X_val = pd.concat([first, second])
    assert len(np.unique(codes_of(stp.row_ids(X_val)))) == 2  # (two versions, two codes)
    train = stp.from_pandas(
        pd.DataFrame({"a": rng.normal(size=10), "y": np.arange(10) % 2}), f"t-{tmp_path.name}"
    )
    traced = stp.TracedEstimator(_WithValidation())
    traced.fit(train[["a"]], train["y"], X_val=X_val[["a"]])
    assert traced.estimator_.n_val_ == 12
    recorded = traced.lineage_.fit_params["X_val"]["row_sources"]
    assert recorded == {"val": n_first + n_second}  # (before: {"val": 5} or 7)


def test_row_sources_add_the_rows_of_an_alias_code(tmp_path):
    path = tmp_path / "a.csv"
    pd.DataFrame({"a": np.arange(6.0)}).to_csv(path, index=False)
    frame = stp.read_csv(path, source_id=f"alias-{tmp_path.name}")
    ids = stp.row_ids(frame)
    (code,) = np.unique(codes_of(ids)).tolist()
    source = REGISTRY.by_code(code)
    alias = code + 1
    while REGISTRY.has_code(alias):
        alias += 1
    # another process's record of the same bytes, under the code it probed there
    REGISTRY.adopt(dataclasses.replace(source, code=alias))
    mixed = np.concatenate([ids[:2], pack(alias, lines_of(ids[2:]))])
    carried = frame.set_axis(pd.Index(mixed, name=frame.index.name))
    assert _row_sources(carried) == {source.source_id: _data_rows(path)}  # (before: 4)
