"""The gateway against the emulator, on one simulated clock: pacing, 429s, retries, breaker,
ledger. The gateway's sleep advances the emulator's clock, so waits cost no real time."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.emulator import EmulatorConfig, EmulatorServer
from console.services.gateway import CircuitOpen, Gateway, GatewayError
from console.services.limits import RateLimiter
from console.services.pricing import PriceTable
from console.services.retry import RetryPolicy
from console.settings import LimitSpec, LimitsSettings
from store.engine import Store
from store.repos import ledger
from tests.simtime import DilatedClock

MODEL = "gemini-2.5-flash"


SPEED = 20.0


class SimulatedTime:
    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.slept: list[float] = []

    def now(self) -> float:
        return self.server.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.server.clock.sleep(seconds)


@pytest.fixture
def make_gateway(tmp_path):
    made: list[tuple[Gateway, Store]] = []

    def build(server: EmulatorServer, *, rpm: int, tpm: int = 10_000_000, policy=None):
        sim = SimulatedTime(server)
        store = Store.open(tmp_path / f"g{len(made)}.sqlite3")

        def write(rows):
            with store.session() as session:
                ledger.insert_many(session, rows)

        limits = LimitsSettings(models={MODEL: LimitSpec(rpm=rpm, tpm=tpm)})
        gateway = Gateway(
            api_key="test-key",
            base_url=server.base_url,
            prices=PriceTable.default(),
            limiter=RateLimiter(limits, clock=sim.now, sleep=sim.sleep,
                                breaker_cool_down_s=30.0),
            write_ledger=write,
            clock=sim.now,
            sleep=sim.sleep,
            retry_policy=policy or RetryPolicy(attempts=4, initial_s=0.5, jitter_s=0.1),
        )
        made.append((gateway, store))
        return gateway, store, sim

    yield build
    for gateway, store in made:
        gateway.close()
        store.close()


def emulator_with(**overrides) -> EmulatorServer:
    config = EmulatorConfig(seed=7)
    config.update(overrides)
    return EmulatorServer(config, clock=DilatedClock(SPEED)).start()


def logged(server: EmulatorServer, operation: str = "generateContent") -> list[dict]:
    rows = httpx.get(f"{server.base_url}/_emulator/requests").json()["requests"]
    return [r for r in rows if r["operation"] == operation]


def ledger_rows(gateway: Gateway, store: Store):
    gateway.flush_ledger()
    with store.session() as session:
        return list(reversed(ledger.recent(session, limit=10_000)))


async def burst(gateway: Gateway, n: int, concurrency: int = 8) -> list:
    # Open the connection first: its set-up time, dilated, would skew the first arrival.
    await gateway.count_tokens(MODEL, "warm up")
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int):
        async with gate:
            return await gateway.generate(MODEL, f"question {i}")

    return await asyncio.gather(*(one(i) for i in range(n)))


def test_burst_within_matching_limits_sees_no_429(make_gateway):
    server = emulator_with(quotas={MODEL: {"rpm": 60}})
    try:
        gateway, store, sim = make_gateway(server, rpm=60)
        results = gateway.run(burst(gateway, 75))
        assert len(results) == 75
        statuses = [r["status"] for r in logged(server)]
        assert statuses.count(429) == 0 and statuses.count(200) == 75
        # Paced, not bursted: 75 requests at 60/min span at least 74 s of simulated time.
        times = [r["time"] for r in logged(server)]
        assert times[-1] - times[0] >= 74
        rows = [r for r in ledger_rows(gateway, store) if r.operation == "generate"]
        assert len(rows) == 75 and {r.status for r in rows} == {200}
        assert all(r.cost > 0 and r.tier_served == "standard" for r in rows)
    finally:
        server.stop()


def test_lower_server_limit_is_learnt_with_few_429s(make_gateway):
    server = emulator_with(quotas={MODEL: {"rpm": 30}})
    try:
        gateway, store, _ = make_gateway(server, rpm=120)
        results = gateway.run(burst(gateway, 80, concurrency=4))
        assert len(results) == 80
        statuses = [r["status"] for r in logged(server)]
        assert statuses.count(200) == 80
        # It converges: the first 429 teaches the real rate; only a handful follow.
        assert statuses.count(429) <= 3
        limiter_view = gateway.limiter.views()[0]
        # Learnt near the real 30/min (recovering slowly), far below the configured 120.
        assert limiter_view.effective_rpm <= 36
    finally:
        server.stop()


def test_429_waits_the_retry_delay_then_succeeds(make_gateway):
    server = emulator_with(quotas={MODEL: {"rpm": 2}})
    try:
        gateway, store, sim = make_gateway(server, rpm=1000)
        # Two requests fill the server's minute; the third gets 429 with a retryDelay.
        gateway.run(gateway.generate(MODEL, "one"))
        gateway.run(gateway.generate(MODEL, "two"))
        sim.slept.clear()
        generation = gateway.run(gateway.generate(MODEL, "three"))
        assert generation.attempts == 2
        rows = ledger_rows(gateway, store)
        assert [r.status for r in rows] == [200, 200, 429, 200]
        assert rows[2].error.startswith("429 RESOURCE_EXHAUSTED")
        # The wait honoured the server's RetryInfo delay (about a minute here), not a backoff.
        delay = [r for r in logged(server) if r["status"] == 429]
        assert len(delay) == 1
        assert 55 <= sum(sim.slept) <= 62
    finally:
        server.stop()


def test_400_is_not_retried(make_gateway):
    server = emulator_with()
    try:
        gateway, store, _ = make_gateway(server, rpm=1000)
        with pytest.raises(GatewayError) as caught:
            gateway.run(gateway.generate(MODEL, "x", {"temperature": 5}))
        assert caught.value.status == 400
        assert len(logged(server)) == 1
        assert [r.status for r in ledger_rows(gateway, store)] == [400]
    finally:
        server.stop()


def test_503_on_flex_is_retried_with_backoff(make_gateway):
    server = emulator_with(flex_shed_rate=1.0)
    try:
        gateway, store, sim = make_gateway(server, rpm=1000)
        with pytest.raises(GatewayError) as caught:
            gateway.run(gateway.generate(MODEL, "x", tier="flex"))
        assert caught.value.status == 503
        rows = ledger_rows(gateway, store)
        assert [r.status for r in rows] == [503] * 4 and [r.attempt for r in rows] == [1, 2, 3, 4]
        # Exponential: 0.5, 1, 2 (+ jitter up to 0.1 each).
        backoffs = [s for s in sim.slept if s > 0.3]
        assert backoffs[0] < backoffs[1] < backoffs[2]
    finally:
        server.stop()


def test_breaker_opens_after_consecutive_quota_errors_and_half_opens(make_gateway):
    server = emulator_with(quotas={MODEL: {"rpm": 1}})
    try:
        policy = RetryPolicy(attempts=1)
        gateway, store, sim = make_gateway(server, rpm=1000, policy=policy)
        gateway.run(gateway.generate(MODEL, "fills the minute"))
        for _ in range(3):
            with pytest.raises(GatewayError):
                gateway.run(gateway.generate(MODEL, "refused"))
            # Skip the limiter's cool-down so the next call reaches the server at once.
            bucket = gateway.limiter.bucket(MODEL, "standard")
            bucket.cool_until = bucket.next_slot = 0
        assert gateway.limiter.bucket(MODEL, "standard").breaker.state == "open"
        sent = len(logged(server))
        with pytest.raises(CircuitOpen):
            gateway.run(gateway.generate(MODEL, "held back"))
        assert len(logged(server)) == sent  # nothing was sent while open
        server.clock.advance(120)  # past the breaker's cool-down and the server's minute
        gateway.run(gateway.generate(MODEL, "trial"))
        assert gateway.limiter.bucket(MODEL, "standard").breaker.state == "closed"
    finally:
        server.stop()


def test_priority_downgrade_is_recorded_as_served_standard(make_gateway):
    server = emulator_with(quotas={MODEL: {"rpm": 10}}, priority_limit_fraction=0.1)
    try:
        gateway, store, _ = make_gateway(server, rpm=1000)
        first = gateway.run(gateway.generate(MODEL, "a", tier="priority"))
        second = gateway.run(gateway.generate(MODEL, "b", tier="priority"))
        assert first.tier_served == "priority"
        assert second.tier_served == "standard"
        rows = ledger_rows(gateway, store)
        assert [(r.tier_asked, r.tier_served) for r in rows] == [
            ("priority", "priority"), ("priority", "standard")]
        # Billed as what served it: the downgraded call costs the standard price.
        assert rows[1].cost == pytest.approx(rows[1].standard_cost)
        assert rows[0].cost > rows[0].standard_cost
    finally:
        server.stop()


def test_connection_errors_are_retried_then_reported_as_gateway_errors(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows: list[dict] = []

    async def sleep(seconds: float) -> None:
        return None

    gateway = Gateway(
        api_key="k", base_url=f"http://127.0.0.1:{port}", prices=PriceTable.default(),
        limiter=RateLimiter(LimitsSettings(), sleep=sleep), write_ledger=rows.extend,
        sleep=sleep, retry_policy=RetryPolicy(attempts=3, initial_s=0.01, jitter_s=0),
    )
    try:
        with pytest.raises(GatewayError) as caught:
            gateway.run(gateway.generate(MODEL, "x"))
        assert caught.value.status is None and "connection failed" in str(caught.value)
    finally:
        gateway.close()
    # Three attempts, each ledgered as a connection failure (status 0), none hidden.
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, 0), (2, 0), (3, 0)]
