"""The temporary PostgreSQL server starts on another free port where the one chosen is
bound by another process before the server listens on it (it failed: "Address already
in use"); where every try is taken it says so and leaves nothing. The truth is a
connection to the server, and the folder on disk."""

import socket
from pathlib import Path

import pytest

from sktraceprop.stores import _postgres_server as pg

pytestmark = pytest.mark.skipif(
    pg.unavailable_reason() is not None, reason=str(pg.unavailable_reason())
)


def _taken():
    """A socket listening on a port of 127.0.0.1, as another process would hold it."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def test_a_port_taken_before_the_server_binds_it_is_replaced(monkeypatch):
    psycopg = pytest.importorskip("psycopg")
    held = _taken()
    ports = [held.getsockname()[1]]
    chosen = []
    real = pg._free_port

    def free_port():
        port = ports.pop() if ports else real()
        chosen.append(port)
        return port

    monkeypatch.setattr(pg, "_free_port", free_port)
    try:
        with pg.TemporaryPostgres() as server:
            assert chosen[0] == held.getsockname()[1] and server.port == chosen[1]
            with psycopg.connect(server.dsn) as con:
                assert con.execute("SELECT 1").fetchone() == (1,)
                (port,) = con.execute("SHOW port").fetchone()
            assert int(port) == chosen[1]
            folder = server.folder
        assert len(chosen) == 2 and not Path(folder).exists()
    finally:
        held.close()


def test_every_port_taken_is_said_and_leaves_nothing(monkeypatch):
    held = _taken()
    port = held.getsockname()[1]
    monkeypatch.setattr(pg, "_free_port", lambda: port)
    monkeypatch.setattr(pg, "_PORT_TRIES", 2)
    folders = []
    made = pg.tempfile.mkdtemp
    monkeypatch.setattr(
        pg.tempfile, "mkdtemp", lambda **kw: folders.append(made(**kw)) or folders[-1]
    )
    try:
        with pytest.raises(RuntimeError) as info:
            pg.TemporaryPostgres().start()
    finally:
        held.close()
    said = str(info.value)
    assert f"each of the 2 free ports chosen ({port}, {port}) was bound by another" in said
    assert len(folders) == 1 and not Path(folders[0]).exists()
