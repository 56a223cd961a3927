"""The valuer credits each row's value to the line its id names: ids that are not the
rows' own (an index assigned, ``sample_id=`` in another order) are refused, as a traced
fit refuses them. The truth is the raw file: each record's first field is its key."""

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop._lineage._ids import lines_of
from sktraceprop.exceptions import LineageError
from tests._lineage._raw_files import keys_by_line


def _read(tmp_path, n=60):
    rng = np.random.default_rng(3)
    lines = ["key,a,b,y"]
    for i in range(n):
        if i % 5 == 1:
            lines.append("")
        lines.append(f"{500 + 3 * i},{rng.normal():.5f},{rng.normal():.5f},{i % 2}")
    path = tmp_path / "valued.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, stp.read_csv(path, source_id="valued")


def _valuer():
    return stp.KNNShapleyValuer(n_neighbors=3)


def test_ids_moved_off_their_rows_are_refused(tmp_path):
    _, d = _read(tmp_path)
    X, y = d[["key", "a", "b"]].copy(), d["y"].to_numpy()
    X.index = d.sort_values("a").index  # an index assigned: ids off their rows
    with pytest.raises(LineageError, match="no longer belong to"):
        _valuer().fit(X, y)


def test_array_ids_in_another_order_are_refused(tmp_path):
    _, d = _read(tmp_path)
    X, y = d[["key", "a", "b"]].to_numpy(), d["y"].to_numpy()
    with pytest.raises(LineageError, match="loaded as key"):
        _valuer().fit(X, y, sample_id=stp.row_ids(d.sort_values("a")))


def test_own_ids_name_the_rows_lines(tmp_path):
    path, d = _read(tmp_path)
    d = d.sample(frac=1, random_state=1)
    truth = keys_by_line(path)
    for X, kw in [
        (d[["key", "a", "b"]], {}),
        (d[["key", "a", "b"]].to_numpy(), {"sample_id": stp.row_ids(d)}),
    ]:
        valuer = _valuer().fit(X, d["y"].to_numpy(), **kw)
        named = [int(truth[(path.stem, int(line))]) for line in lines_of(valuer.row_ids_)]
        assert named == d["key"].tolist()
