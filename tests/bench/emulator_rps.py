"""emulator_rps: generateContent requests/s the emulator serves (target >= 1,000 on 2 cores).

The emulator runs as a subprocess (`python -m console.emulator`) with zero latency and no
faults, and quotas so large they never bite (the accounting still runs). A load generator in
this process keeps CONNECTIONS keep-alive connections busy with pre-built request bytes over raw
asyncio streams, counting only HTTP 200 answers. The baseline is the same load against a trivial
Starlette/uvicorn endpoint returning `{}`: the ratio is how close the emulator gets to the
framework's own floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from tests.bench._harness import BenchResult

CONNECTIONS = 32
WARMUP_S = 1.0
MEASURE_S = 4.0
MODEL = "gemini-2.5-flash"
_ROOT = Path(__file__).resolve().parents[2]

_CONFIG = f"""
[quotas."{MODEL}"]
rpm = 1000000000
tpm = 1000000000000
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _requests(port: int) -> list[bytes]:
    """A few distinct, realistic generateContent requests (prompt, config, tier)."""
    out = []
    for i in range(8):
        body = orjson.dumps(
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [
                            {"text": f"Summarise item {i} of the quarterly report in two lines."}
                        ],
                    }
                ],
                "systemInstruction": {"role": "user", "parts": [{"text": "Be brief."}]},
                "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256},
            }
        )
        head = (
            f"POST /v1beta/models/{MODEL}:generateContent HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\n"
            "x-goog-api-key: bench-key\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _worker(
    port: int, payloads: list[bytes], stop_at: float, counts: dict[str, int], measure_from: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while (now := time.perf_counter()) < stop_at:
            writer.write(payloads[i % len(payloads)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if now >= measure_from:
                counts["ok" if status == 200 else "failed"] += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        counts["failed"] += 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _load(port: int) -> dict[str, float]:
    payloads = _requests(port)
    counts = {"ok": 0, "failed": 0}
    start = time.perf_counter()
    measure_from = start + WARMUP_S
    stop_at = measure_from + MEASURE_S
    await asyncio.gather(
        *(_worker(port, payloads, stop_at, counts, measure_from) for _ in range(CONNECTIONS))
    )
    return {"rps": counts["ok"] / MEASURE_S, "ok": counts["ok"], "failed": counts["failed"]}


def _drive(port: int) -> dict[str, float]:
    try:
        import uvloop

        return uvloop.run(_load(port))
    except ImportError:
        return asyncio.run(_load(port))


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}): {url}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"server not ready: {url}")


@contextlib.contextmanager
def _server(args: list[str], ready_url: str):
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_ready(ready_url, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_baseline(port: int) -> None:
    """The framework floor: Starlette + uvicorn answering `{}` with the same server settings."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def empty(request):
        await request.body()
        return Response(b"{}", media_type="application/json")

    app = Starlette(routes=[Route("/{version}/models/{target}", empty, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run() -> BenchResult:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(_CONFIG)
        port = _free_port()
        with _server(
            ["-m", "console.emulator", "--port", str(port), "--config", str(config)],
            f"http://127.0.0.1:{port}/_emulator/health",
        ):
            emulator = _drive(port)
        base_port = _free_port()
        with _server(
            ["-m", "tests.bench.emulator_rps", str(base_port)],
            f"http://127.0.0.1:{base_port}/v1beta/models/x",
        ):
            baseline = _drive(base_port)
    return BenchResult(
        name="emulator_rps",
        value=emulator["rps"],
        unit="req/s",
        baseline=baseline["rps"],
        target=">= 1,000 req/s",
        extra={
            "baseline_is": "bare Starlette/uvicorn endpoint returning {} (same load)",
            "connections": CONNECTIONS,
            "measure_seconds": MEASURE_S,
            "ok": emulator["ok"],
            "failed": emulator["failed"],
            "baseline_failed": baseline["failed"],
        },
    )


if __name__ == "__main__":
    serve_baseline(int(sys.argv[1]))
