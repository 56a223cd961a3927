"""``ComplianceReport(data)`` checks the report without the two notes given where no key
and no store are given (it says them at verify() or load()), and leaves the warnings
other threads raise meanwhile alone. Before, a process-wide ``catch_warnings`` ignored
the notes and, while it ran, lost other threads' warnings (or, restoring the filters
under another thread's block, made it record nothing more). The truth: each warning
the other threads raised, by text and line."""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.compliance import ComplianceReport, compliance_report
from tests import _noise

from .conftest import DEPLOYER


def _data():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40), "y": np.arange(40) % 2})
    df = stp.from_pandas(df, source_id="t")
    store = stp.stores.MemoryStore()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(
            StandardScaler(), LogisticRegression(), store=store, log_predictions=True
        )
        pipe.fit(df[["a"]], df["y"]).predict(df[["a"]].iloc[:3])
        return compliance_report(pipe, **DEPLOYER).to_dict()


def test_reports_made_in_threads_leave_other_threads_warnings_alone(fast_switching):
    data = _data()
    stop = threading.Event()

    def made(k):
        return [ComplianceReport(data).to_dict()["integrity"]["sha256"] for _ in range(15)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(5) as ex:
            noise = [ex.submit(_noise.noisy, k, 20000, stop) for k in range(2)]
            done = [ex.submit(made, k) for k in range(3)]
            try:
                digests = [d.result() for d in done]
            finally:
                stop.set()
            noise = [n.result() for n in noise]
    assert {d for got in digests for d in got} == {data["integrity"]["sha256"]}
    noisy = [w for w in caught if str(w.message).startswith("noisy ")]
    assert sorted(str(w.message) for w in noisy) == sorted(m for _, said in noise for m in said)
    assert {(w.filename, w.lineno) for w in noisy} == {(_noise.NOISE_FILE, noise[0][0])}
    assert len(caught) == len(noisy)  # not the notes ComplianceReport leaves to verify()


def test_verify_still_gives_its_note():
    data = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = ComplianceReport(data)
        assert not caught
        assert report.verify()
    assert ["only the report's own content" in str(w.message) for w in caught] == [True]
