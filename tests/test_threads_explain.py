"""An explainer and a valuer refitted in one thread while another thread uses them (a
service refitting a shared explainer as new data arrives, or explaining from its web
workers while a refit is under way).

The truth is a fresh object fitted on each data set alone: every explanation (scores
and the file lines of the rows they rank) and every value vector is that of one fit or
the other, never a mix (scores of one model traced to the other's rows). Each thread's
file lines are checked against the raw bytes of its file.
``sys.setswitchinterval(1e-6)`` makes a race likely.
"""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp


def _data(tmp_path, k, n):
    rng = np.random.default_rng(k)
    path = tmp_path / f"f{k}.csv"
    lines = ["key,a,b,y"]
    for i in range(n):
        if rng.random() < 0.2:
            lines.append("")
        lines.append(f"{k * 1000 + i},{rng.normal():.5f},{rng.normal():.5f},{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    df = stp.read_csv(path, source_id=f"f{k}")
    return path, df[["key", "a", "b"]], df["y"]


def _race(refit, use, n_refits):
    """``use()`` over and over while ``refit(i)`` runs ``n_refits`` times; what each
    use gave, and the errors raised."""
    done, got, errors = threading.Event(), [], []

    def refits():
        try:
            for i in range(n_refits):
                refit(i)
        finally:
            done.set()

    def uses():
        while not done.is_set():
            try:
                got.append(use())
            except Exception as e:
                errors.append(e)

    threads = [threading.Thread(target=refits), threading.Thread(target=uses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got, errors


def _explained(explanation):
    try:
        top = explanation.trace(0, 0)
    except ValueError as e:  # refitted between explain and trace: refused, clearly
        assert "fitted again" in str(e)
        return explanation.scores.tobytes(), None
    return explanation.scores.tobytes(), (top["uri"], top["line"], top["train_index"])


def test_explain_during_a_refit_of_the_same_explainer_is_one_fit(tmp_path, fast_switching):
    data = [_data(tmp_path, k, n) for k, n in ((1, 120), (2, 150))]
    pipes = [
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        for _, X, y in data
    ]
    Xq, yq = data[0][1].iloc[:4], data[0][2].iloc[:4]
    E = stp.influence.InfluenceExplainer
    truth = [
        _explained(E(p).fit(X, y).explain(Xq, yq, top_k=3))
        for p, (_, X, y) in zip(pipes, data, strict=True)
    ]
    # the truth's top rows are on the lines holding their keys, in their own files
    for (path, X, _), (_, (uri, line, at)) in zip(data, truth, strict=True):
        assert uri.endswith(path.name)
        assert path.read_text().split("\n")[line - 1].startswith(f"{X['key'].iloc[at]},")
    ex = E(pipes[0]).fit(data[0][1], data[0][2])

    def refit(i):
        k = (i + 1) % 2
        ex.set_params(estimator=pipes[k]).fit(data[k][1], data[k][2])

    got, errors = _race(refit, lambda: _explained(ex.explain(Xq, yq, top_k=3)), 8)
    assert not errors, errors[:3]
    assert got
    for scores, top in got:
        assert (scores, top) in truth if top is not None else scores in [t[0] for t in truth]


def test_value_during_a_refit_of_the_same_valuer_is_one_fit(tmp_path, fast_switching):
    data = [_data(tmp_path, k, 300) for k in (3, 4)]
    Xv, yv = data[0][1].iloc[:30][["a", "b"]], data[0][2].iloc[:30]
    V = stp.valuation.KNNShapleyValuer

    def valued(v):
        values = v.value(Xv, yv)
        table = v.by_source()
        return values.tobytes(), v.row_ids_.tobytes(), tuple(table["uri"])

    truth = [valued(V(n_neighbors=3).fit(X[["a", "b"]], y)) for _, X, y in data]
    v = V(n_neighbors=3).fit(data[0][1][["a", "b"]], data[0][2])

    def refit(i):
        _, X, y = data[(i + 1) % 2]
        v.fit(X[["a", "b"]], y)

    # value() returns its own values; its values_ and by_source() are the last call's
    # of any thread (documented), so only the returned values are compared here
    got, errors = _race(refit, lambda: v.value(Xv, yv).tobytes(), 40)
    assert not errors, errors[:3]
    assert got and all(g in (truth[0][0], truth[1][0]) for g in got)


@pytest.mark.parametrize("kind", ["explainer", "valuer"])
def test_objects_fitted_in_threads_over_shared_frames_match_one_thread(
    tmp_path, fast_switching, kind
):
    path, X, y = _data(tmp_path, 5, 200)
    raw = path.read_text().split("\n")
    if kind == "explainer":
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)

        def job(k):
            e = stp.influence.InfluenceExplainer(pipe).fit(X, y)
            out = e.explain(X.iloc[k : k + 3], y.iloc[k : k + 3], top_k=4)
            return out.scores.tobytes(), [out.trace(0, r) for r in range(4)]
    else:

        def job(k):
            v = stp.valuation.KNNShapleyValuer(n_neighbors=3).fit(X[["a", "b"]], y)
            values = v.value(X[["a", "b"]].iloc[k : k + 20], y.iloc[k : k + 20])
            return values.tobytes(), v.by_source().to_dict("list")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        truth = {k: job(k) for k in range(6)}
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(job, list(range(6)) * 2))
    assert got == [truth[k] for k in list(range(6)) * 2]
    if kind == "explainer":
        for _, tops in truth.values():
            for top in tops:
                assert top["uri"].endswith(path.name)
                key = X["key"].iloc[top["train_index"]]
                assert raw[top["line"] - 1].startswith(f"{key},")


def test_an_explanation_refuses_to_trace_after_the_explainer_is_refitted(tmp_path):
    # (found by the race above, but needs no thread: trace() read the explainer's
    # current fit, so after a refit an old explanation named the new fit's rows,
    # file and values)
    data = [_data(tmp_path, k, n) for k, n in ((6, 90), (7, 110))]
    pipes = [
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        for _, X, y in data
    ]
    (path, X, y), Xq = data[0], data[0][1].iloc[:3]
    ex = stp.influence.InfluenceExplainer(pipes[0]).fit(X, y)
    explanation = ex.explain(Xq, y.iloc[:3], top_k=5)
    before = [explanation.trace(t, r) for t in range(3) for r in range(5)]
    raw = path.read_text().split("\n")
    for top in before:
        assert top["uri"].endswith(path.name)
        assert raw[top["line"] - 1].startswith(f"{X['key'].iloc[top['train_index']]},")
        assert top["values"] == X.iloc[top["train_index"]].to_dict()
    ex.set_params(estimator=pipes[1]).fit(data[1][1], data[1][2])
    with pytest.raises(ValueError, match="fitted again"):
        explanation.trace(0, 0)
    # a fit that fails halfway also leaves old explanations refusing
    explanation = ex.explain(data[1][1].iloc[:2], data[1][2].iloc[:2], top_k=2)
    assert explanation.trace(0, 0)["uri"].endswith(data[1][0].name)
    with pytest.raises(ValueError):
        ex.fit(X.iloc[:5], y.iloc[:5])  # not the rows pipes[1] was fitted on
    with pytest.raises(ValueError, match="fitted again"):
        explanation.trace(0, 0)
