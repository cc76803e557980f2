"""``followupd doctor``: one line per check, ``ok`` / ``FAIL`` / ``skip`` / ``info``, and a fix for each failure.

The checks run in dependency order; a check whose prerequisite failed is
skipped rather than failing a second time for the same reason.  Every remote
check costs one cheap request and needs only followupd's two scopes
(``calendar.events`` cannot call ``calendars.get``, so the Calendar check is an
``events.list`` of one item, which also reports the calendar's time zone).

The exit code is that of the most serious failure: a configuration problem (2)
before an authorization problem (3) before anything else (1).
"""

from __future__ import annotations

import argparse
import functools
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from followupd import paths
from followupd.auth import google as auth
from followupd.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_OK, EXIT_UNEXPECTED, FollowupdError

if TYPE_CHECKING:
    from followupd.cli.context import Context
    from followupd.core.settings import Config

_SEVERITY = {EXIT_CONFIG: 3, EXIT_AUTH: 2, EXIT_UNEXPECTED: 1}


class Failed(Exception):
    """A check failed: what went wrong, what to do about it, and the exit code it implies."""

    def __init__(self, detail: str, fix: str = "", code: int = EXIT_UNEXPECTED) -> None:
        super().__init__(detail)
        self.detail, self.fix, self.code = detail, fix, code


class Skipped(Exception):
    """A check that does not apply (or whose prerequisite failed)."""


class Info(Exception):
    """Worth knowing, not a failure (an optional part not set up): the exit code is unchanged."""


@dataclass
class Report:
    """Prints each result as it comes (so a slow check shows where it is) and keeps the worst code."""

    out: TextIO
    code: int = EXIT_OK

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; True when it passed."""
        try:
            detail = check()
        except Skipped as why:
            self._line("skip", name, str(why))
            return False
        except Info as why:
            self._line("info", name, str(why))
            return False
        except Failed as exc:
            self._fail(name, exc.detail, exc.fix, exc.code)
            return False
        except FollowupdError as exc:  # errors raised by the code being checked
            self._fail(name, str(exc), "", exc.exit_code or EXIT_UNEXPECTED)
            return False
        self._line("ok", name, detail)
        return True

    def skip(self, name: str, why: str) -> None:
        self._line("skip", name, why)

    def _fail(self, name: str, detail: str, fix: str, code: int) -> None:
        self._line("FAIL", name, detail)
        if fix:
            print(f"{'':6}{'':18}fix: {fix}", file=self.out)
        if _SEVERITY.get(code, 1) > _SEVERITY.get(self.code, 0):
            self.code = code

    def _line(self, status: str, name: str, detail: str) -> None:
        first, *rest = (detail or "").splitlines() or [""]
        print(f"{status:<6}{name:<18}{first}", file=self.out)
        for line in rest:
            print(f"{'':24}{line}", file=self.out)
        self.out.flush()


def cmd_doctor(args: argparse.Namespace, ctx: Context) -> int:
    report = Report(sys.stdout)
    holder: dict[str, Config] = {}

    def config() -> str:
        holder["cfg"] = ctx.config()
        return f"{ctx.config_path}" + _config_mode_note(ctx.config_path)

    if not report.run("config", config):
        report.skip("everything else", "needs a configuration that loads")
        return report.code
    cfg = holder["cfg"]
    report.run("me", lambda: _check_me(cfg))
    report.run("state directory", _check_state_dir)
    report.run("follow-ups", _check_failing)
    _google_checks(report, cfg)
    _server_checks(report, cfg)
    _local_checks(report, cfg)
    report.run("systemd unit", lambda: _check_unit(cfg))
    return report.code


# --- configuration and files -------------------------------------------------------------------

def _config_mode_note(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        # api_endpoint decides where bearer tokens are sent: nobody else may edit it
        raise Failed(f"{path} is writable by other users (mode {stat.S_IMODE(mode):04o})",
                     f"chmod 600 {path}", EXIT_CONFIG)
    return ""


def _check_state_dir() -> str:
    folder = paths.state_dir()
    if not folder.exists():
        raise Skipped(f"{folder} does not exist yet (created private on the first run)")
    loose = [p for p in [folder, *folder.iterdir()] if stat.S_IMODE(p.stat().st_mode) & 0o077]
    if loose:
        shown = ", ".join(f"{p.name or p} ({stat.S_IMODE(p.stat().st_mode):04o})" for p in loose[:5])
        raise Failed(f"not private: {shown}",
                     f"chmod 700 {folder} && chmod 600 {folder}/*")
    return f"{folder} (private)"


# What ``followupd init`` writes into [me]: drafts signed with it would go out wrong.
PLACEHOLDER_EMAILS = frozenset({"you@example.com"})
PLACEHOLDER_NAMES = frozenset({"your name"})


def _check_me(cfg: Config) -> str:
    me = cfg.me
    where = f"[me] in {cfg.path}" if cfg.path else "[me]"
    if me.email.lower() in PLACEHOLDER_EMAILS or me.name.strip().lower() in PLACEHOLDER_NAMES:
        raise Failed(f"{where} still holds the starter's placeholder ({me.name} <{me.email}>): every draft "
                     "would be signed with it", f"put your own name and e-mail address in {where}", EXIT_CONFIG)
    return f"{me.name} <{me.email}>"


def _check_failing() -> str:
    """The follow-ups set aside after failing again and again (SPEC §4.10), and those failing."""
    from followupd.core.attempts import needing_attention
    from followupd.store.state import State, default_path

    if not default_path().exists():
        raise Skipped("no state yet (nothing written so far)")
    with State() as st:
        failing = st.failing()
    held = [e for e in failing if e.failure is not None and e.failure.needs_attention]
    if held:
        lines = [f"{e.kind.value} '{e.title or e.step}'{' to ' + e.recipient if e.recipient else ''}: "
                 f"{e.failure.action} failed {e.failure.attempts} times: {e.failure.error}"
                 for e in held if e.failure is not None]
        raise Failed(f"{needing_attention(len(held))} (set aside)\n" + "\n".join(lines),
                     "fix the cause, then run `followupd retry`")
    if failing:
        return f"{len(failing)} failing, tried again on later passes (see `followupd status`)"
    return "none failing"


def _check_unit(cfg: Config) -> str:
    from followupd.runtime.unitfile import UNIT_NAME, stale_write_paths, unit_dir

    unit = unit_dir() / UNIT_NAME
    stale = stale_write_paths(cfg)
    if stale is None:
        raise Info("not installed (optional: `followupd service install` runs followupd in the background)")
    if stale:
        raise Failed(f"{unit} does not let the service write {', '.join(map(str, stale))} (the config "
                     "changed since it was installed): the service would fail there, read-only",
                     "run `followupd service install` again, then `systemctl --user daemon-reload && "
                     "systemctl --user restart followupd`")
    return str(unit)


# --- local backends ----------------------------------------------------------------------------

def _local_checks(report: Report, cfg: Config) -> None:
    if cfg.calendar.backend == "ics":
        report.run("ics source", lambda: _check_ics_source(cfg))
        report.run("ics output", lambda: _check_ics_output(cfg))
    if cfg.mail.backend == "maildir":
        report.run("maildir", lambda: _check_maildir(cfg))


def _check_ics_source(cfg: Config) -> str:
    from followupd.backends.ics_source import IcsSource

    source = IcsSource(cfg)
    since = datetime.now(timezone.utc) - timedelta(days=cfg.plan.lookback_days)
    result = source.sync("ics", None, since)
    from followupd.backends.ics_fetch import shown

    return f"{shown(cfg.ics.source)}: {len(result.events)} events from the last {cfg.plan.lookback_days} days on"


def _check_ics_output(cfg: Config) -> str:
    from followupd.backends.ics_output import check_location

    path = check_location(cfg)
    return f"{path}" + ("" if path.exists() else " (will be created)")


def _check_maildir(cfg: Config) -> str:
    from followupd.backends.maildir import check_location

    root = check_location(cfg)
    return f"{root}" + ("" if root.exists() else " (will be created)")


# --- CalDAV and IMAP -------------------------------------------------------------------------

def _server_checks(report: Report, cfg: Config) -> None:
    from followupd.cli.auth_servers import configured

    for service in configured(cfg):
        report.run(service.value, functools.partial(_check_server, cfg, service))


def _check_server(cfg: Config, service: Any) -> str:
    from followupd.auth import passwords
    from followupd.cli.auth_servers import verify

    if not passwords.stored(cfg, service):
        raise Failed(f"no {service.label} app password stored for {passwords.username(cfg, service)!r}",
                     f"run `followupd auth login --{service.value}`", EXIT_AUTH)
    found = verify(cfg, service, passwords.password(cfg, service))
    if found.mailbox:
        return f"{cfg.imap.username} at {cfg.imap.host}:{cfg.imap.port}: drafts go to {found.mailbox!r}"
    if found.writable is False:
        raise Failed(f"{cfg.caldav.username} may only read the calendar {cfg.calendar.write_to!r}",
                     "set [calendar] write_to to a calendar you may change, or ask its owner to share it "
                     "with write access", EXIT_CONFIG)
    names = ", ".join(repr(c) for c in found.calendars)
    return (f"{cfg.caldav.username} at {cfg.caldav.url}: found {names}; "
            + ("reminders can be written" if found.writable
               else "write access not reported (tried on the first write)"))


# --- Google ------------------------------------------------------------------------------------

def _google_checks(report: Report, cfg: Config) -> None:
    uses_calendar = cfg.calendar.backend == "google"
    uses_gmail = cfg.mail.backend == "gmail"
    names = ("keyring", "credentials", "token refresh", "calendar", "gmail")
    if not (uses_calendar or uses_gmail):
        report.skip("google", "no Google backend configured (keyring, credentials, Calendar, Gmail)")
        return
    state: dict[str, Any] = {}

    def keyring() -> str:
        return auth.check_keyring(cfg) + " (secure, answering)"

    def credentials() -> str:
        info = auth.load_authorized_user(cfg)
        if info is None:
            raise Failed(f"nothing stored for {auth.account(cfg)!r}",
                         "run `followupd auth login` (or `followupd auth import FILE`)", EXIT_AUTH)
        needed = [s for s, used in zip(auth.SCOPES, (uses_calendar, uses_gmail)) if used]
        missing = [s for s in auth.missing_scopes(info) if s in needed]
        if missing:
            raise Failed("the grant lacks " + ", ".join(s.rsplit("/", 1)[-1] for s in missing),
                         "run `followupd auth login` and allow every permission", EXIT_AUTH)
        return f"{auth.account(cfg)}, client {info['client_id']}"

    def refresh() -> str:
        creds = auth.load_credentials(cfg)
        creds.refresh(auth.http_request())
        state["creds"] = creds
        return "a new access token was issued"

    steps: list[tuple[str, Callable[[], str]]] = [("keyring", keyring), ("credentials", credentials),
                                                  ("token refresh", refresh)]
    for position, (name, check) in enumerate(steps):
        if not report.run(name, check):
            for later in names[position + 1:]:
                if (later != "calendar" or uses_calendar) and (later != "gmail" or uses_gmail):
                    report.skip(later, f"skipped: the {name} check failed")
            return

    if uses_calendar:
        service = _service(cfg, "calendar", "v3", state["creds"])
        for cal in dict.fromkeys((*cfg.calendar.watch, cfg.calendar.write_to)):
            report.run("calendar", functools.partial(_check_calendar, service, cal, cfg))
    if uses_gmail:
        service = _service(cfg, "gmail", "v1", state["creds"])
        report.run("gmail", lambda: _check_gmail(service))


def _service(cfg: Config, api: str, version: str, creds: Any) -> Any:
    from followupd.backends.google_common import build_service

    return build_service(api, version, creds, cfg.google.api_endpoint)


def _check_calendar(service: Any, calendar_id: str, cfg: Config) -> str:
    from followupd.backends.google_calendar import READ_ONLY_ROLES

    body = _call(lambda: service.events().list(calendarId=calendar_id, maxResults=1,
                                               fields="timeZone,summary,accessRole").execute(),
                 f"calendar {calendar_id!r}", "[calendar] watch / write_to")
    role = str(body.get("accessRole", "?"))
    if calendar_id == cfg.calendar.write_to and role in READ_ONLY_ROLES:
        where = f"[calendar] write_to in {cfg.path}" if cfg.path else "[calendar] write_to"
        raise Failed(f"{calendar_id!r} is where reminders are written, but {cfg.google.account or 'the account'} "
                     f"may only read it (accessRole {role})",
                     f"share it with {cfg.google.account or 'the account'} with \"Make changes to events\", "
                     f"or set {where} to a calendar of yours (\"primary\")", EXIT_CONFIG)
    writes = " · reminders are written here" if calendar_id == cfg.calendar.write_to else ""
    return f"{calendar_id!r} reachable (time zone {body.get('timeZone', '?')}, access {role}){writes}"


def _check_gmail(service: Any) -> str:
    _call(lambda: service.users().drafts().list(userId="me", maxResults=1).execute(),
          "Gmail drafts", "[mail] backend")
    return "drafts can be listed (gmail.compose works)"


def _call(fn: Callable[[], Any], what: str, key: str) -> Any:
    """Run one API call; turn its failure into a Failed with a fix."""
    from googleapiclient.errors import HttpError

    from followupd.backends.retry import classify

    try:
        return fn()
    except HttpError as exc:
        status = int(exc.resp.status)
        if status == 404:
            raise Failed(f"{what}: not found (404)", f"check {key}", EXIT_CONFIG) from None
        if status in (401, 403):
            raise Failed(f"{what}: Google refused access ({status})",
                         "run `followupd auth login` and allow every permission", EXIT_AUTH) from None
        raise Failed(f"{what}: Google answered HTTP {status}", "try again later") from None
    except FollowupdError:
        raise
    except Exception as exc:  # network errors: let the backends' classifier name them
        try:
            error, _ = classify(exc, what)
        except Exception:  # noqa: BLE001 - classify re-raises what it does not know
            raise Failed(f"{what}: {type(exc).__name__}", "run with --verbose for details") from None
        raise Failed(str(error), "check the network (or [google] api_endpoint)") from None
