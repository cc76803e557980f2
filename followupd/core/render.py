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

import hashlib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from followupd.core import names, steps
from followupd.core.names import greeting
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


def _person(p: Person, cfg: Config, interview: Interview | None = None) -> dict[str, Any]:
    name = _one_line(p.name, 100)
    title = _one_line(p.title, 100)
    first = _one_line(p.first_name, 60)
    return {"name": name or p.email, "first_name": first, "title": title, "email": p.email,
            "greeting": greeting(name, cfg.me.tone),  # "Hi Emily," / "Dear Dr. Nguyen," / "Hello,"
            "known_name": bool(name),
            "label": f"{name} ({title})" if name and title else (name or p.email),
            "note": _one_line(interview.note_for(p.email), 300) if interview else "",
            "topic": _in_sentence(_one_line(interview.topic_for(p.email), 100)) if interview else ""}


def _in_sentence(text: str) -> str:
    """"System design" → "system design", "SQL deep dive" → "SQL deep dive": lower case inside a
    sentence, acronyms kept."""
    return " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split())


def variants(interview: Interview, step: str, recipient: Person | None) -> tuple[int, int]:
    """(opening, closing): stable choices among 3 openings and 2 closings, different for each
    interviewer of one interview, so people who compare notes do not find the same letter with
    another first name.  Nothing random: a rewrite gives the same letter."""
    base = int(hashlib.sha256(f"{interview.id}|{step}".encode()).hexdigest()[:8], 16)
    emails = [p.email for p in interview.interviewers]
    index = emails.index(recipient.email) if recipient is not None and recipient.email in emails else 0
    return (base + index) % 3, (base // 3 + index) % 2


def context(interview: Interview, cfg: Config, tz: ZoneInfo, *, step: str, at: datetime | None = None,
            recipient: Person | None = None) -> dict[str, Any]:
    """The variables every template sees; all untrusted text is flattened to one line."""
    start = interview.event.start.astimezone(tz)
    people = [_person(p, cfg, interview) for p in interview.interviewers]
    me = cfg.me
    sign_off = "Kind regards," if me.tone == "formal" else "Best regards,"
    signature = "\n".join(x for x in (sign_off, me.name, me.email, me.phone) if x)
    others = [p for p in people if recipient is None or p["email"] != recipient.email]
    opening, closing = variants(interview, step, recipient)
    return {
        "step": step,
        "me": {"name": me.name, "first_name": names.parse(me.name).first, "email": me.email, "phone": me.phone},
        "tone": me.tone,
        "signature": signature,
        "recipient": _person(recipient, cfg, interview) if recipient else None,
        "variant": opening,
        "closing": closing,
        "kind": interview.kind,
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
        "others": others,  # the other interviewers, for a draft to one of them
        "organizer": _person(interview.organizer, cfg) if interview.organizer else None,
        "references": [{"name": _one_line(r.name, 100), "email": r.email} for r in cfg.references],
        "reference_names": join_names([_one_line(r.name, 100) for r in cfg.references]),
        "decision": long_date(interview.decision) if interview.decision else "",
        "outcome": interview.outcome.value if interview.outcome else "",
        "drafts_to": [],
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


def render_reminder(step: str, interview: Interview, cfg: Config, tz: ZoneInfo, at: datetime,
                    drafts_to: list[Person] | None = None) -> tuple[str, str]:
    """The title and description of ``step``'s reminder; ``drafts_to`` are the people the step's
    drafts will really be written to (a reminder never says drafts are ready when none will be)."""
    name = steps.get(step).reminder_template
    variables = context(interview, cfg, tz, step=step, at=at)
    variables["drafts_to"] = [_person(p, cfg) for p in drafts_to or []]
    return _render("reminder", cfg.templates, name, variables)
