"""`StoreBudget`: the limiter's budgets in the store, so every gemops process on this machine
(the console, `gemops watch`, scripts) draws on one quota per (project, model).

Each reservation is one short transaction (take the lock, read the clock, plan, save); corrections and
cool-downs are queued on the same single thread, so they apply in order and never block the
gateway's loop.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from console.services.limits import (
    REORDER_SPAN,
    BudgetState,
    Grant,
    Pace,
    correct_tokens,
    pacific_day,
    plan,
)
from store.repos import quota

PRUNE_EVERY = 256


class _SqlLog:
    def __init__(self, conn: Any, project: str, scope: str) -> None:
        self.conn, self.project, self.scope = conn, project, scope

    def latest_at(self, first_seq: int, last_seq: int) -> float | None:
        return quota.latest_at(self.conn, self.project, self.scope, first_seq, last_seq)

    def window(self, since: float) -> list[tuple[float, int]]:
        return quota.window(self.conn, self.project, self.scope, since)

    def tokens_since(self, since: float) -> int:
        return quota.tokens_since(self.conn, self.project, self.scope, since)


class StoreBudget:
    blocking = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.executor = concurrent.futures.ThreadPoolExecutor(1, "gemops-quota")
        # Tokens given back (the estimate was high) wait for this process's next reservation on
        # that budget, or close(): holding them back only makes other processes more careful,
        # and it saves a transaction per call. Tokens taken (the estimate was low) are written
        # at once. Touched only on the executor's one thread.
        self._given_back: dict[tuple[str, str], float] = {}
        self._closed = False

    def submit(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        self.executor.submit(fn, *args, **kwargs)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.executor.submit(self._flush)
        self.executor.shutdown(wait=True)

    def _flush(self) -> None:
        pending, self._given_back = self._given_back, {}
        with self.engine.begin() as conn:
            for (project, scope), seconds in pending.items():
                quota.shift_token_tat(conn, project, scope, seconds)

    def reserve(self, project: str, scopes: list[tuple[str, Pace]],
                now: float | Callable[[], float], tokens: int) -> Grant:
        grant = None
        not_before = 0.0
        with self.engine.connect() as conn:
            quota.begin_exclusive(conn)
            # Read the clock once the lock is held: a reservation that waited for another
            # process must not plan from the moment it started waiting.
            at = now() if callable(now) else now
            today = pacific_day(at)
            for scope, pace in scopes:
                row = quota.load(conn, project, scope, at)
                given_back = self._given_back.pop((project, scope), 0.0)
                state = BudgetState(row.seq, row.tat, row.token_tat + given_back,
                                    row.cool_until, row.day, row.day_count)
                log = _SqlLog(conn, project, scope) if pace.model == "sliding-log" else None
                grant = plan(state, log, now=at, tokens=tokens, pace=pace, today=today,
                             not_before=not_before)
                if grant.exhausted:
                    break
                quota.save(conn, project, scope, seq=state.seq, tat=state.tat,
                           token_tat=state.token_tat, day=state.day, day_count=state.day_count,
                           touched_at=at)
                if grant.seq is not None:
                    quota.add_event(conn, project, scope, grant.seq, grant.slot, tokens)
                    if grant.seq % PRUNE_EVERY == 0:
                        keep = 2 * max(int(pace.rpm), 1) + REORDER_SPAN
                        quota.prune(conn, project, scope, grant.seq - keep)
                not_before = grant.slot
            conn.commit()
        assert grant is not None
        return grant

    def settle(self, project: str, scope: str, pace: Pace, seq: int | None, at: float,
               reserved: int, actual: int, counted: bool) -> None:
        if seq is not None:
            with self.engine.begin() as conn:
                quota.answer_event(conn, project, scope, seq, at, actual, counted=counted)
            return
        state = BudgetState()
        correct_tokens(state, pace, reserved, actual if counted else 0)
        if state.token_tat < 0:
            key = (project, scope)
            self._given_back[key] = self._given_back.get(key, 0.0) + state.token_tat
        elif state.token_tat:
            with self.engine.begin() as conn:
                quota.shift_token_tat(conn, project, scope, state.token_tat)

    def cool(self, project: str, scope: str, until: float, *, exact: bool = False) -> None:
        with self.engine.begin() as conn:
            quota.cool(conn, project, scope, until, exact=exact)

    def cool_until(self, project: str, scope: str) -> float:
        with self.engine.connect() as conn:
            return quota.cool_until(conn, project, scope)

    def forget_slots(self, project: str, scope: str) -> None:
        with self.engine.begin() as conn:
            quota.forget_slots(conn, project, scope)
