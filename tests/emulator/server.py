"""The emulator's HTTP server on 127.0.0.1 and its Python test-control API.

Paths are Google's: ``api_endpoint`` plays the part of the discovery
``rootUrl`` (``https://www.googleapis.com/``), so Calendar lives under
``/calendar/v3/`` and Gmail under ``/gmail/v1/``; the OAuth endpoints are
``/token``, ``/revoke`` and ``/o/oauth2/auth``.  The media-upload paths
(``/upload/...``) are refused: they ignore ``api_endpoint`` in the real client.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from .calendar_api import CalendarApi, Json
from .errors import ApiError, error_body
from .faults import Fault, Faults
from .gmail_api import GmailApi, decode_raw
from . import scopes

PROP_INTERVIEW = "followupd_interview"  # the private property followupd's reminders carry
from .oauth import OAuthError, OAuthServer

SCOPES = ["https://www.googleapis.com/auth/calendar.events", "https://www.googleapis.com/auth/gmail.compose"]
_MULTI = {"metadataHeaders", "privateExtendedProperty"}

_CAL = "/calendar/v3/"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)$"), "calendar_get"),
    ("GET", re.compile(_CAL + r"users/me/calendarList/(?P<cal>[^/]+)$"), "calendar_list_get"),
    ("GET", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events$"), "events_list"),
    ("POST", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events$"), "events_insert"),
    ("GET", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events_get"),
    ("PATCH", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events_patch"),
    ("PUT", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events_update"),
    ("DELETE", re.compile(_CAL + r"calendars/(?P<cal>[^/]+)/events/(?P<id>[^/]+)$"), "events_delete"),
    ("POST", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts/send$"), "drafts_send"),
    ("POST", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/send$"), "messages_send"),
    ("POST", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts$"), "drafts_create"),
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts$"), "drafts_list"),
    ("GET", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts/(?P<id>[^/]+)$"), "drafts_get"),
    ("PUT", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts/(?P<id>[^/]+)$"), "drafts_update"),
    ("DELETE", re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/drafts/(?P<id>[^/]+)$"), "drafts_delete"),
]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it (benchmarks count these and their bytes)."""

    method: str
    path: str
    query: str
    status: int  # 0 when the connection was dropped without an answer
    request_bytes: int
    response_bytes: int

    @property
    def api(self) -> str:
        if self.path.startswith("/calendar/"):
            return "calendar"
        if self.path.startswith(("/gmail/", "/upload/gmail/")):
            return "gmail"
        return "oauth"


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def _basic_client(authorization: str | None) -> dict[str, str]:
    """Client credentials sent as HTTP Basic (RFC 6749 §2.3.1), as requests-oauthlib
    does in the authorization-code exchange of ``auth login``."""
    if not authorization or not authorization.startswith("Basic "):
        return {}
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")
    except ValueError:
        return {}
    return {"client_id": unquote(user), "client_secret": unquote(password)}


def _json(status: int, payload: Any) -> _Reply:
    return _Reply(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"),
                  (("Content-Type", "application/json; charset=UTF-8"),))


class _Server(ThreadingHTTPServer):
    """Remembers open connections so ``stop`` can cut keep-alive clients off too."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        # headers and body leave in separate writes: without this, Nagle's algorithm holds the body
        # until the client's delayed ACK (40 ms a request on Linux), as no real front end would
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._sockets_lock:
            self.open_sockets.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._sockets_lock:
            for sock in self.open_sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Emulator:
    """Calendar v3, Gmail drafts and OAuth on an ephemeral loopback port.

    Use as a context manager or call ``start``/``stop``.  Every test control
    takes the same lock as the request handlers, so state is never torn.
    """

    created: ClassVar[list[Emulator]] = []  # every instance, for the never-send check in fixtures

    def __init__(self, account: str = "me@example.com", time_zone: str = "America/New_York") -> None:
        self.account = account
        self.lock = threading.RLock()
        self.calendar = CalendarApi(account, time_zone)
        self.gmail = GmailApi(account)
        self.oauth = OAuthServer()
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        Emulator.created.append(self)

    # ---- lifecycle ----------------------------------------------------------
    def start(self) -> Emulator:
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = _Server(handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="google-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.cut_connections()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The ``api_endpoint`` to configure (no trailing slash)."""
        assert self._server is not None, "the emulator is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def credentials(self, refresh_token: str = "rt", *, token: str | None = None) -> Any:
        """Real google-auth credentials whose refreshes go to this emulator."""
        from google.oauth2.credentials import Credentials

        return Credentials(token=token, refresh_token=refresh_token, token_uri=self.token_uri,
                           client_id="cid.apps.googleusercontent.com", client_secret="cs", scopes=SCOPES)

    # ---- Calendar controls --------------------------------------------------
    def add_calendar(self, calendar_id: str, time_zone: str = "UTC", summary: str = "",
                     access_role: str = "owner") -> None:
        with self.lock:
            self.calendar.add_calendar(calendar_id, time_zone=time_zone, summary=summary, access_role=access_role)

    def set_access_role(self, calendar_id: str, role: str) -> None:
        """The owner changes how the calendar is shared with the account ("reader", "writer" …)."""
        with self.lock:
            self.calendar.resolve(calendar_id).access_role = role

    def purge_tombstones(self, calendar_id: str | None = None) -> int:
        with self.lock:
            return self.calendar.purge_tombstones(calendar_id)

    def set_search_lag(self, seconds: float) -> None:
        """New and rewritten drafts stay invisible to ``q`` searches for ``seconds``."""
        with self.lock:
            self.gmail.search_lag = seconds

    def seed_event(self, calendar_id: str = "primary", **resource: Any) -> Json:
        """Add an event as if someone (a recruiter, the person) created it."""
        with self.lock:
            cal = self.calendar.resolve(calendar_id)
            resource.setdefault("id", f"seed{len(cal.events):06d}{int(time.time() * 1e6) % 10**8:08d}")
            return dict(self.calendar.store(cal, resource))

    def user_edit_event(self, calendar_id: str, event_id: str, **changes: Any) -> Json:
        """The person edits an event in the Calendar UI (new etag)."""
        with self.lock:
            return self.calendar.patch(calendar_id, event_id, changes, None)

    def user_delete_event(self, calendar_id: str, event_id: str) -> None:
        with self.lock:
            self.calendar.delete(calendar_id, event_id, None)

    def events(self, calendar_id: str = "primary", *, include_cancelled: bool = False) -> list[Json]:
        with self.lock:
            cal = self.calendar.resolve(calendar_id)
            return [dict(e.resource) for e in cal.events.values() if include_cancelled or not e.cancelled]

    def event(self, calendar_id: str, event_id: str) -> Json | None:
        with self.lock:
            found = self.calendar.resolve(calendar_id).events.get(event_id)
            return dict(found.resource) if found else None

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        with self.lock:
            self.calendar.invalidate_sync_tokens(calendar_id)

    # ---- Gmail controls -----------------------------------------------------
    def drafts(self) -> list[tuple[str, str, EmailMessage]]:
        """``(draft id, message id, parsed message)`` of every draft."""
        with self.lock:
            return [(d.id, d.message_id, d.parsed()) for d in self.gmail.drafts.values()]

    def user_edit_draft(self, draft_id: str, new_body: str) -> str:
        """The person edits a draft's text; returns its new message id."""
        with self.lock:
            msg = self.gmail.drafts[draft_id].parsed()
            msg.set_content(new_body)
            return self.gmail.user_edit(draft_id, msg.as_bytes(policy=policy.SMTP))

    def user_delete_draft(self, draft_id: str) -> None:
        with self.lock:
            del self.gmail.drafts[draft_id]

    def user_send_draft(self, draft_id: str) -> None:
        with self.lock:
            self.gmail.user_send(draft_id)

    @property
    def violations(self) -> list[str]:
        """Every attempt to send mail (SPEC §4.1); must stay empty."""
        with self.lock:
            return list(self.gmail.violations)

    # ---- OAuth controls -----------------------------------------------------
    def revoke_grant(self) -> None:
        self.oauth.revoke_grant()

    def restore_grant(self) -> None:
        self.oauth.restore_grant()

    def expire_access_tokens(self) -> None:
        self.oauth.expire_access_tokens()

    # ---- faults and the log -------------------------------------------------
    def fail(self, method: str | None, path: str, status: int = 503, reason: str = "backendError",
             times: int = 1, message: str = "", skip: int = 0) -> Fault:
        return self.faults.add(Fault(method, path, "status", times, status, reason,
                                     message or f"emulated {status} {reason}", skip=skip))

    def fail_item(self, subject: str, status: int = 400, reason: str = "badRequest",
                  method: str | None = None, times: int = 10**9) -> Fault:
        """Every write about ``subject`` fails with ``status``: a permanent per-item failure.
        ``subject`` is an interview id (a reminder's private property) or a draft's recipient."""
        def about(method_: str, path: str, body: bytes) -> bool:
            return method_ != "GET" and subject.lower() in self._subjects(path, body)
        return self.faults.add(Fault(method, r"/(events|drafts)", "status", times, status, reason,
                                     f"emulated {status} {reason}", about=about))

    def _subjects(self, path: str, body: bytes) -> set[str]:
        """What a request is about (for ``fail_item``): interview ids of reminders, recipients of drafts."""
        found: set[str] = set()
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
        private = (payload.get("extendedProperties") or {}).get("private") or {}
        if PROP_INTERVIEW in private:
            found.add(private[PROP_INTERVIEW])
        raw = (payload.get("message") or {}).get("raw")
        messages = [decode_raw(raw)] if raw else []
        with self.lock:
            tail = path.rstrip("/").rsplit("/", 1)[-1]
            for cal in self.calendar.calendars.values():
                event = cal.events.get(tail)
                if event is not None:
                    props = (event.resource.get("extendedProperties") or {}).get("private") or {}
                    found.add(props.get(PROP_INTERVIEW, ""))
            draft = self.gmail.drafts.get(tail)
            if draft is not None:
                messages.append(draft.raw)
        for raw_bytes in messages:
            message = BytesParser(policy=policy.default).parsebytes(raw_bytes)
            found.update(a.addr_spec.lower() for a in getattr(message.get("To"), "addresses", ()))
        return {f.lower() for f in found}

    def drop_after_commit(self, method: str | None, path: str, times: int = 1, skip: int = 0) -> Fault:
        return self.faults.add(Fault(method, path, "drop_after", times, skip=skip))

    def drop_before(self, method: str | None, path: str, times: int = 1) -> Fault:
        return self.faults.add(Fault(method, path, "drop_before", times))

    def delay(self, method: str | None, path: str, seconds: float, times: int = 1) -> Fault:
        return self.faults.add(Fault(method, path, "delay", times, seconds=seconds))

    def on_request(self, method: str | None, path: str, callback: Callable[[], None], times: int = 1,
                   skip: int = 0) -> Fault:
        return self.faults.add(Fault(method, path, "hook", times, callback=callback, skip=skip))

    def log(self, api: str | None = None) -> list[RequestRecord]:
        """Requests so far (``api``: "calendar", "gmail" or "oauth" to filter)."""
        with self.lock:
            return [r for r in self.requests if api is None or r.api == api]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # ---- dispatch (called by the handler) -----------------------------------
    def dispatch(self, method: str, path: str, query: dict[str, Any], headers: Any, body: bytes) -> _Reply:
        if path in ("/token", "/o/oauth2/token") and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
            form.update(_basic_client(headers.get("Authorization")) if "client_id" not in form else {})
            try:
                return _json(200, self.oauth.token(form))
            except OAuthError as err:
                return _json(err.status, err.body())
        if path in ("/revoke", "/o/oauth2/revoke") and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
            self.oauth.revoke(form.get("token", "") or str(query.get("token", "")))
            return _Reply(200)
        try:
            if path == "/o/oauth2/auth" and method == "GET":
                return _Reply(302, b"", (("Location", self.oauth.authorize(query)),))
            if path.startswith("/upload/") or path.startswith("/batch"):
                raise ApiError(400, "The emulator refuses media upload and batch paths: send JSON bodies "
                               "(message.raw) to the api_endpoint", "badRequest")
            for route_method, pattern, name in _ROUTES:
                found = pattern.match(path)
                if found and route_method == method:
                    granted = self.oauth.check_bearer(headers.get("Authorization"))
                    if not scopes.allowed(name, granted):
                        raise ApiError(403, "Request had insufficient authentication scopes.",
                                       "insufficientPermissions")
                    args = {k: unquote(v) for k, v in found.groupdict().items()}
                    payload = json.loads(body) if body else {}
                    with self.lock:
                        result = getattr(self, "_" + name)(args, query, headers, payload)
                    return _Reply(204) if result is None else _json(200, result)
            raise ApiError(404, f"No such method: {method} {path}", "notFound")
        except ApiError as err:
            reply = _json(err.status, err.body())
            if err.status == 401:
                reply.headers += (("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"'),)
            return reply
        except json.JSONDecodeError:
            return _json(400, error_body(400, "Invalid JSON payload received.", "parseError"))

    # one method per route: (path args, query, headers, JSON body) -> response JSON or None (204)
    def _calendar_get(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.calendar_get(a["cal"])

    def _calendar_list_get(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.calendar_get(a["cal"], listing=True)

    def _events_list(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.list_events(a["cal"], q)

    def _events_insert(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.insert(a["cal"], b)

    def _events_get(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.get(a["cal"], a["id"])

    def _events_patch(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.patch(a["cal"], a["id"], b, h.get("If-Match"))

    def _events_update(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.calendar.update(a["cal"], a["id"], b, h.get("If-Match"))

    def _events_delete(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> None:
        self.calendar.delete(a["cal"], a["id"], h.get("If-Match"))

    def _drafts_create(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.gmail.create(a["user"], b)

    def _drafts_list(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.gmail.list_drafts(a["user"], q)

    def _drafts_get(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.gmail.get(a["user"], a["id"], q)

    def _drafts_update(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        return self.gmail.update(a["user"], a["id"], b)

    def _drafts_delete(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> None:
        self.gmail.delete(a["user"], a["id"])

    def _drafts_send(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        raise self.gmail.send_violation(f"drafts.send {json.dumps(b)[:200]}")

    def _messages_send(self, a: dict[str, str], q: dict[str, Any], h: Any, b: Json) -> Json:
        raise self.gmail.send_violation(f"messages.send {json.dumps(b)[:200]}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: Emulator

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def _handle(self) -> None:
        emu = self.emulator
        split = urlsplit(self.path)
        query: dict[str, Any] = {}
        for key, values in parse_qs(split.query, keep_blank_values=True).items():
            query[key] = values if key in _MULTI else values[-1]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = emu.faults.take(self.command, split.path, body)
        reply: _Reply | None
        if fault is not None and fault.action == "status":
            reply = _json(fault.status, error_body(fault.status, fault.message, fault.reason))
        elif fault is not None and fault.action == "drop_before":
            reply = None
        else:
            if fault is not None and fault.action == "delay":
                time.sleep(fault.seconds)
            if fault is not None and fault.action == "hook" and fault.callback is not None:
                fault.callback()
            reply = emu.dispatch(self.command, split.path, query, self.headers, body)
            if fault is not None and fault.action == "drop_after":
                reply = None
        with emu.lock:
            emu.requests.append(RequestRecord(self.command, split.path, split.query,
                                              reply.status if reply else 0, len(body) + len(self.path),
                                              len(reply.body) if reply else 0))
        if reply is None:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

