"""The OAuth 2.0 side of the emulator: ``/token``, ``/revoke`` and a consent
endpoint that redirects straight back (for loopback-flow tests).

Refresh tokens are accepted unless revoked (tests may pick any value); access
tokens are random, expire after ``ttl`` seconds and are checked on every API
call.  An unknown or expired access token gets a 401, which makes google-auth
refresh and retry, as it does against Google.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import ApiError

SCOPES = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/gmail.compose"


@dataclass
class _Access:
    refresh_token: str
    expires_at: float


class OAuthError(Exception):
    """An RFC 6749 error response: ``400 {"error": code, "error_description": ...}``."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.status = status
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


class OAuthServer:
    """Token bookkeeping.  All methods are thread-safe."""

    def __init__(self, ttl: int = 3599) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._revoked: set[str] = set()
        self._codes: dict[str, str] = {}  # authorization code -> refresh token it yields
        self._revoke_all = False
        self.refresh_count = 0
        self.issued_refresh_tokens: list[str] = []
        # what the person granted; API calls outside it get 403 insufficientPermissions
        self.granted_scopes: frozenset[str] = frozenset(SCOPES.split())

    # ---- HTTP endpoints -------------------------------------------------
    def token(self, form: dict[str, str]) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        if not form.get("client_id"):
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if grant == "refresh_token":
            rt = form.get("refresh_token", "")
            with self._lock:
                if not rt or rt in self._revoked or self._revoke_all:
                    raise OAuthError("invalid_grant", "Token has been expired or revoked.")
                self.refresh_count += 1
                return self._issue(rt)
        if grant == "authorization_code":
            with self._lock:
                rt = self._codes.pop(form.get("code", ""), "")
                if not rt:
                    raise OAuthError("invalid_grant", "Malformed auth code.")
                body = self._issue(rt)
                body["refresh_token"] = rt
                self.issued_refresh_tokens.append(rt)
                return body
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant}")

    def restore_grant(self) -> None:
        """Undo ``revoke_grant`` (the person authorized again)."""
        with self._lock:
            self._revoke_all = False
            self._revoked.clear()

    def revoke(self, token: str) -> None:
        with self._lock:
            access = self._access.pop(token, None)
            rt = access.refresh_token if access else token
            self._revoke_locked(rt)

    def authorize(self, query: dict[str, str]) -> str:
        """The consent screen, always approved: the Location to redirect to."""
        redirect = query.get("redirect_uri", "")
        if not redirect.startswith(("http://127.0.0.1", "http://localhost")):
            raise ApiError(400, "redirect_uri must be a loopback address", "invalid_request")
        code = "code-" + secrets.token_urlsafe(12)
        with self._lock:
            self._codes[code] = "rt-" + secrets.token_urlsafe(16)
        params = {"code": code, "scope": query.get("scope", SCOPES)}
        if "state" in query:
            params["state"] = query["state"]
        sep = "&" if "?" in redirect else "?"
        return f"{redirect}{sep}{urlencode(params)}"

    def check_bearer(self, authorization: str | None) -> frozenset[str]:
        """The granted scopes; a 401 ApiError unless the header carries a live access token."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "Request is missing required authentication credential.", "required")
        token = authorization[len("Bearer "):].strip()
        with self._lock:
            access = self._access.get(token)
            if (access is None or access.expires_at <= time.time() or self._revoke_all
                    or access.refresh_token in self._revoked):
                raise ApiError(401, "Request had invalid authentication credentials.", "authError")
            return self.granted_scopes

    # ---- test controls --------------------------------------------------
    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as after an hour)."""
        with self._lock:
            for access in self._access.values():
                access.expires_at = 0.0

    def revoke_grant(self, refresh_token: str | None = None) -> None:
        """The person revoked access (myaccount.google.com): refreshes get ``invalid_grant``.

        ``None`` revokes every refresh token seen so far and any used later.
        """
        with self._lock:
            if refresh_token is None:
                self._revoke_all = True
                self._access.clear()
            else:
                self._revoke_locked(refresh_token)

    def issue_access_token(self, refresh_token: str = "rt") -> str:
        """An access token without a round-trip (for credentials built with ``token=``)."""
        with self._lock:
            return str(self._issue(refresh_token)["access_token"])

    # ---- internals ------------------------------------------------------
    def _issue(self, rt: str) -> dict[str, Any]:
        token = "at-" + secrets.token_urlsafe(24)
        self._access[token] = _Access(rt, time.time() + self.ttl)
        return {"access_token": token, "expires_in": self.ttl, "token_type": "Bearer", "scope": SCOPES}

    def _revoke_locked(self, rt: str) -> None:
        if rt:
            self._revoked.add(rt)
        for token, access in list(self._access.items()):
            if access.refresh_token in self._revoked:
                del self._access[token]
