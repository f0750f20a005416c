"""Helpers shared by the emulator e2e tests (the fixtures themselves live in emulator_fixtures)."""

from __future__ import annotations

import httpx
import pytest
from google import genai
from google.genai import types


@pytest.fixture
def control(emulator_url: str):
    """An httpx client on the emulator's `/_emulator/` control surface."""
    with httpx.Client(base_url=f"{emulator_url}/_emulator", timeout=10) as client:
        yield client


@pytest.fixture
def beta_client(emulator_url: str) -> genai.Client:
    """The SDK speaking v1beta, as the Google docs do."""
    return genai.Client(
        api_key="test-key",
        http_options=types.HttpOptions(base_url=emulator_url, api_version="v1beta"),
    )


def long_text(tokens: int, seed: str = "doc") -> str:
    """About `tokens` tokens at the emulator's 4 characters per token."""
    words = []
    i = 0
    while len(" ".join(words)) < tokens * 4:
        words.append(f"{seed}{i % 97}")
        i += 1
    return " ".join(words)


class HookReceiver:
    """A loopback HTTP endpoint that records webhook deliveries; it can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.fail_first = fail_first
        self.received: list[dict] = []
        self.arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append({"headers": dict(self.headers.items()), "body": body})
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.end_headers()
                if not failing:
                    receiver.arrived.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        import time

        deadline = time.monotonic() + timeout
        while len([r for r in self.received]) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    hook = HookReceiver()
    yield hook
    hook.close()
