"""Running the emulator: in a background thread (tests, the console) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from pathlib import Path

import uvicorn

from console.emulator.app import create_app
from console.emulator.clock import EmulatorClock
from console.emulator.config import EmulatorConfig, FaultProfile


def _uvicorn_config(app, log_level: str) -> uvicorn.Config:
    # No access log: it costs more than a whole generateContent answer.
    return uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", backlog=2048)


class _ThreadServer(uvicorn.Server):
    """uvicorn polls `should_exit` every 0.1 s; this one is also woken at once by `stop()`."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close in between
                self._loop.call_soon_threadsafe(self._wake.set)


class EmulatorServer:
    """A uvicorn server on its own thread and event loop, listening on loopback.

    `start()` returns once the socket accepts connections; `port=0` picks a free port.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: EmulatorClock | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or EmulatorClock()
        self.host = host
        self.port = port
        self.app = create_app(self.config, self.clock)
        self.state = self.app.state.emulator
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        server = _ThreadServer(_uvicorn_config(self.app, "warning"))
        self._server = server
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"gemini-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the Gemini emulator did not start on {self.base_url}")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.request_exit()
        self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def load_config(
    config_path: str | Path | None = None,
    faults_path: str | Path | None = None,
    state_path: str | Path | None = None,
) -> EmulatorConfig:
    config = EmulatorConfig.from_toml(config_path) if config_path else EmulatorConfig()
    if faults_path:
        config.faults = FaultProfile.from_toml(faults_path)
    if state_path:
        config.state_path = str(state_path)
    return config


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    faults_path: str | Path | None = None,
    state_path: str | Path | None = None,
    config_path: str | Path | None = None,
) -> None:
    """Run in the foreground until interrupted (`gemops emulator`, `python -m console.emulator`)."""
    app = create_app(load_config(config_path, faults_path, state_path))
    config = _uvicorn_config(app, "info")
    config.host, config.port = host, port
    print(
        f"Gemini API emulator on http://{host}:{port}  (GOOGLE_GEMINI_BASE_URL=http://{host}:{port})",
        flush=True,
    )
    uvicorn.Server(config).run()
