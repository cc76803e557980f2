"""The OS keyring, used safely (SPEC §4.8): refuse plaintext backends, never hang.

Two dangers shape this module:

* **Insecure backends.**  ``keyring`` happily falls back to keyrings.alt's file
  backends (secrets in a file under ``~/.local/share``) or to the null/fail
  backends.  Those are refused unless ``[security] allow_insecure_keyring``.
  When ``keyring`` picks its ``ChainerBackend`` (several viable backends), we
  use the chain's first, highest-priority child directly: that is where the
  chainer would write anyway, and it keeps reads from silently falling through
  to a plaintext file left behind by some other program.
* **Hangs.**  A locked Secret Service collection may answer an unlock request
  with a prompt that nobody sees (a headless server, a systemd user service),
  and the D-Bus call then blocks forever.  Every keyring call therefore runs in
  a daemon thread joined with a deadline; on timeout the caller gets an
  ``AuthError`` and the stuck thread is abandoned (it holds no lock of ours).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, TypeVar, cast

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from followupd.errors import AuthError, KeyringUnusable

log = logging.getLogger("followupd.keystore")

T = TypeVar("T")

# Seconds any single keyring call may take.  Tests lower it.
TIMEOUT_SECONDS: float = 10.0

_FIX = ("Install and unlock a Secret Service (gnome-keyring or KWallet), or set "
        "`[security] allow_insecure_keyring = true` in the config if you accept "
        "that your Google refresh token is readable by anything running as you.")


def backend_name(backend: KeyringBackend) -> str:
    """``module.Class`` of a backend, e.g. ``keyring.backends.SecretService.Keyring``."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def effective_backend(backend: KeyringBackend | None = None) -> KeyringBackend:
    """The backend followupd actually talks to (the chainer's first child, see above)."""
    backend = backend if backend is not None else keyring.get_keyring()
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        children: list[KeyringBackend] = list(backend.backends)
        if children:
            return children[0]
        from keyring.backends.fail import Keyring as FailKeyring

        return cast(KeyringBackend, FailKeyring())
    return backend


def insecure_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` must not hold credentials, or None when it is acceptable.

    Refused: the null and fail backends (nothing is stored, or every call
    fails) and keyrings.alt's file backends.  ``EncryptedKeyring`` is refused
    too: it asks for its master password on the terminal, which a daemon cannot
    answer, and its file sits next to the plaintext one.  ``MultipartKeyringWrapper``
    is judged by what it wraps.  Everything else (Secret Service, libsecret,
    KWallet, macOS, Windows, and followupd's in-memory test keyring, which never
    touches disk) is accepted.
    """
    from keyring.backends import fail, null

    if isinstance(backend, null.Keyring):
        return "the null keyring backend discards everything stored in it"
    if isinstance(backend, fail.Keyring):
        return "no usable keyring backend was found (keyring fell back to its 'fail' backend)"
    try:
        from keyrings.alt.file_base import FileBacked
        from keyrings.alt.multi import MultipartKeyringWrapper
    except ImportError:  # keyrings.alt is not installed: none of its backends can be in use
        return None
    if isinstance(backend, MultipartKeyringWrapper):
        return insecure_reason(backend._keyring)  # noqa: SLF001 - the wrapped backend is only stored there
    if isinstance(backend, FileBacked):
        return f"{backend_name(backend)} keeps secrets in a file ({backend.file_path})"
    return None


def call_with_deadline(func: Callable[[], T], what: str, timeout: float | None = None) -> T:
    """Run ``func`` in a daemon thread; raise AuthError if it takes longer than ``timeout``.

    Keyring exceptions become AuthError with a message that says what to do.
    """
    limit = TIMEOUT_SECONDS if timeout is None else timeout
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=target, name=f"followupd-keyring-{what}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise KeyringUnusable(
            f"the keyring did not answer within {limit:g} s while {what}: is it locked, "
            "or waiting for an unlock prompt nobody can see? Unlock your login keyring "
            "(for gnome-keyring on a server: `gnome-keyring-daemon --unlock`) and try again.")
    if failure:
        exc = failure[0]
        if isinstance(exc, KeyringLocked):
            raise KeyringUnusable(f"the keyring is locked ({what}): unlock it and try again.") from exc
        if isinstance(exc, KeyringError):
            raise KeyringUnusable(f"the keyring failed while {what}: {exc}. {_FIX}") from exc
        if isinstance(exc, Exception) and not isinstance(exc, AuthError):
            # secretstorage / jeepney / dbus errors: say which, without a traceback
            raise KeyringUnusable(f"the keyring failed while {what}: {type(exc).__name__}: {exc}") from exc
        raise exc
    return result[0]


class SecretStore:
    """String secrets under one keyring service, checked and bounded in time.

    ``allow_insecure`` mirrors ``[security] allow_insecure_keyring``.  The
    backend is resolved when the store is created, so a test that installs a
    keyring with ``keyring.set_keyring`` must do so first.
    """

    def __init__(self, service: str, *, allow_insecure: bool = False,
                 backend: KeyringBackend | None = None, timeout: float | None = None) -> None:
        self.service = service
        self.backend = effective_backend(backend)
        self.timeout = timeout
        reason = insecure_reason(self.backend)
        if reason and not allow_insecure:
            raise KeyringUnusable(f"refusing to keep credentials in an insecure keyring: {reason}. {_FIX}")
        if reason:
            log.warning("using an insecure keyring because allow_insecure_keyring = true: %s", reason)

    @property
    def name(self) -> str:
        return backend_name(self.backend)

    def get(self, user: str) -> str | None:
        return call_with_deadline(lambda: self.backend.get_password(self.service, user),
                                  "reading a credential", self.timeout)

    def set(self, user: str, secret: str) -> None:
        call_with_deadline(lambda: self.backend.set_password(self.service, user, secret),
                           "storing a credential", self.timeout)

    def delete(self, user: str) -> bool:
        """Delete one entry; False when there was nothing to delete."""

        def remove() -> bool:
            try:
                self.backend.delete_password(self.service, user)
            except PasswordDeleteError:
                return False
            return True

        return call_with_deadline(remove, "deleting a credential", self.timeout)
