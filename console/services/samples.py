"""The sample workload a newcomer runs on the emulator: a real cache, calls on every tier and a
small batch, all through the gateway, so every pane has something true to show."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.services.workspace import Workspace

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
MODEL = "gemini-2.5-flash"
SYSTEM = "You are a Northwind Outfitters support agent. Answer from the handbook."


def _questions() -> list[str]:
    return [q for q in (SAMPLES_DIR / "questions.txt").read_text().splitlines() if q.strip()]


async def _workload(ws: Workspace) -> str:
    gateway = ws.gateway
    handbook = (SAMPLES_DIR / "handbook.md").read_text()
    questions = _questions()
    cache = await gateway.create_cache(
        MODEL,
        {
            "contents": [{"role": "user", "parts": [{"text": handbook}]}],
            "system_instruction": SYSTEM,
            "display_name": "support handbook (sample)",
            "ttl": "3600s",
        },
    )
    calls = [
        gateway.generate(MODEL, q, {"cached_content": cache.name}, source="sample")
        for q in questions[:2]
    ]
    calls += [gateway.generate(MODEL, q, tier="flex", source="sample") for q in questions[2:4]]
    calls += [gateway.generate(MODEL, q, tier="priority", source="sample") for q in questions[4:]]
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed = sum(isinstance(r, BaseException) for r in results)
    batch = await gateway.create_batch(
        MODEL,
        [
            {"contents": [{"role": "user", "parts": [{"text": q}]}], "metadata": {"key": f"q{i}"}}
            for i, q in enumerate(questions, start=1)
        ],
        {"display_name": "support questions (sample)"},
    )
    note = f", {failed} failed" if failed else ""
    return (
        f"sample workload: cache {cache.name}, {len(results)} calls on flex/standard/priority"
        f"{note}, batch {batch.name}"
    )


def run_sample_workload(ws: Workspace) -> str:
    """Blocking; call from a worker thread or a command."""
    return ws.gateway.run(_workload(ws))
