"""Fixtures shared by the auth, doctor and secrets tests: a config file on disk,
an authorized-user dict with recognisable fake secrets, and a fake google-auth transport."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "jordan@example.com"
# Distinctive values: the leak tests search every output and file for them.
CLIENT_SECRET = "CLIENTSECRET-k7Zq0v"
REFRESH_TOKEN = "REFRESHTOKEN-p3Xw9m"


def authorized_user(token_uri: str = "https://oauth2.googleapis.com/token", **extra: Any) -> dict[str, Any]:
    """An authorized-user dict in the shape of ``Credentials.to_json()``."""
    info: dict[str, Any] = {
        "client_id": "1234-test.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "token_uri": token_uri,
        "scopes": ["https://www.googleapis.com/auth/calendar.events",
                   "https://www.googleapis.com/auth/gmail.compose"],
    }
    info.update(extra)
    return info


def client_secrets(token_uri: str = "https://oauth2.googleapis.com/token",
                   auth_uri: str = "https://accounts.google.com/o/oauth2/auth") -> dict[str, Any]:
    """A Google Cloud Console "Desktop app" client JSON."""
    return {"installed": {
        "client_id": "1234-test.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "auth_uri": auth_uri,
        "token_uri": token_uri,
        "redirect_uris": ["http://localhost"],
    }}


def write_config(home: Path, *, account: str = ACCOUNT, api_endpoint: str = "", calendar: str = "google",
                 mail: str = "gmail", extra: str = "") -> Path:
    """A valid config.toml under the test's XDG config dir; returns its path."""
    path = home / ".config" / "followupd" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""\
[me]
name = "Jordan Rivera"
email = "{ACCOUNT}"

[calendar]
backend = "{calendar}"

[mail]
backend = "{mail}"

[google]
account = "{account}"
api_endpoint = "{api_endpoint}"

[ics]
source = "{home}/interviews.ics"
output = "{home}/followups.ics"

[maildir]
path = "{home}/Mail/Drafts"
{extra}
""", encoding="utf-8")
    return path


@dataclass
class FakeResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeTransport:
    """A google.auth.transport.Request that answers from a list and records calls."""

    answers: list[tuple[int, dict[str, Any]]]
    calls: list[tuple[str, str, bytes | None]] = field(default_factory=list)

    def __call__(self, url: str, method: str = "GET", body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float | None = None,
                 **kwargs: Any) -> FakeResponse:
        self.calls.append((url, method, body))
        status, payload = self.answers.pop(0)
        return FakeResponse(status, json.dumps(payload).encode())
