"""A traced pipeline pickled by an earlier sktraceprop (``data/pipeline_29414bb``,
written at commit 29414bb, before ops kept ``source_keys`` and ``rows``) is stored,
compared and reported: its ops read those fields as not recorded, as the same ops read
from a store of then do. Before, every ``Op.to_dict`` of it raised ``KeyError:
'source_keys'`` (``save_run``, ``==`` with its stored run, ``compliance_report``)."""

import pickle
import warnings
from pathlib import Path

from sklearn.base import clone

import sktraceprop as stp
from sktraceprop._lineage import Lineage
from sktraceprop.compliance import compliance_report
from sktraceprop.stores import MemoryStore
from tests._earlier_pickles import NEEDS_NUMPY_2
from tests.compliance.conftest import DEPLOYER

HERE = Path(__file__).parent / "data" / "pipeline_29414bb"
pytestmark = NEEDS_NUMPY_2


def _load():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stp.exceptions.LineageWarning)
        with open(HERE / "pipeline.pkl", "rb") as f:
            pipe = pickle.load(f)
        people = stp.read_csv(HERE / "people.csv", source_id="people")
    return pipe, people[["city", "x"]], people["label"]


def test_an_earlier_pipelines_ops_read_as_not_recorded():
    pipe, X, y = _load()
    assert all("source_keys" not in vars(op) for op in pipe.lineage_.ops)  # (as pickled)
    now = clone(pipe).fit(X, y)
    for old, new in zip(pipe.lineage_.ops, now.lineage_.ops, strict=True):
        said, truth = old.to_dict(), new.to_dict()
        assert "source_keys" not in said and "rows" not in said
        for key in ("name", "cls", "params", "features_in", "features_out", "sources"):
            assert said[key] == truth[key]
    again = Lineage.from_dict(
        pipe.lineage_.to_dict(), pipe.lineage_.row_ids, sources=pipe.lineage_.sources
    )
    assert [op.to_dict() for op in again.ops] == [op.to_dict() for op in pipe.lineage_.ops]


def test_an_earlier_pipeline_is_stored_and_reported():
    pipe, X, y = _load()
    store = MemoryStore()
    store.save_run(pipe.lineage_)
    assert store.load_run(pipe.lineage_.run_id) == pipe.lineage_
    store.append_event("review", {"by": "auditor"}, run_id=pipe.lineage_.run_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stp.exceptions.LineageWarning)
        report = compliance_report(pipe, store=store, **DEPLOYER)
    assert report.verify(store=store)
    (source,) = report.to_dict()["sources"]
    assert source["training_rows"] == 30
    assert source["ops"] == [op.name for op in pipe.lineage_.ops]
