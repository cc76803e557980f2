"""The desired follow-ups of one interview (SPEC §2).  Pure: no I/O.

``plan`` returns every follow-up the interview should have *now*: reminders
(written as soon as the interview is seen) and drafts (written when their step
falls due).  The reconciler compares this with what was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from followupd.core import steps
from followupd.core.model import CalendarEvent, DraftContent, FollowUp, Interview, Kind, Person, ReminderContent
from followupd.core.render import render_draft, render_reminder
from followupd.core.settings import Config, HolidayDates, package_holidays
from followupd.core.applications import ALONE, Round
from followupd.core.steps import Recipients, Scope, Step, Timing

# Reminders may be written as soon as the interview is seen.
ALWAYS = datetime(1970, 1, 1, tzinfo=timezone.utc)
REMINDER_MINUTES = 15
SKIP_PAST = timedelta(hours=1)
ALL_DAY_PREPARE = time(8, 30)  # an all-day interview has no start time to be 30 min before
ALL_DAY_END = time(17, 0)  # nor an end: its thank-yous fall at the end of the working day
STALE_DRAFT = timedelta(days=2)  # a draft this late when its interview was first seen is not written
CHECK_IN_AFTER_DECISION = 1


def is_business_day(day: date, country: str, dates: HolidayDates = package_holidays) -> bool:
    return day.weekday() < 5 and (not country or day not in dates(country, day.year))


def add_business_days(day: date, n: int, country: str, dates: HolidayDates = package_holidays) -> date:
    """The ``n``-th business day after ``day`` (``day`` itself for n = 0)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day, country, dates):
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
        # an all-day event's dates are calendar dates, whatever zone the source wrote them in
        last = (ev.end - timedelta(microseconds=1)).date() if ev.end > ev.start else ev.start.date()
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return ev.end


def last_day(interview: Interview, tz: ZoneInfo) -> date:
    """The local date the interview ends on (business days count from it)."""
    return (interview_end(interview, tz) - timedelta(microseconds=1)).astimezone(tz).date()


def step_time(step: str, interview: Interview, cfg: Config, tz: ZoneInfo) -> datetime:
    """When a business-day step falls due (handwritten-note, keep-applying, check-in)."""
    spec, sc = steps.get(step), cfg.plan.step(step)
    days = spec.business_days if sc.business_days is None else sc.business_days
    hhmm = sc.time or spec.time
    base = last_day(interview, tz)
    if spec.timing is Timing.AFTER_DECISION and interview.decision is not None:
        base, days = interview.decision, CHECK_IN_AFTER_DECISION
    return _wall_clock(add_business_days(base, days, cfg.plan.holidays, cfg.plan.holiday_dates), hhmm, tz)


def _moment(spec: Step, interview: Interview, cfg: Config, tz: ZoneInfo, outcome_at: datetime) -> datetime:
    """When ``spec`` falls due for ``interview``."""
    if spec.timing is Timing.BEFORE_START:
        if interview.event.all_day:
            return datetime.combine(interview.event.start.date(), ALL_DAY_PREPARE, tzinfo=tz)
        minutes = cfg.plan.step(spec.id).minutes_before
        return interview.event.start - timedelta(minutes=spec.minutes_before if minutes is None else minutes)
    if spec.timing is Timing.AT_END:
        if interview.event.all_day:
            return datetime.combine(last_day(interview, tz), ALL_DAY_END, tzinfo=tz)
        return interview_end(interview, tz)
    if spec.timing is Timing.ON_OUTCOME:
        return outcome_at
    return step_time(spec.id, interview, cfg, tz)


def _length(spec: Step, cfg: Config) -> int:
    """How long the step's reminder lasts, in minutes."""
    if spec.timing is Timing.BEFORE_START:
        minutes = cfg.plan.step(spec.id).duration_minutes
        return spec.duration_minutes if minutes is None else minutes
    return REMINDER_MINUTES


def _applies(spec: Step, interview: Interview, at: datetime, outcome_at: datetime, tz: ZoneInfo) -> bool:
    """Whether the outcome recorded (if any) leaves this step in the plan."""
    if spec.only_on is not None:
        return interview.outcome == spec.only_on
    if interview.outcome is None or at <= outcome_at:
        return True
    # An outcome cancels a step that had not fallen due when it was recorded; recorded before the
    # interview was over (``outcome --force``), it cancels every step still to come.
    return not (spec.cancelled_by_outcome or outcome_at < interview_end(interview, tz))


def _in_round(spec: Step, interview: Interview, round_: Round) -> bool:
    """Whether this round of its application gets the step (SPEC §2 "Applications")."""
    if interview.kind in spec.not_for:
        return False
    if spec.scope is Scope.FIRST_ROUND:
        return round_.first
    if spec.scope is Scope.LATEST_ROUND:
        return round_.latest
    return True


def _reminder(interview: Interview, step: str, at: datetime, cfg: Config, tz: ZoneInfo,
              minutes: int = REMINDER_MINUTES, drafts_to: list[Person] | None = None) -> FollowUp:
    title, description = render_reminder(step, interview, cfg, tz, at, drafts_to or [])
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


def recipients(spec: Step, interview: Interview, cfg: Config) -> list[Person]:
    """Who ``spec``'s drafts go to, each once."""
    if spec.drafts is Recipients.INTERVIEWERS:
        return list(_unique(list(interview.interviewers)))
    if spec.drafts is Recipients.REFERENCES:
        return list(_unique([Person(email=r.email, name=r.name) for r in cfg.references]))
    if spec.drafts is Recipients.CONTACT:
        contact = _contact(interview)
        return [contact] if contact is not None else []
    return []


def plan(interview: Interview, cfg: Config, tz: ZoneInfo, now: datetime, round_: Round = ALONE) -> list[FollowUp]:
    """Every follow-up ``interview`` should have, as of ``now`` (SPEC §2)."""
    return plan_with_skipped(interview, cfg, tz, now, round_)[0]


def plan_with_skipped(interview: Interview, cfg: Config, tz: ZoneInfo, now: datetime,
                      round_: Round = ALONE) -> tuple[list[FollowUp], list[FollowUp]]:
    """``plan``, and what it leaves out as too late when the interview was first seen: reminders
    more than an hour past, drafts more than two days past (the engine records those, so they
    never come later, and lists them).  ``round_`` is the interview's place in its application."""
    first_seen = interview.first_seen or now
    outcome_at = interview.outcome_at or now
    out: list[FollowUp] = []
    for spec in steps.STEPS:
        if not cfg.plan.step(spec.id).enabled:
            continue
        if not _in_round(spec, interview, round_):
            continue
        at = _moment(spec, interview, cfg, tz, outcome_at)
        if not _applies(spec, interview, at, outcome_at, tz):
            continue
        people = recipients(spec, interview, cfg)
        drafts = [_draft(interview, spec.id, at, p, cfg, tz) for p in people]
        late = at < first_seen - STALE_DRAFT  # its drafts would arrive days late, as if fresh: listed instead
        if spec.reminder:
            out.append(_reminder(interview, spec.id, at, cfg, tz, _length(spec, cfg),
                                 [] if late else people))
        out += drafts

    # A reminder already more than an hour past when the interview was first seen is noise;
    # a draft more than two days past would read as if fresh, days late.
    def too_late(f: FollowUp) -> bool:
        return f.at < first_seen - (SKIP_PAST if f.kind is Kind.REMINDER else STALE_DRAFT)

    return [f for f in out if not too_late(f)], [f for f in out if too_late(f)]


def why_absent(step_id: str, interview: Interview, cfg: Config, tz: ZoneInfo, now: datetime,
               round_: Round = ALONE) -> str:
    """Why ``plan`` gives this interview nothing for ``step_id`` (for ``preview``)."""
    spec = steps.get(step_id)
    if not cfg.plan.step(spec.id).enabled:
        return f"disabled in [plan.steps.{spec.id}]"
    if spec.scope is Scope.FIRST_ROUND and not round_.first:
        return f"once per application: it came with round 1 (this is round {round_.number})"
    if spec.scope is Scope.LATEST_ROUND and not round_.latest:
        return f"once per application: it waits for the latest round ({round_.rounds})"
    if spec.only_on is not None and interview.outcome != spec.only_on:
        return f"only when the outcome is recorded as {spec.only_on.value}"
    outcome_at = interview.outcome_at or now
    if interview.kind in spec.not_for:
        return f"not for an {interview.kind} conversation"
    if not _applies(spec, interview, _moment(spec, interview, cfg, tz, outcome_at), outcome_at, tz):
        assert interview.outcome is not None
        return f"cancelled by the outcome ({interview.outcome.value})"
    if not spec.reminder and not recipients(spec, interview, cfg):
        return "nobody to write to"
    first_seen = interview.first_seen or now
    return (f"skipped: already more than {int(SKIP_PAST.total_seconds() // 3600)} hour past when first seen "
            f"({first_seen.astimezone(tz):%Y-%m-%d %H:%M})")
