"""The breaker rule through the drop folder's concurrent route, end to end (real SDK, emulator on
loopback, both on one dilated clock): a burst of short 429s is waited out on the file's tier,
while 429s that keep coming after each delay was honoured send the unanswered rest to batch."""

from __future__ import annotations

import re
from itertools import pairwise

import orjson
import pytest
from sqlalchemy import text

from console.bootstrap import make_workspace
from console.emulator import EmulatorConfig, EmulatorServer
from console.emulator.config import FaultProfile
from console.services.dropfolder import DropFolder
from console.settings import load_settings
from tests.simtime import DilatedClock

MODEL = "gemini-2.5-flash"
SPEED = 5.0  # a 5 s retryDelay is a second of wall time


@pytest.fixture
def setup(tmp_path, request):
    clock = DilatedClock(SPEED)
    config = EmulatorConfig(seed=7)
    config.update(request.param)
    server = EmulatorServer(config, clock=clock).start()
    settings = load_settings(store={"path": tmp_path / "gemops.sqlite3"},
                             gemini={"base_url": server.base_url, "default_model": MODEL},
                             drop={"concurrency": 6, "settle_ms": 0})
    ws = make_workspace(settings, clock=clock.now, sleep=clock.sleep)
    folder = DropFolder(ws, tmp_path / "drop")
    folder.ensure_layout()
    yield folder, server, ws
    folder.release()
    ws.close()
    server.stop()


def land(folder: DropFolder, name: str, keys: list[str]):
    path = folder.root / "standard" / name
    path.write_bytes(b"".join(orjson.dumps({"key": k, "prompt": f"question {k}"}) + b"\n"
                              for k in keys))
    return path


def generate_log(server: EmulatorServer) -> list[dict]:
    return [e for e in server.state.log.entries if e["operation"] == "generateContent"]


def batches_created(server: EmulatorServer) -> list[dict]:
    return [e for e in server.state.log.entries if e["operation"] == "batchGenerateContent"]


def asked_delays(ws) -> list[int]:
    """The retryDelay of every 429 the gateway booked, from the ledger's error text."""
    with ws.session() as session:
        errors = session.execute(text(
            "SELECT error FROM ledger WHERE status = 429 ORDER BY at")).scalars().all()
    return [int(re.search(r"retry in (\d+)s", e).group(1)) for e in errors]


# A token bucket of 3 refilled every 5 s: six requests at once get three through and three
# 429s asking for a wait of up to 5 s (the refill), then one more request every 5 s.
SHORT_429S = {"quota_model": "token-bucket", "quota_burst_fraction": 0.25,
              "quotas": {MODEL: {"rpm": 12, "tpm": 0, "rpd": 0}}}


@pytest.mark.parametrize("setup", [SHORT_429S], indirect=True)
def test_short_429s_in_flight_together_keep_the_file_on_its_tier(setup):
    folder, server, ws = setup
    keys = [f"s-{i}" for i in range(6)]
    drop = folder.process(land(folder, "burst.jsonl", keys))
    assert drop is not None and drop.step == "done" and drop.route == "standard"

    log = generate_log(server)
    refused = [e for e in log if e["status"] == 429]
    served = [e for e in log if e["status"] == 200]
    # At least three 429s arrived together at the start, each asking for a short wait...
    assert len(refused) >= 3 and refused[2]["time"] - refused[0]["time"] < 1.0
    delays = asked_delays(ws)
    assert len(delays) == len(refused) and all(1 <= d <= 5 for d in delays)
    assert max(delays) >= 3
    # ...and none of it went to the Batch API: every key was answered on standard.
    assert batches_created(server) == []
    assert len(served) == len(keys) and {e["tier_served"] for e in served} == {"standard"}
    results = [orjson.loads(line) for line in
               (folder.root / "results" / "burst.jsonl").read_bytes().splitlines()]
    assert [r["key"] for r in results] == keys
    assert all(r["status"] == "ok" and r["tier"] == "standard" for r in results)
    assert ws.gateway.limiter.bucket(MODEL, "standard").breaker.state == "closed"


@pytest.mark.parametrize("setup", [{}], indirect=True)
def test_429s_after_honoured_delays_send_the_rest_to_batch(setup):
    folder, server, ws = setup
    ws.settings.drop.concurrency = 1
    answered: list[object] = []

    def refuse_after_two(exchange) -> None:
        # The project's quota is taken by someone else from here on: every generateContent is
        # refused (retryDelay 1s), however long the client waits.
        answered.append(exchange)
        if len(answered) == 2:
            server.config.faults = FaultProfile(error_rates={429: 1.0},
                                                operations=["generateContent"])

    ws.gateway.observers.append(refuse_after_two)
    keys = [f"r-{i}" for i in range(6)]
    drop = folder.process(land(folder, "stubborn.jsonl", keys))
    assert drop is not None and drop.route == "batch"

    log = generate_log(server)
    served = [e for e in log if e["status"] == 200]
    refused = [e for e in log if e["status"] == 429]
    assert len(served) == 2 and len(refused) == 3  # the breaker opened on the third strike
    # Each refused request was sent after the previous one's 1 s delay had passed.
    gaps = [b["time"] - a["time"] for a, b in pairwise(refused)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert ws.gateway.limiter.bucket(MODEL, "standard").breaker.state == "open"
    # The rest goes to the Batch API as one job holding only the unanswered keys.
    assert drop.step == "submitted"
    assert len([e for e in batches_created(server) if e["status"] == 200]) == 1
    (job,) = server.state.batches.batches.values()
    assert len(job["items"]) == len(keys) - 2
