"""Builders for the core tests: events, configs and interviews with little noise."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from followupd.config.templates import with_templates
from followupd.core import steps as registry
from followupd.core.settings import Config, MeConfig, PlanConfig, Reference, StepConfig
from followupd.core.model import Attendee, CalendarEvent
from followupd.core.templates import Templates

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
ME = MeConfig(name="Jordan Rivera", email="jordan@example.com", phone="+1 555 0100")
CFG = with_templates(Config(me=ME, references=(Reference(name="Dana Lee", email="dana@example.org"),)))

SELF = Attendee("jordan@example.com", "Jordan Rivera", is_self=True, response="accepted")
SAM = Attendee("sam.park@acme.com", "Sam Park (Engineering Manager)", response="accepted")
LEE = Attendee("lee@acme.com", "Lee Chen", response="needsAction")
ROOM = Attendee("room-4@resource.calendar.google.com", "Room 4", resource=True, response="accepted")
RILEY = Attendee("riley@acme.com", "Riley Recruiter", organizer=True, response="accepted")


def event(title: str = "Interview: Senior Engineer at Acme", *, start: datetime | None = None,
          minutes: int = 60, tz: ZoneInfo = NY, **kw: Any) -> CalendarEvent:
    start = start or datetime(2026, 11, 24, 14, 0, tzinfo=tz)
    kw.setdefault("attendees", (SELF, SAM, LEE, ROOM))
    kw.setdefault("organizer", RILEY)
    return CalendarEvent(id=kw.pop("id", "ev1"), calendar_id=kw.pop("calendar_id", "primary"), title=title,
                         start=start, end=start + timedelta(minutes=minutes), **kw)


def cfg_with(*, holidays: str = "", steps: dict[str, StepConfig] | None = None, **kw: Any) -> Config:
    all_steps = {s: StepConfig() for s in registry.ids()}
    all_steps.update(steps or {})
    plan = PlanConfig(holidays=holidays, steps=all_steps)
    return replace(CFG, plan=plan, templates=with_templates(replace(CFG, plan=plan, templates=Templates())).templates,
                   **kw)
