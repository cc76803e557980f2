"""No secret ever reaches output, logs, state or config (SPEC §4.8).

Distinctive values stand in for the client secret, the refresh token and every
access token the emulator issues; CLI commands run with and without --verbose,
including a daemon pass that refreshes a token and recovers from a 401.  Then
stdout, stderr, every log record (any logger, DEBUG and up) and every byte of
every file under the test's HOME (config, state database, Maildir, ICS) are
searched for them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from followupd.cli.app import main

from auth_helpers import CLIENT_SECRET, REFRESH_TOKEN, authorized_user, write_config
from emulator import Emulator
from emulator.oauth import OAuthServer


@pytest.fixture
def issued_access_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token the emulator hands out during the test."""
    issued: list[str] = []
    original = OAuthServer._issue

    def recording(self: OAuthServer, rt: str) -> dict[str, Any]:
        body = original(self, rt)
        issued.append(str(body["access_token"]))
        return body

    monkeypatch.setattr(OAuthServer, "_issue", recording)
    return issued


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture DEBUG records of every logger, google-auth and the API client included."""
    caplog.set_level(logging.DEBUG)
    yield caplog


def _secrets(issued: list[str]) -> list[str]:
    return [CLIENT_SECRET, REFRESH_TOKEN, *issued]


def _assert_nowhere(secrets: list[str], home: Path, *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text, "a secret reached the output or the log"
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"a secret reached {path}"


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["quiet", "verbose"])
def test_auth_commands_leak_nothing(verbose: list[str], isolated_home: Path, google_emulator: Emulator,
                                    issued_access_tokens: list[str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str],
                                    everything_logged: pytest.LogCaptureFixture) -> None:
    config = write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)
    creds = tmp_path / "outside-home" / "authorized_user.json"  # the import file itself is allowed to hold them
    creds.parent.mkdir()
    creds.write_text(json.dumps(authorized_user(token_uri=google_emulator.token_uri, token="ACCESS-in-file")))
    base = [*verbose, "--config", str(config)]

    assert main([*base, "auth", "import", str(creds)]) == 0
    assert main([*base, "auth", "status"]) == 0
    assert main([*base, "doctor"]) in (0, 1)  # 1: no systemd unit in the test HOME
    google_emulator.revoke_grant()
    assert main([*base, "auth", "status"]) == 3  # an invalid_grant error message
    assert main([*base, "auth", "logout"]) == 0
    out, err = capsys.readouterr()

    assert len(issued_access_tokens) >= 2
    _assert_nowhere([*_secrets(issued_access_tokens), "ACCESS-in-file"], isolated_home, out, err,
                    everything_logged.text)


def test_bad_import_file_is_not_echoed(isolated_home: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str],
                                       everything_logged: pytest.LogCaptureFixture) -> None:
    config = write_config(isolated_home)
    bad = tmp_path / "bad.json"
    bad.write_text('{"client_secret": "' + CLIENT_SECRET + '", "refresh_token": "' + REFRESH_TOKEN + '",')
    assert main(["--verbose", "--config", str(config), "auth", "import", str(bad)]) == 2
    out, err = capsys.readouterr()
    _assert_nowhere([CLIENT_SECRET, REFRESH_TOKEN], isolated_home, out, err, everything_logged.text)


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["quiet", "verbose"])
def test_daemon_pass_with_refresh_and_401_leaks_nothing(
        verbose: list[str], isolated_home: Path, google_emulator: Emulator, issued_access_tokens: list[str],
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        everything_logged: pytest.LogCaptureFixture) -> None:
    emu = google_emulator
    config = write_config(isolated_home, account=emu.account, api_endpoint=emu.base_url)
    creds = tmp_path / "authorized_user.json"
    creds.write_text(json.dumps(authorized_user(token_uri=emu.token_uri)))
    base = [*verbose, "--config", str(config)]
    assert main([*base, "auth", "import", str(creds)]) == 0

    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    emu.seed_event(id="interview1", summary="Interview: Acme – Engineer",
                   start={"dateTime": start.isoformat()}, end={"dateTime": (start + timedelta(hours=1)).isoformat()},
                   attendees=[{"email": emu.account, "self": True, "responseStatus": "accepted"},
                              {"email": "ann@acme.example", "displayName": "Ann Smith",
                               "responseStatus": "accepted"}])
    assert main([*base, "run", "--once"]) == 0
    assert emu.drafts(), "the pass should have written the thank-you draft"
    # in the next pass, the access token dies after the first listing: the next call gets a
    # 401, and google-auth refreshes (the secrets go over the wire again) and retries
    emu.on_request("GET", r"/events$", emu.expire_access_tokens)
    emu.seed_event(id="interview2", summary="Phone screen with Globex",
                   start={"dateTime": (start + timedelta(days=3)).isoformat()},
                   end={"dateTime": (start + timedelta(days=3, hours=1)).isoformat()})
    assert main([*base, "run", "--once"]) == 0
    assert any(r.status == 401 for r in emu.log())
    out, err = capsys.readouterr()

    assert len(issued_access_tokens) >= 2
    assert list((isolated_home / ".local" / "state" / "followupd").iterdir())  # state.db was written
    _assert_nowhere(_secrets(issued_access_tokens), isolated_home, out, err, everything_logged.text)
