"""followupd against a real Secret Service (gnome-keyring in a private D-Bus session).

Run with ``bash tests/secret_service_session.sh .venv/bin/python -m pytest -m secret_service``;
skipped otherwise (see conftest).  Nothing here uses the in-memory keyring.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import keyring
import pytest
from keyring.backends import SecretService

from followupd.auth import google as auth
from followupd.auth import keystore
from followupd.cli.app import main
from followupd.core.settings import Config, GoogleConfig
from followupd.errors import AuthError

from auth_helpers import CLIENT_SECRET, REFRESH_TOKEN, authorized_user, write_config
from emulator import Emulator

pytestmark = pytest.mark.secret_service


@pytest.fixture
def account() -> Iterator[str]:
    """A fresh keyring user per test; its entries are removed afterwards."""
    name = f"ss-{uuid.uuid4().hex[:8]}@example.com"
    yield name
    auth.delete_all(Config(google=GoogleConfig(account=name)))


def _secret_service_items(user: str) -> list[str]:
    """The secrets stored under ``followupd``/``user``, read with secretstorage directly."""
    import secretstorage

    with secretstorage.dbus_init() as conn:
        items = secretstorage.search_items(conn, {"service": "followupd", "username": user})
        return [item.get_secret().decode() for item in items]


def test_default_backend_is_the_secret_service() -> None:
    backend = keystore.effective_backend(keyring.get_keyring())
    assert isinstance(backend, SecretService.Keyring)
    assert keystore.insecure_reason(backend) is None


def test_store_and_load_through_the_keyring_api(account: str) -> None:
    cfg = Config(google=GoogleConfig(account=account))
    assert auth.check_keyring(cfg) == "keyring.backends.SecretService.Keyring"
    auth.store_authorized_user(cfg, authorized_user(token="ACCESS-never-stored"))
    [stored] = _secret_service_items(account)
    assert json.loads(stored)["refresh_token"] == REFRESH_TOKEN
    assert "ACCESS-never-stored" not in stored
    creds = auth.load_credentials(cfg)
    assert creds.refresh_token == REFRESH_TOKEN and creds.client_secret == CLIENT_SECRET


def test_import_status_logout(account: str, isolated_home: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    with Emulator(account=account) as emu:
        config = write_config(isolated_home, account=account, api_endpoint=emu.base_url)
        creds_file = tmp_path / "authorized_user.json"
        creds_file.write_text(json.dumps(authorized_user(token_uri=emu.token_uri)))
        creds_file.chmod(0o600)

        assert main(["--config", str(config), "auth", "import", str(creds_file)]) == 0
        assert len(_secret_service_items(account)) == 1

        assert main(["--config", str(config), "auth", "status"]) == 0
        out = capsys.readouterr().out
        assert "keyring.backends.SecretService.Keyring" in out and "token refresh: ok" in out

        assert main(["--config", str(config), "auth", "logout"]) == 0
        assert _secret_service_items(account) == []
        assert [r.path for r in emu.log("oauth")][-1] == "/revoke"
        assert main(["--config", str(config), "auth", "status"]) == 3


@pytest.fixture
def locked_collection() -> Iterator[None]:
    """Lock the default collection; unlock it afterwards by replacing the daemon
    (unlocking through the API would need the prompt nobody can answer)."""
    import secretstorage

    with secretstorage.dbus_init() as conn:
        secretstorage.get_default_collection(conn).lock()
    try:
        yield
    finally:
        password = os.environ.get("FOLLOWUPD_TEST_KEYRING_PASSWORD", "followupd-ci")
        subprocess.run(["gnome-keyring-daemon", "--replace", "--unlock", "--components=secrets"],
                       input=password.encode(), capture_output=True, check=True, timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with secretstorage.dbus_init() as conn:
                if not secretstorage.get_default_collection(conn).is_locked():
                    break
            time.sleep(0.1)


def test_locked_collection_is_an_auth_error_not_a_hang(
        account: str, locked_collection: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore, "TIMEOUT_SECONDS", 5.0)
    cfg = Config(google=GoogleConfig(account=account))
    started = time.monotonic()
    with pytest.raises(AuthError, match="locked|did not answer"):
        auth.load_credentials(cfg)
    assert time.monotonic() - started < 8


def test_locked_collection_through_the_cli_exits_3(
        account: str, locked_collection: None, isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(keystore, "TIMEOUT_SECONDS", 5.0)
    config = write_config(isolated_home, account=account)
    assert main(["--config", str(config), "auth", "status"]) == 3
    err = capsys.readouterr().err
    assert "locked" in err or "did not answer" in err
    assert "Traceback" not in err
