"""Rows moved by a step whose output carries no row ids: refused, never traced in the
order given (``sktraceprop._lineage._row_order``).

The truth is the raw text of the file: every row holds a unique ``key``, and the line
of a key is found by reading the file's lines, never from the library's ids.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageLostError

N = 48


@pytest.fixture
def data(tmp_path):
    """A file with comment lines; its rows as a traced frame; key -> line (raw text)."""
    rng = np.random.default_rng(3)
    lines = ["key,a,b,label"]
    for k in range(N):
        if k % 5 == 2:
            lines.append("# checked by hand")
        lines.append(f"{100 + k},{rng.normal():.4f},{rng.normal():.4f},{k % 2}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    truth = {}
    for line, text in enumerate(path.read_text().split("\n"), start=1):
        if text and text[0].isdigit():
            truth[int(text.split(",")[0])] = line
    return stp.read_csv(path, comment="#"), truth


def _lines(pipe):
    return pipe.trace(np.arange(pipe.lineage_.n_samples))["line"].tolist()


def _received(final):
    """``final`` (an estimator class) that keeps the rows it is fitted on in ``seen``."""

    class Spy(final):
        def fit(self, X, y=None, sample_weight=None):
            type(self).seen = np.asarray(X).copy()
            return super().fit(X, y, sample_weight=sample_weight)

    Spy.__name__ = final.__name__
    return Spy


def _permutations():
    """Functions moving the rows of a NumPy array: a sort by a column (not the key: the file
    is in key order), a reversal, a seeded shuffle, a rotation."""
    return st.one_of(
        st.tuples(st.integers(1, 2), st.booleans()).map(
            lambda p: lambda Z: Z[np.argsort(Z[:, p[0]] * (1 if p[1] else -1), kind="stable")]
        ),
        st.just(lambda Z: Z[::-1]),
        st.integers(0, 2**16).map(lambda s: lambda Z: np.random.default_rng(s).permutation(Z)),
        st.integers(1, N - 1).map(lambda k: lambda Z: np.roll(Z, k, axis=0)),
    )


def test_a_step_moving_rows_without_ids_is_refused_with_or_without_y(data):
    frame, _ = data
    X = frame[["key", "a", "b"]]
    store = stp.stores.MemoryStore()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_permutations(), st.booleans(), st.booleans())
    def check(move, with_y, as_frame):
        step = FunctionTransformer(lambda Z: move(np.asarray(Z, dtype=float)))
        if as_frame:  # a DataFrame with a new index: no ids either
            step = FunctionTransformer(
                lambda Z: pd.DataFrame(move(Z.to_numpy(dtype=float)), columns=Z.columns)
            )
        final = LogisticRegression() if with_y else KMeans(2, n_init=1, random_state=0)
        pipe = stp.make_traced_pipeline(step, StandardScaler(), final, store=store)
        error = LineageError if with_y else LineageLostError
        with pytest.raises(error, match="moved the rows of X: the row given to fit as rows line"):
            pipe.fit(X, frame["label"] if with_y else None)
        assert not hasattr(pipe, "lineage_")

    check()
    assert store.list_runs().empty


def test_the_message_names_where_a_row_went(data):
    frame, truth = data
    X = frame[["key", "a", "b"]]
    pipe = stp.make_traced_pipeline(
        FunctionTransformer(lambda Z: np.asarray(Z)[::-1]), LogisticRegression()
    )
    first, last = truth[100], truth[100 + N - 1]
    with pytest.raises(LineageError) as info:
        pipe.fit(X, frame["label"])
    assert (
        f"the row given to fit as rows line {first} reached the final step "
        f"(LogisticRegression) as its row {N - 1}, where rows line {last} was given"
    ) in str(info.value)


def test_a_wrapped_plain_pipeline_moving_rows_is_refused(data):
    frame, _ = data
    inner = make_pipeline(
        FunctionTransformer(lambda Z: np.sort(np.asarray(Z), axis=0)),  # mixes rows
        KMeans(2, n_init=1, random_state=0),
    )
    traced = stp.TracedEstimator(inner).fit(frame[["key", "a", "b"]])
    [note] = [n for n in traced.lineage_.notes if "kept its place" in n]
    assert "did not give the rows it received" in note
    reverse = make_pipeline(
        FunctionTransformer(lambda Z: np.asarray(Z)[::-1]), KMeans(2, n_init=1, random_state=0)
    )
    with pytest.raises(LineageLostError, match="moved the rows of X"):
        stp.TracedEstimator(reverse).fit(frame[["key", "a", "b"]])


@pytest.mark.parametrize(
    ("func", "key"),
    [
        (lambda Z: np.asarray(Z) * 2.0 + 1.0, lambda v: (v - 1.0) / 2.0),
        (lambda Z: np.exp(np.asarray(Z) / 100.0), lambda v: 100.0 * np.log(v)),
        (lambda Z: (Z * 2).reset_index(drop=True), lambda v: v / 2.0),  # rows in place
    ],
)
@pytest.mark.parametrize("with_y", [False, True])
def test_a_row_wise_step_is_traced_to_each_rows_line_without_a_note(data, func, key, with_y):
    frame, truth = data
    X = frame[["key", "a", "b"]]
    final = _received(LogisticRegression if with_y else KMeans)
    model = final() if with_y else final(2, n_init=1, random_state=0)
    pipe = stp.make_traced_pipeline(FunctionTransformer(func), model)
    pipe.fit(X, frame["label"] if with_y else None)
    assert not any("kept its place" in n for n in pipe.lineage_.notes)
    # the key in each row the model received, read back to its line in the file
    assert _lines(pipe) == [truth[round(k)] for k in key(final.seen[:, 0])]


@pytest.mark.parametrize(
    "func",
    [
        lambda Z: np.asarray(Z) - np.asarray(Z).mean(axis=0),
        # binary output: a row alone gives zeros, which many rows received hold
        lambda Z: (np.asarray(Z) > np.median(np.asarray(Z), axis=0)).astype(float),
    ],
)
def test_a_step_computing_over_the_batch_gets_a_note_not_a_refusal(data, func):
    frame, truth = data
    X = frame[["key", "a", "b"]]
    pipe = stp.make_traced_pipeline(FunctionTransformer(func), LogisticRegression())
    pipe.fit(X, frame["label"])
    [note] = [n for n in pipe.lineage_.notes if "kept its place" in n]
    assert "step(s) 'functiontransformer' returned rows without row ids" in note
    assert "run again on 16 of the rows given to fit" in note
    assert _lines(pipe) == [truth[int(k)] for k in X["key"]]


def test_a_branch_of_a_column_transformer_moving_rows_is_noted(data):
    frame, _ = data
    mix = ColumnTransformer(
        [
            ("r", FunctionTransformer(lambda Z: np.asarray(Z)[::-1]), ["a"]),
            ("s", StandardScaler(), ["b"]),
        ]
    )
    pipe = stp.make_traced_pipeline(mix, KMeans(2, n_init=1, random_state=0))
    pipe.fit(frame[["a", "b"]])
    [note] = [n for n in pipe.lineage_.notes if "kept its place" in n]
    assert "(they gave rows run together other values than rows run alone)" in note


@pytest.mark.parametrize(
    "func",
    [
        lambda Z: Z.iloc[::-1].set_axis(Z.index),
        # sorted values put back under the index given: the ids arrive in order
        lambda Z: pd.DataFrame(Z.sort_values("a").to_numpy(), index=Z.index, columns=Z.columns),
    ],
)
@pytest.mark.parametrize("with_y", [False, True])
def test_ids_kept_in_order_on_other_rows_values_are_refused(data, func, with_y):
    frame, truth = data
    X = frame[["key", "a", "b"]]
    final = LogisticRegression() if with_y else KMeans(2, n_init=1, random_state=0)
    pipe = stp.make_traced_pipeline(FunctionTransformer(func), final)
    # the model's first row holds the key of another line than the first row given
    moved = int(func(X)["key"].iloc[0])
    assert truth[moved] != truth[int(X["key"].iloc[0])]
    error = LineageError if with_y else LineageLostError
    with pytest.raises(error, match="returned rows under row ids that are not theirs"):
        pipe.fit(X, frame["label"] if with_y else None)


def test_a_batch_step_keeping_the_ids_gets_no_note(data):
    frame, truth = data
    X = frame[["key", "a", "b"]]
    center = FunctionTransformer(lambda Z: Z - Z.mean())  # rows and ids in place
    pipe = stp.make_traced_pipeline(center, LogisticRegression()).fit(X, frame["label"])
    assert not any("kept its place" in n for n in pipe.lineage_.notes)
    assert _lines(pipe) == [truth[int(k)] for k in X["key"]]


def test_pipelines_fitted_inside_the_final_estimator_are_named_as_not_checked(data):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import Ridge

    frame, _ = data
    X, target = frame[["key", "a"]], frame["b"].abs()
    # its regressor's rows are reversed, the target is not: not seen from outside
    inner = make_pipeline(FunctionTransformer(lambda Z: np.asarray(Z)[::-1]), Ridge())
    model = TransformedTargetRegressor(inner, func=np.log1p, inverse_func=np.expm1)
    for pipe in (
        stp.make_traced_pipeline(StandardScaler(), model),
        stp.TracedEstimator(model),
    ):
        pipe.fit(X, target)
        [note] = [n for n in pipe.lineage_.notes if "kept its place there" in n]
        assert note.startswith(
            "the final step (TransformedTargetRegressor) fits pipeline(s) of its own whose "
            "step(s) 'functiontransformer' may return rows in another order"
        )
    # a NumPy ufunc, one output per input: elementwise, nothing to say
    plain = make_pipeline(FunctionTransformer(np.tanh, feature_names_out="one-to-one"), Ridge())
    pipe = stp.make_traced_pipeline(StandardScaler(), TransformedTargetRegressor(plain))
    pipe.fit(X, target)
    assert not any("kept its place" in n for n in pipe.lineage_.notes)


def test_a_moved_row_among_rows_of_equal_values_is_named_as_one_of_them(data):
    import re

    from sklearn.preprocessing import OneHotEncoder

    frame, truth = data
    X = (frame[["key"]] % 3).astype(str)  # three groups: rows of equal one-hot values
    pipe = stp.make_traced_pipeline(
        OneHotEncoder(sparse_output=False),
        FunctionTransformer(lambda Z: Z[::-1]),
        LogisticRegression(),
    )
    with pytest.raises(LineageError) as info:
        pipe.fit(X, frame["label"])
    found = re.search(
        r"given to fit as rows line (\d+) reached the final step \(LogisticRegression\) as its "
        r"row (\d+), one of (\d+) rows of its values",
        str(info.value),
    )
    line, position, count = (int(g) for g in found.groups())
    # the truth, from the raw lines: the keys of the file, in order, and their groups
    by_line = {v: k for k, v in truth.items()}
    keys = [by_line[v] for v in sorted(by_line)]
    group = by_line[line] % 3
    assert count == sum(k % 3 == group for k in keys)
    assert keys[::-1][position] % 3 == group  # what the model received at that row
