"""PostgreSQL fixtures: one throwaway server per test session, a fresh database per test.

Without PostgreSQL binaries the tests that need them skip, except in CI (env CI=true), where
.ci/run installs them and a missing server must fail loudly."""

from __future__ import annotations

import itertools
import os

import pytest

from tests import pg_server as _pg

_numbers = itertools.count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    try:
        server = _pg.start()
    except _pg.Unavailable as error:
        _unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A new, empty database on the session's server."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_numbers)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The same test on both engines: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "gemops.sqlite3")
    return request.getfixturevalue("pg_url")
