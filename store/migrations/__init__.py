"""The migration runner: numbered steps keyed by PRAGMA user_version, run at start-up.

Each step is a module `mNNNN_<what>.py` (numbers increasing, gaps allowed) with `STEPS: list[str]` of SQL statements. A database
at version N-1 is upgraded in place; a new one runs every step. `create_all` is never used on a
database that already exists: the steps are the schema's history.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from store.engine import StoreError

_STEP_NAME = re.compile(r"^m(\d{4})_\w+$")


class SchemaTooNew(StoreError):
    """The database was written by a newer gemops: this one must not touch it."""


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    statements: tuple[str, ...]


def steps() -> list[Step]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _STEP_NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Step(int(match.group(1)), info.name, tuple(module.STEPS)))
    found.sort(key=lambda s: s.version)
    versions = [s.version for s in found]
    if len(set(versions)) != len(versions) or (versions and versions[0] != 1):
        raise RuntimeError(f"migration steps must start at 1 and be unique: {versions}")
    return found


def latest_version() -> int:
    found = steps()
    return found[-1].version if found else 0


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def migrate(engine: Engine, target: int | None = None) -> int:
    """Bring the database up to `target` (default: latest); returns the version reached."""
    all_steps = steps()
    latest = all_steps[-1].version if all_steps else 0
    target = latest if target is None else target
    version = current_version(engine)
    if version > latest:
        raise SchemaTooNew(
            f"database schema version {version} is newer than this gemops ({latest}): "
            "upgrade gemops (pip install -U gemops) or point GEMOPS_STORE__PATH elsewhere"
        )
    for step in [s for s in all_steps if version < s.version <= target]:
        # Each step and its version bump commit together, so a crash leaves a clean version.
        with engine.begin() as conn:
            for statement in step.statements:
                conn.execute(text(statement))
            conn.exec_driver_sql(f"PRAGMA user_version = {step.version}")
        version = step.version
    return version
