"""An erasure request drops the loaded values this process keeps of the erased rows.

Reading a file keeps the values of some of its rows in the process (the witness rows
that tell a later fit whether columns changed after loading; every row of a small
file). ``store.erase_rows`` used to leave them there, with no word of it, after
``unlearn`` had learnt to drop them: markers planted in the erased rows are searched
for in the bytes of every load kept.
"""

import itertools
import pickle
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop._lineage._witness import WITNESSES
from sktraceprop.stores import MemoryStore, SQLiteStore
from tests.unlearning._markers import hits

_FILES = itertools.count()


def _kept_bytes():
    """Every value of every load the process keeps, pickled."""
    _, loads = WITNESSES.every_load()
    return pickle.dumps(
        [
            [c.values for c in load.columns.values()] + [getattr(load, "runs", None)]
            for _, load in loads
        ]
    )


def _write(folder, n, base):
    """A CSV file of ``n`` rows, each with its own marker number, category and text."""
    numbers = base + np.arange(n) + 0.5
    frame = pd.DataFrame(
        {
            "key": np.arange(n) % 3,
            "dose": numbers,
            "ward": [f"zqward{int(base)}x{i}" for i in range(n)],
            "note": [f"zqnote{int(base)}x{i} slept well" for i in range(n)],
            "y": np.arange(n) % 2,
        }
    )
    path = folder / f"patients{next(_FILES)}.csv"
    frame.to_csv(path, index=False)
    return path, numbers, list(frame["ward"]), list(frame["note"])


def _fit(X, store):
    pipe = stp.make_traced_pipeline(
        stp.make_traced_column_transformer(
            ("passthrough", ["dose"]), (OneHotEncoder(handle_unknown="ignore"), ["ward"])
        ),
        LogisticRegression(),
        store=store,
    )
    return pipe.fit(X.drop(columns=["y", "note"]), X["y"])


def _merged(tmp_path, n, first, tag):
    """Marked patients (``_write``) merged with a small wards file on ``key``."""
    path, numbers, wards, notes = _write(tmp_path, n, first)
    patients = stp.read_csv(path, source_id=f"patients_{tag}")
    wards_file = tmp_path / f"wards_{tag}.csv"
    pd.DataFrame({"key": [0, 1, 2], "floor": [3.25, 4.25, 5.25]}).to_csv(wards_file, index=False)
    merged = stp.merge(patients, stp.read_csv(wards_file, source_id=f"wards_{tag}"), on="key")
    return merged, numbers, wards, notes


def test_erasing_a_source_drops_its_rows_and_the_merged_rows_kept_here(tmp_path):
    merged, numbers, wards, notes = _merged(tmp_path, 12, 710_000, "w")
    store = SQLiteStore(tmp_path / "s.db")
    _fit(merged, store)
    markers = dict(numbers=numbers, strings=wards + notes)
    assert len(hits(_kept_bytes(), **markers)) == 36  # kept: the search can fail
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fitted pipeline is named: tested elsewhere
        store.erase_rows(source_id="patients_w", reason="GDPR Art. 17")
    assert hits(_kept_bytes(), **markers) == []  # the file's rows, and the merged rows


def test_erasing_a_merged_row_drops_the_rows_it_was_built_from(tmp_path):
    merged, numbers, wards, notes = _merged(tmp_path, 9, 715_000, "m")
    store = MemoryStore()
    _fit(merged, store)
    line = stp.row_lineage(merged.iloc[[4]])
    row = int(line.loc[line["source_id"] == "patients_m", "line"].iloc[0]) - 2  # (header)
    assert hits(_kept_bytes(), [numbers[row]], [wards[row]]) == [numbers[row], wards[row]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(merged)[[4]], reason="GDPR Art. 17")
    assert hits(_kept_bytes(), [numbers[row]], [wards[row], notes[row]]) == []
    others = [i for i in range(9) if i != row]
    assert len(hits(_kept_bytes(), numbers[others])) == 8  # the other rows' stay


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(erased=st.sets(st.integers(0, 9), min_size=1, max_size=10))
def test_erasing_rows_drops_exactly_their_kept_values(tmp_path, erased):
    path, numbers, wards, notes = _write(tmp_path, 10, 720_000 + 1_000 * next(_FILES))
    X = stp.read_csv(path, source_id="patients_p")
    store = MemoryStore()
    _fit(X, store)
    assert len(hits(_kept_bytes(), numbers, wards + notes)) == 30
    erased = sorted(erased)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(X)[erased], reason="GDPR Art. 17")
    left = set(hits(_kept_bytes(), numbers, wards + notes))
    kept = [i for i in range(10) if i not in erased]
    expected = {float(numbers[i]) for i in kept} | {wards[i] for i in kept}
    assert left == expected | {notes[i] for i in kept}
