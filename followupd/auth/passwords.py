"""App passwords for CalDAV and IMAP, in the OS keyring (SPEC §5 "CalDAV and IMAP").

Never in the configuration: ``followupd auth login --caldav`` / ``--imap`` asks
for one (or reads a line from standard input with ``--password-stdin``) and keeps
it under the keyring service ``followupd-caldav`` / ``followupd-imap``, with the
configured user name as the entry's name.  Providers call them app passwords
(Fastmail, iCloud) or app tokens (Nextcloud); a wrong one is an ``AuthError``
(exit 3) whose message says how to store the right one.
"""

from __future__ import annotations

from enum import StrEnum

from followupd.auth.keystore import SecretStore
from followupd.core.settings import Config
from followupd.errors import AuthError, ConfigError


class Service(StrEnum):
    CALDAV = "caldav"
    IMAP = "imap"

    @property
    def keyring_service(self) -> str:
        return f"followupd-{self.value}"

    @property
    def label(self) -> str:
        return "CalDAV" if self is Service.CALDAV else "IMAP"


def username(cfg: Config, service: Service) -> str:
    name = cfg.caldav.username if service is Service.CALDAV else cfg.imap.username
    if not name:
        raise ConfigError(f"[{service.value}] username is not set" + (f" in {cfg.path}" if cfg.path else ""))
    return name


def _store(cfg: Config, service: Service) -> SecretStore:
    return SecretStore(service.keyring_service, allow_insecure=cfg.security.allow_insecure_keyring)


def login_hint(service: Service) -> str:
    return f"Run `followupd auth login --{service.value}` to store the app password."


def password(cfg: Config, service: Service) -> str:
    """The stored app password; AuthError (exit 3) when there is none."""
    name = username(cfg, service)
    secret = _store(cfg, service).get(name)
    if not secret:
        raise AuthError(f"no {service.label} app password is stored for {name!r}. {login_hint(service)}")
    return secret


def store(cfg: Config, service: Service, secret: str) -> str:
    """Keep ``secret`` for the configured user; returns the keyring backend's name."""
    if not secret.strip():
        raise ConfigError("the app password is empty: nothing was stored")
    box = _store(cfg, service)
    box.set(username(cfg, service), secret.strip("\r\n"))
    return box.name


def stored(cfg: Config, service: Service) -> bool:
    return bool(_store(cfg, service).get(username(cfg, service)))


def forget(cfg: Config, service: Service) -> bool:
    """Delete the stored password; False when there was none."""
    return _store(cfg, service).delete(username(cfg, service))


def wrong_password(service: Service, name: str, detail: str = "") -> AuthError:
    return AuthError(f"the {service.label} server refused the app password for {name!r}"
                     + (f" ({detail})" if detail else "") + f". {login_hint(service)} (providers give app "
                     "passwords in their account's security settings; your normal password may not work)")


__all__ = ["Service", "forget", "login_hint", "password", "store", "stored", "username", "wrong_password"]
