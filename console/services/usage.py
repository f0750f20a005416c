"""Rate-limit usage per (model, tier) against the configured limits, read from the ledger, and
the live limiter's state (cool-downs, learnt rate, breaker) when the gateway is connected."""

from __future__ import annotations

from dataclasses import dataclass

from console.services.workspace import Workspace
from store.repos import ledger

SPARK_MINUTES = 60


@dataclass(frozen=True, slots=True)
class LimitUsage:
    model: str
    tier: str
    rpm_used: int
    rpm_limit: int
    tpm_used: int
    tpm_limit: int
    rpd_used: int
    rpd_limit: int | None
    quota_errors_hour: int
    unavailable_hour: int
    per_minute: tuple[int, ...]
    # From the live limiter; None while not connected.
    breaker: str | None = None
    cool_down_s: float = 0.0
    learnt_rpm: float | None = None

    @property
    def fullest(self) -> float:
        """The most used dimension as a fraction of its limit: what the gauge warns on."""
        shares = [self.rpm_used / self.rpm_limit, self.tpm_used / self.tpm_limit]
        if self.rpd_limit:
            shares.append(self.rpd_used / self.rpd_limit)
        return max(shares)


def limit_usage(ws: Workspace) -> list[LimitUsage]:
    now = ws.clock()
    with ws.session() as session:
        minute = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 60)}
        hour = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 3600)}
        day = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 86_400)}
        series = {
            key: ledger.per_minute(
                session, model=key[0], tier=key[1], since=now - SPARK_MINUTES * 60,
                minutes=SPARK_MINUTES,
            )
            for key in day
        }
    live = {}
    if ws.connected:
        live = {(v.model, v.tier): v for v in ws.gateway.limiter.views()}
    usage = []
    for model, tier in sorted(set(day) | set(live)):
        spec = ws.settings.limits.for_call(model, tier)
        m, h, d = minute.get((model, tier)), hour.get((model, tier)), day.get((model, tier))
        view = live.get((model, tier))
        learnt = None
        if view is not None and view.effective_rpm < view.rpm * 0.98:
            learnt = view.effective_rpm
        usage.append(
            LimitUsage(
                model=model,
                tier=tier,
                rpm_used=m.requests if m else 0,
                rpm_limit=spec.rpm,
                tpm_used=m.prompt_tokens if m else 0,
                tpm_limit=spec.tpm,
                rpd_used=d.requests if d else 0,
                rpd_limit=spec.rpd,
                quota_errors_hour=h.quota_errors if h else 0,
                unavailable_hour=h.unavailable if h else 0,
                per_minute=tuple(series.get((model, tier), [0] * SPARK_MINUTES)),
                breaker=view.breaker if view else None,
                cool_down_s=max(0.0, view.cool_until - now) if view else 0.0,
                learnt_rpm=learnt,
            )
        )
    return usage
