"""The desired follow-ups of one interview (SPEC §2).  Pure: no I/O but templates.

``plan`` returns every follow-up the interview should have *now*: reminders
(written as soon as the interview is seen) and drafts (written when their step
falls due).  The reconciler compares this with what was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from followupd.core.settings import Config
from followupd.core.model import CalendarEvent, DraftContent, FollowUp, Interview, Kind, Person, ReminderContent
from followupd.core.render import render_draft, render_reminder

# Reminders may be written as soon as the interview is seen.
ALWAYS = datetime(1970, 1, 1, tzinfo=timezone.utc)
REMINDER_MINUTES = 15
SKIP_PAST = timedelta(hours=1)
ALL_DAY_PREPARE = time(8, 0)  # an all-day interview has no start time to be 30 min before
DEFAULTS: dict[str, tuple[int, str]] = {  # business days after, local time
    "handwritten-note": (1, "09:00"),
    "keep-applying": (2, "10:00"),
    "check-in": (10, "10:00"),
}
CHECK_IN_AFTER_DECISION = 1


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year`` (cached: the package builds them slowly)."""
    if not country:
        return frozenset()
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_business_days(day: date, n: int, country: str) -> date:
    """The ``n``-th business day after ``day`` (``day`` itself for n = 0)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day, country):
            n -= 1
    return day


def in_window(event: CalendarEvent, now: datetime, lookback_days: int) -> bool:
    """True if the event ended within the last ``lookback_days`` days, or has not ended yet."""
    return event.end >= now - timedelta(days=lookback_days)


def _wall_clock(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    """``hhmm`` on ``day`` in ``tz``: a wall-clock time, right across DST changes."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def interview_end(interview: Interview, tz: ZoneInfo) -> datetime:
    """When the interview ends; for an all-day interview, the end of its last day."""
    ev = interview.event
    if ev.all_day:
        last = (ev.end.astimezone(tz) - timedelta(microseconds=1)).date() if ev.end > ev.start \
            else ev.start.astimezone(tz).date()
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return ev.end


def last_day(interview: Interview, tz: ZoneInfo) -> date:
    """The local date the interview ends on (business days count from it)."""
    return (interview_end(interview, tz) - timedelta(microseconds=1)).astimezone(tz).date()


def step_time(step: str, interview: Interview, cfg: Config, tz: ZoneInfo) -> datetime:
    """When a business-day step falls due (handwritten-note, keep-applying, check-in)."""
    sc = cfg.plan.step(step)
    days, hhmm = DEFAULTS[step]
    if sc.business_days is not None:
        days = sc.business_days
    if sc.time:
        hhmm = sc.time
    base = last_day(interview, tz)
    if step == "check-in" and interview.decision is not None:
        base, days = interview.decision, CHECK_IN_AFTER_DECISION
    return _wall_clock(add_business_days(base, days, cfg.plan.holidays), hhmm, tz)


def _reminder(interview: Interview, step: str, at: datetime, cfg: Config, tz: ZoneInfo,
              minutes: int = REMINDER_MINUTES) -> FollowUp:
    title, description = render_reminder(step, interview, cfg, tz, at)
    content = ReminderContent(title=title, description=description, start=at,
                              end=at + timedelta(minutes=minutes), popup_minutes=0)
    return FollowUp(interview_id=interview.id, step=step, kind=Kind.REMINDER, at=at, write_from=ALWAYS,
                    content=content, calendar_id=interview.calendar_id)


def _draft(interview: Interview, step: str, at: datetime, to: Person, cfg: Config, tz: ZoneInfo) -> FollowUp:
    content: DraftContent = render_draft(step, interview, to, cfg, tz)
    return FollowUp(interview_id=interview.id, step=step, kind=Kind.DRAFT, at=at, write_from=at, content=content,
                    recipient=to.email.strip().lower(), calendar_id=interview.calendar_id)


def _unique(people: list[Person]) -> Iterator[Person]:
    seen: set[str] = set()
    for p in people:
        key = p.email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            yield p


def _contact(interview: Interview) -> Person | None:
    """The organiser, else the first interviewer: who gets the check-in and the gracious close."""
    return interview.organizer or (interview.interviewers[0] if interview.interviewers else None)


def plan(interview: Interview, cfg: Config, tz: ZoneInfo, now: datetime) -> list[FollowUp]:
    """Every follow-up ``interview`` should have, as of ``now`` (SPEC §2)."""
    return plan_with_skipped(interview, cfg, tz, now)[0]


def plan_with_skipped(interview: Interview, cfg: Config, tz: ZoneInfo,
                      now: datetime) -> tuple[list[FollowUp], list[FollowUp]]:
    """``plan``, and the reminders it leaves out as already past when the interview was
    first seen (the engine records those, so they never come later), from one rendering."""
    enabled = {s for s, sc in cfg.plan.steps.items() if sc.enabled}
    first_seen = interview.first_seen or now
    outcome_at = interview.outcome_at or now
    end = interview_end(interview, tz)
    out: list[FollowUp] = []

    if "prepare" in enabled:
        sc = cfg.plan.step("prepare")
        if interview.event.all_day:
            at = datetime.combine(interview.event.start.astimezone(tz).date(), ALL_DAY_PREPARE, tzinfo=tz)
        else:
            at = interview.event.start - timedelta(minutes=30 if sc.minutes_before is None else sc.minutes_before)
        out.append(_reminder(interview, "prepare", at, cfg, tz,
                             REMINDER_MINUTES if sc.duration_minutes is None else sc.duration_minutes))
    if "thank-you" in enabled:
        out.append(_reminder(interview, "thank-you", end, cfg, tz))
        out += [_draft(interview, "thank-you", end, p, cfg, tz) for p in _unique(list(interview.interviewers))]
    if "references" in enabled:
        out.append(_reminder(interview, "references", end, cfg, tz))
        refs = [Person(email=r.email, name=r.name) for r in cfg.references]
        out += [_draft(interview, "references", end, p, cfg, tz) for p in _unique(refs)]
    for step in ("handwritten-note", "keep-applying"):
        if step in enabled:
            out.append(_reminder(interview, step, step_time(step, interview, cfg, tz), cfg, tz))
    contact = _contact(interview)
    if "check-in" in enabled:
        at = step_time("check-in", interview, cfg, tz)
        # An outcome cancels a check-in that had not fallen due when it was recorded.
        if interview.outcome is None or at <= outcome_at:
            out.append(_reminder(interview, "check-in", at, cfg, tz))
            if contact is not None:
                out.append(_draft(interview, "check-in", at, contact, cfg, tz))
    if "gracious-close" in enabled and interview.outcome == "rejected" and contact is not None:
        out.append(_draft(interview, "gracious-close", outcome_at, contact, cfg, tz))

    # A reminder already more than an hour past when the interview was first seen is noise.
    cutoff = first_seen - SKIP_PAST
    kept = [f for f in out if f.kind is Kind.DRAFT or f.at >= cutoff]
    return kept, [f for f in out if f.kind is Kind.REMINDER and f.at < cutoff]
