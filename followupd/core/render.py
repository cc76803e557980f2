"""Draft and reminder text from Jinja2 templates, rendered in a sandbox (SPEC §4.7).

Template convention: the first line is ``Subject: ...`` (drafts) or
``Title: ...`` (reminders), then a blank line, then the body.  Defaults ship in
``followupd/templates/``; ``[plan.steps.<id>] template`` / ``reminder_template``
replace them.

Untrusted text (titles, names, companies) only ever reaches a template as a
*variable*, already flattened to one line, so ``{{ 7*7 }}`` in an event title
renders literally and cannot add lines to a heading.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from followupd.core.settings import Config
from followupd.errors import ConfigError
from followupd.core.message import sanitize_header
from followupd.core.model import DraftContent, Interview, Person

DRAFT_STEPS = ("thank-you", "references", "check-in", "gracious-close")
REMINDER_STEPS = ("prepare", "thank-you", "references", "handwritten-note", "keep-applying", "check-in")
_HEADING = {"draft": "Subject:", "reminder": "Title:"}


class _Loader(BaseLoader):
    """Absolute paths are user templates; bare names are the shipped defaults."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if os.path.isabs(template):
            path = Path(template)
            try:
                mtime = path.stat().st_mtime_ns
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateNotFound(template, f"cannot read {template}: {exc}") from None
            return source, template, lambda: _mtime(path) == mtime
        resource = files("followupd").joinpath("templates", template)
        if not resource.is_file():
            raise TemplateNotFound(template)
        return resource.read_text(encoding="utf-8"), f"followupd/templates/{template}", lambda: True


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=_Loader(), undefined=StrictUndefined, autoescape=False,
                                keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                                auto_reload=True, cache_size=64)


def _shown(name: str) -> str:
    from followupd.config.loader import display_path

    return display_path(Path(name)) if os.path.isabs(name) else f"followupd/templates/{name}"


def _template_line(exc: BaseException, filename: str) -> int | None:
    """The template line an exception was raised at (Jinja rewrites the traceback)."""
    line = getattr(exc, "lineno", None)
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(name: str, exc: BaseException) -> str:
    """``line N: what went wrong`` (or just what went wrong, when no line is known)."""
    line = _template_line(exc, name)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"line {line}: template error: {message}" if line else f"template error: {message}"


def _error(name: str, exc: BaseException) -> ConfigError:
    return ConfigError(f"{_shown(name)}: {_describe(name, exc)}")


def get_template(name: str) -> Template:
    try:
        return environment().get_template(name)
    except TemplateError as exc:
        raise _error(name, exc) from None


def check_template(path: Path) -> str | None:
    """``None`` if the template at ``path`` compiles, else the problem (``line N: ...``)."""
    name = str(path.resolve())
    try:
        environment().get_template(name)
    except TemplateError as exc:
        return _describe(name, exc)
    return None


def long_date(d: date | datetime) -> str:
    """``Tuesday, November 24`` (English, independent of the locale)."""
    return f"{d:%A}, {d:%B} {d.day}"


def join_names(names: list[str]) -> str:
    names = [n for n in names if n]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _one_line(text: str, limit: int = 200) -> str:
    return sanitize_header(text, limit)


def _person(p: Person) -> dict[str, str]:
    name = _one_line(p.name, 100)
    return {"name": name or p.email, "first_name": _one_line(p.first_name, 60), "title": _one_line(p.title, 100),
            "email": p.email, "label": f"{name} ({_one_line(p.title, 100)})" if name and p.title else (name or p.email)}


def context(interview: Interview, cfg: Config, tz: ZoneInfo, *, step: str, at: datetime | None = None,
            recipient: Person | None = None) -> dict[str, Any]:
    """The variables every template sees; all untrusted text is flattened to one line."""
    start = interview.event.start.astimezone(tz)
    people = [_person(p) for p in interview.interviewers]
    me = cfg.me
    signature = "\n".join(x for x in ("Best regards,", me.name, me.email, me.phone) if x)
    return {
        "step": step,
        "me": {"name": me.name, "first_name": me.name.split()[0] if me.name.split() else "", "email": me.email,
               "phone": me.phone},
        "signature": signature,
        "recipient": _person(recipient) if recipient else None,
        "company": _one_line(interview.company, 100),
        "role": _one_line(interview.role, 100),
        "event_title": _one_line(interview.event.title),
        "location": _one_line(interview.event.location),
        "date": long_date(start),
        "time": "" if interview.event.all_day else f"{start:%H:%M}",
        "when": f"{long_date(at.astimezone(tz))} {at.astimezone(tz):%H:%M}" if at else "",
        "interviewers": people,
        "interviewer_names": join_names([p["name"] for p in people]),  # "Sam Park and Lee Chen"
        "interviewer_labels": join_names([p["label"] for p in people]),  # with titles where known
        "organizer": _person(interview.organizer) if interview.organizer else None,
        "references": [{"name": _one_line(r.name, 100), "email": r.email} for r in cfg.references],
        "reference_names": join_names([_one_line(r.name, 100) for r in cfg.references]),
        "decision": long_date(interview.decision) if interview.decision else "",
        "outcome": interview.outcome.value if interview.outcome else "",
    }


def _render(kind: str, name: str, variables: dict[str, Any]) -> tuple[str, str]:
    template = get_template(name)
    try:
        text = template.render(variables)
    except TemplateError as exc:
        raise _error(name, exc) from None
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as exc:
        raise _error(name, exc) from None
    heading, _, body = text.lstrip("\n").partition("\n")
    prefix = _HEADING[kind]
    if not heading.startswith(prefix):
        raise ConfigError(f"{_shown(name)}: line 1: must start with \"{prefix} ...\", then a blank line, "
                          "then the text")
    return _one_line(heading[len(prefix):]), body.strip("\n") + "\n"


def render_draft(step: str, interview: Interview, to: Person, cfg: Config, tz: ZoneInfo) -> DraftContent:
    """The subject and body of ``step``'s draft to ``to``.  Raises ConfigError for a broken template."""
    custom = cfg.plan.step(step).template
    name = str(custom.resolve()) if custom else f"{step}.j2"
    subject, body = _render("draft", name, context(interview, cfg, tz, step=step, recipient=to))
    return DraftContent(to=to, subject=subject, body=body)


def render_reminder(step: str, interview: Interview, cfg: Config, tz: ZoneInfo, at: datetime) -> tuple[str, str]:
    """The title and description of ``step``'s reminder."""
    custom = cfg.plan.step(step).reminder_template
    name = str(custom.resolve()) if custom else f"reminder-{step}.j2"
    return _render("reminder", name, context(interview, cfg, tz, step=step, at=at))
