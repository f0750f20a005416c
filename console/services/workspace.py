"""The Workspace: what every service needs (settings, store, clock) and the gateway, connected
lazily so that nothing heavy sits on the path to the console's first frame."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.settings import Mode, Settings

if TYPE_CHECKING:
    from console.services.gateway import Gateway
    from store.engine import Store


@dataclass
class Connection:
    """A live link to Gemini (or the emulator): the gateway plus what it talks to."""

    gateway: Gateway
    base_url: str | None
    mode: Mode
    # Stops whatever the connection started (the embedded emulator, the ledger writer).
    close: Callable[[], None] = lambda: None


@dataclass
class Workspace:
    settings: Settings
    # Opening the store imports SQLAlchemy and migrates: done on first use, off the first frame.
    open_store: Callable[[], Store]
    connect: Callable[[Workspace], Connection]
    clock: Callable[[], float] = time.time
    _store: Store | None = field(default=None, init=False, repr=False)
    _connection: Connection | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = self.open_store()
            return self._store

    @property
    def mode(self) -> Mode:
        return self.settings.mode

    @property
    def connection(self) -> Connection:
        with self._lock:
            if self._connection is None:
                self._connection = self.connect(self)
            return self._connection

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def gateway(self) -> Gateway:
        return self.connection.gateway

    def session(self) -> Any:
        return self.store.session()

    def close(self) -> None:
        # Taken out under the lock, closed outside it: closing flushes the ledger, and that
        # flush opens a session, which needs the lock (the store is lazy).
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()
