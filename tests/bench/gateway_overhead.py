"""gateway_overhead: milliseconds the gateway adds to one generateContent, durable booking
included (a write-ahead row before the call, the ledger row and its removal in one transaction
after it, both in a real SQLite file in WAL mode).

Three ways through the same emulator in the same run, interleaved in rounds so drift falls on
all alike, sequential calls: the bare SDK (`client.aio.models.generate_content`), the gateway
booking into a list (no disk), and the gateway booking durably as the product does. The figure
is (durable gateway − bare SDK) per call, median of the rounds. Target: < 2 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench._harness import BenchResult

CALLS = 200
ROUNDS = 5
MODEL = "gemini-2.5-flash"


def run() -> BenchResult:
    from google import genai
    from google.genai import types

    from console.emulator import EmulatorConfig, EmulatorServer
    from console.services.callbook import StoreCallBook
    from console.services.gateway import Gateway
    from console.services.limits import RateLimiter
    from console.services.pricing import PriceTable
    from console.settings import LimitSpec, LimitsSettings
    from store.engine import Store

    config = EmulatorConfig(seed=5)
    config.update({"quotas": {MODEL: {"rpm": 0, "tpm": 0, "rpd": 0}}})
    server = EmulatorServer(config).start()
    tmp = tempfile.TemporaryDirectory()
    store = Store.open(Path(tmp.name) / "bench.sqlite3")
    limits = LimitsSettings(models={MODEL: LimitSpec(rpm=10**7, tpm=10**12, rpd=None)})

    def gateway(**book) -> Gateway:
        return Gateway(api_key="bench", base_url=server.base_url, prices=PriceTable.default(),
                       limiter=RateLimiter(limits), **book)

    rows: list[dict] = []
    in_memory = gateway(write_ledger=rows.extend)
    durable = gateway(book=StoreCallBook(store.engine, store.session))
    sdk = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=server.base_url))

    async def bare(n: int) -> None:
        for i in range(n):
            await sdk.aio.models.generate_content(model=MODEL, contents=f"request {i}")

    async def through(g: Gateway, n: int) -> None:
        for i in range(n):
            await g.generate(MODEL, f"request {i}")

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000 / CALLS

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(bare(20))  # warm connections on every path
        in_memory.run(through(in_memory, 20))
        durable.run(through(durable, 20))
        sdk_ms, memory_ms, durable_ms = [], [], []
        for _ in range(ROUNDS):
            sdk_ms.append(timed(lambda: loop.run_until_complete(bare(CALLS))))
            memory_ms.append(timed(lambda: in_memory.run(through(in_memory, CALLS))))
            durable_ms.append(timed(lambda: durable.run(through(durable, CALLS))))
    finally:
        loop.run_until_complete(sdk.aio.aclose())
        loop.close()
        in_memory.close()
        durable.close()
        store.close()
        server.stop()
        tmp.cleanup()
    overhead = statistics.median(d - s for d, s in zip(durable_ms, sdk_ms, strict=True))
    return BenchResult(
        name="gateway_overhead", value=overhead, unit="ms per call over the bare SDK",
        baseline=statistics.median(sdk_ms), baseline_label="bare SDK call ms",
        target="< 2 ms",
        extra={
            "sdk_ms": [round(x, 3) for x in sdk_ms],
            "gateway_in_memory_ms": [round(x, 3) for x in memory_ms],
            "gateway_durable_ms": [round(x, 3) for x in durable_ms],
            "booking_ms": round(statistics.median(
                d - m for d, m in zip(durable_ms, memory_ms, strict=True)), 3),
        },
    )
