"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl on a free port.

Uses the distribution's binaries (apt-get install postgresql). PostgreSQL refuses to run as
root, so under root the server runs as the `postgres` user in a folder it owns. Without the
binaries, `start()` raises `Unavailable`: tests skip on a developer machine and fail in CI
(env CI=true), where .ci/run installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries here."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                      "apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    root: Path
    port: int
    bindir: Path
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://gemops@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database on this server; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="gemops",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start(*, durable: bool = False) -> Server:
    """Start a server on a free loopback port. `durable=False` turns fsync off (tests);
    benchmarks pass True so commits cost what they cost in production."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="gemops-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "gemops",
                    "--auth=trust", "-E", "UTF8", "--no-instructions"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    result = subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
         "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True)
    if result.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{log}")
    return Server(root, port, bindir, as_user)


def start_or_none(*, durable: bool = False) -> Server | None:
    """A server, or None where there are no binaries or no psycopg (benchmarks report that)."""
    try:
        import psycopg  # noqa: F401

        return start(durable=durable)
    except (ImportError, Unavailable):
        return None
