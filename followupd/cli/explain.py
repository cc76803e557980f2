"""``followupd explain EVENT`` and ``followupd preview EVENT``: look, write nothing.

EVENT is an event id, or a unique case-insensitive part of its title, among the
events of the watched calendars from the lookback window on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followupd import backends as backends_pkg
from followupd.core import steps as registry
from followupd.core.settings import Config
from followupd.core.detect import classify, to_interview
from followupd.errors import ConfigError
from followupd.core.ids import draft_key
from followupd.core.message import build_message, sanitize_header
from followupd.core.model import CalendarEvent, DraftContent, FollowUp, Interview, Kind, ReminderContent
from followupd.core.applications import ALONE, Round, rounds
from followupd.core.plan import plan, why_absent
from followupd.backends.protocols import EventSource

if TYPE_CHECKING:
    from followupd.cli.context import Context
    from followupd.core.records import InterviewRecord
    from followupd.store.state import Planned

MAX_CANDIDATES = 10
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def find_event(query: str, events: list[CalendarEvent], now: datetime | None = None) -> CalendarEvent:
    """The event whose id is ``query``, else the one whose title contains it (case-insensitive).

    When every match is an instance of one recurring series, the instance
    nearest to ``now`` is taken: the one under way or next, else the latest.
    """
    exact = [e for e in events if e.id == query]
    if len(exact) == 1:
        return exact[0]
    needle = query.casefold().strip()
    matches = [e for e in events if needle and needle in e.title.casefold()] if not exact else exact
    if len(matches) == 1:
        return matches[0]
    series = {e.recurring_event_id for e in matches}
    if matches and len(series) == 1 and None not in series and now is not None:
        ordered = sorted(matches, key=lambda e: e.start)
        return next((e for e in ordered if e.end >= now), ordered[-1])
    if not matches:
        raise ConfigError(f"no event matches {_quote(query)}; give an event id or a part of its title.",
                          [_line(e) for e in events[:MAX_CANDIDATES]] if events else ["(no events in the window)"])
    shown = [_line(e) for e in matches[:MAX_CANDIDATES]]
    if len(matches) > MAX_CANDIDATES:
        shown.append(f"… and {len(matches) - MAX_CANDIDATES} more")
    raise ConfigError(f"{len(matches)} events match {_quote(query)}; give the event id or more of the title:", shown)


def _quote(text: str) -> str:
    return "'" + sanitize_header(text, 80) + "'"


def _line(e: CalendarEvent) -> str:
    return f"{e.id}  {e.start:%Y-%m-%d %H:%M}  {sanitize_header(e.title, 80)}"


def _events(cfg: Config, source: EventSource, watch: tuple[str, ...], now: datetime) -> list[CalendarEvent]:
    time_min = now - timedelta(days=cfg.plan.lookback_days)
    events: list[CalendarEvent] = []
    for cal in watch:
        result = source.sync(cal, None, time_min=time_min)
        events += result.events
    return events


def _tz(source: EventSource, calendar_id: str) -> ZoneInfo:
    name = source.timezone(calendar_id)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _lookup(args: argparse.Namespace, ctx: Context,
            now: datetime) -> tuple[Config, EventSource, CalendarEvent, list[CalendarEvent]]:
    cfg = ctx.config()
    source, watch = backends_pkg.build_source(cfg)
    events = _events(cfg, source, watch, now)
    return cfg, source, find_event(args.event, events, now), events


def cmd_explain(args: argparse.Namespace, ctx: Context, *, clock: Clock = _utcnow) -> int:
    """Why an event is or is not an interview: the rule that decided, and the reason."""
    cfg, source, event, _ = _lookup(args, ctx, clock())
    verdict = classify(event, cfg)
    tz = _tz(source, event.calendar_id)
    print(f"{sanitize_header(event.title, 200)}  ({event.id}, {event.start.astimezone(tz):%a %Y-%m-%d %H:%M %Z})")
    answer = "an interview" if verdict.is_interview else "not an interview"
    print(f"  {answer}: rule {verdict.rule}: {verdict.reason}")
    if verdict.is_interview:
        print("\n".join(facts(to_interview(event, cfg), tz)[2:]))
    return 0


def _state_record(interview_id: str) -> tuple[InterviewRecord | None, Planned | None]:
    """What the daemon recorded of this interview (outcome, decision, first seen) and where the last
    pass placed it in its application, if anything.

    Only an existing state database is read: previewing never creates one.
    """
    from followupd.store import state

    path = state.default_path()
    if not path.exists():
        return None, None
    with state.State(path) as db:
        return db.interview(interview_id), db.plans_for([interview_id]).get(interview_id)


def cmd_preview(args: argparse.Namespace, ctx: Context, *, clock: Clock = _utcnow) -> int:
    """The interview's facts, its planned steps and every rendered draft; writes nothing."""
    now = clock()
    cfg, source, event, listed = _lookup(args, ctx, now)
    tz = _tz(source, event.calendar_id)
    verdict = classify(event, cfg)
    title = sanitize_header(event.title, 200)
    if not verdict.is_interview:
        print(f"{title}: not an interview ({verdict.rule}: {verdict.reason}). Nothing would be planned.")
        return 0
    rec, planned = _state_record(event.id)
    if rec is not None:
        interview = replace(rec, event=event).interview(cfg)
    else:
        interview = to_interview(event, cfg)
    round_ = Round(planned.application, planned.round, planned.rounds) if planned else _round(interview, listed, cfg)
    print("\n".join(facts(interview, tz)))
    if round_.rounds > 1:
        print(f"  round:        {round_.number} of {round_.rounds} in this application")
    print()
    follow_ups = plan(interview, cfg, tz, now, round_)
    print("\n".join(schedule_lines(interview, follow_ups, cfg, tz, now, round_)))
    for f in follow_ups:
        if isinstance(f.content, DraftContent):
            print()
            print("\n".join(draft_lines(f, cfg, tz)))
    return 0


def _round(interview: Interview, listed: list[CalendarEvent], cfg: Config) -> Round:
    """The interview's place in its application, from the interviews the calendar lists."""
    others = [to_interview(e, cfg) for e in listed if e.id != interview.id and classify(e, cfg).is_interview]
    return rounds([interview, *others], cfg).get(interview.id, ALONE)


def facts(interview: Interview, tz: ZoneInfo) -> list[str]:
    """What followupd understood of the invitation, each field with where it came from."""
    ev = interview.event
    when = f"{ev.start.astimezone(tz):%a %Y-%m-%d}" if ev.all_day else \
        f"{ev.start.astimezone(tz):%a %Y-%m-%d %H:%M}–{ev.end.astimezone(tz):%H:%M %Z}"
    source = dict(interview.facts)

    def field(label: str, value: str, key: str) -> str:
        said = sanitize_header(value, 100) or "(not known: the drafts say less)"
        why = source.get(key, "")
        return f"  {label:<13} {said}" + (f"    ← {sanitize_header(why, 160)}" if why and value else "")

    lines = [
        f"{sanitize_header(ev.title, 200)}  ({ev.id})",
        f"  when:         {when}",
        field("company:", interview.company, "company"),
        field("role:", interview.role, "role"),
        field("kind:", interview.kind, "kind"),
    ]
    for p in interview.interviewers:
        topic = interview.topic_for(p.email)
        note = interview.note_for(p.email)
        extra = "".join(f"; {k}: {sanitize_header(v, 80)}" for k, v in (("covered", topic), ("your note", note)) if v)
        lines.append(f"  interviewer:  {_person(p.name, p.title, p.email)}{extra}")
    if not interview.interviewers:
        lines.append("  interviewer:  (nobody a draft can go to)")
    contact = interview.organizer
    lines.append(field("contact:", _person(contact.name, contact.title, contact.email) if contact else "", "contact")
                 if contact else "  contact:      (none: a check-in goes to the first interviewer, if any)")
    for address, why in interview.left_out:
        lines.append(f"  no draft:     {sanitize_header(address, 100)} ({why})")
    if interview.decision:
        lines.append(field("decision:", f"{interview.decision:%a %Y-%m-%d}", "decision"))
    elif "decision" in source:
        lines.append(f"  decision:     {sanitize_header(source['decision'], 160)}")
    if interview.outcome:
        lines.append(f"  outcome:      {interview.outcome.value}")
    return lines


def _person(name: str, title: str, email: str) -> str:
    label = sanitize_header(name, 100) or email
    if title:
        label += f" ({sanitize_header(title, 100)})"
    return f"{label} <{email}>" if name else label


def _state(f: FollowUp, now: datetime) -> str:
    if f.kind is Kind.DRAFT:
        return "due" if f.write_from <= now else "later"
    return "past" if f.at < now else "upcoming"


def schedule_lines(interview: Interview, follow_ups: list[FollowUp], cfg: Config, tz: ZoneInfo,
                   now: datetime, round_: Round = ALONE) -> list[str]:
    """One line per planned follow-up, plus why any step produced none."""
    lines = ["Plan (times in " + str(tz) + "):"]
    for f in sorted(follow_ups, key=lambda f: (f.at, f.kind != Kind.REMINDER)):
        what = (f"reminder  {sanitize_header(f.content.title, 100)}" if isinstance(f.content, ReminderContent)
                else f"draft     to {f.recipient}")
        lines.append(f"  {f.at.astimezone(tz):%a %Y-%m-%d %H:%M}  {f.step:<16} {what}  [{_state(f, now)}]")
    produced = {f.step for f in follow_ups}
    for step in registry.ids():
        if step in produced:
            continue
        why = why_absent(step, interview, cfg, tz, now, round_)
        lines.append(f"  {'':<20}  {step:<16} — {why}")
    return lines


def draft_lines(f: FollowUp, cfg: Config, tz: ZoneInfo) -> list[str]:
    """The draft as it will be written: headers from the very message
    ``message.build_message`` builds, so what preview shows is what the
    recipient line, quoting included, will really be."""
    assert isinstance(f.content, DraftContent)
    d = f.content
    head = f"--- draft ({f.step}), written {f.write_from.astimezone(tz):%a %Y-%m-%d %H:%M} ---"
    try:
        msg = build_message(d, me=cfg.me, key=draft_key(f.interview_id, f.step, f.recipient))
    except ValueError as exc:
        return [head, f"(not written: {exc})"]
    return [head, f"From: {msg['From']}", f"To: {msg['To']}", f"Subject: {msg['Subject']}", "",
            d.body.rstrip("\n")]
