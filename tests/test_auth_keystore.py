"""The keyring wrapper: insecure backends refused, every call bounded in time (SPEC §4.8)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked
from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring
from keyrings.alt.multi import MultipartKeyringWrapper

from followupd.auth import google as auth
from followupd.auth import keystore
from followupd.core.settings import Config, GoogleConfig, SecurityConfig
from followupd.errors import AuthError
from followupd.testing.memory_keyring import MemoryKeyring

from auth_helpers import ACCOUNT, authorized_user

CFG = Config(google=GoogleConfig(account=ACCOUNT))
LAX = Config(google=GoogleConfig(account=ACCOUNT), security=SecurityConfig(allow_insecure_keyring=True))


class HangingKeyring(KeyringBackend):
    """A Secret Service stuck behind an unlock prompt nobody can see."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.fixture
def hanging(monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setattr(keystore, "TIMEOUT_SECONDS", 0.3)
    yield backend
    backend.release.set()


def test_round_trip_strips_access_token(memory_keyring: MemoryKeyring) -> None:
    info = authorized_user(token="ACCESS-abc", expiry="2030-01-01T00:00:00Z")
    auth.store_authorized_user(CFG, info)
    loaded = auth.load_authorized_user(CFG)
    assert loaded is not None
    assert loaded["refresh_token"] == info["refresh_token"]
    assert "token" not in loaded and "expiry" not in loaded
    stored = memory_keyring.store[("followupd", ACCOUNT)]
    assert "ACCESS-abc" not in stored


def test_client_secrets_kept_under_their_own_user(memory_keyring: MemoryKeyring) -> None:
    from auth_helpers import client_secrets

    auth.store_client_secrets(CFG, client_secrets())
    assert ("followupd", ACCOUNT + ":client") in memory_keyring.store
    assert auth.load_client_secrets(CFG) == client_secrets()
    auth.store_authorized_user(CFG, authorized_user())
    auth.delete_all(CFG)
    assert memory_keyring.store == {}
    auth.delete_all(CFG)  # deleting nothing is not an error


def test_load_credentials_without_anything_stored_says_to_log_in() -> None:
    with pytest.raises(AuthError, match="followupd auth login"):
        auth.load_credentials(CFG)


def test_damaged_entry_is_an_auth_error(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[("followupd", ACCOUNT)] = "{not json"
    with pytest.raises(AuthError, match="damaged"):
        auth.load_credentials(CFG)


def _encrypted() -> KeyringBackend:
    # without pycryptodome its __init__ fails; refusal depends only on the class
    return EncryptedKeyring.__new__(EncryptedKeyring)


@pytest.mark.parametrize("make", [null.Keyring, fail.Keyring, PlaintextKeyring, _encrypted],
                         ids=["null", "fail", "plaintext", "encrypted"])
def test_insecure_backends_refused_with_the_fix(make: Callable[[], KeyringBackend]) -> None:
    keyring.set_keyring(make())
    with pytest.raises(AuthError) as info:
        auth.store_authorized_user(CFG, authorized_user())
    text = str(info.value)
    assert "insecure keyring" in text
    assert "gnome-keyring" in text and "allow_insecure_keyring = true" in text
    with pytest.raises(AuthError):
        auth.check_keyring(CFG)


def test_plaintext_allowed_when_the_config_says_so(isolated_home: Path) -> None:
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    auth.store_authorized_user(LAX, authorized_user())
    assert auth.load_authorized_user(LAX) == authorized_user()
    assert Path(backend.file_path).is_relative_to(isolated_home)
    assert auth.check_keyring(LAX) == "keyrings.alt.file.PlaintextKeyring"


def test_multipart_wrapper_judged_by_what_it_wraps() -> None:
    assert keystore.insecure_reason(MultipartKeyringWrapper(PlaintextKeyring()))
    assert keystore.insecure_reason(MultipartKeyringWrapper(MemoryKeyring())) is None


def test_memory_keyring_is_accepted() -> None:
    assert auth.check_keyring(CFG) == "followupd.testing.memory_keyring.MemoryKeyring"


def test_chainer_uses_its_first_child_only(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = MemoryKeyring(), MemoryKeyring()
    second.set_password("followupd", ACCOUNT, "left behind by something else")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [first, second])
    keyring.set_keyring(chainer.ChainerBackend())
    assert keystore.effective_backend() is first
    assert auth.load_authorized_user(CFG) is None  # never falls through to the second child
    auth.store_authorized_user(CFG, authorized_user())
    assert ("followupd", ACCOUNT) in first.store


def test_chainer_with_plaintext_first_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), MemoryKeyring()])
    keyring.set_keyring(chainer.ChainerBackend())
    with pytest.raises(AuthError, match="insecure"):
        auth.check_keyring(CFG)


def test_empty_chainer_counts_as_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chainer.ChainerBackend())
    with pytest.raises(AuthError, match="no usable keyring"):
        auth.check_keyring(CFG)


@pytest.mark.parametrize("call", ["load", "store", "delete", "check"])
def test_hanging_keyring_times_out(hanging: HangingKeyring, call: str) -> None:
    actions = {
        "load": lambda: auth.load_credentials(CFG),
        "store": lambda: auth.store_authorized_user(CFG, authorized_user()),
        "delete": lambda: auth.delete_all(CFG),
        "check": lambda: auth.check_keyring(CFG),
    }
    started = time.monotonic()
    with pytest.raises(AuthError, match=r"did not answer within 0.3 s.*locked"):
        actions[call]()
    assert time.monotonic() - started < 3


def test_locked_keyring_is_an_auth_error() -> None:
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(AuthError, match="locked"):
        auth.load_credentials(CFG)


def test_backend_failure_is_an_auth_error_naming_it() -> None:
    keyring.set_keyring(BrokenKeyring())
    with pytest.raises(AuthError, match="RuntimeError: org.freedesktop.DBus.Error.ServiceUnknown"):
        auth.store_authorized_user(CFG, authorized_user())


def test_account_is_required() -> None:
    from followupd.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[google\] account is not set"):
        auth.load_credentials(Config())
