"""Error mapping and retries for Google API calls.

``RetryPolicy.call`` runs one request and turns whatever goes wrong into the
error hierarchy of ``followupd.errors``:

* 429, 5xx, 403 ``rateLimitExceeded``/``userRateLimitExceeded``, timeouts,
  connection resets and unreachable hosts are transient: retried with full
  jitter exponential backoff when the caller says a repeat is harmless, then
  raised as ``TransientError``;
* 403 ``quotaExceeded``/``dailyLimitExceeded`` is a ``TransientError`` too
  (the daemon keeps running and tries on later passes) but is not retried
  within the pass: a daily quota does not come back in seconds;
* a refresh refused with ``invalid_grant``, a 401 that survives the
  refresh, or a 403 ``insufficientPermissions`` (the grant lacks a scope) is
  an ``AuthError``;
* statuses the caller handles itself (409, 412, 404, 410 …) come back as
  ``HttpStatus``, saying whether an earlier attempt of the same call was lost,
  because then a 409/412/404 may be the echo of our own first attempt.

Retry only where a repeat cannot duplicate anything: reads, inserts with a
client-chosen id (a repeat gets 409 and adopts) and ``If-Match`` writes.
Never for ``drafts.create``.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import socket
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

from followupd.errors import AuthError, FollowupdError, TransientError

log = logging.getLogger("followupd.backends.retry")
T = TypeVar("T")

RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_LOGIN_HINT = "Run `followupd auth login` to authorize followupd again."


class HttpStatus(Exception):
    """An HTTP error status the caller asked to handle itself."""

    def __init__(self, error: HttpError, retried: bool) -> None:
        super().__init__(f"HTTP {error.resp.status} {error_reason(error)}")
        self.status = int(error.resp.status)
        self.reason = error_reason(error)
        self.retried = retried  # an earlier attempt of this call may have reached the server
        self.error = error


def error_reason(error: HttpError) -> str:
    """Google's ``errors[0].reason`` (e.g. ``rateLimitExceeded``), or ``""``."""
    try:
        data = json.loads(error.content.decode("utf-8"))
        details = data["error"].get("errors") or [{}]
        return str(details[0].get("reason", "") or data["error"].get("status", ""))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return ""


def _refresh_error(exc: google.auth.exceptions.RefreshError) -> FollowupdError:
    try:
        from followupd.auth.google import refresh_error
    except ImportError:  # pragma: no cover - auth.py ships with the package
        return AuthError(f"the token refresh failed. {_LOGIN_HINT}")
    return refresh_error(exc)


def classify(exc: BaseException, what: str) -> tuple[FollowupdError | None, bool]:
    """``(error to raise, may retry)``; ``(None, False)`` for an HttpError to hand back."""
    if isinstance(exc, FollowupdError):  # raised by KeyringCredentials.refresh
        return exc, isinstance(exc, TransientError)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        err = _refresh_error(exc)
        return err, isinstance(err, TransientError)
    if isinstance(exc, google.auth.exceptions.TransportError):
        return TransientError(f"{what}: could not reach the Google token endpoint"), True
    if isinstance(exc, HttpError):
        status, reason = int(exc.resp.status), error_reason(exc)
        if status in TRANSIENT_STATUSES or (status == 403 and reason in RATE_REASONS):
            return TransientError(f"{what}: Google answered {status} {reason or ''}".rstrip()
                                  + "; will try again"), True
        if status == 403 and reason in QUOTA_REASONS:
            return TransientError(f"{what}: the Google API quota is used up ({reason}); followupd keeps "
                                  "running and tries again on later passes"), False
        if status == 401:
            return AuthError(f"{what}: Google refused the credentials even after a refresh. {_LOGIN_HINT}"), False
        if status == 403 and reason == "insufficientPermissions":  # the grant lacks a scope: every call fails
            return AuthError(f"{what}: the grant lacks a permission followupd needs (403 insufficientPermissions). "
                             "Run `followupd auth login` and allow every permission."), False
        return None, False
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TransientError(f"{what}: no answer from Google in time"), True
    if isinstance(exc, httplib2.ServerNotFoundError):
        return TransientError(f"{what}: cannot resolve the Google API host (offline?)"), True
    if isinstance(exc, (OSError, http.client.HTTPException, httplib2.HttpLib2Error)):
        return TransientError(f"{what}: network error ({type(exc).__name__})"), True
    raise exc


@dataclass
class RetryPolicy:
    """Jittered exponential backoff; ``sleep`` and ``rng`` are injectable for tests."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    # the latest pauses slept (for tests and logs): bounded, since a policy lives as long as the daemon
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=32))

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**attempt))."""
        return self.rng() * min(self.max_delay, self.base_delay * float(2 ** attempt))

    def call(self, fn: Callable[[], T], *, what: str, retry: bool = True,
             passthrough: Collection[int] = ()) -> T:
        """Run ``fn`` (one request), mapping errors as the module docstring says.

        ``passthrough``: HTTP statuses raised back as ``HttpStatus``; any other
        non-transient HTTP error becomes a ``FollowupdError`` naming ``what``.
        """
        retried = False
        for attempt in range(self.attempts if retry else 1):
            try:
                return fn()
            except HttpError as exc:
                err, may_retry = classify(exc, what)  # rate limits and quotas before passthrough 403s
                if err is None and int(exc.resp.status) in passthrough:
                    raise HttpStatus(exc, retried) from None
                if err is None:
                    raise FollowupdError(f"{what}: Google answered {exc.resp.status} "
                                         f"{error_reason(exc)}".rstrip()) from None
            except Exception as exc:  # noqa: BLE001 - classify re-raises what it does not know
                err, may_retry = classify(exc, what)
                assert err is not None
            if not (retry and may_retry) or attempt == self.attempts - 1:
                raise err
            retried = True
            pause = self.delay(attempt)
            self.delays.append(pause)
            log.debug("%s; retrying in %.2fs", err, pause)
            self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover
