"""An InfluenceExplainer fitted on rows an unlearner or an erasure then removes drops its
fit: none of the removed rows' values is left in its __dict__ or its pickle bytes (the
truth: the raw float bytes of their features, present before the removal), and explain,
score, influence_sums and an explanation made before refuse, naming the removal, until it
is fitted again."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _distinct(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3)) - 0.5 + np.arange(n)[:, None] * 1e-9  # no value twice
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    y[:2] = [0, 1]
    return stp.from_numpy(X, source_id=f"explainer_forgets{seed}"), y


def _in(obj, values):
    raw = pickle.dumps(obj)
    return [np.float64(v).tobytes() in raw for v in values]


def _arrays(obj):
    """Every float array in ``obj``'s __dict__, one level into containers and objects."""
    out = []
    for v in vars(obj).values():
        items = list(v) if isinstance(v, (list, tuple)) else [v]
        items += list(vars(v).values()) if hasattr(v, "__dict__") else []
        out += [a for a in items if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return out


@settings(deadline=None, max_examples=6)
@given(n=st.integers(20, 40), k=st.integers(1, 4), seed=st.integers(0, 50))
def test_removed_rows_leave_the_explainer_and_it_refuses_until_refitted(n, k, seed):
    X, y = _distinct(n, seed)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X, y)
    before = explainer.explain(X.iloc[:2])
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    removed = np.random.default_rng(seed).choice(np.arange(2, n), size=k, replace=False)
    values = np.asarray(X)[removed].ravel()
    assert any(_in(explainer, values))  # (the check can fail: its fit holds them)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=stp.row_ids(X)[removed])
    event = unl.unlearning_log_[-1]
    assert event["dropped_elsewhere"] == {"InfluenceExplainer": k}
    assert "InfluenceExplainer" not in event.get("held_elsewhere", {})
    assert not any(_in(explainer, values))
    assert not any(np.isin(values, a).any() for a in _arrays(explainer))
    said = r"GradientCorrectionUnlearner\.unlearn \(event 0 .*Fit it again"
    with pytest.raises(ValueError, match=said):
        explainer.explain(X.iloc[:2])
    with pytest.raises(ValueError, match=said):
        explainer.score(X.iloc[:5], y[:5])
    with pytest.raises(ValueError, match=said):
        explainer.influence_sums(X.iloc[:2], None, np.ones((1, n), bool))
    with pytest.raises(ValueError, match=said):
        before.top()
    # fitted again on the unlearned model and the retained rows, it explains
    kept = unl.retained_mask_
    refit = explainer.fit(X.iloc[kept], y[kept])
    assert refit.explain(X.iloc[:2]).top() is not None


def test_an_erasure_has_the_explainer_drop_its_fit_a_dry_run_does_not():
    X, y = _distinct(30, 7)
    store = stp.stores.MemoryStore()
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, y)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X, y)
    ids = stp.row_ids(X)[[4, 5]]
    values = np.asarray(X)[[4, 5]].ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=ids, reason="request", dry_run=True)
    assert any(_in(explainer, values))
    explainer.explain(X.iloc[:2])  # a dry run changes nothing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.erase_rows(sample_id=ids, reason="request")
    (said,) = [str(w.message) for w in caught if "dropped the rows being erased" in str(w.message)]
    # (it told an explainer to call value(), which explainers do not have)
    assert said.endswith(
        "InfluenceExplainer (2 row(s)) (an explainer's fit was dropped: fit it again on "
        "the rows kept)"
    )
    assert not any(_in(explainer, values))
    with pytest.raises(ValueError, match=r"an erasure request \(store\.erase_rows\)"):
        explainer.explain(X.iloc[:2])
