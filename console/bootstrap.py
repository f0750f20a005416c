"""The one composition root: Settings -> store -> gateway -> services -> app.

Used by the CLI and by tests alike; tests inject a clock, a sleep and the emulator's URL here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from console.services.workspace import Connection, Workspace
from console.settings import Mode, Settings

if TYPE_CHECKING:
    from console.tui.app import GemopsApp

EMULATOR_KEY = "emulator-key"


def make_workspace(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    emulator_config: Any = None,
) -> Workspace:
    def open_store():
        from store.engine import Store

        return Store.open(settings.store_url)

    def connect(ws: Workspace) -> Connection:
        return _connect(ws, sleep=sleep, emulator_config=emulator_config)

    return Workspace(settings=settings, open_store=open_store, connect=connect, clock=clock)


def _connect(ws: Workspace, *, sleep, emulator_config) -> Connection:
    from console.services.callbook import StoreCallBook
    from console.services.gateway import LEDGER_DEFAULTS, Gateway
    from console.services.limits import RateLimiter, project_id
    from console.services.pricing import PriceTable
    from console.services.shared_quota import StoreBudget

    settings = ws.settings
    base_url = settings.gemini.base_url
    api_key = settings.api_key.get_secret_value() if settings.api_key else EMULATOR_KEY
    emulator = None
    if settings.mode is Mode.EMULATOR and not base_url:
        emulator = start_embedded_emulator(settings, emulator_config)
        base_url = emulator.base_url
    prices = PriceTable.load(settings.prices.file)

    book = StoreCallBook(ws.store.engine, ws.session)
    # Calls a crashed gemops left in flight are booked before anything new is sent.
    book.recover(LEDGER_DEFAULTS)
    sleep = sleep or asyncio.sleep
    # One budget per (project, model) for every gemops process on this store.
    budget = StoreBudget(ws.store.engine)
    emulator_config = emulator.config if emulator is not None else None
    gateway = Gateway(
        api_key=api_key,
        base_url=base_url,
        prices=prices,
        limiter=RateLimiter(
            settings.limits, clock=ws.clock, sleep=sleep, budget=budget,
            project=project_id(api_key, base_url),
            # The embedded emulator says how it counts; the live API's default is `bounded`.
            server_model=getattr(emulator_config, "quota_model", None),
            server_burst_fraction=getattr(emulator_config, "quota_burst_fraction", None)),
        book=book,
        clock=ws.clock,
        sleep=sleep,
        api_version=settings.gemini.api_version,
        timeout_s=settings.gemini.timeout_s,
        flex_timeout_s=settings.gemini.flex_timeout_s,
    )

    from console.services.budget import guard

    gateway.budget_check = guard(ws, prices)

    # Sanitized interaction logging watches every successful call; it redacts and writes off
    # the gateway's loop, and drains what it holds once the gateway has stopped.
    from console.services.interactions import InteractionLog

    interaction_log = InteractionLog.attach(ws, gateway)

    def close() -> None:
        gateway.close()
        budget.close()
        interaction_log.close()
        if emulator is not None:
            emulator.stop()

    return Connection(gateway=gateway, base_url=base_url, mode=settings.mode, close=close)


def start_embedded_emulator(settings: Settings, config: Any = None):
    """The emulator in this process on a free loopback port, its state kept beside the DB so
    caches and batches made offline survive a restart of the console."""
    from console.emulator.config import EmulatorConfig
    from console.emulator.server import EmulatorServer

    if config is None:
        config = EmulatorConfig.realistic()
        config.state_path = str(settings.db_path.with_name("emulator.sqlite3"))
    server = EmulatorServer(config=config)
    server.start()
    return server


def make_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    workspace: Workspace | None = None,
    connect: bool = True,
    sync: bool = True,
) -> GemopsApp:
    from console.tui.app import GemopsApp

    ws = workspace or make_workspace(settings, clock=clock)
    return GemopsApp(ws, clock=clock, connect=connect, sync=sync)
