"""by_source orders sources by the file each record names, not by how the record spells
it: an older record's ``file:///c:/`` (the drive as typed) sorts as ``file:///C:/``.

Truth: the same sources with every URI written as records write it now
(``uri_of_path``); the table must be in that order whichever spelling a record holds.
Before, ``file:///D:/data/b.csv`` sorted before ``file:///c:/data/a.csv`` (``D`` < ``c``)
and after ``file:///C:/data/a.csv``: one valuer's table came in two orders.
"""

from dataclasses import replace
from pathlib import PureWindowsPath

import numpy as np
from sklearn.base import BaseEstimator

from sktraceprop._lineage._ids import pack
from sktraceprop._lineage._source import Source
from sktraceprop._lineage._uri_path import uri_of_path
from sktraceprop.valuation._groups import source_values


def _source(code, uri, sha):
    return Source(
        source_id="data",
        code=code,
        uri=uri,
        sha256=sha * 64,
        n_rows=3,
        columns=("a",),
        dtypes=("int64",),
        kind="file",
        loaded_at="2026-01-01T00:00:00+00:00",
    )


class _Valued(BaseEstimator):
    """What source_values reads of a fitted valuer."""

    def fit(self, sources, values):
        self._sources = {s.code: s for s in sources}
        self.row_ids_ = np.concatenate([pack(s.code, np.arange(2, 5)) for s in sources])
        self.values_ = np.asarray(values, dtype=float)
        return self


def test_by_source_order_does_not_depend_on_the_drive_spelling():
    paths = [PureWindowsPath("c:\\data\\a.csv"), PureWindowsPath("D:\\data\\b.csv")]
    old = [_source(7 + 2 * k, p.as_uri(), "ab"[k]) for k, p in enumerate(paths)]
    new = [replace(s, uri=uri_of_path(p)) for s, p in zip(old, paths)]
    assert old[0].uri == "file:///c:/data/a.csv" and new[0].uri == "file:///C:/data/a.csv"
    values = np.arange(6.0)
    truth = source_values(_Valued().fit(new, values))
    got = source_values(_Valued().fit(old, values))
    assert truth["sha256"].tolist() == ["a" * 64, "b" * 64]  # C: before D:
    assert got["sha256"].tolist() == truth["sha256"].tolist()
    assert got["sum"].tolist() == truth["sum"].tolist() == [3.0, 12.0]
