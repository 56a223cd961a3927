"""The valuer credits each row's value to the line its id names: ids that are not the
rows' own (an index assigned, ``sample_id=`` in another order) are refused, as a traced
fit refuses them. The truth is the raw file: each record's first field is its key."""

import warnings

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


def test_array_ids_that_cannot_be_checked_are_said_to_be_taken_as_given(tmp_path):
    # A projected array shuffled after its ids were taken: no column holds loaded
    # values, so the lines cannot be checked. Every value would be credited to another
    # row's line; a traced fit's run notes say so, the valuer (no run) warns.
    path, d = _read(tmp_path)
    truth = keys_by_line(path)
    Z = d[["key", "a", "b"]].to_numpy() @ np.array([[0.3, -1.1], [2.0, 0.7], [-0.4, 1.9]])
    shuffled = np.random.default_rng(0).permutation(len(d))
    ids = stp.row_ids(d)  # the ids of the rows before the shuffle
    with pytest.warns(stp.exceptions.LineageWarning, match="not checked against the array"):
        valuer = _valuer().fit(Z[shuffled], d["y"].to_numpy()[shuffled], sample_id=ids)
    named = [int(truth[(path.stem, int(line))]) for line in lines_of(valuer.row_ids_)]
    assert named != d["key"].to_numpy()[shuffled].tolist()  # what the warning is about
    # ids that were compared with the rows' values, and are theirs: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        _valuer().fit(d[["key", "a", "b"]].to_numpy(), d["y"].to_numpy(), sample_id=ids)
        _valuer().fit(d[["key", "a", "b"]], d["y"].to_numpy())
