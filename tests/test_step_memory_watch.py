"""A traced pipeline given ``memory=``: the clones it fits in its steps' place are watched.

scikit-learn's ``Pipeline`` with ``memory=`` fits a clone of each transformer step
(through joblib's cache, or loads one fitted before from the cache's files) and puts the
clone in ``steps``. The step watch spied on the step objects given, none of which was
fitted: before, another thread that changed a fitted clone in place, or fitted it, after
it was put in ``steps`` and before the run was recorded went unseen, and the run
recorded that other state's fingerprint beside this fit's rows, with no error. The
pipeline's thread is held after its steps were fitted, before the run is built (an
event, no sleep). And the lineage of a fit that hit the cache, or missed it on other
rows or on a source file changed on disk, is checked against the file's bytes.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._declared import N_ROWS
from sktraceprop.exceptions import ChangedSourceWarning, LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, plain, shifted_data

#: The rows of each fit of :class:`_CountedScaler` given all the rows (a cache hit fits
#: none; the run's feature lineage fits it on a few rows, not counted).
FITS = []
#: The rows of the fits of the run's check of the declared steps (_declared).
PROBE_ROWS = N_ROWS


class _CountedScaler(StandardScaler):
    def fit(self, X, y=None, sample_weight=None):
        if len(X) != PROBE_ROWS:
            FITS.append(len(X))
        return super().fit(X, y, sample_weight)


MEMORIES = {
    "folder": lambda path: str(path),
    "joblib.Memory": lambda path: joblib.Memory(path, verbose=0),
}


def _traced(memory, store=None):
    return stp.make_traced_pipeline(
        _CountedScaler(), LogisticRegression(), memory=memory, store=store
    )


def _add_to_mean(pipe):
    pipe.steps[0][1].mean_ += 1.0


def _fit_elsewhere(pipe):
    X2, y2 = shifted_data(1, "memory_step")
    pipe.steps[0][1].fit(*plain(X2, y2))


def _replace(pipe):
    X2, y2 = shifted_data(1, "memory_step")
    pipe.steps[0] = ("_countedscaler", StandardScaler().fit(plain(X2, y2)[0]))


OTHER = {
    "changed-in-place": (_add_to_mean, "changed in place (mean_"),
    "fitted-elsewhere": (_fit_elsewhere, "was fitted in thread"),
    "replaced": (_replace, "is no longer the object fitted here"),
}


@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.parametrize("other", list(OTHER))
@pytest.mark.parametrize("hit", [False, True], ids=["cache-miss", "cache-hit"])
@pytest.mark.parametrize("memory", list(MEMORIES))
def test_a_memory_clone_changed_during_the_fit_records_no_run(
    monkeypatch, tmp_path, memory, hit, other
):
    X1, y1 = shifted_data(0, "memory_step")
    if hit:  # the cache holds the scaler fitted on these rows: loaded from its files
        _traced(MEMORIES[memory](tmp_path)).fit(X1, y1)
    store = MemoryStore()
    pipe = _traced(MEMORIES[memory](tmp_path), store)
    given = pipe.named_steps["_countedscaler"]
    del FITS[:]
    change, said = OTHER[other]
    seen = {}

    def other_code():
        seen["step"] = pipe.steps[0][1]  # the fitted step the pipeline holds
        change(pipe)
        seen["now"] = pipe.steps[0][1]

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other_code)
    assert FITS == ([] if hit else [len(X1)]) + ([60] if other == "fitted-elsewhere" else [])
    # the truth: the step the pipeline held no longer holds what a fit on X1 leaves
    step = seen["now"]
    assert step is not given and given.__dict__.get("mean_") is None  # (a clone fitted)
    truth = StandardScaler().fit(plain(X1, y1)[0])
    assert not np.array_equal(step.mean_, truth.mean_)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert "step '_countedscaler'" in str(error) and said in str(error)
    assert "No run was recorded" in str(error)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")
    # what was put in place while the fit ran is gone: the memory given, no spies
    assert pipe.memory is not None and type(pipe.memory).__name__ != "WatchedMemory"
    assert not {"fit", "transform"} & set(vars(seen["step"]))


@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.parametrize("memory", list(MEMORIES))
def test_the_step_given_fitted_elsewhere_is_not_the_run_s_step(monkeypatch, tmp_path, memory):
    # with memory=, the step object given is not fitted by the pipeline (a clone is): a
    # fit of it by other code meanwhile is no change of the run's step, and is not refused
    X1, y1 = shifted_data(0, "memory_step")
    X2, y2 = shifted_data(1, "memory_step")
    store = MemoryStore()
    pipe = _traced(MEMORIES[memory](tmp_path), store)
    given = pipe.steps[0][1]
    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, lambda: given.fit(*plain(X2, y2)))
    assert error is None
    assert given.n_samples_seen_ == len(X2) and pipe.steps[0][1] is not given
    truth = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X1, y1)
    assert _fingerprints(pipe)[1] == _fingerprints(truth)[1]
    np.testing.assert_array_equal(pipe.steps[0][1].mean_, truth.steps[0][1].mean_)
    np.testing.assert_array_equal(pipe.lineage_.row_ids, stp.row_ids(X1))
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]


def test_a_step_replaced_during_the_fit_without_memory_records_no_run(monkeypatch):
    # other code puts another fitted scaler in the pipeline's steps in the step's place
    # (no memory): the run fingerprinted it beside this fit's rows, with no error
    X1, y1 = shifted_data(0, "memory_step")
    store = MemoryStore()
    pipe = _traced(None, store)
    given = pipe.steps[0][1]
    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, lambda: _replace(pipe))
    assert pipe.steps[0][1] is not given and given.n_samples_seen_ == len(X1)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert "step '_countedscaler' is no longer the object fitted here" in str(error)
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


@pytest.mark.parametrize("memory", list(MEMORIES))
def test_a_traced_estimator_of_a_pipeline_with_memory_refuses_a_changed_clone(
    monkeypatch, tmp_path, memory
):
    X1, y1 = shifted_data(0, "memory_step")
    store = MemoryStore()
    inner = Pipeline(
        [("scale", StandardScaler()), ("lr", LogisticRegression())],
        memory=MEMORIES[memory](tmp_path),
    )
    traced = stp.TracedEstimator(inner, store=store)

    def change():
        traced.estimator_.steps[0][1].mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, traced, X1, y1, change)
    assert isinstance(error, LineageError), "a run was recorded"
    assert "step 'scale'" in str(error) and "changed in place (mean_" in str(error)
    assert store.list_runs().empty


def _write(path, values):
    frame = pd.DataFrame(values, columns=["a", "b"])
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(path, index=False)


def _lines_traced(pipe, X, path):
    """The values of the file's lines (its raw bytes, parsed here) that the run names for
    the rows it says the model was fitted on, in its order, against ``X``'s values."""
    lines = path.read_bytes().decode().splitlines()
    rows = pipe.lineage_.row_ids
    traced = pipe.trace(np.arange(rows.size))
    np.testing.assert_array_equal(traced["row_id"].to_numpy(), rows)
    assert traced["source_id"].nunique() == 1
    got = np.array([[float(v) for v in lines[int(n) - 1].split(",")[:2]] for n in traced["line"]])
    # (to the last bit but one: pandas 2.2's parser rounds some values 1 ulp apart; the
    # file's values are 3 decimals, far apart)
    np.testing.assert_allclose(got, X.loc[rows, ["a", "b"]].to_numpy(), rtol=1e-12, atol=0)
    return got


def _fingerprints(pipe):
    return [op.fingerprint for op in pipe.lineage_.ops]


@pytest.mark.parametrize("memory", list(MEMORIES))
def test_lineage_of_fits_hitting_and_missing_the_cache(tmp_path, memory):
    rng = np.random.default_rng(0)
    path = tmp_path / "rows.csv"
    _write(path, rng.normal(size=(30, 2)).round(3))
    cache = tmp_path / "cache"

    def fit(X):
        pipe = _traced(MEMORIES[memory](cache)).fit(X[["a", "b"]], X["y"])
        plain_fit = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
        plain_fit.fit(X[["a", "b"]], X["y"])
        # the same fitted state as a pipeline without memory (the class aside)
        assert _fingerprints(pipe)[1] == _fingerprints(plain_fit)[1]
        np.testing.assert_array_equal(pipe.steps[0][1].mean_, plain_fit.steps[0][1].mean_)
        np.testing.assert_array_equal(pipe.steps[0][1].scale_, plain_fit.steps[0][1].scale_)
        return pipe

    X = stp.read_csv(path)
    del FITS[:]
    first = fit(X)
    _lines_traced(first, X, path)
    second = fit(stp.read_csv(path))  # the same rows: loaded from the cache
    assert FITS == [30]
    assert _fingerprints(second) == _fingerprints(first)
    np.testing.assert_array_equal(second.lineage_.row_ids, first.lineage_.row_ids)
    _lines_traced(second, X, path)
    other = fit(X.iloc[7:])  # other rows: fitted again
    assert FITS == [30, 23] and other.lineage_.row_ids.size == 23
    _lines_traced(other, X, path)
    # the file changed on disk (one value): read again, a miss, its new bytes traced
    values = pd.read_csv(path)[["a", "b"]].to_numpy()
    values[4, 0] += 1.0
    _write(path, values)
    # the frame read before, fitted again: a hit, and its rows said to be of a changed file
    stale = fit(X)
    assert FITS == [30, 23] and _fingerprints(stale) == _fingerprints(first)
    with pytest.warns(ChangedSourceWarning, match="changed since it was loaded"):
        assert set(stale.trace(np.arange(30))["file_state"]) == {"changed"}
    changed = stp.read_csv(path)
    again = fit(changed)
    assert FITS == [30, 23, 30]
    assert _fingerprints(again)[0] != _fingerprints(first)[0]
    _lines_traced(again, changed, path)


def test_plain_rows_with_other_ids_and_the_same_values_hit_the_cache(tmp_path):
    # ids given in sample_id are not in the data joblib keys its cache by: the step is
    # loaded, fitted on the same values, its state the state a fit of these rows leaves
    X, y = shifted_data(0, "memory_plain")
    X2 = stp.from_numpy(np.asarray(X), "memory_plain_again")
    ids, ids2 = stp.row_ids(X), stp.row_ids(X2)
    assert not np.intersect1d(ids, ids2).size
    del FITS[:]
    first = _traced(str(tmp_path)).fit(*plain(X, y), sample_id=ids)
    second = _traced(str(tmp_path)).fit(*plain(X2, y), sample_id=ids2)
    assert FITS == [len(ids)]  # (a hit)
    np.testing.assert_array_equal(first.lineage_.row_ids, ids)
    np.testing.assert_array_equal(second.lineage_.row_ids, ids2)
    assert _fingerprints(second) == _fingerprints(first)
    truth = StandardScaler().fit(plain(X2, y)[0])
    np.testing.assert_array_equal(second.steps[0][1].mean_, truth.mean_)


@pytest.mark.parametrize("hit", [False, True], ids=["cache-miss", "cache-hit"])
def test_a_sampler_fitted_through_memory_names_the_rows_and_is_watched(monkeypatch, tmp_path, hit):
    # imbalanced-learn's pipeline fits a clone of its sampler through the memory too
    # (_fit_resample_one): the rows named are the clone's sample_indices_, and a change
    # in place of them during the fit is refused
    under_sampling = pytest.importorskip("imblearn.under_sampling")
    X1, y1 = shifted_data(0, "memory_sampler")

    def traced(store=None):
        sampler = under_sampling.RandomUnderSampler(random_state=0)
        return stp.make_traced_pipeline(
            sampler, StandardScaler(), LogisticRegression(), memory=str(tmp_path), store=store
        )

    first = traced().fit(X1, y1)
    kept = first.steps[0][1].sample_indices_
    np.testing.assert_array_equal(first.lineage_.row_ids, stp.row_ids(X1)[kept])
    truth = under_sampling.RandomUnderSampler(random_state=0)  # (fitted here, no memory)
    truth.fit_resample(*plain(X1, y1))
    np.testing.assert_array_equal(kept, truth.sample_indices_)
    store = MemoryStore()
    pipe = traced(store) if hit else traced(store).set_params(memory=str(tmp_path / "new"))

    def change():
        pipe.steps[0][1].sample_indices_[0] = pipe.steps[0][1].sample_indices_[1]

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, change)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert "step 'randomundersampler'" in str(error) and "sample_indices_" in str(error)
    assert store.list_runs().empty


def test_a_traced_pipeline_with_memory_as_the_last_step_of_a_traced_pipeline(
    monkeypatch, tmp_path
):
    # both traced fits watch the clones the inner pipeline's memory fits: recorded where
    # nothing changed them, refused where other code changed one in place
    X1, y1 = shifted_data(0, "memory_nested")

    def nested(store=None):
        inner = _traced(str(tmp_path))
        return stp.make_traced_pipeline(StandardScaler(), inner, store=store)

    pipe = nested().fit(X1, y1)
    truth = StandardScaler().fit(StandardScaler().fit_transform(plain(X1, y1)[0]))
    np.testing.assert_allclose(pipe.steps[1][1].steps[0][1].mean_, truth.mean_, atol=1e-12)
    np.testing.assert_array_equal(pipe.lineage_.row_ids, stp.row_ids(X1))
    store = MemoryStore()
    pipe = nested(store)

    def change():
        pipe.steps[1][1].steps[0][1].mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, change)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    assert "step '_countedscaler'" in str(error) and "changed in place (mean_" in str(error)
    assert store.list_runs().empty
