"""The budget in the store: limiters in different processes (each its own engine on one SQLite
file, migrated like production) draw on one quota per (project, model)."""

from __future__ import annotations

import asyncio
import multiprocessing
from itertools import pairwise

import pytest

from console.services.limits import Pace, RateLimiter, pacific_day
from console.services.shared_quota import StoreBudget
from console.settings import LimitSpec, LimitsSettings
from store.engine import Store
from store.repos import quota
from tests.simtime import DilatedClock
from tests.unit.test_limits import MODEL, FakeTime, most_in_any_minute


def two_limiters(path, clock: FakeTime, quota_model: str, project: str = "p"):
    made = []
    for _ in range(2):
        store = Store.open(path)
        limits = LimitsSettings(models={MODEL: LimitSpec(rpm=60, tpm=10**9)},
                                quota_model=quota_model)
        budget = StoreBudget(store.engine)
        made.append((RateLimiter(limits, clock=clock.now, sleep=clock.sleep, budget=budget,
                                 project=project), budget, store))
    return made


@pytest.mark.parametrize("quota_model", ["sliding-log", "token-bucket", "bounded"])
async def test_two_limiters_on_one_store_share_the_minute(tmp_path, quota_model):
    # Real concurrency on a sped-up clock: a fake clock whose every sleep moves time on for
    # everyone would make the result depend on how the two callers happen to interleave. At
    # 30x a late wake-up of 10 ms is 0.3 simulated seconds, not enough to bunch a minute.
    clock = DilatedClock(30)
    made = two_limiters(tmp_path / "q.sqlite3", clock, quota_model)
    times: list[float] = []

    async def caller(lim: RateLimiter, n: int) -> None:
        for _ in range(n):
            permit = await lim.acquire(MODEL, "standard", 10)
            times.append(clock.now())
            lim.settle(permit, actual_tokens=10, ok=True)

    try:
        await asyncio.gather(caller(made[0][0], 90), caller(made[1][0], 90))
    finally:
        for _, budget, store in made:
            budget.close()
            store.close()
    assert len(times) == 180
    # Together, not each: never more than the one RPM in any minute (plus, for a token
    # bucket, the burst the server's bucket holds: 10 % of the minute).
    allowed = 60 + (6 if quota_model == "token-bucket" else 0)
    assert most_in_any_minute(sorted(times)) <= allowed


async def test_a_cool_down_reaches_the_other_process(tmp_path):
    clock = FakeTime()
    (first, b1, s1), (second, b2, s2) = two_limiters(tmp_path / "q.sqlite3", clock, "bounded")
    try:
        first.quota_error(MODEL, "standard", retry_delay_s=30)
        b1.executor.submit(lambda: None).result()  # the write is queued on its thread
        start = clock.now()
        await second.acquire(MODEL, "flex", 1)
        assert clock.now() - start == pytest.approx(30)
    finally:
        for budget, store in ((b1, s1), (b2, s2)):
            budget.close()
            store.close()


def _reserve_many(path: str, n: int, out) -> None:
    import time

    store = Store.open(path)
    budget = StoreBudget(store.engine)
    pace = Pace("token-bucket", rpm=6_000, tpm=0, rpd=None, burst_fraction=0.0)
    slots = [budget.reserve("p", [(MODEL, pace)], time.time(), 1).slot for _ in range(n)]
    budget.close()
    store.close()
    out.put(slots)


def test_reservations_from_two_os_processes_never_share_a_slot(tmp_path):
    path = str(tmp_path / "q.sqlite3")
    Store.open(path).close()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_reserve_many, args=(path, 150, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    slots = sorted(out.get(timeout=60) + out.get(timeout=60))
    for worker in workers:
        worker.join(timeout=30)
    assert len(slots) == 300
    # 6,000 RPM without burst: one slot every 10 ms across both processes.
    assert min(b - a for a, b in pairwise(slots)) >= 0.01 - 1e-6
    store = Store.open(path)
    with store.engine.connect() as conn:
        (row,) = quota.all_budgets(conn)
    store.close()
    assert row.day_count == 300 and row.day == pacific_day(slots[-1])


def test_tokens_given_back_wait_for_the_next_reservation_tokens_taken_do_not(tmp_path):
    path = tmp_path / "q.sqlite3"
    pace = Pace("token-bucket", rpm=10_000, tpm=6_000, rpd=None)  # 600-token burst, 100/s
    stores = [Store.open(path) for _ in range(2)]
    first, second = (StoreBudget(s.engine) for s in stores)
    try:
        first.reserve("p", [(MODEL, pace)], 1000.0, 600)
        first.settle("p", MODEL, pace, None, 1000.0, 600, 900, True)  # 300 more than reserved
        assert second.reserve("p", [(MODEL, pace)], 1000.0, 600).slot == pytest.approx(1009)
        first.reserve("p", [(MODEL, pace)], 1000.0, 600)
        first.settle("p", MODEL, pace, None, 1000.0, 600, 100, True)  # 500 given back...
        # ...not yet seen by the other process (it only makes it more careful)...
        assert second.reserve("p", [(MODEL, pace)], 1000.0, 100).slot == pytest.approx(1016)
        first.close()  # ...and written when this process reserves again or closes.
        assert second.reserve("p", [(MODEL, pace)], 1000.0, 100).slot == pytest.approx(1012)
    finally:
        first.close()  # closing twice is harmless
        second.close()
        for store in stores:
            store.close()
