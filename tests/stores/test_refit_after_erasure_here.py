"""A fit writing to no store, in the process that erased rows, on those rows, is said.

Before: ``store.erase_rows`` recorded the request only in the store, and only a fit
writing to that store read it, so a traced pipeline fitted without ``store=`` on the
very rows just erased trained on them with no word (an unlearner's removal was said).
Now the request's rows are recorded in the process too. A fit writing to the store is
said once, as before. Truth: the file's physical lines, read from its bytes.
"""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import RefitOnRemovedWarning
from sktraceprop.stores import MemoryStore, SQLiteStore


def _file(tmp_path, n=20):
    rng = np.random.default_rng(11)
    lines = ["a,b,label"] + [
        f"{a:.6f},{b:.6f},{i % 2}" for i, (a, b) in enumerate(rng.normal(size=(n, 2)))
    ]
    (tmp_path / "people.csv").write_text("\n".join(lines) + "\n")
    return stp.read_csv(tmp_path / "people.csv", source_id="people")


def _line_of(tmp_path, a_value):
    """The physical line (1-based) of the row whose ``a`` reads ``a_value``."""
    lines = (tmp_path / "people.csv").read_bytes().decode().split("\n")
    (hit,) = [n for n, text in enumerate(lines, 1) if text.split(",")[0] == f"{a_value:.6f}"]
    return hit


def _said(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if w.category is RefitOnRemovedWarning]


def _pipe(store=None):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
@pytest.mark.parametrize("by", ["rows", "source"])
def test_a_fit_without_a_store_on_rows_erased_here_is_said(tmp_path, kind, by):
    df = _file(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    store = SQLiteStore(tmp_path / "audit.db") if kind == "sqlite" else MemoryStore()
    _pipe(store).fit(X, y)
    erased = [3, 8] if by == "rows" else list(range(len(df)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (it names the pipeline of this process)
        if by == "rows":
            store.erase_rows(sample_id=stp.row_ids(df.iloc[erased]), reason="art. 17")
        else:
            store.erase_rows(source_id="people", reason="art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    (said,) = _said(lambda: _pipe().fit(X, y))
    assert said.startswith(
        f"this fit of TracedPipeline trains on {len(erased)} row(s) erased from the store "
        f"(in this process by erasure event {event['seq']} in {store!r} at "
        f"{event['created_at']}): "
    )
    for i in erased[:5]:
        assert f"people line {_line_of(tmp_path, X['a'].iloc[i])}" in said, said
    # a fit writing to the store: the request said once, as the store records it
    (said,) = _said(lambda: _pipe(store).fit(X, y))
    assert f"(by erasure event {event['seq']} in {store!r}" in said
    assert "in this process" not in said
    # the rows kept: no word
    kept = np.setdiff1d(np.arange(len(df)), erased)
    if kept.size:
        assert _said(lambda: _pipe().fit(X.iloc[kept], y.iloc[kept])) == []


def test_a_dry_run_records_nothing(tmp_path):
    df = _file(tmp_path)
    X, y = df[["a", "b"]], df["label"]
    store = SQLiteStore(tmp_path / "audit.db")
    _pipe(store).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(df.iloc[[1]]), reason="x", dry_run=True)
    assert _said(lambda: _pipe().fit(X, y)) == []
