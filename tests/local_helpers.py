"""Fixtures shared by the tests of the local backends (``tests/test_local_*.py``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from followupd.core.settings import Config, IcsConfig, MaildirConfig, MeConfig

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TIME_MIN = datetime(2026, 2, 20, tzinfo=timezone.utc)
ME = MeConfig(name="Jordan Rivera", email="me@example.com", phone="+1 555 0100")


def local_config(tmp_path: Path, source: str | Path = "", me: MeConfig = ME) -> Config:
    """The local backends in ``tmp_path``; the reminders file's folder exists (followupd makes none there)."""
    (tmp_path / "out").mkdir(exist_ok=True)
    return Config(
        me=me,
        ics=IcsConfig(source=str(source or tmp_path / "in.ics"), output=tmp_path / "out" / "followups.ics"),
        maildir=MaildirConfig(path=tmp_path / "Mail" / "Drafts"),
    )


@dataclass
class CalendarServer:
    """A loopback HTTP server answering ``routes[path] = (status, body)``; counts requests."""

    base: str
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def serve_calendars() -> Iterator[CalendarServer]:
    """Generator for a pytest fixture: a ``CalendarServer`` on 127.0.0.1 in a thread."""
    state = CalendarServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.requests.append(self.path)
            status, body = state.routes.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
