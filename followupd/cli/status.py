"""``followupd status`` and ``followupd outcome``: read and annotate the state database.

Neither command touches the network: ``status`` reads state.db, where each pass
keeps what it planned (an interview the last pass did not plan, it plans here
from the event stored there); ``outcome`` records what the person says, for the
next pass to act on.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from followupd.core import steps as registry
from followupd.core.attempts import needing_attention
from followupd.core.model import Failure, FollowUp, Kind, LedgerEntry, Outcome, Status
from followupd.core.records import InterviewRecord
from followupd.core.settings import Config
from followupd.core.steps import Timing
from followupd.errors import ConfigError
from followupd.store.state import Planned, State, Upcoming

if TYPE_CHECKING:
    from followupd.cli.context import Context
    from followupd.core.applications import Round


@dataclass(frozen=True)
class StepLine:
    step: str
    kind: Kind
    recipient: str
    title: str
    at: datetime
    state: str  # a model.Status value, or "due"
    words: str
    failure: Failure | None = None


def _when(at: datetime, now: datetime) -> str:
    if abs((at - now).days) < 6:
        return at.strftime("%a %H:%M")
    return at.strftime("%a %d %b %H:%M")


def _failing(f: Failure) -> str:
    if f.next_attempt is None:
        return f"NEEDS ATTENTION: {f.action} failed {f.attempts} times ({f.error}); `followupd retry` tries again"
    return (f"{f.action} failing ({f.error}); attempt {f.attempts}, next try "
            f"{f.next_attempt.astimezone():%a %H:%M}")


def _words(e: LedgerEntry, rec: InterviewRecord) -> str:
    if e.failure is not None:
        return _failing(e.failure)
    if e.status == Status.WRITTEN:
        return "written"
    if e.status == Status.PLANNED:
        return "being written (interrupted; resolved on the next pass)"
    if e.status == Status.EDITED:
        return "edited by you — left alone"
    if e.status == Status.DELETED:
        return "deleted by you — not re-created"
    if e.status == Status.WITHDRAWN:
        reason = rec.gone_reason if not rec.live else ("outcome recorded" if rec.outcome else "no longer planned")
        return f"withdrawn ({reason})"
    if e.status == Status.SKIPPED:
        return "skipped (already past when first seen)"
    return "done"


def _planned(rec: InterviewRecord, cfg: Config, tz: str | None, now: datetime,
             round_: Round | None = None) -> list[FollowUp]:
    if not rec.live or rec.settled or tz is None:
        return []
    from followupd.core import applications, plan  # only when the last pass left no plan to read

    return plan.plan(rec.interview(cfg), cfg, ZoneInfo(tz), now, round_ or applications.ALONE)


def step_lines(rec: InterviewRecord, ledger: dict[str, LedgerEntry], cfg: Config, tz: str | None,
               now: datetime, round_: Round | None = None, upcoming: list[Upcoming] | None = None) -> list[StepLine]:
    """Every follow-up of one interview with its state in words, in time order: what was written
    (the ledger) and what is still to come (``upcoming``, as the last pass planned it; else planned here)."""
    lines = [StepLine(e.step, e.kind, e.recipient, e.title, e.at, e.status.value, _words(e, rec), e.failure)
             for e in ledger.values()]
    if upcoming is None:
        upcoming = [Upcoming.of(f) for f in _planned(rec, cfg, tz, now, round_)]
    elif not rec.live or rec.settled:
        upcoming = []
    for u in upcoming:
        if u.key not in ledger:
            lines.append(StepLine(u.step, u.kind, u.recipient, u.title, u.at, "due", f"due {_when(u.due, now)}"))
    return sorted(lines, key=lambda s: (s.at, s.step, s.kind.value, s.recipient))


def _plan_here(records: list[InterviewRecord], plans: dict[str, Planned], cfg: Config,
               now: datetime) -> dict[str, Planned]:
    """Applications and rounds for the interviews the last pass left no plan for (a state.db from
    before plans were kept, or only dry runs so far)."""
    from followupd.core import applications

    interviews = {r.id: r.interview(cfg) for r in records if r.live or r.id not in plans}
    live = {r.id for r in records if r.live}
    rounds = applications.rounds([iv for i, iv in interviews.items() if i in live], cfg)
    out = dict(plans)
    for r in records:
        if r.id not in out:
            rnd = rounds.get(r.id, applications.Round(application=f"event:{r.id}"))
            out[r.id] = Planned(r.id, interviews[r.id].company, rnd.application, rnd.number, rnd.rounds, now)
    return out


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    """``followupd status [--json]``."""
    cfg = ctx.config()
    now = datetime.now(timezone.utc)
    with State() as st:
        records = st.all_interviews()
        ids = [r.id for r in records]
        ledger = st.ledger_for(ids)
        tzs = {r.calendar_id: st.timezone(r.calendar_id) for r in records}
        plans = st.plans_for(ids)
        upcoming = st.upcoming_for(ids)
    by_iv: dict[str, dict[str, LedgerEntry]] = {}
    for e in ledger.values():
        by_iv.setdefault(e.interview_id, {})[e.key] = e
    missing = {r.id for r in records if r.id not in plans}
    if missing:
        plans = _plan_here(records, plans, cfg, now)
    report = [(r, step_lines(r, by_iv.get(r.id, {}), cfg, tzs[r.calendar_id], now,
                             _round(plans[r.id]) if r.id in missing else None,
                             None if r.id in missing else upcoming.get(r.id, [])))
              for r in records]
    if args.json:
        print(json.dumps([_as_json(r, lines, plans[r.id]) for r, lines in report], indent=2, ensure_ascii=False))
        return 0
    if not report:
        print("no interviews seen yet")
        return 0
    _print_attention(report)
    groups: dict[str, list[tuple[InterviewRecord, list[StepLine]]]] = {}
    for rec, lines in report:  # by application, in the order each application began
        groups.setdefault(plans[rec.id].application, []).append((rec, lines))
    for members in groups.values():
        company = next((plans[r.id].company for r, _ in members if plans[r.id].company), "")
        n = len(members)
        print(f"== {company or 'Application'}: {n} round{'s' if n != 1 else ''} ==" if n > 1 or company
              else "== Application ==")
        _print_rounds(members, tzs)
    return 0


def _print_attention(report: list[tuple[InterviewRecord, list[StepLine]]]) -> None:
    """The follow-ups set aside after failing again and again, first: they wait for the person."""
    held = [(rec, s) for rec, lines in report for s in lines if s.failure is not None and s.failure.needs_attention]
    if not held:
        return
    print(f"!! {needing_attention(len(held))}: "
          "fix the cause, then run `followupd retry` !!")
    for rec, s in held:
        assert s.failure is not None
        print(f"  {rec.title}: {s.step} {s.kind.value}{' to ' + s.recipient if s.recipient else ''} — "
              f"{s.failure.action} failed {s.failure.attempts} times: {s.failure.error}")
    print()


def _round(p: Planned) -> Round:
    """The stored round as the planner's ``Round`` (only needed when planning here)."""
    from followupd.core.applications import Round

    return Round(p.application, p.round, p.rounds)


def _print_rounds(members: list[tuple[InterviewRecord, list[StepLine]]], tzs: dict[str, str | None]) -> None:
    for rec, lines in members:
        tz = tzs[rec.calendar_id]
        start = rec.event.start.astimezone(ZoneInfo(tz)) if tz else rec.event.start
        extra = []
        if not rec.live:
            extra.append(rec.gone_reason or "gone")
        if rec.outcome:
            extra.append(f"outcome: {rec.outcome.value}")
        if rec.decision:
            extra.append(f"decision expected {rec.decision.isoformat()}")
        suffix = f"  ({'; '.join(extra)})" if extra else ""
        print(f"{rec.title} — {start:%a %d %b %Y %H:%M}{suffix}")
        for s in lines:
            what = f"{s.kind.value} to {s.recipient}" if s.kind == Kind.DRAFT else s.kind.value
            print(f"  {s.step:<17} {what:<36} {s.words}")


def _as_json(rec: InterviewRecord, lines: list[StepLine], planned: Planned) -> dict[str, Any]:
    return {
        "id": rec.id, "application": planned.application, "company": planned.company or None,
        "round": planned.round, "rounds": planned.rounds, "calendar": rec.calendar_id, "title": rec.title, "start": rec.event.start.isoformat(),
        "end": rec.event.end.isoformat(), "live": rec.live, "gone_reason": rec.gone_reason or None,
        "outcome": rec.outcome.value if rec.outcome else None,
        "decision": rec.decision.isoformat() if rec.decision else None, "settled": rec.settled,
        "follow_ups": [{"step": s.step, "kind": s.kind.value, "recipient": s.recipient or None, "title": s.title,
                        "at": s.at.isoformat(), "state": s.state, "description": s.words,
                        "failure": _failure_json(s.failure)} for s in lines],
    }


def _failure_json(f: Failure | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {"action": f.action, "attempts": f.attempts, "error": f.error, "needs_attention": f.needs_attention,
            "next_attempt": f.next_attempt.isoformat() if f.next_attempt else None}


def find_interview(records: list[InterviewRecord], needle: str, now: datetime | None = None) -> InterviewRecord:
    """A known interview by id, else by a unique part of its title (case-insensitive).

    When every match is an instance of one recurring series, the outcome is
    about the latest instance that has already started (else the next one):
    the person need not paste an instance id.  ``needle`` may also end with a
    date, ``"Globex 2026-11-12"``, to pick an instance by its day.
    """
    exact = [r for r in records if r.id == needle]
    if exact:
        return exact[0]
    text, day = _split_day(needle)
    matches = [r for r in records if text.casefold() in r.title.casefold()
               and (day is None or r.event.start.date() == day)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = [f"{r.title} ({r.id})" for r in records[-10:]]
        raise ConfigError(f"no known interview matches {needle!r}" + (": known ones are" if known else
                          " (no interviews seen yet; run `followupd run --once` first)"), known)
    series = {r.event.recurring_event_id for r in matches}
    if len(series) == 1 and None not in series:
        moment = now or datetime.now(timezone.utc)
        started = [r for r in matches if r.event.start <= moment]
        return max(started, key=lambda r: r.event.start) if started else min(matches, key=lambda r: r.event.start)
    raise ConfigError(f"{needle!r} matches {len(matches)} interviews; give more of the title, its date "
                      "(e.g. \"Acme 2026-11-24\") or the id",
                      [f"{r.title} ({r.id}) on {r.event.start:%Y-%m-%d}" for r in matches])


def _split_day(needle: str) -> tuple[str, date | None]:
    head, _, tail = needle.strip().rpartition(" ")
    try:
        return (head.strip(), date.fromisoformat(tail)) if head else (needle, None)
    except ValueError:
        return needle, None


def cmd_outcome(args: argparse.Namespace, ctx: Context) -> int:
    """``followupd outcome EVENT {offer,rejected,withdrawn}`` and/or ``--decision YYYY-MM-DD``."""
    if args.outcome is None and args.decision is None:
        raise ConfigError("outcome needs an outcome (offer, rejected or withdrawn) or --decision YYYY-MM-DD")
    decision: date | None = None
    if args.decision is not None:
        try:
            decision = date.fromisoformat(args.decision)
        except ValueError:
            raise ConfigError(f"--decision {args.decision!r} is not a date like 2026-12-01") from None
    outcome = Outcome(args.outcome) if args.outcome else None
    cfg = ctx.config()
    now = datetime.now(timezone.utc)
    with State() as st:
        rec = find_interview(st.all_interviews(), args.event, now)
        _check_sane(rec, outcome, decision, now, force=bool(getattr(args, "force", False)))
        ledger = st.ledger_for([rec.id])
        rec = st.record_outcome(rec.id, outcome=outcome, decision=decision, at=now)
    for line in _consequences(rec, outcome, decision, ledger, cfg, early=outcome is not None and rec.event.end > now):
        print(line)
    return 0


def _check_sane(rec: InterviewRecord, outcome: Outcome | None, decision: date | None, now: datetime, *,
                force: bool) -> None:
    """A decision date before the interview, or an outcome before it happened without --force: exit 2."""
    day = rec.event.start.date()
    if decision is not None and decision < day:
        raise ConfigError(f"--decision {decision.isoformat()} is before the interview '{rec.title}' on "
                          f"{day.isoformat()}; give the date they expect to decide")
    if outcome is not None and rec.event.end > now and not force:
        raise ConfigError(f"'{rec.title}' has not happened yet (it is on {rec.event.start:%a %Y-%m-%d %H:%M}). "
                          f"If you already know the outcome, run the command again with --force: followupd then "
                          "withdraws the follow-ups still to come (no thank-you after a rejection)")


def _consequences(rec: InterviewRecord, outcome: Outcome | None, decision: date | None,
                  ledger: dict[str, LedgerEntry], cfg: Config, *, early: bool = False) -> list[str]:
    """What the next pass will do with what was just recorded, in words (from the step registry)."""
    out: list[str] = []
    enabled = [s for s in registry.STEPS if cfg.plan.step(s.id).enabled]
    written = {e.step for e in ledger.values() if e.status == Status.WRITTEN and e.kind == Kind.DRAFT}
    if outcome is not None:
        said = [f"recorded {outcome.value} for '{rec.title}' on {rec.event.start:%a %Y-%m-%d}"]
        if early:
            said.append("the follow-ups still to come are withdrawn on the next pass (those you edited stay)")
        for s in enabled:
            if s.cancelled_by_outcome:
                said.append(f"the {s.id} draft was already written; it stays as it is" if s.id in written
                            else f"{s.id} cancelled")
            if s.only_on == outcome:
                said.append(f"a {s.id} draft will be written on the next pass")
        out.append("; ".join(said))
    if decision is not None:
        line = f"recorded decision date {decision.isoformat()} for '{rec.title}'"
        moved = [s.id for s in enabled if s.timing is Timing.AFTER_DECISION and s.id not in written]
        if outcome is None and moved:
            line += f"; the {' and '.join(moved)} moves to the first business day after it on the next pass"
        out.append(line)
    return out
