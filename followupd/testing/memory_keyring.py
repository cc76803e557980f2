"""An in-memory keyring backend for tests.  Never use it for real credentials:
they vanish with the process.  ``followupd.keystore`` accepts it (it never
touches disk), so unit tests need no ``allow_insecure_keyring``."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Keeps secrets in a dict for the life of the process."""

    priority = 1  # never chosen automatically over a real backend

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no password for {service}/{username}") from None
