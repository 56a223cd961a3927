"""Time stamps held by pyarrow identify the same input rows as those held by pandas.

``read_csv(dtype_backend="pyarrow", parse_dates=...)`` (or ``pd.read_parquet``) gives
a ``timestamp[unit, tz][pyarrow]`` column. The prediction log hashed it as its text,
where a ``datetime64`` column of the same instants is hashed as int64 nanoseconds in
UTC, so a call logged with one storage was not found from the same rows in the other
(``find_predictions`` answered that no call had scored them). The truth: the rows as a
``datetime64[ns]`` column of UTC instants (what :func:`hash_rows` documents), built
here from the instants' integers; a call logged before (the column hashed as its
text, ``_signed_zeros._SIGNED`` set as the test of signed zeros sets it) is still found.
"""

import contextvars
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _signed_zeros
from sktraceprop._row_digests import row_digests
from sktraceprop.compliance import find_predictions, hash_rows

pa = pytest.importorskip("pyarrow")

#: Microseconds since the epoch (UTC); one missing.
_MICROS = [1_711_846_800_000_000, None, 1_711_850_400_000_000, 0]


def _truth():
    ns = np.array([np.iinfo(np.int64).min if m is None else m * 1000 for m in _MICROS])
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "t": ns.view("datetime64[ns]")})


def _forms():
    """The same rows, their time stamps held in each storage and zone."""
    arrow = {
        f"pyarrow {unit} {tz}": pa.array(
            [None if m is None else m // {"us": 1, "ms": 1000}[unit] for m in _MICROS],
            pa.timestamp(unit, tz),
        )
        for unit in ("us", "ms")
        for tz in (None, "UTC", "Europe/Paris")
    }
    forms = {k: pd.Series(v, dtype=pd.ArrowDtype(v.type)) for k, v in arrow.items()}
    t = _truth()["t"]
    forms["pandas UTC"] = t.dt.tz_localize("UTC")
    forms["pandas Paris"] = t.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    forms["pandas us"] = t.astype("datetime64[us]")
    return {
        k: _truth().assign(t=v.to_numpy() if k.startswith("pandas") else v)
        for k, v in forms.items()
    }


@pytest.mark.parametrize("name", list(_forms()))
def test_one_instant_in_any_storage_hashes_alike(name):
    form, truth = _forms()[name], _truth()
    assert form["t"].dtype != truth["t"].dtype
    assert hash_rows(form) == hash_rows(truth)
    assert np.array_equal(row_digests(form, "salt"), row_digests(truth, "salt"))
    later = truth.assign(t=truth["t"] + pd.Timedelta(1, "us"))
    assert hash_rows(form) != hash_rows(later)


def _model(store):
    pre = stp.make_traced_column_transformer(("passthrough", ["x"]))
    fitted = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=True)
    data = stp.from_pandas(_truth(), "times")
    return fitted.fit(data[["x", "t"]], np.array([0, 1, 0, 1]))


def _found(store, rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return find_predictions(store, rows)


@pytest.mark.parametrize("logged_as", ["pandas Paris", "pyarrow us Europe/Paris"])
def test_a_call_is_found_from_its_rows_in_another_storage(logged_as):
    store = stp.stores.MemoryStore()
    model = _model(store)
    forms = _forms()
    model.predict(forms[logged_as])
    (event,) = store.events(kind="prediction")
    for name, rows in forms.items():
        found = _found(store, rows)
        assert found["seq"].tolist() == [event["seq"]], name
        assert found["matched_as"].isna().all()
        one = _found(store, rows.iloc[[2]])
        assert one["seq"].tolist() == [event["seq"]] and one["positions"].iloc[0] == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (a row of a larger batch)
        erased = store.erase_predictions(
            forms["pyarrow ms UTC"].iloc[[0]], reason="r", dry_run=True
        )
    assert erased["calls"] == [event["seq"]]
    store.verify()


def test_a_call_logged_before_with_pyarrow_time_stamps_is_still_found(monkeypatch):
    store = stp.stores.MemoryStore()
    model = _model(store)
    rows = _forms()["pyarrow us Europe/Paris"]
    monkeypatch.setattr(_signed_zeros, "_SIGNED", contextvars.ContextVar("s", default=True))
    model.predict(rows)  # hashed as before: the time stamps as their text
    monkeypatch.undo()
    (event,) = store.events(kind="prediction")
    found = _found(store, rows)
    assert found["seq"].tolist() == [event["seq"]]
    assert found["matched_as"].iloc[0] == _signed_zeros.SIGNED_NOTE
    one = _found(store, rows.iloc[[1]])
    assert (
        one["seq"].tolist() == [event["seq"]]
        and _signed_zeros.SIGNED_NOTE in (one["matched_as"].iloc[0])
    )
