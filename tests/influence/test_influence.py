import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop.gradients import linear_model_objective


def _loo_correlation(est, X, y, Xte, yte):
    explainer = InfluenceExplainer(est).fit(X, y)
    scores = explainer.explain(Xte, yte, keep_scores=True).scores
    base = linear_model_objective(explainer.model_).margins(Xte, yte)[0]
    actual = np.empty_like(scores)
    for i in range(X.shape[0]):
        keep = np.arange(X.shape[0]) != i
        refit = clone(est).fit(X[keep], y[keep])
        actual[:, i] = linear_model_objective(refit).margins(Xte, yte)[0] - base
    # Removing a row changes the margin by minus its score.
    return np.corrcoef(-scores.ravel(), actual.ravel())[0, 1]


SGD = dict(loss="log_loss", alpha=0.01, max_iter=2000, tol=None, average=True, random_state=0)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "est",
    [LogisticRegression(C=1.0, tol=1e-10), SGDClassifier(**SGD), RidgeClassifier(alpha=1.0)],
    ids=["logreg", "sgd", "ridge_classifier"],
)
def test_leave_one_out_classifiers(est, n_classes):
    X, y = make_classification(
        80, 5, n_informative=4, n_redundant=0, n_classes=n_classes, random_state=0
    )
    assert _loo_correlation(est, X[:60], y[:60], X[60:], y[60:]) >= 0.99


@pytest.mark.parametrize("est", [Ridge(alpha=1.0), LinearRegression()], ids=["ridge", "ols"])
def test_leave_one_out_regressors(est):
    X, y = make_regression(80, 5, noise=5, random_state=0)
    assert _loo_correlation(est, X[:60], y[:60], X[60:], y[60:]) >= 0.99


def test_leave_one_out_through_pipeline_with_sample_weight():
    X, y = make_classification(120, 4, n_informative=3, n_redundant=0, random_state=1)
    w = np.random.default_rng(0).uniform(0.5, 2.0, 100)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, tol=1e-10))
    explainer = InfluenceExplainer(pipe).fit(X[:100], y[:100], sample_weight=w)
    scores = explainer.explain(X[100:], y[100:]).scores
    Xt = explainer.Xt_
    Xte = explainer.transformer_.transform(X[100:])
    base = linear_model_objective(explainer.model_).margins(Xte, y[100:])[0]
    actual = np.empty_like(scores)
    for i in range(100):
        keep = np.arange(100) != i
        refit = clone(explainer.model_).fit(Xt[keep], y[:100][keep], sample_weight=w[keep])
        actual[:, i] = linear_model_objective(refit).margins(Xte, y[100:])[0] - base
    assert np.corrcoef(-scores.ravel(), actual.ravel())[0, 1] >= 0.99


def test_sign_convention_duplicate_supports_its_copy():
    # A training row identical to the test row (same label) raises its margin; the
    # same row with the opposite label lowers it.
    X, y = make_classification(60, 3, n_informative=3, n_redundant=0, random_state=2)
    Xtr = np.vstack([X, X[:1]])
    ytr = np.append(y, 1 - y[0])
    explainer = InfluenceExplainer(LogisticRegression()).fit(Xtr, ytr)
    exp = explainer.explain(X[:1], y[:1], keep_scores=True)
    assert exp.scores[0, 0] > 0
    assert exp.scores[0, 60] < 0
    assert exp.top_indices[0, 0] == 0 or exp.scores[0, 0] > np.median(exp.scores[0])


def test_blockwise_top_k_matches_full_matrix():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    big = InfluenceExplainer(LogisticRegression(), block_size=10_000).fit(X[:250], y[:250])
    small = clone(big).set_params(block_size=17).fit(X[:250], y[:250])
    full = big.explain(X[250:], top_k=7, keep_scores=True)
    part = small.explain(X[250:], top_k=7, keep_scores=False)
    assert part.scores is None
    order = np.argsort(-full.scores, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(part.top_indices, order)
    np.testing.assert_allclose(part.top_scores, np.take_along_axis(full.scores, order, 1))
    np.testing.assert_allclose(part.bottom_scores, np.sort(full.scores, axis=1)[:, :7])
    np.testing.assert_allclose(part.source_scores.to_numpy()[:, 0], full.scores.sum(axis=1))
    # y=None explains the predicted class.
    np.testing.assert_array_equal(full.y, big.estimator_.predict(X[250:]))


def _traced_frames(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "hours": rng.normal(40, 8, n).round(1),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    frame["label"] = ((frame["age"] > 45) ^ (rng.random(n) < 0.1)).astype(int)
    paths = []
    for part in range(2):
        path = tmp_path / f"part{part}.csv"
        frame.iloc[part * 40 : (part + 1) * 40].to_csv(path, index=False)
        paths.append(path)
    parts = [stp.read_csv(p, source_id=f"part{i}") for i, p in enumerate(paths)]
    return pd.concat(parts), paths


@pytest.mark.parametrize("sample_weight", [False, True])
def test_balanced_class_weights_do_not_depend_on_the_block_size(sample_weight):
    """Each block of training rows had its classes balanced over the block alone:
    with class_weight="balanced", block_size=17 moved scores by a third of the largest
    one. Truth: one block of every row (whose weights test_class_weight checks against
    scikit-learn's fit)."""
    X, y = make_classification(
        260, 5, n_informative=3, n_classes=3, weights=[0.6, 0.3], random_state=1
    )
    sw = np.random.default_rng(0).uniform(0.3, 3.0, 250) if sample_weight else None
    model = LogisticRegression(class_weight="balanced", tol=1e-10)
    big = InfluenceExplainer(model, block_size=10_000).fit(X[:250], y[:250], sample_weight=sw)
    small = clone(big).set_params(block_size=17).fit(X[:250], y[:250], sample_weight=sw)
    full = big.explain(X[250:], y[250:], keep_scores=True).scores
    blocked = small.explain(X[250:], y[250:], keep_scores=True).scores
    np.testing.assert_allclose(blocked, full, rtol=1e-9, atol=1e-12 * np.abs(full).max())


def test_traced_pipeline_scores_name_file_and_line(tmp_path):
    df, paths = _traced_frames(tmp_path)
    X, y = df.drop(columns="label"), df["label"].to_numpy()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "hours"]), ("cat", OneHotEncoder(), ["city"])]
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression())
    explainer = InfluenceExplainer(pipe).fit(X.iloc[:70], y[:70])
    exp = explainer.explain(X.iloc[70:], y[70:], top_k=3)
    top = exp.top(2)
    assert list(top.columns) == [
        "test_index",
        "rank",
        "train_index",
        "score",
        "row_id",
        "source_id",
        "uri",
        "line",
        "file_state",
        "erased",
    ]
    # (the model has no store: whether rows were erased is not known, never False)
    assert top["erased"].isna().all() and top.attrs["erasures_checked"] is False
    assert len(top) == 10 * 2
    assert np.all(top.groupby("test_index")["score"].diff().dropna() <= 0)
    for _, r in top.iterrows():
        # The line named is the physical line of the file holding that training row.
        text = open(r["uri"].removeprefix("file://")).read().splitlines()[r["line"] - 1]
        raw = X.iloc[r["train_index"]]
        assert text.split(",")[:3] == [str(raw["age"]), str(raw["hours"]), raw["city"]]
    tr = exp.trace(test_index=3, rank=0)
    assert tr["values"]["city"] == X.iloc[tr["train_index"]]["city"]
    assert tr["source_id"] in {"part0", "part1"}
    assert any("logisticregression" in op for op in tr["ops"])
    by_source = exp.by_source()
    assert set(by_source["source_id"]) == {"part0", "part1"}
    assert by_source["n_rows"].sum() == 70
    np.testing.assert_allclose(by_source["score"].sum(), exp.scores.sum())


def test_merged_training_rows_are_explained_by_the_lines_of_their_parents(tmp_path):
    """A row built by ``stp.merge`` names its parents' file lines, never a line of the
    merged frame (which no file has); per-source sums count it for each parent."""
    rng = np.random.default_rng(4)
    lines = ["# people", "uid,age,city,label"]
    for uid in range(60):
        lines.append(f"{uid},{rng.integers(18, 90)},c{uid % 4},{int(rng.random() < 0.5)}")
        if uid % 9 == 0:
            lines.append('# "quoted" comment')
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    people = stp.read_csv(path, source_id="people", comment="#")
    cities = stp.from_pandas(
        pd.DataFrame({"city": ["c0", "c1", "c2", "c3"], "pop": [1.0, 2.5, 4.0, 0.5]}),
        source_id="cities",
    )
    df = stp.merge(people.iloc[rng.permutation(60)], cities, on="city", how="left")
    X, y = df.drop(columns="label"), df["label"].to_numpy()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "pop"]), ("cat", OneHotEncoder(), ["city"])]
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression())
    exp = InfluenceExplainer(pipe).fit(X.iloc[:45], y[:45]).explain(X.iloc[45:], top_k=4)
    raw = path.read_text().splitlines()
    top = exp.top()
    # every ranked row twice: its line in the file and its city's row
    assert len(top) == 15 * 4 * 2
    assert top["via"].str.startswith("merge:").all()
    for _, r in top.iterrows():
        train = X.iloc[r["train_index"]]
        if r["source_id"] == "people":
            assert raw[r["line"] - 1].split(",")[:3] == [
                str(train["uid"]),
                str(train["age"]),
                train["city"],
            ]
        else:
            assert r["source_id"] == "cities" and r["uri"] == "pandas:cities"
            assert f"c{r['line'] - 1}" == train["city"]  # row position in the lookup
    tr = exp.trace(test_index=2, rank=1)
    assert tr["line"] is None and tr["uri"].startswith("merge:")
    assert [d["source_id"] for d in tr["lines"]] == ["people", "cities"]
    assert raw[tr["lines"][0]["line"] - 1].startswith(f"{X.iloc[tr['train_index']]['uid']},")
    # per source: the brute-force sum over every training row with a line in it
    explainer = InfluenceExplainer(pipe).fit(X.iloc[:45], y[:45])
    full = explainer.explain(X.iloc[45:], keep_scores=True)
    by_source = full.by_source().set_index("source_id")
    np.testing.assert_allclose(by_source.loc["people", "score"], full.scores.sum())
    np.testing.assert_allclose(by_source.loc["cities", "score"], full.scores.sum())
    assert by_source["n_rows"].to_dict() == {"people": 45, "cities": 45}
    np.testing.assert_allclose(full.source_scores["people"], full.scores.sum(axis=1))


def test_a_sampler_before_the_final_step_is_explained_on_the_rows_it_kept():
    """imbalanced-learn's pipeline has no transform when a sampler is its last step
    before the model: the explainer transforms around it, and scores the rows the
    sampler kept (against leave-one-out refits of the model on those rows)."""
    pytest.importorskip("imblearn")
    from imblearn.under_sampling import RandomUnderSampler

    X, y = make_classification(
        90, 4, n_informative=3, n_redundant=0, weights=[0.7], random_state=1
    )
    frame = stp.from_pandas(pd.DataFrame(X, columns=list("abcd")), source_id="imbalanced")
    pipe = stp.make_traced_pipeline(
        StandardScaler(), RandomUnderSampler(random_state=0), LogisticRegression(C=1.0, tol=1e-10)
    ).fit(frame.iloc[:70], y[:70])
    kept = pipe.named_steps["randomundersampler"].sample_indices_
    explainer = InfluenceExplainer(pipe).fit(frame.iloc[:70], y[:70])
    assert explainer.n_train_ == kept.size < 70
    exp = explainer.explain(frame.iloc[70:], y[70:], keep_scores=True)
    # the lines named are the kept rows' own
    np.testing.assert_array_equal(exp.train_rows["line"], kept + 1)
    Z = pipe[0].transform(frame.iloc[:70])[kept]
    assert (
        _loo_correlation(
            LogisticRegression(C=1.0, tol=1e-10),
            Z,
            y[:70][kept],
            pipe[0].transform(frame.iloc[70:]),
            y[70:],
        )
        >= 0.99
    )
    np.testing.assert_allclose(
        exp.scores,
        InfluenceExplainer(LogisticRegression(C=1.0, tol=1e-10))
        .fit(Z, y[:70][kept])
        .explain(pipe[0].transform(frame.iloc[70:]), y[70:], keep_scores=True)
        .scores,
        rtol=1e-6,
        atol=1e-10,
    )


def test_copies_of_one_row_an_over_sampler_made_are_noted_with_their_summed_effect():
    """RandomOverSampler repeats rows: each copy is scored apart and top() lists one file
    line several times, each with one copy's score, while removing the line removes every
    copy. The explanation said nothing; now its notes count the copies and say that a
    line's effect is the sum of its copies' scores (checked against a refit)."""
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import RandomOverSampler

    X, y = make_classification(
        90, 4, n_informative=3, n_redundant=0, weights=[0.75], random_state=2
    )
    frame = stp.from_pandas(pd.DataFrame(X, columns=list("abcd")), source_id="oversampled")
    model = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), RandomOverSampler(random_state=0), model
    ).fit(frame.iloc[:70], y[:70])
    drawn = pipe.named_steps["randomoversampler"].sample_indices_
    rows, counts = np.unique(drawn, return_counts=True)
    explainer = InfluenceExplainer(pipe).fit(frame.iloc[:70], y[:70])
    exp = explainer.explain(frame.iloc[70:], y[70:], keep_scores=True)
    n_copies = int(counts[counts > 1].sum())
    assert (
        f"{n_copies} of the {drawn.size} training rows are copies of "
        f"{int((counts > 1).sum())} row(s)"
    ) in " ".join(exp.notes)
    # the line's effect is the sum of its copies' scores: a refit without both copies
    row = rows[np.flatnonzero(counts == 2)[0]]
    copies = np.flatnonzero(drawn == row)
    Z = pipe[0].transform(frame.iloc[:70])
    Zte = pipe[0].transform(frame.iloc[70:])
    base = linear_model_objective(explainer.model_).margins(Zte, y[70:])[0]
    keep = drawn[drawn != row]
    refit = clone(model).fit(Z[keep], y[:70][keep])
    actual = linear_model_objective(refit).margins(Zte, y[70:])[0] - base
    summed = -exp.scores[:, copies].sum(axis=1)
    one = -exp.scores[:, copies[0]]
    assert np.linalg.norm(actual - summed) < 0.25 * np.linalg.norm(actual - one)
    # without repeated rows, no such note
    plain = stp.make_traced_pipeline(StandardScaler(), clone(model)).fit(frame.iloc[:70], y[:70])
    notes = InfluenceExplainer(plain).fit(frame.iloc[:70], y[:70]).explain(frame.iloc[70:]).notes
    assert not any("copies of" in note for note in notes)


def test_copies_of_rows_in_the_data_are_not_blamed_on_a_sampler(tmp_path):
    # one file read twice and concatenated repeats every row id with no sampler in the
    # pipeline: the note said "a sampler such as RandomOverSampler repeated them"
    X, y = make_classification(30, 3, n_informative=2, n_redundant=0, random_state=3)
    path = tmp_path / "f.csv"
    pd.DataFrame(X, columns=list("abc")).assign(y=y).to_csv(path, index=False)
    twice = pd.concat([stp.read_csv(path), stp.read_csv(path)])
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(twice[list("abc")], twice["y"])
    notes = " ".join(
        InfluenceExplainer(pipe).fit(twice[list("abc")], twice["y"]).explain(X[:5]).notes
    )
    assert "60 of the 60 training rows are copies of 30 row(s)" in notes
    assert "or in the data, such as one file read twice and concatenated" in notes


def test_rows_a_merge_built_from_one_file_line_are_noted_with_their_summed_effect(tmp_path):
    """A one-to-many stp.merge gives several training rows one parent line (a person's,
    for each of their visits): each is scored apart and top() lists them apart, while
    removing the line removes them all. The explanation said nothing; now its notes
    count them and say that the line's effect is the sum of their scores (checked
    against the raw file and a refit without every row of one parent)."""
    rng = np.random.default_rng(7)
    people = ["uid,age,income"]
    for uid in range(25):
        people.append(f"{uid},{rng.integers(18, 90)},{rng.normal(50, 15):.3f}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(people) + "\n")
    uids = rng.integers(0, 25, 110)
    visits = stp.from_pandas(
        pd.DataFrame({"uid": uids, "dur": rng.normal(size=110).round(3)}), source_id="visits"
    )
    df = stp.merge(visits, stp.read_csv(path, source_id="people"), on="uid", how="left")
    X = df[["age", "income", "dur"]]
    y = (df["dur"] + (df["age"] - 50) / 20 + rng.normal(size=110) > 0).to_numpy().astype(int)
    model = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000)
    pipe = stp.make_traced_pipeline(StandardScaler(), model).fit(X.iloc[:80], y[:80])
    explainer = InfluenceExplainer(pipe).fit(X.iloc[:80], y[:80])
    exp = explainer.explain(X.iloc[80:], y[80:], keep_scores=True)
    per_person = pd.Series(df["uid"].to_numpy()[:80]).value_counts()
    shared = per_person[per_person > 1]
    assert (
        f"{int(shared.sum())} of the 80 training rows were built by a merge "
        f"(sktraceprop.merge) from {shared.size} file line(s) of people that several of "
        f"them share (up to {int(shared.max())} training rows from one line)"
    ) in " ".join(exp.notes)
    # the rows of one person name one line of the raw file: that person's
    uid = int(shared.idxmin())  # the fewest rows: a removal small enough for first order
    rows = np.flatnonzero(df["uid"].to_numpy()[:80] == uid)
    lines = exp.train_rows.query("source_id == 'people'").set_index("train_index")
    assert lines.loc[rows, "line"].nunique() == 1
    raw = path.read_text().splitlines()[int(lines.loc[rows[0], "line"]) - 1].split(",")
    assert int(raw[0]) == uid
    assert float(raw[2]) == pytest.approx(float(X.iloc[rows[0]]["income"]))
    # the line's effect is the sum of its rows' scores: a refit without all of them
    Z = pipe[0].transform(X.iloc[:80])
    Zte = pipe[0].transform(X.iloc[80:])
    base = linear_model_objective(explainer.model_).margins(Zte, y[80:])[0]
    keep = np.setdiff1d(np.arange(80), rows)
    refit = clone(model).fit(Z[keep], y[:80][keep])
    actual = linear_model_objective(refit).margins(Zte, y[80:])[0] - base
    summed = -exp.scores[:, rows].sum(axis=1)
    one = -exp.scores[:, rows[0]]
    assert np.linalg.norm(actual - summed) < 0.25 * np.linalg.norm(actual - one)
    # one training row per parent line (a one-to-one merge): no such note
    once = np.unique(df["uid"].to_numpy(), return_index=True)[1]
    single = X.iloc[once]
    plain = stp.make_traced_pipeline(StandardScaler(), clone(model)).fit(single, y[once])
    notes = InfluenceExplainer(plain).fit(single, y[once]).explain(single.iloc[:3]).notes
    assert not any("built by a merge" in note for note in notes)


def test_a_model_trained_on_rows_a_sampler_made_is_refused():
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import SMOTE

    X, y = make_classification(80, 4, weights=[0.8], random_state=0)
    pipe = stp.make_traced_pipeline(StandardScaler(), SMOTE(random_state=0), LogisticRegression())
    with pytest.warns(stp.exceptions.LineageWarning, match="no sample_indices_"):
        pipe.fit(X, y)
    with pytest.raises(ValueError, match=r"sampler step smote \(SMOTE\) made"):
        InfluenceExplainer(pipe).fit(X, y)


def test_frozen_estimator_is_used_as_is():
    X, y = make_classification(100, 4, random_state=0)
    model = LogisticRegression(C=0.3).fit(X[:60], y[:60])
    explainer = InfluenceExplainer(FrozenEstimator(model)).fit(X[:60], y[:60])
    assert explainer.model_ is model
    fresh = InfluenceExplainer(LogisticRegression(C=0.3)).fit(X[:60], y[:60])
    np.testing.assert_allclose(
        explainer.explain(X[60:]).scores, fresh.explain(X[60:]).scores, rtol=1e-6, atol=1e-9
    )


def test_unsupported_estimator_error_names_supported():
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(TypeError, match="LinearSVC is not supported.*Ridge"):
        InfluenceExplainer(LinearSVC()).fit(X, y)


def test_damping_shrinks_scores_and_gridsearch_tunes_by_lds():
    X, y = make_classification(160, 5, n_informative=4, n_redundant=0, random_state=0)
    a = InfluenceExplainer(LogisticRegression(), damping=0.0).fit(X[:120], y[:120])
    b = clone(a).set_params(damping=1.0).fit(X[:120], y[:120])
    sa = np.abs(a.explain(X[120:]).scores).sum()
    sb = np.abs(b.explain(X[120:]).scores).sum()
    assert sb < sa
    search = GridSearchCV(
        InfluenceExplainer(LogisticRegression(), n_subsets=20, random_state=0),
        {"damping": [0.0, 10.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_ == {"damping": 0.0}
    assert 0.5 < search.best_score_ <= 1.0


def test_rank_deficient_one_hot_uses_null_space():
    # One-hot with an intercept: the unpenalised LinearRegression Hessian is singular.
    rng = np.random.default_rng(0)
    cat = rng.integers(0, 3, 60)
    X = np.column_stack([np.eye(3)[cat], rng.normal(size=60)])
    y = cat * 1.5 + X[:, 3] + rng.normal(scale=0.3, size=60)
    explainer = InfluenceExplainer(LinearRegression()).fit(X[:50], y[:50])
    assert explainer.n_null_ == 1
    assert np.isfinite(explainer.explain(X[50:]).scores).all()
    assert _loo_correlation(LinearRegression(), X[:50], y[:50], X[50:], y[50:]) >= 0.99


def test_clone_and_pickle_preserve_scores():
    X, y = make_classification(80, 4, random_state=0)
    explainer = InfluenceExplainer(LogisticRegression(), damping=0.1).fit(X, y)
    restored = pickle.loads(pickle.dumps(explainer))
    np.testing.assert_allclose(restored.explain(X[:5]).scores, explainer.explain(X[:5]).scores)
    assert clone(explainer).get_params()["damping"] == 0.1


@parametrize_with_checks(
    [InfluenceExplainer(LogisticRegression(), n_subsets=4, random_state=0)],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# -- a fitted model is explained as it is -----------------------------------------------------
def _sgd_pipeline(tmp_path):
    df, _ = _traced_frames(tmp_path)
    X, y = df.drop(columns="label"), df["label"].to_numpy()
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "hours"]), ("cat", OneHotEncoder(), ["city"])]
    )
    # no random_state: every fit of a clone lands on other coefficients
    pipe = stp.make_traced_pipeline(pre, SGDClassifier(loss="log_loss", alpha=0.01))
    return pipe.fit(X.iloc[:70], y[:70]), X, y


def test_fitted_pipeline_is_explained_as_it_is(tmp_path):
    pipe, X, y = _sgd_pipeline(tmp_path)
    coef = pipe[-1].coef_.copy()
    explainer = InfluenceExplainer(pipe).fit(X.iloc[:70], y[:70])
    assert explainer.estimator_ is pipe and explainer.model_ is pipe[-1]
    np.testing.assert_array_equal(explainer.model_.coef_, coef)
    exp = explainer.explain(X.iloc[70:], y[70:])
    assert exp.model_fingerprint == explainer.model_fingerprint_
    assert exp.model_fingerprint == pipe.lineage_.model_fingerprint
    # the scores are those of the user's coefficients: the margins they explain agree
    np.testing.assert_allclose(
        exp.margins, np.where(y[70:] == 1, 1, -1) * pipe.decision_function(X.iloc[70:])
    )
    frozen = InfluenceExplainer(FrozenEstimator(pipe)).fit(X.iloc[:70], y[:70])
    np.testing.assert_array_equal(frozen.explain(X.iloc[70:], y[70:]).scores, exp.scores)

    # clone (GridSearchCV, cross_validate) keeps the fitted model: nothing is refitted
    copy = clone(explainer)
    assert copy.estimator is pipe
    np.testing.assert_array_equal(
        copy.fit(X.iloc[:70], y[:70]).explain(X.iloc[70:], y[70:]).scores, exp.scores
    )
    # a refit happens when asked for, with an unfitted estimator: another model
    refit = InfluenceExplainer(clone(pipe)).fit(X.iloc[:70], y[:70])
    assert refit.estimator_ is not pipe
    assert refit.model_fingerprint_ != explainer.model_fingerprint_
    assert not np.array_equal(refit.model_.coef_, coef)


def test_fitted_model_needs_its_own_training_rows(tmp_path):
    pipe, X, y = _sgd_pipeline(tmp_path)
    with pytest.raises(ValueError, match="not the data the fitted model was trained on"):
        InfluenceExplainer(pipe).fit(X.iloc[:60], y[:60])
    with pytest.raises(ValueError, match="in another order"):
        InfluenceExplainer(pipe).fit(X.iloc[:70][::-1], y[:70][::-1])


def test_explaining_a_model_changed_after_fit_raises(tmp_path):
    pipe, X, y = _sgd_pipeline(tmp_path)
    explainer = InfluenceExplainer(pipe).fit(X.iloc[:70], y[:70])
    restored = pickle.loads(pickle.dumps(explainer))  # unchanged models survive pickling
    assert (
        restored.explain(X.iloc[70:], y[70:]).model_fingerprint == pipe.lineage_.model_fingerprint
    )
    pipe.fit(X.iloc[:70], y[:70])  # the user refits the model in place
    with pytest.raises(ValueError, match="model changed after InfluenceExplainer.fit"):
        explainer.explain(X.iloc[70:], y[70:])
    with pytest.raises(ValueError, match="model changed"):
        explainer.score(X.iloc[70:], y[70:])
    # and the change is still seen once pickled
    with pytest.raises(ValueError, match="model changed"):
        pickle.loads(pickle.dumps(explainer)).explain(X.iloc[70:], y[70:])
    explainer.fit(X.iloc[:70], y[:70]).explain(X.iloc[70:], y[70:])


def test_frozen_unfitted_estimator_is_refused():
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        InfluenceExplainer(FrozenEstimator(LogisticRegression())).fit(X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"top_k": 0}, "top_k must be a positive integer.*got 0"),
        ({"top_k": -5}, "top_k must be a positive integer.*got -5"),
        ({"top_k": 2.5}, "top_k must be a positive integer"),
        ({"top_k": True}, "top_k must be a positive integer"),
        ({"y": np.full(5, 7)}, r"classes the model does not have: \[7\].*\[0, 1, 2\]"),
        ({"y": np.array(["a"] * 5)}, "classes the model does not have: \\['a'\\]"),
        ({"y": np.zeros(3, dtype=int)}, r"one class per row of X \(5 rows\), got shape \(3,\)"),
        ({"y": np.zeros((5, 2), dtype=int)}, "one class per row"),
        ({"keep_scores": "yes"}, "keep_scores must be"),
    ],
)
def test_explain_names_bad_arguments(kwargs, match):
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match=match):
        explainer.explain(X[50:55], **kwargs)


def test_explain_and_score_bad_inputs_for_regressors_and_empty_data():
    X, y = make_regression(40, 3, random_state=0)
    explainer = InfluenceExplainer(Ridge()).fit(X[:30], y[:30])
    with pytest.raises(ValueError, match="one class per row"):
        explainer.explain(X[30:], y[:4])
    with pytest.raises(ValueError, match="no rows to explain"):
        explainer.explain(X[:0])
    with pytest.raises(ValueError, match="one class per row"):
        explainer.score(X[30:], y[:4])
    # top_k larger than the training set keeps every row
    assert explainer.explain(X[30:32], top_k=500).top_indices.shape == (2, 30)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_train=st.integers(3, 40),
    n_test=st.integers(1, 15),
    block_size=st.integers(1, 50),
    top_k=st.integers(1, 45),
)
def test_blockwise_explain_equals_the_full_matrix(seed, n_train, n_test, block_size, top_k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_test, 3))
    y = np.arange(n_train + n_test) % 2
    full = InfluenceExplainer(LogisticRegression(), block_size=10_000).fit(
        X[:n_train], y[:n_train]
    )
    part = clone(full).set_params(block_size=block_size).fit(X[:n_train], y[:n_train])
    reference = full.explain(X[n_train:], top_k=top_k, keep_scores=True)
    exp = part.explain(X[n_train:], top_k=top_k, keep_scores=False)
    k = min(top_k, n_train)
    assert exp.scores is None and exp.top_indices.shape == (n_test, k)
    scores = reference.scores
    np.testing.assert_allclose(
        exp.top_scores, -np.sort(-scores, axis=1)[:, :k], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(exp.bottom_scores, np.sort(scores, axis=1)[:, :k], atol=1e-12)
    np.testing.assert_allclose(
        np.take_along_axis(scores, exp.top_indices, 1), exp.top_scores, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(exp.source_scores.sum(axis=1), scores.sum(axis=1), atol=1e-10)
    np.testing.assert_allclose(exp.margins, reference.margins)


def test_verbose_explain_and_score_report_progress(capsys):
    X, y = make_classification(120, 4, random_state=0)
    explainer = InfluenceExplainer(
        LogisticRegression(), block_size=16, n_subsets=3, verbose=1, random_state=0
    ).fit(X[:100], y[:100])
    explainer.explain(X[100:], y[100:])
    explainer.score(X[100:], y[100:])
    err = capsys.readouterr().err
    assert "explain" in err and "2/2" in err  # 20 test rows in blocks of 16
    assert "LDS retrains" in err and "3/3" in err


def test_pickled_explainer_of_a_fitted_skorch_net_still_explains():
    # a skorch net's fingerprint is not stable across pickling (object addresses in
    # reprs): an unchanged net must not be taken for a changed one
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    X, y = make_classification(60, 4, random_state=0)
    X = X.astype(np.float32)
    torch.manual_seed(0)
    net = skorch.NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(4, 2)),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    explainer = InfluenceExplainer(net, n_components=16, random_state=0).fit(X, y)
    assert explainer.estimator_ is net
    restored = pickle.loads(pickle.dumps(explainer))
    np.testing.assert_allclose(
        restored.explain(X[:3], keep_scores=True).scores,
        explainer.explain(X[:3], keep_scores=True).scores,
        rtol=1e-6,
    )


def test_influence_sums_refuse_masks_of_other_rows_or_values():
    # a mask with more columns than training rows was cut to the first n_train (a mask
    # over 80 rows for an explainer of 60 was summed over its first 60 columns, whatever
    # rows they stood for), and values other than 0/1 (row indices, weights) counted as
    # weights, with nothing said
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    explainer = InfluenceExplainer(LogisticRegression().fit(X[:60], y[:60])).fit(X[:60], y[:60])
    scores = explainer.explain(X[60:63]).scores
    first = np.arange(60) < 10
    np.testing.assert_allclose(
        explainer.influence_sums(X[60:63], None, first[None]).ravel(), scores[:, :10].sum(1)
    )
    np.testing.assert_allclose(  # 0/1 numbers read as booleans
        explainer.influence_sums(X[60:63], None, first[None].astype(int)).ravel(),
        scores[:, :10].sum(1),
    )
    for masks in (np.ones((1, 80), bool), np.ones((1, 40), bool), first):
        with pytest.raises(ValueError, match=r"shape \(n_subsets, 60\)"):
            explainer.influence_sums(X[60:63], None, masks)
    for masks in (np.full((1, 60), 2.0), np.arange(60)[None]):
        with pytest.raises(ValueError, match="boolean"):
            explainer.influence_sums(X[60:63], None, masks)
