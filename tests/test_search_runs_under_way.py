"""``search_runs`` of a search that another thread is refitting at that moment.

The refit minted its id (its first clone) and has not yet replaced ``cv_results_``:
the search holds the earlier fit's results beside the new fit's id. Before, this was
refused as a fit that "did not complete" (one that failed): the user was told to fit
it again, while a refit was running. The refitting thread is held inside a split's fit
(an event, no sleep), so the interleaving is certain.
"""

import threading

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._gate import FIT_ENTERED, FIT_RELEASE, REFITTER, WAIT_S, HeldFit
from tests._search_data import rows_file


def test_a_search_being_refitted_is_said_to_be_refitted_not_failed(tmp_path):
    X, y = rows_file(tmp_path, seed=3, n=40)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(HeldFit(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=KFold(2))
    first = stp.search_runs(search.fit(X, y), store).attrs["search_id"]
    FIT_ENTERED.clear(), FIT_RELEASE.clear()
    refit = threading.Thread(target=lambda: search.fit(X, y), name=REFITTER)
    refit.start()
    try:
        assert FIT_ENTERED.wait(WAIT_S)  # the refit holds a new id, the old cv_results_
        with pytest.raises(LineageError, match="is being refitted .* under way") as raised:
            stp.search_runs(search, store)
        assert "did not complete" not in str(raised.value)
    finally:
        FIT_RELEASE.set()
        refit.join(WAIT_S)
    assert not refit.is_alive()
    # once done, its own runs
    runs = stp.search_runs(search, store)
    assert runs.attrs["search_id"] != first
    assert runs.attrs["search_id"] == search.best_estimator_.lineage_.selection["search_id"]
