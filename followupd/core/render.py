"""Draft and reminder text from Jinja2 templates, rendered in a sandbox (SPEC §4.7).

Template convention: the first line is ``Subject: ...`` (drafts) or
``Title: ...`` (reminders), then a blank line, then the body.  The templates
arrive already read, as ``Templates`` in ``Config.templates``:
``followupd.config.templates`` reads the shipped defaults and the person's
``[plan.steps.<id>] template`` / ``reminder_template`` files.  Nothing here
touches the disk.

Untrusted text (titles, names, companies) only ever reaches a template as a
*variable*, already flattened to one line, so ``{{ 7*7 }}`` in an event title
renders literally and cannot add lines to a heading.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from followupd.core import steps
from followupd.core.message import sanitize_header
from followupd.core.model import DraftContent, Interview, Person
from followupd.core.settings import Config
from followupd.core.templates import Templates, template_error
from followupd.errors import ConfigError

_HEADING = {"draft": "Subject:", "reminder": "Title:"}


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


def _render(kind: str, templates: Templates, name: str, variables: dict[str, Any]) -> tuple[str, str]:
    from jinja2 import TemplateError

    template, source = templates.get(name)
    try:
        text = template.render(variables)
    except TemplateError as exc:
        raise template_error(source, exc) from None
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as exc:
        raise template_error(source, exc) from None
    heading, _, body = text.lstrip("\n").partition("\n")
    prefix = _HEADING[kind]
    if not heading.startswith(prefix):
        raise ConfigError(f"{source.shown}: line 1: must start with \"{prefix} ...\", then a blank line, "
                          "then the text")
    return _one_line(heading[len(prefix):]), body.strip("\n") + "\n"


def render_draft(step: str, interview: Interview, to: Person, cfg: Config, tz: ZoneInfo) -> DraftContent:
    """The subject and body of ``step``'s draft to ``to``.  Raises ConfigError for a broken template."""
    name = steps.get(step).draft_template
    subject, body = _render("draft", cfg.templates, name, context(interview, cfg, tz, step=step, recipient=to))
    return DraftContent(to=to, subject=subject, body=body)


def render_reminder(step: str, interview: Interview, cfg: Config, tz: ZoneInfo, at: datetime) -> tuple[str, str]:
    """The title and description of ``step``'s reminder."""
    name = steps.get(step).reminder_template
    return _render("reminder", cfg.templates, name, context(interview, cfg, tz, step=step, at=at))
