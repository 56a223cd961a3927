"""What is said of a frame that has loaded sources' columns but lost their row ids.

``pd.merge_asof`` builds new rows and keeps no marker of the frames it was given (no
``attrs``), so only the column names are left: the warning of a fit, and the error of
``row_lineage``, name each source holding some of them, with those columns (they named
the sources of the first column only: ``credit`` for columns of ``hiring`` too).
"""

import warnings

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning


def _sources(tmp_path):
    (tmp_path / "credit.csv").write_text(
        "cid,pid,day,fico\n" + "".join(f"{50 + i},{i % 4},{i},{600 + 7 * i}\n" for i in range(8))
    )
    (tmp_path / "hiring.csv").write_text(
        "pid,applied,age,score,hired\n"
        + "".join(f"{i},{2 * i},{30 + i},{60.5 + i},{i % 2}\n" for i in range(4))
    )
    credit = stp.read_csv(tmp_path / "credit.csv", source_id="credit")
    hiring = stp.read_csv(tmp_path / "hiring.csv", source_id="hiring")
    return pd.merge_asof(credit, hiring, left_on="day", right_on="applied", by="pid")


def test_fit_warning_names_every_source_of_the_columns(tmp_path):
    joined = _sources(tmp_path)
    assert joined.attrs == {}  # (nothing but the column names is left)
    X = joined[["cid", "fico", "age", "score"]].fillna(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stp.make_traced_pipeline(LogisticRegression()).fit(X, joined["hired"].fillna(0))
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    assert any(
        "4 of its 4 columns are columns of traced source(s) credit (cid, fico), "
        "hiring (age, score)." in s
        for s in said
    ), said


def test_row_lineage_error_names_the_sources_and_the_operation(tmp_path):
    joined = _sources(tmp_path)
    with pytest.raises(LineageError) as raised:
        stp.row_lineage(joined)
    message = str(raised.value)
    assert "credit (cid, pid, day, fico), hiring (pid, applied, age, score, hired)" in message
    assert "pd.merge_asof" in message and "sktraceprop.merge" in message
    # a frame with no loaded source's columns keeps the plain message
    with pytest.raises(LineageError, match="load it with sktraceprop.read_csv"):
        stp.row_lineage(pd.DataFrame({"other": [1, 2]}))


def test_renamed_id_level_says_how_to_name_it_again(tmp_path):
    (tmp_path / "a.csv").write_text("pid,age\n" + "".join(f"{i},{20 + i}\n" for i in range(5)))
    (tmp_path / "b.csv").write_text("pid,age\n" + "".join(f"{9 + i},{40 + i}\n" for i in range(3)))
    a = stp.read_csv(tmp_path / "a.csv", source_id="a")
    b = stp.read_csv(tmp_path / "b.csv", source_id="b")
    both = pd.concat([a, b], keys=["a", "b"], names=["site", None])  # (names every level)
    only_b = both.xs("b", level="site")
    with pytest.raises(LineageError, match=r"names=\[...\]\) naming every level"):
        stp.row_lineage(only_b)
    lines = stp.row_lineage(only_b.rename_axis("stp_row_id"))
    assert lines["source_id"].tolist() == ["b"] * 3
    raw = (tmp_path / "b.csv").read_text().splitlines()
    assert [raw[n - 1].split(",")[0] for n in lines["line"]] == ["9", "10", "11"]
