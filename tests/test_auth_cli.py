"""`followupd auth login | import | status | logout` through ``cli.main``, against the emulator."""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import threading
import urllib.request
import webbrowser
from pathlib import Path
from typing import Any, Callable

import pytest

from followupd.auth import google as auth
from followupd.cli.app import main
from followupd.core.settings import Config, GoogleConfig
from followupd.testing.memory_keyring import MemoryKeyring

from auth_helpers import CLIENT_SECRET, REFRESH_TOKEN, authorized_user, client_secrets, write_config
from emulator import Emulator


@pytest.fixture
def config(isolated_home: Path, google_emulator: Emulator) -> Path:
    return write_config(isolated_home, account=google_emulator.account, api_endpoint=google_emulator.base_url)


def _cfg(emu: Emulator) -> Config:
    return Config(google=GoogleConfig(account=emu.account))


def _import(config: Path, tmp_path: Path, info: dict[str, Any]) -> int:
    path = tmp_path / "authorized_user.json"
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return main(["--config", str(config), "auth", "import", str(path)])


# --- import ------------------------------------------------------------------------------------

def test_import_stores_and_suggests_deleting(config: Path, tmp_path: Path, google_emulator: Emulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri)) == 0
    out, err = capsys.readouterr()
    assert "Stored the credentials for me@example.com" in out
    assert "shred -u" in out
    assert "not at Google" in err  # the emulator's token endpoint is called out
    stored = auth.load_authorized_user(_cfg(google_emulator))
    assert stored is not None and stored["refresh_token"] == REFRESH_TOKEN


@pytest.mark.parametrize("content,expected", [
    ('{"client_id": "x", "client_secret": "' + CLIENT_SECRET + '"}', "missing field 'refresh_token'"),
    ("{oops " + CLIENT_SECRET, "is not valid JSON (line 1, column 2)"),
    ('{"installed": {}}', "--client-secrets"),
])
def test_import_validation(config: Path, tmp_path: Path, content: str, expected: str,
                           capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["--config", str(config), "auth", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(path) in err
    assert CLIENT_SECRET not in err
    assert memory_keyring.store == {}


def test_import_missing_file(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "auth", "import", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_import_warns_about_a_readable_file_and_missing_scopes(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "u.json"
    path.write_text(json.dumps(authorized_user(scopes=["https://www.googleapis.com/auth/calendar.events"])))
    path.chmod(0o644)
    assert main(["--config", str(config), "auth", "import", str(path)]) == 0
    err = capsys.readouterr().err
    assert "readable by other users" in err
    assert "lacks gmail.compose" in err


# --- status ------------------------------------------------------------------------------------

def test_status_reports_facts_and_a_working_refresh(config: Path, tmp_path: Path, google_emulator: Emulator,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri))
    capsys.readouterr()
    assert main(["--config", str(config), "auth", "status"]) == 0
    out = capsys.readouterr().out
    assert "account:       me@example.com" in out
    assert "keyring:       followupd.testing.memory_keyring.MemoryKeyring" in out
    assert "scopes:        calendar.events, gmail.compose" in out
    assert "token refresh: ok" in out
    assert google_emulator.oauth.refresh_count == 1


def test_status_without_credentials_exits_3(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "auth", "status"]) == 3
    err = capsys.readouterr().err
    assert "not authorized yet" in err and "followupd auth login" in err


def test_revoked_grant_exits_3_saying_to_log_in(config: Path, tmp_path: Path, google_emulator: Emulator,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri))
    google_emulator.revoke_grant()
    capsys.readouterr()
    assert main(["--config", str(config), "auth", "status"]) == 3
    out, err = capsys.readouterr()
    assert "token refresh: FAILED" in out
    assert "invalid_grant" in err and "followupd auth login" in err
    assert "Traceback" not in err


def test_status_with_the_token_endpoint_down(config: Path, tmp_path: Path, google_emulator: Emulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri))
    google_emulator.stop()
    capsys.readouterr()
    assert main(["--config", str(config), "auth", "status"]) == 1
    assert "token refresh: unreachable" in capsys.readouterr().out


# --- logout ------------------------------------------------------------------------------------

def test_logout_revokes_at_the_emulator_and_deletes(config: Path, tmp_path: Path, google_emulator: Emulator,
                                                    memory_keyring: MemoryKeyring,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri))
    auth.store_client_secrets(_cfg(google_emulator), client_secrets())
    assert main(["--config", str(config), "auth", "logout"]) == 0
    assert memory_keyring.store == {}
    assert [(r.method, r.path) for r in google_emulator.log("oauth")] == [("POST", "/revoke")]
    # the grant is really gone: a refresh with the old token now fails
    creds = google_emulator.credentials(refresh_token=REFRESH_TOKEN)
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request

    with pytest.raises(RefreshError, match="invalid_grant"):
        creds.refresh(Request())
    assert "Revoked followupd's access" in capsys.readouterr().out


def test_logout_with_revoke_unreachable_still_deletes(config: Path, tmp_path: Path, google_emulator: Emulator,
                                                      memory_keyring: MemoryKeyring,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _import(config, tmp_path, authorized_user(token_uri=google_emulator.token_uri))
    google_emulator.stop()
    assert main(["--config", str(config), "auth", "logout"]) == 0
    assert memory_keyring.store == {}
    out, err = capsys.readouterr()
    assert "could not revoke" in err and "myaccount.google.com/permissions" in err
    assert "Deleted followupd's entries" in out


def test_logout_with_nothing_stored(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "auth", "logout"]) == 0
    assert "No credentials stored" in capsys.readouterr().out


# --- login -------------------------------------------------------------------------------------

class _Browser:
    """Stands in for the person: visits the consent URL (the emulator approves and
    redirects) and follows the redirect to followupd's loopback server."""

    def __init__(self, rewrite: Callable[[str], str] = lambda url: url) -> None:
        self.rewrite = rewrite
        self.visited: list[str] = []
        self.errors: list[BaseException] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.visited.append(url)
        threading.Thread(target=self._visit, args=(self.rewrite(url),), daemon=True).start()
        return True

    def _visit(self, url: str) -> None:
        try:
            urllib.request.urlopen(url, timeout=10).read()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.errors.append(exc)


@pytest.fixture
def login_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http token endpoints; the emulator is loopback-only http
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _secrets_file(tmp_path: Path, emu: Emulator) -> Path:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(client_secrets(token_uri=emu.token_uri, auth_uri=emu.base_url + "/o/oauth2/auth")))
    path.chmod(0o600)
    return path


def test_login_with_a_browser(config: Path, tmp_path: Path, google_emulator: Emulator, login_env: None,
                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    browser = _Browser()
    monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)
    secrets = _secrets_file(tmp_path, google_emulator)
    assert main(["--config", str(config), "auth", "login", "--client-secrets", str(secrets)]) == 0, browser.errors
    [url] = browser.visited
    assert "access_type=offline" in url and "prompt=consent" in url and "code_challenge=" in url
    assert "login_hint=me%40example.com" in url
    stored = auth.load_authorized_user(_cfg(google_emulator))
    assert stored is not None
    assert stored["refresh_token"] == google_emulator.oauth.issued_refresh_tokens[-1]
    assert stored["token_uri"] == google_emulator.token_uri and "token" not in stored
    assert auth.load_client_secrets(_cfg(google_emulator)) is not None
    out = capsys.readouterr().out
    assert "Authorized me@example.com." in out
    assert "Granted scopes: calendar.events, gmail.compose" in out
    assert f"you may delete {secrets}" in out


class _Terminal(io.StringIO):
    """stdout that plays the person reading it: opens the printed URL in a 'browser'."""

    def __init__(self, browser: _Browser) -> None:
        super().__init__()
        self.browser = browser

    def write(self, text: str) -> int:
        found = re.search(r"https?://\S+/o/oauth2/auth\?\S+", text)
        if found:
            self.browser.open(found.group(0))
        return super().write(text)


def test_login_without_a_browser_prints_url_and_ssh_hint(
        config: Path, tmp_path: Path, google_emulator: Emulator, login_env: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_browser(using: str | None = None) -> Any:
        raise AssertionError("--no-browser must not open a browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    auth.store_client_secrets(_cfg(google_emulator), json.loads(_secrets_file(tmp_path, google_emulator).read_text()))
    browser = _Browser()
    terminal = _Terminal(browser)
    monkeypatch.setattr(sys, "stdout", terminal)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["--config", str(config), "auth", "login", "--no-browser", "--port", str(port)]) == 0, browser.errors
    out = terminal.getvalue()
    assert f"ssh -L {port}:localhost:{port}" in out
    assert f"redirect_uri=http%3A%2F%2Flocalhost%3A{port}%2F" in out
    assert "Authorized me@example.com." in out
    assert "you may delete" not in out  # the client came from the keyring


def test_login_when_the_person_declines(config: Path, tmp_path: Path, google_emulator: Emulator,
                                        login_env: None, monkeypatch: pytest.MonkeyPatch,
                                        memory_keyring: MemoryKeyring,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def decline(url: str) -> str:  # skip the consent screen: come back with an error, as Google does
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(url).query)
        return f"{q['redirect_uri'][0]}?error=access_denied&state={q['state'][0]}"

    browser = _Browser(decline)
    monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)
    secrets = _secrets_file(tmp_path, google_emulator)
    assert main(["--config", str(config), "auth", "login", "--client-secrets", str(secrets)]) == 3
    err = capsys.readouterr().err
    assert "access_denied" in err and "followupd auth login" in err
    assert ("followupd", "me@example.com") not in memory_keyring.store


def test_login_without_client_secrets_explains_where_to_get_them(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "auth", "login", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "Google Cloud Console" in err and "Desktop app" in err and "--client-secrets" in err


def test_login_on_a_busy_port(config: Path, tmp_path: Path, google_emulator: Emulator,
                              capsys: pytest.CaptureFixture[str]) -> None:
    secrets = _secrets_file(tmp_path, google_emulator)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["--config", str(config), "auth", "login", "--no-browser", "--port", str(port),
                     "--client-secrets", str(secrets)])
    assert code == 2
    assert f"localhost:{port}" in capsys.readouterr().err


def test_login_error_mapping() -> None:
    from followupd.cli.auth import _login_error
    from followupd.errors import AuthError, TransientError

    scope_warning = Warning('Scope has changed from "a b" to "a".')
    scope_warning.new_scope = ["https://www.googleapis.com/auth/calendar.events"]  # type: ignore[attr-defined]
    err = _login_error(scope_warning)
    assert isinstance(err, AuthError) and "missing: gmail.compose" in str(err)
    assert isinstance(_login_error(type("WSGITimeoutError", (Exception,), {})()), AuthError)
    assert isinstance(_login_error(type("ConnectionError", (OSError,), {})()), TransientError)


def test_a_refused_keyring_names_the_keyring_fix_not_a_new_login(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 3, but `auth login` cannot fix a plaintext keyring: the message says
    what can, and does not send the person through a pointless login."""
    import keyring
    from keyring.backends import null

    keyring.set_keyring(null.Keyring())
    assert main(["--config", str(config), "run", "--once"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("followupd: the keyring cannot be used:")
    assert "allow_insecure_keyring" in err and "auth login" not in err
