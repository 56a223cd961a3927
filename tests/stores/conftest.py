"""Store fixtures: one suite over MemoryStore, SQLiteStore and a real PostgreSQL server.

The PostgreSQL server is started once per test process (``TemporaryPostgres``: initdb in
a temporary folder, 127.0.0.1 only, a free port). Where its binaries or psycopg are
missing the PostgreSQL cases skip, saying why; with ``STP_REQUIRE_POSTGRES=1`` (what
``.ci/run`` sets) they fail instead, so CI cannot pass without running them.
"""

import os

import pytest

from sktraceprop.stores._postgres_server import TemporaryPostgres, unavailable_reason
from tests.stores._store_helpers import Backend

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server():
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("STP_REQUIRE_POSTGRES"):
            pytest.fail(f"STP_REQUIRE_POSTGRES is set but {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    with TemporaryPostgres() as server:
        yield server


@pytest.fixture
def pg_dsn(postgres_server):
    return postgres_server.dsn


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    return Backend(request.param, tmp_path, request)


@pytest.fixture
def store(backend):
    return backend.make()
