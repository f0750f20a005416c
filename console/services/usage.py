"""Rate-limit usage per (model, tier) against the configured limits, read from the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from console.services.workspace import Workspace
from store.repos import ledger


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


def limit_usage(ws: Workspace) -> list[LimitUsage]:
    now = ws.clock()
    with ws.session() as session:
        minute = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 60)}
        hour = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 3600)}
        day = {(w.model, w.tier): w for w in ledger.windows(session, since=now - 86_400)}
    usage = []
    for model, tier in sorted(set(day)):
        spec = ws.settings.limits.for_call(model, tier)
        m, h, d = minute.get((model, tier)), hour.get((model, tier)), day[(model, tier)]
        usage.append(
            LimitUsage(
                model=model,
                tier=tier,
                rpm_used=m.requests if m else 0,
                rpm_limit=spec.rpm,
                tpm_used=m.prompt_tokens if m else 0,
                tpm_limit=spec.tpm,
                rpd_used=d.requests,
                rpd_limit=spec.rpd,
                quota_errors_hour=h.quota_errors if h else 0,
                unavailable_hour=h.unavailable if h else 0,
            )
        )
    return usage
