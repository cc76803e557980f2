"""The TOML configuration loader (SPEC §5) and ``followupd init``.

``load`` reads the file with ``tomllib`` and checks every value, collecting
*all* problems before raising one ``ConfigError`` whose lines each name the
file and the key.  Unknown keys are not errors: they are logged as warnings, so
a config written for a newer followupd still loads.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from followupd.core import addresses
from followupd.paths import display_path
from followupd.core.settings import (
    CalDavConfig,
    ImapConfig,
    CalendarBackend,
    CalendarConfig,
    Config,
    DetectConfig,
    GoogleConfig,
    IcsConfig,
    MailBackend,
    MailConfig,
    MaildirConfig,
    MeConfig,
    PlanConfig,
    Reference,
    SecurityConfig,
    StepConfig,
)
from followupd.config import holidays, templates
from followupd.core import steps as registry
from followupd.errors import ConfigError

log = logging.getLogger("followupd.config")

_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

_SECTIONS: dict[str, frozenset[str]] = {
    "me": frozenset({"name", "email", "phone", "aliases", "tone"}),
    "calendar": frozenset({"backend", "watch", "write_to"}),
    "mail": frozenset({"backend"}),
    "google": frozenset({"account", "api_endpoint"}),
    "ics": frozenset({"source", "output"}),
    "maildir": frozenset({"path"}),
    "caldav": frozenset({"url", "username", "cafile"}),
    "imap": frozenset({"host", "port", "username", "drafts", "cafile", "starttls"}),
    "detect": frozenset({"keywords", "exclude"}),
    "plan": frozenset({"lookback_days", "holidays", "steps"}),
    "security": frozenset({"allow_insecure_keyring"}),
}


def _show(value: Any) -> str:
    """A value as it would be written in TOML, for "got ..." in messages."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


@dataclass
class _Reader:
    """Reads typed values out of the parsed TOML, recording problems as it goes."""

    file: str
    base: Path  # the config file's folder: relative paths resolve against it
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{self.file}: {where}: {text}")

    def warn_unknown(self, where: str, table: dict[str, Any], known: frozenset[str]) -> None:
        for key in table:
            if key not in known:
                log.warning("%s: %s%s: unknown key, ignored", self.file, where, key)

    def table(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            self.problem(f"[{name}]", f"must be a table, got {_show(value)}")
            return {}
        return value

    def string(self, t: dict[str, Any], where: str, key: str, default: str, *,
               required: bool = False) -> str:
        if key not in t:
            if required:
                self.problem(f"{where} {key}", "is required")
            return default
        value = t[key]
        if not isinstance(value, str):
            self.problem(f"{where} {key}", f"must be a string, got {_show(value)}")
            return default
        if required and not value.strip():
            self.problem(f"{where} {key}", "must not be empty")
        return value.strip()

    def email(self, t: dict[str, Any], where: str, key: str, *, required: bool) -> str:
        value = self.string(t, where, key, "", required=required)
        if value:
            try:
                return addresses.check(value)  # the one validator: what config accepts, drafts can carry
            except addresses.InvalidAddress as exc:
                self.problem(f"{where} {key}", f"must be one e-mail address like name@example.com, got "
                             f"{_show(value)} ({exc})")
        return value

    def choice(self, t: dict[str, Any], where: str, key: str, default: str, options: tuple[str, ...]) -> str:
        value = self.string(t, where, key, default)
        if value not in options:
            self.problem(f"{where} {key}", f"must be one of {', '.join(options)}; got {_show(value)}")
            return default
        return value

    def integer(self, t: dict[str, Any], where: str, key: str, default: int | None,
                minimum: int, maximum: int = 10_000) -> int | None:
        if key not in t:
            return default
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.problem(f"{where} {key}", f"must be a whole number ≥ {minimum}"
                         f"{'' if maximum >= 10_000 else f' and ≤ {maximum}'}, got {_show(value)}")
            return default
        return value

    def boolean(self, t: dict[str, Any], where: str, key: str, default: bool) -> bool:
        value = t.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{where} {key}", f"must be true or false, got {_show(value)}")
            return default
        return value

    def strings(self, t: dict[str, Any], where: str, key: str, default: tuple[str, ...], *,
                nonempty: bool = False) -> tuple[str, ...]:
        if key not in t:
            return default
        value = t[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(f"{where} {key}", f"must be a list of non-empty strings, got {_show(value)}")
            return default
        if nonempty and not value:
            self.problem(f"{where} {key}", "must list at least one entry")
            return default
        return tuple(v.strip() for v in value)

    def path(self, text: str) -> Path:
        """``~`` expanded; relative paths resolved against the config file's folder."""
        p = Path(text).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else self.base / p))

    def existing_file(self, t: dict[str, Any], where: str, key: str,
                      check: Callable[[Path], str | None] | None = templates.check_file) -> Path | None:
        """The file ``key`` names, which must exist; ``check`` says what else is wrong with it
        (by default: a template that cannot be read or compiled)."""
        text = self.string(t, where, key, "")
        if not text:
            return None
        p = self.path(text)
        if not p.is_file():
            self.problem(f"{where} {key}", f"no such file: {display_path(p)}")
            return None
        broken = check(p) if check is not None else None
        if broken:
            self.problem(f"{where} {key}", f"{display_path(p)}: {broken}")
        return p


def load(path: Path) -> Config:
    """Read and check the configuration at ``path``; raise ConfigError listing every problem."""
    path = Path(path).expanduser()
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: no configuration file. Run `followupd init` to write a starter, "
                          "or pass --config PATH.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the configuration: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: {_syntax_error(exc, text)}") from None
    return parse(data, file=shown, base=path.resolve().parent, path=path)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str) -> str:
    msg = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    if m:
        return f"line {m.group(1)}, column {m.group(2)}: TOML syntax error: {msg[:m.start()].strip()}"
    lines = text.splitlines() or [""]
    reason = msg.replace("(at end of document)", "").strip()
    return f"line {len(lines)}, column {len(lines[-1]) + 1}: TOML syntax error at the end of the file: {reason}"


def parse(data: dict[str, Any], *, file: str, base: Path, path: Path | None = None) -> Config:
    """Build a Config from parsed TOML (``load`` without the file I/O)."""
    r = _Reader(file=file, base=base)
    r.warn_unknown("", data, frozenset(_SECTIONS) | {"references"})
    for name, known in _SECTIONS.items():
        if name != "plan":
            r.warn_unknown(f"[{name}] ", r.table(data, name), known)

    t = r.table(data, "me")
    aliases = r.strings(t, "[me]", "aliases", ())
    for alias in aliases:
        if not addresses.is_valid(alias):
            r.problem("[me] aliases", f"must list e-mail addresses like name@example.com, got {_show(alias)}")
    me = MeConfig(name=r.string(t, "[me]", "name", "", required=True),
                  email=r.email(t, "[me]", "email", required=True),
                  phone=r.string(t, "[me]", "phone", ""), aliases=aliases,
                  tone=r.choice(t, "[me]", "tone", "warm", ("warm", "formal")))

    t = r.table(data, "calendar")
    calendar = CalendarConfig(
        backend=CalendarBackend(r.choice(t, "[calendar]", "backend", "ics", tuple(CalendarBackend))),
        watch=r.strings(t, "[calendar]", "watch", ("primary",), nonempty=True),
        write_to=r.string(t, "[calendar]", "write_to", "primary") or "primary",
    )
    mail = MailConfig(backend=MailBackend(r.choice(r.table(data, "mail"), "[mail]", "backend", "maildir",
                                                   tuple(MailBackend))))

    t = r.table(data, "google")
    needs_google = calendar.backend == "google" or mail.backend == "gmail"
    google = GoogleConfig(account=r.string(t, "[google]", "account", ""),
                          api_endpoint=r.string(t, "[google]", "api_endpoint", "").rstrip("/"))
    if needs_google and not google.account:
        users = [f"[calendar] backend = \"{calendar.backend}\""] if calendar.backend == "google" else []
        users += ['[mail] backend = "gmail"'] if mail.backend == "gmail" else []
        r.problem("[google] account", f"is required by {' and '.join(users)}")
    if google.api_endpoint and not re.match(r"https?://[^\s/]+", google.api_endpoint):
        r.problem("[google] api_endpoint", f"must be an http(s) URL or empty, got {_show(google.api_endpoint)}")

    t = r.table(data, "ics")
    source = r.string(t, "[ics]", "source", IcsConfig.source) or IcsConfig.source
    if not re.match(r"(https?|webcal)://", source, re.IGNORECASE):  # webcal:// is read over https
        source = str(r.path(source))
    ics = IcsConfig(source=source, output=r.path(r.string(t, "[ics]", "output", "~/followups.ics")
                                                 or "~/followups.ics"))
    maildir = MaildirConfig(path=r.path(r.string(r.table(data, "maildir"), "[maildir]", "path",
                                                 "~/Mail/Drafts") or "~/Mail/Drafts"))

    caldav, imap = _servers(r, data, calendar, mail)

    t = r.table(data, "detect")
    detect = DetectConfig(keywords=r.strings(t, "[detect]", "keywords", DetectConfig.keywords),
                          exclude=r.strings(t, "[detect]", "exclude", DetectConfig.exclude))

    t = r.table(data, "security")
    security = SecurityConfig(allow_insecure_keyring=r.boolean(t, "[security]", "allow_insecure_keyring", False))

    references = _references(r, data)
    plan = _plan(r, r.table(data, "plan"))
    if r.problems:
        n = len(r.problems)
        raise ConfigError(f"{file}: {n} problem{'s' if n != 1 else ''} in the configuration:", r.problems)
    return Config(path=path, me=me, calendar=calendar, mail=mail, google=google, ics=ics, maildir=maildir,
                  caldav=caldav, imap=imap, references=references, detect=detect, plan=plan, security=security,
                  templates=templates.load(plan))


def _servers(r: _Reader, data: dict[str, Any], calendar: CalendarConfig,
             mail: MailConfig) -> tuple[CalDavConfig, ImapConfig]:
    """[caldav] and [imap]: required when the backend is chosen; passwords never here."""
    t = r.table(data, "caldav")
    url = r.string(t, "[caldav]", "url", "")
    caldav = CalDavConfig(url=url, username=r.string(t, "[caldav]", "username", ""),
                          cafile=r.existing_file(t, "[caldav]", "cafile", check=None))
    if calendar.backend == CalendarBackend.CALDAV:
        for key in ("url", "username"):
            if not getattr(caldav, key):
                r.problem(f"[caldav] {key}", 'is required by [calendar] backend = "caldav"')
        if url and not re.match(r"https://[^\s/]+", url):
            r.problem("[caldav] url", f"must be an https:// URL (passwords never travel in the clear), got {_show(url)}")
    t = r.table(data, "imap")
    port = r.integer(t, "[imap]", "port", 993, 1, 65535) or 993
    starttls = r.boolean(t, "[imap]", "starttls", port == 143) if "starttls" in t else None
    imap = ImapConfig(host=r.string(t, "[imap]", "host", ""), port=port,
                      username=r.string(t, "[imap]", "username", ""), drafts=r.string(t, "[imap]", "drafts", ""),
                      cafile=r.existing_file(t, "[imap]", "cafile", check=None), starttls=starttls)
    if mail.backend == MailBackend.IMAP:
        for key in ("host", "username"):
            if not getattr(imap, key):
                r.problem(f"[imap] {key}", 'is required by [mail] backend = "imap"')
    return caldav, imap


def _references(r: _Reader, data: dict[str, Any]) -> tuple[Reference, ...]:
    raw = data.get("references", [])
    if not isinstance(raw, list):
        r.problem("[[references]]", "must be an array of tables: write each one as [[references]]")
        return ()
    refs = []
    for i, t in enumerate(raw, 1):
        where = f"[[references]] #{i}"
        if not isinstance(t, dict):
            r.problem(where, f"must be a table, got {_show(t)}")
            continue
        r.warn_unknown(f"{where} ", t, frozenset({"name", "email"}))
        refs.append(Reference(name=r.string(t, where, "name", "", required=True),
                              email=r.email(t, where, "email", required=True)))
    return tuple(refs)


def _plan(r: _Reader, t: dict[str, Any]) -> PlanConfig:
    r.warn_unknown("[plan] ", t, _SECTIONS["plan"])
    lookback = r.integer(t, "[plan]", "lookback_days", 14, 0, 3650)
    country = r.string(t, "[plan]", "holidays", "").upper()
    if country and country not in holidays.supported_countries():
        r.problem("[plan] holidays", f"{_show(country)} is not a country code the holidays package "
                  "knows (use an ISO 3166 code such as \"US\", \"GB\" or \"DE\", or leave it out)")
        country = ""
    steps_raw = t.get("steps", {})
    steps: dict[str, StepConfig] = {}
    if not isinstance(steps_raw, dict):
        r.problem("[plan] steps", f"must be a table of [plan.steps.<id>] tables, got {_show(steps_raw)}")
        steps_raw = {}
    for step_id, st in steps_raw.items():
        where = f"[plan.steps.{step_id}]"
        if step_id not in registry.ids():
            r.problem(where, f"unknown step id; the steps are {', '.join(registry.ids())}")
            continue
        if not isinstance(st, dict):
            r.problem(where, f"must be a table, got {_show(st)}")
            continue
        r.warn_unknown(f"{where} ", st, registry.get(step_id).config_keys)
        time = r.string(st, where, "time", "") or None
        if time is not None and not _TIME.fullmatch(time):
            r.problem(f"{where} time", f"must be a 24-hour time \"HH:MM\", got {_show(time)}")
            time = None
        steps[step_id] = StepConfig(
            enabled=r.boolean(st, where, "enabled", True),
            minutes_before=r.integer(st, where, "minutes_before", None, 0, 24 * 60),
            duration_minutes=r.integer(st, where, "duration_minutes", None, 1, 24 * 60),
            business_days=r.integer(st, where, "business_days", None, 0, 260),
            time=time,
            template=r.existing_file(st, where, "template"),
            reminder_template=r.existing_file(st, where, "reminder_template"),
        )
    return PlanConfig(lookback_days=lookback if lookback is not None else 14, holidays=country, steps=steps,
                      holiday_dates=holidays.holiday_dates)
