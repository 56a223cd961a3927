"""A request that names nothing the store holds says that no record of it is kept.

Before: ``erase_rows`` naming a source no stored run holds, or rows no stored run was
given, raised "Nothing was changed." and recorded no event, so a compliance user could
not show the request was made, and nothing said that no record was kept. The choice:
no event is recorded (a request naming a source by id alone would mark as erased any
later run on a source of that name), and the error, through the API and the CLI, says
plainly that no record is kept and why. The truth: the store's event chain, unchanged.
"""

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.cli import main
from sktraceprop.exceptions import UnknownSourceError
from sktraceprop.stores import SQLiteStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

WORDS = "No record of this request is kept"


def _stored(tmp_path):
    pd.DataFrame({"a": range(10), "y": [0, 1] * 5}).to_csv(tmp_path / "v.csv", index=False)
    pd.DataFrame({"a": range(4), "y": [0, 1] * 2}).to_csv(tmp_path / "w.csv", index=False)
    X = stp.read_csv(tmp_path / "v.csv")
    other = stp.read_csv(tmp_path / "w.csv")
    store = SQLiteStore(tmp_path / "audit.db")
    stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X[["a"]], X["y"])
    return store, other


def _chain(store):
    return [(e["seq"], e["hash"]) for e in store.events(include_store_events=True)]


@pytest.mark.parametrize("named", ["source", "rows"])
def test_a_request_naming_nothing_held_says_no_record_is_kept(tmp_path, named):
    store, other = _stored(tmp_path)
    before = _chain(store)
    request = {"source_id": "nobody"} if named == "source" else {"sample_id": stp.row_ids(other)}
    with pytest.raises((UnknownSourceError, ValueError)) as refused:
        store.erase_rows(reason="art. 17", **request)
    assert "Nothing was changed." in str(refused.value) and WORDS in str(refused.value)
    assert _chain(store) == before and store.verify()


def test_the_cli_says_no_record_is_kept(tmp_path, capsys):
    store, _ = _stored(tmp_path)
    before = _chain(store)
    store.close()
    code = main(["erase", str(tmp_path / "audit.db"), "--source", "nobody", "--reason", "R-1"])
    err = capsys.readouterr().err
    assert code == 2 and WORDS in err and "'nobody'" in err
    assert _chain(SQLiteStore(tmp_path / "audit.db")) == before
