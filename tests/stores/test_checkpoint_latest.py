"""The last checkpoint a tail-not-signed problem names is the latest as an instant: its
``created_at`` text sorts otherwise where the writers' UTC offsets (``Z``, ``+02:00``)
or fractional digits differ."""

import pytest

import sktraceprop as stp
from sktraceprop import signing
from sktraceprop.exceptions import CorruptStoreError
from sktraceprop.stores import _checkpoint

# (earlier, later): the earlier instant's text sorts after the later one's
MIXED = [
    ("2026-12-07T11:30:00+02:00", "2026-12-07T10:00:00+00:00"),  # 09:30 UTC, 10:00 UTC
    ("2026-12-07T10:00:00Z", "2026-12-07T10:00:00.5+00:00"),
    ("2026-12-07T12:00:00.9+01:00", "2026-12-07T11:00:01.000000001+00:00"),
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("earlier, later", MIXED)
@pytest.mark.parametrize("later_first", [True, False])
def test_the_latest_checkpoint_is_named_by_instant(
    tmp_path, monkeypatch, kind, earlier, later, later_first
):
    key = signing.generate_key()
    if kind == "memory":
        store = stp.stores.MemoryStore()
    else:
        store = stp.stores.SQLiteStore(tmp_path / "s.db")
    store.append_event("review", {"n": 1})
    # two checkpoints of one event, made by writers whose clocks write other offsets
    for made in (later, earlier) if later_first else (earlier, later):
        monkeypatch.setattr(_checkpoint, "utc_now", lambda made=made: made)
        store.checkpoint(key)
    assert sorted(cp["created_at"] for cp in store.checkpoints())[-1] == earlier
    store.append_event("review", {"n": 2})
    with pytest.raises(CorruptStoreError) as info:
        store.verify(key.public_key())
    said = str(info.value)
    assert f"after the last one (made {later}, it signs the log through event 1)" in said
