"""polars frames through traced fits: registered by ``from_polars``, recorded as
anonymous sources when untraced, refused or warned about where they hold traced rows,
and ``set_output(transform="polars")`` steps inside a traced pipeline."""

import csv
import io
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._polars_digest import SCHEME, polars_digest
from sktraceprop.exceptions import LineageLostError, LineageWarning
from tests._lineage.test_polars_digest import _frames

pl = pytest.importorskip("polars")


def _write(tmp_path, n=40, seed=0):
    """A CSV file with a comment line and quoted two-line fields; returns its path."""
    rng = np.random.default_rng(seed)
    lines = ["# exported", "a,b,note,y"]
    for i in range(n):
        note = '"two\nlines"' if i % 6 == 1 else "plain"
        y = int(rng.random() < 0.5)
        lines.append(f"{rng.normal():.6f},{rng.normal():.6f},{note},{y}")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _record_at(path, line):
    """The record starting on physical ``line`` of ``path``, parsed by the csv module
    (the independent truth of what the line holds)."""
    text = path.read_text().split("\n")
    rest = "\n".join(text[line - 1 :])
    return next(csv.reader(io.StringIO(rest)))


def test_set_output_polars_steps_keep_the_file_lines(tmp_path):
    path = _write(tmp_path)
    df = stp.read_csv(path, comment="#")
    X = df[["a", "b", "note"]].sample(frac=1.0, random_state=0)  # rows shuffled
    y = df.loc[X.index, "y"]
    ct = make_column_transformer(
        (StandardScaler(), ["a", "b"]), (OneHotEncoder(sparse_output=False), ["note"])
    ).set_output(transform="polars")
    pipe = stp.make_traced_pipeline(ct, LogisticRegression()).fit(X, y)
    trace = pipe.trace(list(range(len(X))))
    for position, line in zip(trace["train_index"], trace["line"]):
        record = _record_at(path, int(line))
        row = X.iloc[int(position)]
        assert float(record[0]) == row["a"] and float(record[1]) == row["b"]
        assert record[2] == row["note"]


def test_an_untraced_polars_frame_is_an_anonymous_source_of_its_content():
    X = pl.DataFrame({"a": [0.1, 0.7, 0.3, 0.9], "b": [1.0, 0.0, 1.0, 0.0]})
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, pl.Series("y", [0, 1, 0, 1]))
    (source,) = pipe.lineage_.sources.values()
    assert source.kind == "anonymous"
    assert source.sha256 == polars_digest(X) and source.digest_scheme == SCHEME
    assert source.columns == ("a", "b") and source.dtypes == ("Float64", "Float64")
    # lines are the rows' positions in X
    ids = pipe.lineage_.row_ids
    assert lines_of(ids).tolist() == [1, 2, 3, 4]


def test_a_row_id_column_from_pandas_is_refused_not_learnt(hospital_frames):
    a, _ = hospital_frames
    X = pl.from_pandas(a[["age", "bp"]].fillna(0.0), include_index=True)
    assert "stp_row_id" in X.columns
    with pytest.raises(LineageLostError, match="stp_row_id.*polars"):
        stp.make_traced_pipeline(LogisticRegression()).fit(X, a["label"].to_numpy())
    with pytest.raises(LineageLostError, match="stp_row_id"):
        stp.from_polars(X, "copy")
    # as the message says: the column as sample_id traces the rows to their lines
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(
        X.drop("stp_row_id"), a["label"].to_numpy(), sample_id=X["stp_row_id"].to_numpy()
    )
    assert np.array_equal(pipe.lineage_.row_ids, stp.row_ids(a))


def test_polars_copies_of_traced_rows_are_warned_about(hospital_frames):
    a, _ = hospital_frames
    X = pl.from_pandas(a[["age", "bp"]].fillna(0.0))  # the ids are dropped
    with pytest.warns(LineageWarning, match="hospital_a"):
        stp.make_traced_pipeline(LogisticRegression()).fit(X, a["label"].to_numpy())
    # renamed: found by the values the load kept
    renamed = X.rename({"age": "x0", "bp": "x1"})
    with pytest.warns(LineageWarning, match="holds .* of the values loaded for hospital_a"):
        stp.make_traced_pipeline(LogisticRegression()).fit(renamed, a["label"].to_numpy())


def test_pl_read_csv_of_a_traced_file_is_warned_about(hospitals):
    stp.read_csv(hospitals["hospital_a"], source_id="hospital_a")
    X = pl.read_csv(hospitals["hospital_a"]).select("age", "bp").fill_null(0.0)
    with pytest.warns(LineageWarning, match="columns of traced source"):
        pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, np.arange(X.height) % 2)
    (source,) = pipe.lineage_.sources.values()
    assert source.kind == "anonymous"


def test_missing_values_of_a_polars_frame_are_counted():
    a = np.array([0.5, np.nan, 1.0, 2.0, np.nan, 3.0])
    X = pl.DataFrame(
        {
            "a": a,  # NaNs: missing for scikit-learn
            "b": pl.Series([1, None, 3, None, None, 6], dtype=pl.Int64),
            "c": ["x", None, "y", "x", "y", None],
        }
    )
    ct = make_column_transformer(
        (SimpleImputer(), ["a", "b"]), (OneHotEncoder(handle_unknown="ignore"), ["c"])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe = stp.make_traced_pipeline(ct, LogisticRegression()).fit(X, [0, 1, 0, 1, 0, 1])
    stats = pipe.lineage_.source_stats
    assert stats["columns"] == ["a", "b", "c"]
    # the independent count: polars' nulls, and NaNs of the float column
    truth = {
        "a": int(X["a"].is_nan().sum()),
        "b": X["b"].null_count(),
        "c": X["c"].null_count(),
    }
    assert stats["sources"][0]["missing"] == truth == {"a": 2, "b": 3, "c": 2}


def test_from_polars_registers_the_frame_and_traces_its_rows():
    X = pl.DataFrame(
        {
            "a": [0.1, None, 0.3, 0.9, 0.4],
            "b": pl.Series([1, 2, None, 4, 5], dtype=pl.Int32),
            "s": ["x", None, "y", "x", "é"],
            "y": [0, 1, 0, 1, 1],
        }
    )
    df = stp.from_polars(X, "claims", uri="file:///data/claims.parquet")
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == X.columns
    # the values, column by column, as polars holds them
    for name in X.columns:
        assert df[name].isna().tolist() == X[name].is_null().to_list()
        present = [v for v in X[name].to_list() if v is not None]
        assert df[name].dropna().tolist() == present
    assert str(df["b"].dtype) == "Int32"  # an integer column with nulls stays integer
    lineage = stp.row_lineage(df)
    assert lineage["line"].tolist() == [1, 2, 3, 4, 5]
    assert set(lineage["source_id"]) == {"claims"}
    record = REGISTRY.by_code(int(codes_of(stp.row_ids(df)[0])))
    assert record.sha256 == polars_digest(X) and record.digest_scheme == SCHEME
    assert record.uri == "file:///data/claims.parquet" and record.kind == "frame"
    assert record.dtypes == ("Float64", "Int32", "String", "Int64")

    picked = df[df["a"].notna()].iloc[::-1]  # rows filtered and reversed
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(picked[["a"]], picked["y"])
    trace = pipe.trace(list(range(len(picked))))
    # each training row's line is the position of its values in the polars frame
    for position, line in zip(trace["train_index"], trace["line"]):
        assert X["a"][int(line) - 1] == picked["a"].iloc[int(position)]


def test_from_polars_refuses_other_types():
    with pytest.raises(TypeError, match="polars DataFrame"):
        stp.from_polars(pd.DataFrame({"a": [1]}), "x")
    with pytest.raises(TypeError, match="polars DataFrame"):
        stp.from_polars(pl.Series("a", [1]), "x")


def test_from_polars_of_an_edited_frame_is_a_new_version():
    X = pl.DataFrame({"a": [1.0, 2.0]})
    one = stp.row_ids(stp.from_polars(X, "claims"))
    same = stp.row_ids(stp.from_polars(pl.concat([X[:1], X[1:]], rechunk=False), "claims"))
    edited = stp.row_ids(stp.from_polars(X.with_columns(pl.col("a").cast(pl.Float32)), "claims"))
    assert np.array_equal(one, same)
    assert not np.intersect1d(one, edited).size


def test_unlearning_valuing_and_explaining_untraced_polars_rows():
    rng = np.random.default_rng(3)
    X = pl.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    y = pl.Series("y", (X["a"] + 0.5 * rng.normal(size=80) > 0).cast(pl.Int64))
    unl = stp.GradientCorrectionUnlearner(LogisticRegression(), tol=1e-10).fit(X, y)
    ids = unl.train_row_ids_
    assert lines_of(ids).tolist() == list(range(1, 81))  # positions in X
    unl.unlearn(sample_id=ids[[4, 17, 60]])
    # the independent truth: a fit without those rows (positions 4, 17, 60 of X)
    keep = np.setdiff1d(np.arange(80), [4, 17, 60])
    truth = LogisticRegression(tol=1e-12, max_iter=10_000)
    truth.fit(X.to_numpy()[keep], y.to_numpy()[keep])
    np.testing.assert_allclose(
        unl.decision_function(X), truth.decision_function(X.to_numpy()), rtol=1e-6, atol=1e-7
    )
    # the explainer and the valuer name the rows of the same source as the fit
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X[:2], y[:2])
    top = explanation.top(3)
    assert set(top["source_id"]) == {f"anonymous:{polars_digest(X)[:16]}"}
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    values = valuer.value(X[:10], y[:10])
    (record,) = valuer.by_source().to_dict("records")
    assert record["source_id"] == f"anonymous:{polars_digest(X)[:16]}"
    # the same values as of the rows given as arrays
    plain = stp.KNNShapleyValuer(n_neighbors=3).fit(X.to_numpy(), y.to_numpy())
    np.testing.assert_array_equal(values, plain.value(X[:10].to_numpy(), y[:10].to_numpy()))


def test_stp_array_names_a_polars_frame_by_its_content():
    a = pl.DataFrame({"a": [1.0, 2.0]})
    codes = {
        name: int(codes_of(stp.provenance(stp.array(X, source_id="lab")).rows(0)["row_id"][0]))
        for name, X in {
            "a": a,
            "a again": pl.concat([a[:1], a[1:]], rechunk=False),
            "renamed": a.rename({"a": "b"}),
            "null": a.with_columns(pl.Series("a", [1.0, None])),
            "NaN": a.with_columns(pl.Series("a", [1.0, float("nan")])),
        }.items()
    }
    assert codes["a"] == codes["a again"]
    assert len({codes["a"], codes["renamed"], codes["null"], codes["NaN"]}) == 4
    source = REGISTRY.by_code(codes["a"])
    assert source.sha256 == polars_digest(a) and source.uri == "polars:lab"
    # the traced array holds its own copy: a later write to the polars frame stays there
    traced = stp.array(a, source_id="lab")
    a[0, "a"] = 9.0
    assert np.asarray(traced).ravel().tolist() == [1.0, 2.0]
    with pytest.raises(LineageLostError, match="stp_row_id"):
        stp.array(pl.DataFrame({"stp_row_id": [1], "x": [0.5]}), source_id="copy")


def test_row_ids_of_a_polars_frame_say_where_ids_come_from():
    with pytest.raises(stp.exceptions.LineageError, match="from_polars"):
        stp.row_ids(pl.DataFrame({"a": [1]}))
    with pytest.raises(stp.exceptions.LineageError, match="from_polars"):
        stp.row_lineage(pl.DataFrame({"a": [1]}))


@settings(max_examples=100, deadline=None)
@given(frame=_frames())
def test_from_polars_gives_every_cell_back(frame):
    df = stp.from_polars(frame, "drawn")
    assert list(df.columns) == frame.columns and len(df) == frame.height
    assert lines_of(stp.row_ids(df)).tolist() == list(range(1, frame.height + 1))
    for name in frame.columns:
        column = frame[name]
        missing = column.is_null().to_list()
        if column.dtype == pl.Float64:
            # a null is pandas' NaN there; a NaN stays one
            missing = [m or math.isnan(v) for m, v in zip(missing, column.fill_null(0.0))]
        assert df[name].isna().tolist() == missing
        given = [v for v, m in zip(column.to_list(), missing) if not m]
        back = [v for v, m in zip(df[name].tolist(), missing) if not m]
        if column.dtype == pl.Date:
            back = [v.date() for v in back]
        assert back == given


@pytest.mark.parametrize("register", ["polars", "pandas", "numpy"])
def test_a_frame_registered_under_a_csv_uri_warns_that_its_lines_are_rows(tmp_path, register):
    # the file has a preamble, a header and a comment: its row k is not on line k, and a
    # frame source numbers rows, so naming the file beside them would name other lines
    path = tmp_path / "h.csv"
    path.write_text("a preamble\nx,y\n# comment\n1.5,0\n2.5,1\n")
    uri = path.as_uri()
    frame = pd.read_csv(path, skiprows=1, comment="#")
    make = {
        "polars": lambda u: stp.from_polars(pl.from_pandas(frame), "hp", uri=u),
        "pandas": lambda u: stp.from_pandas(frame, "hpd", uri=u),
        "numpy": lambda u: stp.from_numpy(frame.to_numpy(), "hnp", uri=u),
    }[register]
    with pytest.warns(LineageWarning, match="names a text file, but a source registered"):
        df = make(uri)
    line = int(stp.row_lineage(df)["line"].iloc[0])
    assert path.read_text().splitlines()[line - 1] != "1.5,0"  # (what the warning is for)
    for quiet in ("file:///data/claims.parquet", None, "s3://bucket/h.parquet"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", LineageWarning)
            make(quiet)
