"""Credentials from the keyring: refresh against the stored token_uri, error mapping,
refresh-token rotation written back, revocation endpoint derivation."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import google.auth.exceptions
import pytest

from followupd.auth import google as auth
from followupd.core.settings import Config, GoogleConfig
from followupd.errors import AuthError, ConfigError, TransientError
from followupd.testing.memory_keyring import MemoryKeyring

from auth_helpers import ACCOUNT, CLIENT_SECRET, REFRESH_TOKEN, FakeTransport, authorized_user

CFG = Config(google=GoogleConfig(account=ACCOUNT))
TOKEN_URI = "http://127.0.0.1:9/oauth/token"


def test_refresh_uses_stored_token_uri_and_keeps_access_token_out_of_keyring(
        memory_keyring: MemoryKeyring) -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG)
    transport = FakeTransport([(200, {"access_token": "ACCESS-1", "expires_in": 3600})])
    creds.refresh(transport)
    assert creds.token == "ACCESS-1" and creds.valid
    url, method, body = transport.calls[0]
    assert (url, method) == (TOKEN_URI, "POST")
    form = parse_qs((body or b"").decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH_TOKEN]
    assert "ACCESS-1" not in memory_keyring.store[("followupd", ACCOUNT)]


def test_rotated_refresh_token_is_written_back(memory_keyring: MemoryKeyring) -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG)
    creds.refresh(FakeTransport([(200, {"access_token": "A", "expires_in": 3600,
                                        "refresh_token": "ROTATED-rt"})]))
    stored = json.loads(memory_keyring.store[("followupd", ACCOUNT)])
    assert stored["refresh_token"] == "ROTATED-rt"
    assert stored["client_secret"] == CLIENT_SECRET and "token" not in stored


def test_copies_keep_the_write_back(memory_keyring: MemoryKeyring) -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG).with_quota_project("p")
    creds.refresh(FakeTransport([(200, {"access_token": "A", "expires_in": 60, "refresh_token": "R2"})]))
    assert json.loads(memory_keyring.store[("followupd", ACCOUNT)])["refresh_token"] == "R2"


def test_invalid_grant_is_an_auth_error() -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG)
    bad = FakeTransport([(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})])
    with pytest.raises(AuthError, match=r"invalid_grant.*followupd auth login") as info:
        creds.refresh(bad)
    assert REFRESH_TOKEN not in str(info.value) and CLIENT_SECRET not in str(info.value)


def test_server_errors_are_transient() -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG)
    # google-auth retries a 503 itself (three attempts) before giving up
    flaky = FakeTransport([(503, {"error": "temporarily_unavailable"})] * 3)
    with pytest.raises(TransientError):
        creds.refresh(flaky)


def test_unreachable_token_endpoint_is_transient() -> None:
    auth.store_authorized_user(CFG, authorized_user(token_uri=TOKEN_URI))
    creds = auth.load_credentials(CFG)

    def down(*args: object, **kwargs: object) -> None:
        raise google.auth.exceptions.TransportError("Connection refused")

    with pytest.raises(TransientError, match="could not reach"):
        creds.refresh(down)  # type: ignore[arg-type]


@pytest.mark.parametrize("code,expected", [
    ("invalid_grant", AuthError), ("invalid_client", AuthError), ("unauthorized_client", AuthError),
    ("temporarily_unavailable", TransientError)])
def test_refresh_error_mapping(code: str, expected: type[Exception]) -> None:
    exc = google.auth.exceptions.RefreshError(f"{code}: something", {"error": code})
    assert isinstance(auth.refresh_error(exc), expected)


def test_validation_names_missing_fields_but_no_values() -> None:
    with pytest.raises(ConfigError) as info:
        auth.validate_authorized_user({"client_id": "x", "client_secret": CLIENT_SECRET})
    text = str(info.value)
    assert "missing field 'refresh_token'" in text
    assert CLIENT_SECRET not in text


def test_validation_recognises_a_client_file() -> None:
    with pytest.raises(ConfigError, match="--client-secrets"):
        auth.validate_authorized_user({"installed": {"client_id": "x"}})


def test_validation_rejects_non_objects_and_bad_types() -> None:
    with pytest.raises(ConfigError, match="not a JSON object"):
        auth.validate_authorized_user(["a"])
    with pytest.raises(ConfigError, match="'scopes' must be a list"):
        auth.validate_authorized_user(authorized_user(scopes="calendar"))
    with pytest.raises(ConfigError, match="'token_uri' must be an https URL"):
        auth.validate_authorized_user(authorized_user(token_uri="file:///etc/passwd"))


def test_missing_token_uri_defaults_to_google() -> None:
    info = authorized_user()
    del info["token_uri"]
    assert auth.validate_authorized_user(info)["token_uri"] == "https://oauth2.googleapis.com/token"


@pytest.mark.parametrize("token_uri,revoke", [
    ("https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/revoke"),
    ("https://accounts.google.com/o/oauth2/token", "https://accounts.google.com/o/oauth2/revoke"),
    ("http://127.0.0.1:8123/token", "http://127.0.0.1:8123/revoke"),
    ("http://127.0.0.1:8123/oauth2/v4/token?x=1", "http://127.0.0.1:8123/oauth2/v4/revoke"),
    ("", "https://oauth2.googleapis.com/revoke"),
])
def test_revoke_uri(token_uri: str, revoke: str) -> None:
    assert auth.revoke_uri(token_uri) == revoke


def test_revoke_posts_the_token_in_the_body() -> None:
    transport = FakeTransport([(200, {})])
    auth.revoke(authorized_user(token_uri=TOKEN_URI), transport)
    url, method, body = transport.calls[0]
    assert url == "http://127.0.0.1:9/oauth/revoke" and method == "POST"
    assert REFRESH_TOKEN not in url
    assert parse_qs((body or b"").decode()) == {"token": [REFRESH_TOKEN]}


def test_revoke_of_an_already_dead_token_is_fine_and_errors_are_transient() -> None:
    auth.revoke(authorized_user(), FakeTransport([(400, {"error": "invalid_token"})]))
    with pytest.raises(TransientError, match="HTTP 503"):
        auth.revoke(authorized_user(), FakeTransport([(503, {})]))


def test_missing_scopes() -> None:
    assert auth.missing_scopes(authorized_user()) == []
    assert auth.missing_scopes(authorized_user(scopes=[])) == []  # not recorded: unknown
    only_cal = authorized_user(scopes=["https://www.googleapis.com/auth/calendar.events"])
    assert auth.missing_scopes(only_cal) == ["https://www.googleapis.com/auth/gmail.compose"]


@pytest.mark.parametrize("uri,ok", [
    ("https://oauth2.googleapis.com/token", True), ("https://proxy.example/token", True),
    ("http://127.0.0.1:8080/token", True), ("http://localhost/token", True),
    ("http://proxy.example/token", False), ("ftp://x/token", False), (42, False)])
def test_token_uri_must_not_send_secrets_in_clear(uri: object, ok: bool) -> None:
    if ok:
        auth.validate_authorized_user(authorized_user(token_uri=uri))
    else:
        with pytest.raises(ConfigError, match="token_uri"):
            auth.validate_authorized_user(authorized_user(token_uri=uri))
