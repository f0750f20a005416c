"""The API's error envelope (`{"error": {code, message, status, details?}}`) and its factories."""

from __future__ import annotations

from typing import Any

from console.emulator.wire import json_response

# google.rpc canonical codes, used where errors travel inside a body (inline batch results).
RPC_CODES = {
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "UNAUTHENTICATED": 16,
}

STATUS_FOR_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# What the real service says for the errors a fault profile can inject.
FAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The resource already exists.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

_HELP = "https://ai.google.dev/gemini-api/docs/rate-limits"


class ApiError(Exception):
    """Raised anywhere in a handler; rendered as the wire envelope with its HTTP status."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_FOR_HTTP.get(code, "UNKNOWN")
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self):
        return json_response(self.body(), self.code, self.headers)


def invalid_argument(message: str, field: str | None = None) -> ApiError:
    details = None
    if field:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": message}],
            }
        ]
    return ApiError(400, message, "INVALID_ARGUMENT", details)


def failed_precondition(message: str) -> ApiError:
    return ApiError(400, message, "FAILED_PRECONDITION")


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


def permission_denied(message: str) -> ApiError:
    return ApiError(403, message, "PERMISSION_DENIED")


def already_exists(message: str) -> ApiError:
    return ApiError(409, message, "ALREADY_EXISTS")


def model_not_found(name: str, version: str, method: str) -> ApiError:
    return not_found(
        f"models/{name} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported "
        "methods."
    )


def missing_key() -> ApiError:
    return permission_denied(
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )


def invalid_key() -> ApiError:
    message = "API key not valid. Please pass a valid API key."
    return ApiError(
        400,
        message,
        "INVALID_ARGUMENT",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
        ],
    )


def quota_exceeded(
    model: str, metric: str, quota_id: str, limit: int, retry_delay_s: int
) -> ApiError:
    """429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo, as the real API sends it."""
    return ApiError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        f"information on this error, head to: {_HELP}. Please retry in {retry_delay_s}s.",
        "RESOURCE_EXHAUSTED",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": str(limit),
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Learn more about Gemini API quotas", "url": _HELP}],
            },
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{retry_delay_s}s",
            },
        ],
    )


def unavailable(message: str = FAULT_MESSAGES[503]) -> ApiError:
    return ApiError(503, message, "UNAVAILABLE")


def injected(code: int) -> ApiError:
    """An error a fault profile asked for; 429 keeps the full quota shape."""
    if code == 429:
        return quota_exceeded(
            "emulator",
            "generate_content_requests",
            "GenerateRequestsPerMinutePerProjectPerModel",
            0,
            1,
        )
    return ApiError(code, FAULT_MESSAGES.get(code, "Injected fault."))
