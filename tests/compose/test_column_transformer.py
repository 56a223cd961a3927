import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

import sktraceprop as stp


def test_standalone_fit_records_a_run(hospital_frames, tmp_path):
    a, _ = hospital_frames
    store = stp.stores.SQLiteStore(tmp_path / "ct.db")
    ct = stp.make_traced_column_transformer(
        (OneHotEncoder(sparse_output=False), ["sex"]),
        (make_pipeline(StandardScaler(), PolynomialFeatures(2)), ["age", "bp"]),
        (PCA(n_components=1), ["age", "bp"]),
        store=store,
    )
    out = ct.fit_transform(a, a["label"])
    run = ct.lineage_
    np.testing.assert_array_equal(run.row_ids, stp.row_ids(a))
    names = list(ct.get_feature_names_out())
    assert list(run.feature_lineage) == names
    assert out.shape[1] == len(names)
    fl = run.feature_lineage
    assert fl["onehotencoder__sex_F"] == ["sex"]
    assert fl["pipeline__age bp"] == ["age", "bp"]
    assert fl["pipeline__age^2"] == ["age"]
    assert fl["pipeline__1"] == []  # the constant term depends on no input
    assert fl["pca__pca0"] == ["age", "bp"]  # PCA mixes all its inputs
    assert [op.name for op in run.ops][:3] == [
        "onehotencoder",
        "pipeline/standardscaler",
        "pipeline/polynomialfeatures",
    ]
    assert store.load_run(run.run_id) == run


def test_nested_in_a_pipeline_records_once(hospital_frames, tmp_path):
    from sklearn.linear_model import LogisticRegression

    a, _ = hospital_frames
    store = stp.stores.MemoryStore()
    ct = stp.make_traced_column_transformer((StandardScaler(), ["age"]), store=store)
    pipe = stp.make_traced_pipeline(ct, LogisticRegression(), store=store)
    pipe.fit(a, a["label"])
    assert len(store.list_runs()) == 1
    assert not hasattr(pipe[0], "lineage_")


def test_passthrough_remainder_lineage():
    X = stp.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.5]}), "f")
    ct = stp.TracedColumnTransformer([("s", StandardScaler(), ["a"])], remainder="passthrough")
    ct.fit(X)
    assert ct.lineage_.feature_lineage == {"s__a": ["a"], "remainder__b": ["b"]}
