"""Where the gateway books its calls so that no billed call is lost, even to kill -9.

Before an attempt is sent, a write-ahead row goes to `calls_in_flight`; when it is answered (or
fails), its ledger row is inserted and the write-ahead removed in one transaction. A process that
dies mid-call leaves its write-ahead behind, and the next gemops to start books it in the ledger
as *interrupted*, with its estimated input cost: it may have been billed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from functools import cache
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from store.repos import calls


class CallBook(Protocol):
    # True when booking touches a disk: the gateway then books off its event loop.
    blocking: bool

    def sending(self, call: dict[str, Any]) -> int | None: ...

    def answered(self, call_id: int | None, rows: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class RowSink:
    """A book with no write-ahead: rows go to a callable (tests, benchmarks)."""

    blocking = False

    def __init__(self, write: Callable[[list[dict[str, Any]]], None]) -> None:
        self._write = write

    def sending(self, call: dict[str, Any]) -> None:
        return None

    def answered(self, call_id: int | None, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._write(list(rows))

    def close(self) -> None:
        pass


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux): a pid reused later differs."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii").read()  # noqa: SIM115
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@cache
def process_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def owner_alive(owner: str) -> bool:
    """Whether the process that wrote a write-ahead row still runs. Another host's processes
    cannot be seen from here, so they count as alive."""
    host, _, rest = owner.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return owner == process_owner()
    now_ticks = _start_ticks(pid)
    if now_ticks is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not ticks  # no /proc: trust the pid alone
    return not ticks or now_ticks == ticks


class StoreCallBook:
    """The durable book: write-ahead and answers in the store, one transaction each."""

    blocking = True

    def __init__(self, engine: Engine, session: Callable[[], AbstractContextManager[Any]]) -> None:
        self._ledger = calls.CallLedger(engine)
        self._session = session
        self.owner = process_owner()

    def sending(self, call: dict[str, Any]) -> int:
        return self._ledger.sending(call | {"owner": self.owner})

    def answered(self, call_id: int | None, rows: Sequence[dict[str, Any]]) -> None:
        self._ledger.answered(call_id, rows)

    def close(self) -> None:
        self._ledger.close()

    def recover(self, ledger_defaults: dict[str, Any]) -> list[str | None]:
        """Book the calls that processes now gone left in flight; their request keys."""
        with self._session() as session:
            return calls.book_interrupted(session, owner_alive, ledger_defaults)
