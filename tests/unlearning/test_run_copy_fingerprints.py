"""What the unlearner's copy of a run says of its fingerprints.

The copy takes the corrected model's fingerprints for the steps the unlearner corrected;
ops fitted outside the model (a ``TracedEstimator`` scaler before the pipeline) keep
those recorded at fit, which the copy must say, with the scheme that made them (a run
recorded before scheme 3 holds scheme-2 fingerprints there, while the copy's
``fingerprint_scheme`` is the current one). Before, the copy's note on its fingerprints
was dropped (the fit-parameter notes replaced the notes) and the kept ops were not named.
"""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import GradientCorrectionUnlearner
from sktraceprop._lineage._fingerprint import SCHEME, fingerprint


def _fitted(name, scheme=None):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["x1", "x2"])
    frame["y"] = (frame["x1"] > 0).astype(int)
    df = stp.from_pandas(frame, name)
    scaler = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = scaler.fit_transform(df[["x1", "x2"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = GradientCorrectionUnlearner(stp.make_traced_pipeline(LogisticRegression()))
        unl.fit(X, df["y"])
        fitted = unl.estimator_.lineage_
        # as a run recorded by an earlier sktraceprop
        unl.estimator_.lineage_ = dataclasses.replace(fitted, fingerprint_scheme=scheme)
        unl.unlearn(sample_id=stp.row_ids(X)[:3])
    upstream = [op.name for op in fitted.ops if op.name != "logisticregression"]
    return fitted, unl, upstream


@pytest.mark.parametrize("scheme", [None, 2, SCHEME])
def test_the_copy_names_the_ops_that_keep_their_fingerprints_of_fit(scheme):
    fitted, unl, upstream = _fitted(f"copy_fp_{scheme}", scheme)
    assert upstream  # the scaler fitted outside the pipeline
    copy = unl.estimator_.lineage_
    final = unl.estimator_.steps[-1][1]
    # the truth: the corrected step's fingerprint is the corrected model's, the scaler's
    # the one recorded at fit
    by_name = {op.name: op.fingerprint for op in copy.ops}
    assert by_name["logisticregression"] == fingerprint(final)
    fit = {op.name: op.fingerprint for op in fitted.ops}
    assert all(by_name[name] == fit[name] for name in upstream)
    assert copy.fingerprint_scheme == SCHEME
    notes = " ".join(copy.notes)
    assert "fingerprints of this copy are those of the corrected model" in notes
    (said,) = [n for n in copy.notes if "keep the fingerprints recorded at fit" in n]
    assert all(name in said for name in upstream)
    if scheme == SCHEME:
        assert f"not by scheme {SCHEME}" not in said
    elif scheme is None:
        assert "did not record" in said and f"not by scheme {SCHEME}" in said
    else:
        assert f"by fingerprint scheme {scheme}, not by scheme {SCHEME}" in said
