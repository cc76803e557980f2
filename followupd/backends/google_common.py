"""What the Calendar and Gmail backends share: building a service, the HTTP
transport that never re-sends a POST on its own, and RFC 3339 helpers.

Why a custom transport: httplib2 silently repeats a request once when the
first attempt's response is lost (``BadStatusLine``/``RemoteDisconnected``),
whatever the method.  For ``drafts.create`` that repeat would create a second
draft (SPEC §4.4: the intent mechanism, not a blind re-send, resolves a lost
create), and for an ``If-Match`` write it would turn our own landed write into
a 412 that looks like the person's edit.  ``NoResendHttp`` opens a fresh
connection for every write, so the only legitimate reason for that repeat (a
stale keep-alive socket) cannot arise, and then tries exactly once; the retry
layer (``retry.py``) decides about repeats, knowing what it repeats.  Reads
keep httplib2's behaviour and their keep-alive connection.
"""

from __future__ import annotations

import http.client
import socket
from datetime import datetime
from typing import Any

import httplib2

DEFAULT_TIMEOUT = 30.0  # seconds per HTTP request
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Where the discovery documents put each API under their rootUrl; ``[google]
# api_endpoint`` stands for that rootUrl, so one setting serves both APIs.
SERVICE_PATHS = {"calendar": "calendar/v3/", "gmail": ""}


class NoResendHttp(httplib2.Http):  # type: ignore[misc]
    """``httplib2.Http`` that sends a write at most once (see the module docstring)."""

    def _conn_request(self, conn: Any, request_uri: str, method: str, body: Any,
                      headers: dict[str, str]) -> tuple[httplib2.Response, bytes]:
        if method not in _WRITES:
            return super()._conn_request(conn, request_uri, method, body, headers)  # type: ignore[no-any-return]
        conn.close()  # a fresh connection: no stale keep-alive socket to excuse a resend
        try:
            conn.connect()
            conn.request(method, request_uri, body, headers)
            raw = conn.getresponse()
            content = raw.read()
        except socket.gaierror:
            conn.close()
            raise httplib2.ServerNotFoundError(f"Unable to find the server at {conn.host}") from None
        except (OSError, http.client.HTTPException):
            conn.close()
            raise
        response = httplib2.Response(raw)
        content = httplib2._decompressContent(response, content, self.limit_kwargs)
        return response, content


def build_service(api: str, version: str, credentials: Any, api_endpoint: str,
                  timeout: float = DEFAULT_TIMEOUT) -> Any:
    """A discovery-based service from the bundled (static) discovery document.

    Built once per backend object: building parses a large JSON document.
    """
    import google_auth_httplib2
    from googleapiclient.discovery import build

    http = google_auth_httplib2.AuthorizedHttp(credentials, http=NoResendHttp(timeout=timeout))
    options = None
    if api_endpoint:
        options = {"api_endpoint": api_endpoint.rstrip("/") + "/" + SERVICE_PATHS[api]}
    return build(api, version, http=http, static_discovery=True, cache_discovery=False,
                 client_options=options)


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 (what ``timeMin`` and ``dateTime`` take)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
    return moment.isoformat()
