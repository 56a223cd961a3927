"""``search_runs`` of a search that another thread is refitting at that moment.

The refit minted its id (its first clone) and has not yet replaced ``cv_results_``:
the search holds the earlier fit's results beside the new fit's id. Before, this was
refused as a fit that "did not complete" (one that failed): the user was told to fit
it again, while a refit was running. Now the refusal says the fit began in another
thread that is still running, so it is under way there or raised there: which one is not
known, because another thread's stack is not read (walking a running thread's frames
crashed CPython 3.11). The refitting thread is held inside a split's fit (an event, no
sleep), so the interleaving is certain.
"""

import sys
import threading

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._gate import FIT_ENTERED, FIT_RELEASE, REFITTER, WAIT_S, HeldFit
from tests._search_data import rows_file


def test_a_search_being_refitted_is_said_to_be_under_way_or_raised_not_failed(
    tmp_path, monkeypatch
):
    read = []
    real = sys._current_frames
    monkeypatch.setattr(sys, "_current_frames", lambda: read.append(1) or real())
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
        with pytest.raises(LineageError, match="another thread, which is still running") as e:
            stp.search_runs(search, store)
        assert "under way there, or it raised there" in str(e.value)
        assert "did not complete" not in str(e.value)
        assert read == []  # the refitting thread's stack was not read
    finally:
        FIT_RELEASE.set()
        refit.join(WAIT_S)
    assert not refit.is_alive()
    # once done, its own runs
    runs = stp.search_runs(search, store)
    assert runs.attrs["search_id"] != first
    assert runs.attrs["search_id"] == search.best_estimator_.lineage_.selection["search_id"]


def test_a_search_asked_from_inside_its_own_fit_is_said_to_be_refitted_here(tmp_path):
    """Asked on the thread running the search's fit (its own stack, which is read), the
    refusal says the refit is under way in this thread."""
    X, y = rows_file(tmp_path, seed=4, n=40)
    store = stp.stores.MemoryStore()
    asked = []

    class Asking(HeldFit):
        def fit(self, X, y=None):
            if SEARCH and len(asked) == 0:
                try:
                    stp.search_runs(SEARCH[0], store)
                except LineageError as error:
                    asked.append(str(error))
            return super().fit(X, y)

    SEARCH = []
    pipe = stp.make_traced_pipeline(Asking(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=KFold(2))
    search.fit(X, y)
    SEARCH.append(search)
    search.fit(X, y)
    assert len(asked) == 1
    assert "is being refitted" in asked[0] and "under way, in this thread" in asked[0]
