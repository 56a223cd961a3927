"""An explanation whose explainer was fitted again says when rows it scored are erased.

After its explainer is fitted again (another model, other rows), an explanation's
``top()`` and ``trace()`` refuse, but its arrays (``scores``, ``margins``,
``source_scores``...) stay readable: numbers computed from the rows it scored. An
erasure request of those rows made then could not drop the fit that scored them (the
explainer no longer held it), and the arrays were handed out with no word, as they were
not checked once the explainer was refitted. Each now warns (ErasedRowsHeldWarning)
naming the store's erasure event, checked against the rows scored and the explained
model's run and store, which the explanation's view of its fit keeps. The truth: the
store's erasure record and the keys of the rows fitted on.
"""

import pickle
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.influence._of_fit import OF_FIT
from tests.stores.test_erasure_marks import _explained
from tests.stores.test_trace_erasures import _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _said(explanation):
    """``{name: [messages]}`` of the ErasedRowsHeldWarning each array of
    ``explanation`` gives, and the arrays' sum of scores."""
    out = {}
    for name in OF_FIT:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(explanation, name)
        out[name] = [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]
        if name == "scores":
            total = float(np.asarray(value).sum())
    return out, total


@pytest.mark.parametrize("loaded", [False, True])
def test_an_explanation_of_a_refitted_explainer_says_its_scored_rows_were_erased(tmp_path, loaded):
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits, explanation = _explained(store, tmp_path / "data")
    explainer = explanation._explainer._explainer
    keys = {1003, 1011, 1020}
    kept = ~df["key"].isin(keys).to_numpy()
    X, y = df[["city", "age"]], df["y"]
    # fitted again, on a model of the rows kept: it holds none of the rows erased below
    explainer.set_params(estimator=_fit(store, df[kept])).fit(X[kept], y[kept])
    with pytest.raises(ValueError, match="fitted again"):
        explanation.top()
    before, total = _said(explanation)
    assert all(said == [] for said in before.values())  # nothing erased yet
    _erased_by_key(store, visits, keys, "art. 17")
    (event,) = store.events(kind="store.erasure", include_store_events=True)
    if loaded:
        explanation = pickle.loads(pickle.dumps(explanation))

    after, total_after = _said(explanation)
    truth = int(np.isin(df["key"].to_numpy(), sorted(keys)).sum())
    assert truth == len(keys)
    for name, said in after.items():
        assert len(said) == 1, (name, said)
        assert said[0].startswith(f"Explanation.{name}: "), said[0]
        assert f"{truth} of the {len(df)} training row(s) scored" in said[0], said[0]
        assert f"store.erasure event seq {event['seq']}" in said[0], said[0]
    assert total_after == total  # (said, not changed)
