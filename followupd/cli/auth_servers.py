"""``followupd auth login | status | logout`` for CalDAV and IMAP app passwords (SPEC §5).

``login --caldav`` / ``--imap`` asks for the app password without echoing it
(``getpass``), or reads one line from standard input with ``--password-stdin``
(for scripts, as ``docker login`` does).  It is tried against the server
before it is kept: a refused one is exit 3 and stored nowhere; an unreachable
server keeps it with a warning.  Nothing secret is ever printed.
"""

from __future__ import annotations

import argparse
import getpass
from dataclasses import dataclass, field
import sys
from typing import TYPE_CHECKING

from followupd.auth import passwords
from followupd.auth.passwords import Service
from followupd.core.settings import CalendarBackend, MailBackend
from followupd.errors import AuthError, ConfigError, TransientError

if TYPE_CHECKING:
    from followupd.core.settings import Config


def chosen(args: argparse.Namespace) -> list[Service]:
    return [s for s in Service if getattr(args, s.value, False)]


def configured(cfg: Config) -> list[Service]:
    found = []
    if cfg.calendar.backend == CalendarBackend.CALDAV:
        found.append(Service.CALDAV)
    if cfg.mail.backend == MailBackend.IMAP:
        found.append(Service.IMAP)
    return found


def _server(cfg: Config, service: Service) -> str:
    return cfg.caldav.url if service is Service.CALDAV else f"{cfg.imap.host}:{cfg.imap.port}"


def login(args: argparse.Namespace, cfg: Config, service: Service) -> int:
    name = passwords.username(cfg, service)
    if getattr(args, "password_stdin", False):
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = getpass.getpass(f"{service.label} app password for {name} at {_server(cfg, service)}: ")
    if not secret:
        raise ConfigError("no password given: nothing was stored")
    try:
        verify(cfg, service, secret)
    except TransientError as exc:
        print(f"warning: could not check the password now ({exc}); storing it anyway", file=sys.stderr)
    backend = passwords.store(cfg, service, secret)
    print(f"Stored the {service.label} app password for {name} in the keyring ({backend}).")
    return 0


@dataclass(frozen=True)
class Probe:
    """What logging in with an app password found (``auth login``/``status`` and ``doctor``)."""

    calendars: dict[str, str] = field(default_factory=dict)  # CalDAV: each configured calendar's URL
    writable: bool | None = None  # CalDAV: may the account write to write_to (None: not reported)
    mailbox: str = ""  # IMAP: the drafts mailbox

    def summary(self, cfg: Config) -> str:
        if self.mailbox:
            return f"drafts mailbox {self.mailbox!r}"
        return f"write_to {cfg.calendar.write_to!r} is {self.calendars[cfg.calendar.write_to]}"


def verify(cfg: Config, service: Service, secret: str) -> Probe:
    """Log in with ``secret`` and find what the configuration names (raises AuthError when refused)."""
    if service is Service.CALDAV:
        from followupd.backends.caldav_calendar import CalDavCalendar

        dav = CalDavCalendar(cfg, lambda: secret)
        try:
            calendars = {c: dav.calendar_url(c) for c in dict.fromkeys((*cfg.calendar.watch, cfg.calendar.write_to))}
            return Probe(calendars=calendars, writable=dav.may_write(cfg.calendar.write_to))
        finally:
            dav.close()
    from followupd.backends.imap_drafts import ImapDrafts

    imap = ImapDrafts(cfg, lambda: secret)
    try:
        return Probe(mailbox=imap.mailbox())
    finally:
        imap.close()


def status(cfg: Config, services: list[Service]) -> int:
    code = 0
    for service in services:
        name = passwords.username(cfg, service)
        print(f"{service.label + ':':<15}{name} at {_server(cfg, service)}")
        if not passwords.stored(cfg, service):
            print(f"{'':15}no app password stored. {passwords.login_hint(service)}")
            code = max(code, 3)
            continue
        try:
            found = verify(cfg, service, passwords.password(cfg, service)).summary(cfg)
        except AuthError as exc:
            print(f"{'':15}refused: {exc}")
            code = max(code, 3)
            continue
        except (TransientError, ConfigError) as exc:
            print(f"{'':15}stored; the server could not be checked: {exc}")
            code = max(code, 1)
            continue
        print(f"{'':15}app password stored and accepted; {found}")
    return code


def logout(cfg: Config, services: list[Service]) -> int:
    for service in services:
        name = passwords.username(cfg, service)
        if passwords.forget(cfg, service):
            print(f"Deleted the {service.label} app password for {name} from the keyring.")
        else:
            print(f"No {service.label} app password was stored for {name}.")
    return 0


__all__ = ["Probe", "chosen", "configured", "login", "logout", "status", "verify"]
