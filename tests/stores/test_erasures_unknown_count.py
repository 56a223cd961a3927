"""ErasuresUnknownWarning counts only the rows whose erasure is not known.

A check of a model against the unpickled MemoryStore pickled with it (a compliance
report) warns that the training rows the copy records no erasure request of may have
been erased since. It counted, as not known, the rows an erasure request made in this
process named after the pickle, which the same call names as erased (an
ErasedRowsHeldWarning): known, not unknown; where every row was known it still warned.
The truth: a brute-force count over the data's keys of the rows erased before the pickle
(the copy records them) and after it in this process, against those erased elsewhere
(another process: its request is recorded only in the store).
"""

import pickle
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop._lineage._erasures_seen import SNAPSHOT_CHECKED
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ErasuresUnknownWarning
from tests.stores._store_helpers import DEPLOYER
from tests.stores.test_trace_erasures import _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

N = 12


def _data(folder):
    # (a tag of its own: a request of another example names rows of the same content)
    pd.DataFrame(
        {
            "key": 1000 + np.arange(N),
            "pid": np.arange(N) % 4,
            "city": ["Aa", "Bb", "Cc"] * (N // 3),
            "tag": uuid.uuid4().hex,
        }
    ).assign(y=[0, 1] * (N // 2)).to_csv(folder / "visits.csv", index=False)
    pd.DataFrame({"pid": np.arange(4), "age": np.arange(4) * 3.0 + 20}).to_csv(
        folder / "people.csv", index=False
    )
    visits = stp.read_csv(folder / "visits.csv")
    people = stp.read_csv(folder / "people.csv")
    df = stp.merge(visits.sample(frac=1, random_state=0), people, on="pid", how="left")
    return df, visits


def _unknown_said(model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compliance_report(model, store=model.store, **DEPLOYER)
    return [str(w.message) for w in caught if w.category is ErasuresUnknownWarning]


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fate=st.lists(st.sampled_from(["kept", "before", "here", "elsewhere"]), min_size=N, max_size=N)
)
@example(fate=["before"] * 6 + ["here"] * 6)  # every row known: no warning
@example(fate=["here"] * N)
@example(fate=["kept"] * N)
@example(fate=["here", "elsewhere", "kept", "before"] * (N // 4))
def test_unknown_counts_only_rows_not_known_here(tmp_path_factory, fate):
    df, visits = _data(tmp_path_factory.mktemp("data"))
    store = stp.stores.MemoryStore()
    pipe = _fit(store, df).set_params(log_predictions=True)
    pipe.predict(df[["city", "age"]].iloc[:3])  # (a report needs a logged call)
    keys = {f: {1000 + i for i, g in enumerate(fate) if g == f} for f in set(fate)}
    if keys.get("before"):
        _erased_by_key(store, visits, keys["before"], "art. 17")  # the copy records it
    blob = pickle.dumps(pipe)
    if keys.get("here"):
        _erased_by_key(store, visits, keys["here"], "art. 17")
    if keys.get("elsewhere"):  # (as another process: recorded in the store only)
        made = list(_removed_rows._REQUESTS)
        _erased_by_key(store, visits, keys["elsewhere"], "art. 17")
        _removed_rows._REQUESTS[:] = made
    loaded = pickle.loads(blob)

    said = _unknown_said(loaded)
    # brute force: the training rows whose key neither the copy nor this process knows
    # was erased (kept, or erased elsewhere)
    known = keys.get("before", set()) | keys.get("here", set())
    unknown = int((~np.isin(df["key"].to_numpy(), sorted(known))).sum())
    if not unknown:
        assert said == []
    else:
        (message,) = said
        assert SNAPSHOT_CHECKED in message and f"its {unknown} training row(s) " in message
