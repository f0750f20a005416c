"""The gateway's error, in a module that imports no SDK: services catch it without pulling
google-genai in (the gateway re-exports it, so `console.services.gateway.GatewayError` works)."""

from __future__ import annotations


class GatewayError(Exception):
    """An API call failed for good (after retries): the status, the server's message, and
    the retry delay it asked for, if any. Services see this, never the SDK's error types."""

    def __init__(
        self, operation: str, status: int | None, message: str, retry_delay_s: float | None = None
    ) -> None:
        self.operation = operation
        self.status = status
        self.message = message
        self.retry_delay_s = retry_delay_s
        where = f"HTTP {status}" if status else "connection failed"
        super().__init__(f"{operation}: {where}: {message}")
