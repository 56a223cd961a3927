"""A traced run of a skorch net lists only the rows its training iterator fed it.

``iterator_train__drop_last=True`` without shuffling drops the same rows (those after
the last full batch) in every epoch: the net never trains on them, yet the run listed
them as training rows. They are now left out of the run, with a note. A ``sampler`` or
``batch_sampler`` (or ``drop_last`` with shuffling) may leave rows out that cannot be
known: the run keeps every row and says in a note that they are a superset.

The truth is independent of the library: the rows the module's ``forward`` received in
training mode, recorded by the module itself and matched to the rows of X by value.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import FunctionTransformer

import sktraceprop as stp

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import FED, RecordingNet, to_float32  # noqa: E402


def _fit(n, batch_size, valid, wrap="pipeline", seed=0, **iterator):
    rng = np.random.default_rng(seed)
    X = stp.from_numpy(rng.normal(size=(n, 3)).astype(np.float32), source_id="it")
    y = (np.asarray(X)[:, 0] > 0).astype(np.int64)
    split = skorch.dataset.ValidSplit(valid, random_state=seed) if valid else None
    net = skorch.NeuralNetClassifier(
        RecordingNet,
        max_epochs=2,
        lr=0.05,
        batch_size=batch_size,
        train_split=split,
        verbose=0,
        **{f"iterator_train__{k}": v for k, v in iterator.items()},
    )
    if wrap == "pipeline":
        model = stp.make_traced_pipeline(FunctionTransformer(to_float32), net)
    else:
        model = stp.TracedEstimator(net)
    FED.clear()
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if wrap == "pipeline":
            model.fit(X, y)
        else:  # (skorch takes a frame as a dict of columns: give the values and ids)
            model.fit(np.asarray(X), y, sample_id=stp.row_ids(X))
    return model, X


def _fed_ids(X):
    """The row ids of the rows the net's forward received in training."""
    values = np.asarray(X, dtype=np.float32)
    fed = np.concatenate(FED)
    positions = [int(np.flatnonzero((values == row).all(axis=1))[0]) for row in fed]
    return np.unique(stp.row_ids(X)[positions])


@settings(deadline=None, max_examples=12)
@given(
    n=st.integers(10, 40),
    batch_size=st.integers(3, 12),
    valid=st.sampled_from([None, 0.25]),
    wrap=st.sampled_from(["pipeline", "estimator"]),
)
@example(n=30, batch_size=8, valid=None, wrap="pipeline")
@example(n=5, batch_size=8, valid=None, wrap="pipeline")  # no full batch: nothing trained
def test_drop_last_without_shuffle_leaves_the_dropped_rows_out_of_the_run(
    n, batch_size, valid, wrap
):
    model, X = _fit(n, batch_size, valid, wrap, drop_last=True)
    fed = _fed_ids(X) if FED else np.array([], dtype=np.int64)
    run = model.lineage_
    np.testing.assert_array_equal(np.sort(run.row_ids), fed)
    n_train = n - int(np.ceil(n * valid)) if valid else n
    left = n_train % batch_size
    said = [note for note in run.notes if "never trained on" in note]
    assert said == (
        [
            f"the final estimator never trained on {left} of its {n_train} training "
            f"rows: iterator_train__drop_last=True without shuffling (batch_size="
            f"{batch_size}) drops the same rows, those after the last full batch, "
            "in every epoch; they are not among the run's rows"
        ]
        if left
        else []
    )
    if run.row_ids.size:  # trace() names only rows trained on
        traced = model.trace(np.arange(run.row_ids.size))
        assert set(traced["row_id"]) <= set(fed.tolist())


def test_a_sampler_is_said_to_make_the_run_a_superset():
    sampler = torch.utils.data.SubsetRandomSampler(list(range(10)))
    model, X = _fit(30, 5, None, sampler=sampler)
    fed = _fed_ids(X)
    run = model.lineage_
    assert fed.size <= 10 < run.row_ids.size  # the run lists rows never fed
    assert set(fed.tolist()) <= set(run.row_ids.tolist())
    (note,) = [n for n in run.notes if "superset" in n]
    assert "iterator_train__sampler=SubsetRandomSampler" in note


def test_drop_last_with_shuffle_is_said_to_make_the_run_a_superset():
    model, X = _fit(30, 8, None, drop_last=True, shuffle=True)
    run = model.lineage_
    assert run.row_ids.size == 30
    (note,) = [n for n in run.notes if "superset" in n]
    assert "drop_last=True, batch_size=8: 6 of its 30 training rows" in note


@pytest.mark.parametrize("kwargs", [{}, {"drop_last": True, "batch_size": -1}])
def test_every_row_fed_means_no_note(kwargs):
    batch_size = kwargs.pop("batch_size", 7)
    model, X = _fit(30, batch_size, None, **kwargs)
    assert model.lineage_.row_ids.size == 30
    np.testing.assert_array_equal(np.sort(model.lineage_.row_ids), _fed_ids(X))
    assert not [n for n in model.lineage_.notes if "superset" in n or "never trained" in n]
