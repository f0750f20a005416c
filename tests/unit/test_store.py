"""The store: pragmas on every connection, private file, migrations in place, schema = tables."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.engine import Store, make_engine
from store.migrations import current_version, latest_version, migrate, steps


def test_file_is_private_and_pragmas_hold_on_every_connection(tmp_path):
    engine = make_engine(tmp_path / "db" / "g.sqlite3")
    migrate(engine)
    mode = stat.S_IMODE(os.stat(tmp_path / "db" / "g.sqlite3").st_mode)
    assert mode == 0o600
    for _ in range(2):  # a fresh pooled connection each time
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        engine.dispose()


def test_migrations_are_numbered_and_reach_latest(tmp_path):
    engine = make_engine(tmp_path / "g.sqlite3")
    versions = [s.version for s in steps()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert migrate(engine) == latest_version()
    assert current_version(engine) == latest_version()
    # Running again is a no-op, never a second create.
    assert migrate(engine) == latest_version()


def test_migrated_schema_matches_the_table_classes(tmp_path):
    engine = make_engine(tmp_path / "g.sqlite3")
    migrate(engine)
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        assert migrated == {c.name for c in table.columns}, table.name
        declared_indexes = {i.name for i in table.indexes}
        migrated_indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert declared_indexes <= migrated_indexes, table.name


def test_database_at_previous_version_upgrades_in_place_keeping_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = make_engine(path)
    previous = steps()[-2].version
    migrate(engine, target=previous)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ledger (at, model, operation, cost) VALUES (1.0, 'gemini-2.5-flash', 'generate', 0.5)"
        )
        conn.exec_driver_sql(
            "INSERT INTO cached_contents (name, model, synced_at) VALUES ('cachedContents/a', 'm', 1.0)"
        )
    engine.dispose()

    store = Store.open(path)  # start-up migrates
    assert current_version(store.engine) == latest_version()
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT model, cost, prefix_hash FROM ledger").all()
        assert rows == [("gemini-2.5-flash", 0.5, None)]
        assert conn.exec_driver_sql("SELECT name FROM cached_contents").scalar() == "cachedContents/a"
    store.close()


def test_newer_database_is_refused(tmp_path):
    engine = make_engine(tmp_path / "g.sqlite3")
    migrate(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA user_version = {latest_version() + 1}")
    with pytest.raises(RuntimeError, match="newer than this gemops"):
        migrate(engine)


def test_mirror_marks_vanished_rows_gone_and_keeps_local_annotations(tmp_path):
    from store.repos import batches

    store = Store.open(tmp_path / "g.sqlite3")
    row = {"name": "batches/a", "state": "JOB_STATE_RUNNING", "model": "m", "display_name": ""}
    with store.session() as s:
        batches.mirror_remote(s, [row, dict(row, name="batches/b")], now=10.0)
        batches.annotate(s, "batches/a", results_path="/r/a.jsonl")
    with store.session() as s:
        gone = batches.mirror_remote(s, [dict(row, state="JOB_STATE_SUCCEEDED")], now=20.0)
    assert gone == 1
    with store.session() as s:
        a = batches.get(s, "batches/a")
        b = batches.get(s, "batches/b")
    assert a.state == "JOB_STATE_SUCCEEDED" and a.results_path == "/r/a.jsonl"
    assert a.state_since == 20.0 and a.gone_at is None
    assert b.gone_at == 20.0
    store.close()


def test_a_listing_older_than_a_local_delete_does_not_bring_the_row_back(tmp_path):
    from sqlalchemy import select, update

    from store.repos.mirror import mirror
    from store.tables import CachedContentRow

    table = CachedContentRow.__table__
    store = Store.open(tmp_path / "m.sqlite3")
    row = {"name": "cachedContents/a", "model": "gemini-2.5-flash"}
    with store.session() as session:
        mirror(session, table, [row], now=1.0)
        # Deleted here at t=10, while a sync tick that listed at t=5 was still on its way.
        session.execute(update(table).values(gone_at=10.0))
        mirror(session, table, [row], now=5.0)
        assert session.execute(select(table.c.gone_at)).scalar() == 10.0
        # A listing asked for after the delete that still shows it: it is back.
        mirror(session, table, [row], now=15.0)
        assert session.execute(select(table.c.gone_at)).scalar() is None
    store.close()
