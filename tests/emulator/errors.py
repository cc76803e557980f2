"""Google-shaped error responses (``{"error": {"code", "message", "errors": [...], "status"}}``)."""

from __future__ import annotations

from typing import Any

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "GONE",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

_DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "duplicate",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}


class ApiError(Exception):
    """Raised by an API handler; the server turns it into Google's JSON error body."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or _DEFAULT_REASONS.get(status, "unknown")

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.reason)


def error_body(status: int, message: str, reason: str | None = None) -> dict[str, Any]:
    """The JSON Google returns for an error; ``errors[0].reason`` is what clients branch on."""
    reason = reason or _DEFAULT_REASONS.get(status, "unknown")
    domain = "usageLimits" if reason in {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"} else "global"
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }
