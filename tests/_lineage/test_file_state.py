"""A trace says when the file it names no longer holds the bytes that were read."""

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop._lineage import _file_state
from sktraceprop.exceptions import ChangedSourceWarning, LineageWarning


def _write(path, n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).round(3)
    y = (x[:, 0] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    path.write_text("a,b,y\n" + "".join(f"{p},{q},{t}\n" for (p, q), t in zip(x, y)))
    return path


def _swapped_digits(path):
    """The file with two different digits of one line swapped: same size, other row."""
    data = bytearray(path.read_bytes())
    line = data.index(b"\n") + 1  # first data line
    digits = [i for i in range(line, data.index(b"\n", line)) if chr(data[i]).isdigit()]
    i, j = next((i, j) for i in digits for j in digits if data[i] != data[j])
    data[i], data[j] = data[j], data[i]
    path.write_bytes(bytes(data))


EDITS = {
    "same size": _swapped_digits,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "deleted": lambda p: p.unlink(),
}
STATE = {"same size": "changed", "truncated": "changed", "deleted": "missing"}


def _fitted(tmp_path):
    a = stp.read_csv(_write(tmp_path / "a.csv"))
    b = stp.from_pandas(pd.read_csv(_write(tmp_path / "b.csv", seed=1)), "b_frame")
    X = pd.concat([a, b])
    est = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    est.fit(X[["a", "b"]], X["y"])
    return est, X, tmp_path / "a.csv"


def _no_lineage_warning(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        return call()


def _traces(est, X):
    """Every public call that names training rows' files and lines."""
    explainer = InfluenceExplainer(est).fit(X[["a", "b"]], X["y"])
    explanation = explainer.explain(X[["a", "b"]].iloc[:3], X["y"].iloc[:3], top_k=60)
    return {
        "pipeline.trace": lambda: est.trace(np.arange(60)),
        "lineage_.trace": lambda: est.lineage_.trace(np.arange(60)),
        "row_lineage": lambda: stp.row_lineage(X),
        "row_lineage(ids)": lambda: stp.row_lineage(est.lineage_.row_ids),
        "Explanation.top": lambda: explanation.top(),
        "Explanation.train_rows": lambda: explanation.train_rows,
    }


def _states(frame):
    return dict(zip(frame["source_id"].astype(str), frame["file_state"].astype(str)))


@pytest.mark.parametrize("edit", list(EDITS))
def test_trace_says_a_file_edited_after_fit_no_longer_holds_the_rows_read(tmp_path, edit):
    est, X, path = _fitted(tmp_path)
    recorded = hashlib.sha256(path.read_bytes()).hexdigest()
    calls = _traces(est, X)
    for name, call in calls.items():  # unchanged: no word, every file row "unchanged"
        states = _no_lineage_warning(call)
        assert _states(states) == {"a": "unchanged", "b_frame": "not a file"}, name
    EDITS[edit](path)
    if path.exists():
        assert hashlib.sha256(path.read_bytes()).hexdigest() != recorded
    for name, call in calls.items():
        with pytest.warns(ChangedSourceWarning, match=recorded) as record:
            frame = call()
        assert _states(frame) == {"a": STATE[edit], "b_frame": "not a file"}, name
        said = " ".join(str(w.message) for w in record if recorded in str(w.message))
        assert path.resolve().as_uri() in said
        if edit == "deleted":
            assert "no longer there" in said
        else:
            assert hashlib.sha256(path.read_bytes()).hexdigest() in said
        # the frame's own rows are not files: they take no part in the warning
        assert "b_frame" not in said


def test_explanation_trace_names_its_row_file_state(tmp_path):
    est, X, path = _fitted(tmp_path)
    explanation = (
        InfluenceExplainer(est)
        .fit(X[["a", "b"]], X["y"])
        .explain(X[["a", "b"]].iloc[:2], X["y"].iloc[:2], top_k=60)
    )
    ranks = {explanation.trace(0, r)["source_id"]: r for r in range(60)}
    row = _no_lineage_warning(lambda: explanation.trace(0, ranks["a"]))
    assert row["file_state"] == "unchanged" and row["lines"][0]["file_state"] == "unchanged"
    assert explanation.trace(0, ranks["b_frame"])["file_state"] == "not a file"
    _swapped_digits(path)
    with pytest.warns(ChangedSourceWarning, match="changed since it was loaded"):
        row = explanation.trace(0, ranks["a"])
    assert row["file_state"] == "changed" and row["lines"][0]["file_state"] == "changed"
    assert row["uri"] == path.resolve().as_uri()
    # restored to the bytes read: unchanged again (the state is not remembered)
    path.unlink()
    _write(path)
    assert _no_lineage_warning(lambda: explanation.trace(0, ranks["a"]))["file_state"] == (
        "unchanged"
    )


def test_merged_rows_are_traced_to_their_parents_files(tmp_path):
    left = stp.read_csv(_write(tmp_path / "l.csv", n=8))
    right = stp.read_csv(_write(tmp_path / "r.csv", n=8, seed=3)).rename(
        columns={"a": "c", "b": "d", "y": "z"}
    )
    merged = stp.merge(left.assign(k=1), right.assign(k=1), on="k")  # every pair
    _write(tmp_path / "r.csv", n=8, seed=4)  # replaced by other rows
    with pytest.warns(ChangedSourceWarning, match="r.csv"):
        frame = stp.row_lineage(merged)
    assert set(frame.loc[frame["source_id"] == "l", "file_state"]) == {"unchanged"}
    assert set(frame.loc[frame["source_id"] == "r", "file_state"]) == {"changed"}


def test_each_file_is_hashed_once_per_call(tmp_path, monkeypatch):
    est, X, path = _fitted(tmp_path)
    opened = []
    real = _file_state.file_now
    monkeypatch.setattr(
        _file_state, "file_now", lambda uri, *a, **k: opened.append(uri) or real(uri, *a, **k)
    )
    est.trace(np.arange(60))
    assert opened == [path.resolve().as_uri()]
    opened.clear()
    est.trace(np.arange(60))  # each call checks again: nothing trusted from before
    assert opened == [path.resolve().as_uri()]


def test_an_unreadable_path_is_said_unreadable(tmp_path):
    est, X, path = _fitted(tmp_path)
    path.unlink()
    path.mkdir()  # a directory where the file was
    with pytest.warns(ChangedSourceWarning, match="cannot be read now"):
        frame = est.trace([0])
    assert frame["file_state"].tolist() == ["unreadable"]


def test_the_cli_trace_says_it_once_per_row_not_as_a_python_warning(tmp_path, capsys):
    from sktraceprop.cli import main

    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    a = stp.read_csv(_write(tmp_path / "a.csv"))
    est = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    est.fit(a[["a", "b"]], a["y"])
    line = open(tmp_path / "a.csv").read().splitlines()[1]
    args = ["trace", str(store.path), "--run", est.lineage_.run_id, "--row", "0"]
    assert main(args) == 0 and f"line 2: {line}" in capsys.readouterr().out
    _swapped_digits(tmp_path / "a.csv")
    code = _no_lineage_warning(lambda: main(args))
    out = capsys.readouterr().out
    assert code == 0 and "the file changed since it was loaded" in out and line not in out


def test_a_file_name_that_is_not_utf8_is_found_where_it_is(tmp_path):
    # its URI percent-encodes the name's bytes ("caf%E9.csv"): decoded as UTF-8 they
    # named another path, and the file was said missing
    import os

    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.csv")
    with open(raw, "wb") as f:
        f.write(b"a,y\n1,0\n2,1\n")
    df = stp.read_csv(os.fsdecode(raw))
    assert _no_lineage_warning(lambda: stp.row_lineage(df))["file_state"].tolist() == [
        "unchanged",
        "unchanged",
    ]
    with open(raw, "ab") as f:
        f.write(b"3,0\n")
    with pytest.warns(ChangedSourceWarning, match="caf%E9.csv"):
        assert set(stp.row_lineage(df)["file_state"]) == {"changed"}


def test_a_source_record_this_process_lacks_is_unknown_not_an_error(tmp_path):
    est, X, path = _fitted(tmp_path)
    frame = est.lineage_.rows().iloc[:2]

    def lacking(code):
        raise stp.exceptions.UnknownSourceError(f"no source {code}")

    states = _no_lineage_warning(lambda: _file_state.with_file_states(frame, lacking, "t"))
    assert states["file_state"].tolist() == ["unknown", "unknown"]


def test_a_path_read_before_and_after_an_edit_is_hashed_once_per_call(tmp_path, monkeypatch):
    # two sources of one path (its bytes read, edited, read again): the file's digest
    # is compared with both records, but the file is read once (it was read per record)
    path = _write(tmp_path / "a.csv", n=5)
    read = [hashlib.sha256(path.read_bytes()).hexdigest()]
    before = stp.read_csv(path)
    _swapped_digits(path)
    read.append(hashlib.sha256(path.read_bytes()).hexdigest())
    after = stp.read_csv(path)
    opened = []
    real = _file_state.file_now
    monkeypatch.setattr(
        _file_state, "file_now", lambda uri, *a, **k: opened.append(uri) or real(uri, *a, **k)
    )
    with pytest.warns(ChangedSourceWarning, match=f"read with SHA-256 {read[0]}") as got:
        frame = stp.row_lineage(pd.concat([before, after]))
    assert opened == [path.resolve().as_uri()]
    assert str(got[0].message).count("read with SHA-256") == 1  # (the edited read only)
    # truth: each read's SHA-256 against the raw bytes there now
    now = hashlib.sha256(path.read_bytes()).hexdigest()
    want = ["unchanged" if sha == now else "changed" for sha in read]
    assert (
        frame["file_state"].tolist()
        == [want[0]] * 5 + [want[1]] * 5
        == (["changed"] * 5 + ["unchanged"] * 5)
    )
