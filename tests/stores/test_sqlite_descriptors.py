"""Opening stores keeps no descriptor of their files once they are closed.

The check of a store's header on opening used to read the file through a descriptor
kept open for the life of the process (closing it would drop SQLite's locks), one per
file: a process opening many stores ran out of descriptors (256 by default on macOS),
and a removed store's disk space stayed in use until the process ended.
"""

import os
import sys

import pytest

import sktraceprop as stp

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts /proc/self/fd"
)


def _descriptors_on(folder):
    """This process's open descriptors on files under ``folder``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.parametrize("mode", ["rw", "ro"])
def test_closed_stores_keep_no_descriptor_of_their_files(tmp_path, mode):
    for i in range(40):
        path = tmp_path / f"store{i}.db"
        with stp.stores.SQLiteStore(path) as store:
            store.append_event("review", {"i": i})
        if mode == "ro":
            with stp.stores.SQLiteStore(path, mode="ro") as reader:
                assert len(reader.events()) >= 1
    assert _descriptors_on(tmp_path) == []
    for i in range(40):
        (tmp_path / f"store{i}.db").unlink()
    # nothing keeps a removed store's bytes on the disk
    assert _descriptors_on(tmp_path) == []


def test_a_file_that_is_not_a_database_is_still_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    data = b"SQLite format 2\x00" + b"x" * 4000  # close to the header, still not one
    path.write_bytes(data)
    for mode in ("rw", "ro"):
        with pytest.raises(stp.exceptions.CorruptStoreError, match="not a SQLite database"):
            stp.stores.SQLiteStore(path, mode=mode)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
    assert _descriptors_on(tmp_path) == []
