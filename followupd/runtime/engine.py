"""One pass: sync → detect → plan → reconcile → safety check → apply (SPEC §5).

A pass only looks at what changed and at the *active* interviews (not yet
settled), so its cost follows the number of changes, not the history.  With
nothing changed and nothing due it makes one ``sync`` call per calendar and no
other backend call.

Nothing is written before the safety checks pass (SPEC §4.6), and a calendar's
sync token is stored only after everything the pass decided is committed, so
an interrupted pass is simply redone from the same token.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, Mapping
from zoneinfo import ZoneInfo

from followupd.core import detect
from followupd.core import plan
from followupd.runtime.apply import Applier, describe
from followupd.config.templates import with_templates
from followupd.core.settings import Config
from followupd.errors import SafetyStop
from followupd.core.model import PROP_INTERVIEW, PROP_STEP, CalendarEvent, FollowUp, Kind, LedgerEntry, Observed, Status
from followupd.core.model import follow_up_key
from followupd.backends.protocols import Backends, ScreeningEventSource, SyncResult
from followupd.core.reconcile import Action, reconcile, withdrawals
from followupd.store.state import InterviewRecord, State, followup_title

log = logging.getLogger("followupd.engine")

MAX_WITHDRAWALS = 20
_GONE_BY_RULE = {"cancelled": "interview cancelled", "declined": "interview declined"}


@dataclass
class PassReport:
    actions: list[str] = field(default_factory=list)  # one human line per action applied (or planned)
    interviews: int = 0  # live interviews known
    next_due: tuple[datetime, str] | None = None  # the next follow-up moment and what it is
    summary: str = ""  # one line for systemd STATUS=


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Pass:
    """What one pass gathers before deciding anything."""

    records: dict[str, InterviewRecord]  # active interviews, plus the ones this pass touched
    changed: dict[str, InterviewRecord] = field(default_factory=dict)
    observed: dict[str, Observed] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)
    first_sight: set[str] = field(default_factory=set)
    full_listings: set[str] = field(default_factory=set)  # calendars listed in full this pass

    def put(self, rec: InterviewRecord) -> None:
        self.records[rec.id] = rec
        self.changed[rec.id] = rec


class Engine:
    def __init__(self, cfg: Config, backends: Backends, state: State, clock: Callable[[], datetime]) -> None:
        self.cfg = with_templates(cfg)
        self.backends = backends
        self.state = state
        self.clock = clock
        self._stop = False
        self._tz: dict[str, str] = {}

    def request_stop(self) -> None:
        """Finish the action in flight, commit it, then return from ``run_pass``."""
        self._stop = True

    def close(self) -> None:
        self.state.close()

    # -- the pass ------------------------------------------------------------
    def _sink_is_source(self) -> bool:
        """True when reminders go to the calendar backend that is also synced (Google, memory),
        so a sync reports followupd's own events and the person's edits to them."""
        return (self.backends.events is self.backends.source)  # type: ignore[comparison-overlap]

    def calendars(self) -> tuple[list[str], set[str]]:
        """The calendars to sync, and those synced only to observe followupd's own reminders."""
        cals = list(dict.fromkeys(self.backends.watch))
        observe_only: set[str] = set()
        if self._sink_is_source() and self.backends.write_to not in cals:
            cals.append(self.backends.write_to)
            observe_only.add(self.backends.write_to)
        return cals, observe_only

    def run_pass(self, dry_run: bool = False) -> PassReport:
        now = self.clock()
        time_min = now - timedelta(days=self.cfg.plan.lookback_days)
        cals, observe_only = self.calendars()
        p = _Pass(records={r.id: r for r in self.state.active_interviews()})
        for cal in cals:
            result = self._sync(cal, time_min)
            p.tokens[cal] = result.next_token
            if result.full:
                p.full_listings.add(cal)
            self._absorb(p, cal, result, now, time_min, candidates=cal not in observe_only)

        work = {i: r for i, r in p.records.items() if not r.settled}
        desired, skipped = self._plan(p, work, now, dry_run)
        ledger = self.state.ledger_for(work)
        if self._sink_is_source() and self.backends.write_to in p.full_listings:
            _absent_means_deleted(p, ledger, time_min)
        live = {i for i, r in work.items() if r.live}
        reasons = {i: r.gone_reason for i, r in work.items() if not r.live}
        actions = reconcile(desired, ledger, p.observed, live, now, skipped=skipped, gone_reasons=reasons)
        n = withdrawals(actions)
        if n > MAX_WITHDRAWALS:
            raise SafetyStop(
                f"safety stop: this pass would withdraw {n} follow-ups (more than {MAX_WITHDRAWALS}), "
                "so it changed nothing. Check the calendar: a bulk deletion, or a change to [calendar] watch? "
                "followupd will keep stopping until the calendar looks as expected again.")
        titles = {i: r.title for i, r in p.records.items()}
        report = PassReport(interviews=len(live), next_due=_next_due(desired, now))
        if dry_run:
            report.actions = [describe(a, titles, dry_run=True) for a in actions]
        else:
            self.state.put_interviews(list(p.changed.values()))
            applied = Applier(self.backends, self.state, self.clock, titles).run(actions, lambda: self._stop)
            report.actions = applied.lines
            if not applied.stopped:
                self._settle(work, desired, now)
                self.state.set_sync_tokens(p.tokens)
        report.summary = _summary(len(cals) - len(observe_only), report)
        return report

    # -- sync results → interview records and observations -------------------
    def _sync(self, cal: str, time_min: datetime) -> SyncResult:
        """One calendar's changes.  A screening source does not build the events that cannot be
        interviews (most of a first sync's thousands); ``_absorb`` builds the few it knows."""
        source, token = self.backends.source, self.state.sync_token(cal)
        if isinstance(source, ScreeningEventSource):
            return source.sync_screened(cal, token, time_min, self._may_be_interview)
        return source.sync(cal, token, time_min)

    def _may_be_interview(self, title: str, description: str) -> bool:
        return detect.may_be_interview(title, description, self.cfg)

    def _absorb(self, p: _Pass, cal: str, result: SyncResult, now: datetime, time_min: datetime,
                *, candidates: bool) -> None:
        if result.full and not result.events and not result.passed_over:
            known = [r for r in p.records.values()
                     if r.calendar_id == cal and r.live and not r.settled and r.event.end > time_min]
            if known:
                raise SafetyStop(
                    f"safety stop: calendar {cal!r} came back empty while {len(known)} interview(s) were "
                    "known there, so this pass changed nothing. If the calendar is really empty now, "
                    "check [calendar] watch and the account; followupd keeps stopping until it lists events.")
        unknown = [e.id for e in result.events if not e.written_by_followupd and e.id not in p.records]
        unknown += [i for i in result.passed_over if i not in p.records]
        if unknown and candidates:
            p.records.update(self.state.interviews_by_id(unknown))  # settled ones that changed
        events = result.events
        if candidates and result.passed_over:
            # A passed-over event is no interview: it matters only if it was one (untagged, declined…).
            events += tuple(build() for i, build in result.passed_over.items() if i in p.records)
        seen: set[str] = set()
        for ev in events:
            if ev.written_by_followupd:
                key = follow_up_key(ev.private[PROP_INTERVIEW], ev.private.get(PROP_STEP, ""), Kind.REMINDER)
                p.observed[key] = Observed(key, ev.id, ev.etag, deleted=ev.status == "cancelled")
            elif candidates:
                seen.add(ev.id)
                self._event(p, cal, ev, now)
        if result.full and candidates:
            for rec in list(p.records.values()):
                if (rec.calendar_id == cal and rec.live and not rec.settled and rec.id not in seen
                        and rec.event.end > time_min):
                    p.put(replace(rec, live=False, gone_reason="interview deleted"))

    def _event(self, p: _Pass, cal: str, ev: CalendarEvent, now: datetime) -> None:
        rec = p.records.get(ev.id)
        if rec is not None and rec.calendar_id != cal:
            return  # the same event seen through a second calendar: the first one owns it
        if ev.status == "cancelled":
            if rec is not None and rec.live:
                # a settled interview stays settled: its follow-ups are all in the past
                p.put(replace(rec, event=replace(rec.event, status="cancelled"), live=False,
                              gone_reason="interview cancelled"))
            return
        verdict = detect.classify(ev, self.cfg)
        if not verdict.is_interview:
            if rec is not None and rec.live:
                reason = _GONE_BY_RULE.get(verdict.rule, "no longer marked as an interview")
                p.put(replace(rec, event=ev, live=False, gone_reason=reason))
            return
        if rec is None:
            if plan.in_window(ev, now, self.cfg.plan.lookback_days):
                p.put(InterviewRecord(event=ev, first_seen=now))
                p.first_sight.add(ev.id)
            return
        if rec.event != ev or not rec.live:
            p.put(replace(rec, event=ev, live=True, gone_reason="", settled=False))

    # -- planning --------------------------------------------------------------
    def _timezone(self, calendar_id: str, dry_run: bool) -> ZoneInfo:
        name = self._tz.get(calendar_id) or self.state.timezone(calendar_id)
        if not name:
            name = self.backends.source.timezone(calendar_id)
            if not dry_run:
                self.state.set_timezone(calendar_id, name)
        self._tz[calendar_id] = name
        return ZoneInfo(name)

    def _plan(self, p: _Pass, work: Mapping[str, InterviewRecord], now: datetime,
              dry_run: bool) -> tuple[list[FollowUp], list[FollowUp]]:
        desired: list[FollowUp] = []
        skipped: list[FollowUp] = []
        for rec in work.values():
            if not rec.live:
                continue
            iv = detect.to_interview(rec.event, self.cfg, outcome=rec.outcome, outcome_at=rec.outcome_at,
                                     decision=rec.decision, first_seen=rec.first_seen)
            if iv.outcome is not None and rec.outcome is None:  # a tag in the description: record when seen
                rec = replace(rec, outcome=iv.outcome, outcome_at=now)
                p.put(rec)
                iv = replace(iv, outcome_at=now)
            tz = self._timezone(rec.calendar_id, dry_run)
            wanted, past = plan.plan_with_skipped(iv, self.cfg, tz, now)
            desired.extend(wanted)
            if rec.id in p.first_sight:
                skipped.extend(past)  # dropped as already past when first seen: recorded, so it never comes later
        return desired, skipped

    def _settle(self, work: Mapping[str, InterviewRecord], desired: list[FollowUp], now: datetime) -> None:
        """Mark interviews on which nothing more can happen, so later passes skip them."""
        ledger = self.state.ledger_for(work)
        by_iv: dict[str, list[LedgerEntry]] = {}
        for e in ledger.values():
            by_iv.setdefault(e.interview_id, []).append(e)
        wanted: dict[str, list[FollowUp]] = {}
        for f in desired:
            wanted.setdefault(f.interview_id, []).append(f)
        done: list[str] = []
        for iv_id, rec in work.items():
            entries = by_iv.get(iv_id, [])
            if any(e.status == Status.PLANNED for e in entries):
                continue
            if not rec.live:
                if all(e.status != Status.WRITTEN for e in entries):
                    done.append(iv_id)
                continue
            fs = wanted.get(iv_id, [])
            if rec.event.end <= now and all(f.at <= now and f.key in ledger for f in fs):
                done.append(iv_id)
        self.state.settle(done)


def _absent_means_deleted(p: _Pass, ledger: Mapping[str, LedgerEntry], time_min: datetime) -> None:
    """A full listing of the reminder calendar omits deleted events: a reminder followupd wrote
    that falls inside the listed window and is absent was deleted by the person."""
    for e in ledger.values():
        if (e.kind == Kind.REMINDER and e.status in (Status.WRITTEN, Status.EDITED) and e.key not in p.observed
                and e.at > time_min):
            p.observed[e.key] = Observed(e.key, e.backend_id, e.version, deleted=True)


def _next_due(desired: list[FollowUp], now: datetime) -> tuple[datetime, str] | None:
    upcoming = sorted((f.at, f.key, f) for f in desired if f.at > now)
    if not upcoming:
        return None
    f = upcoming[0][2]
    label = followup_title(f) if f.kind == Kind.REMINDER else f"draft '{followup_title(f)}'"
    return f.at, label


def _summary(calendars: int, report: PassReport) -> str:
    parts = [f"watching {calendars} calendar{'s' if calendars != 1 else ''}",
             f"{report.interviews} interview{'s' if report.interviews != 1 else ''}"]
    if report.next_due:
        at, label = report.next_due
        parts.append(f"next: {label} {at:%a %H:%M}")
    return " · ".join(parts)


def open_engine(cfg: Config, *, clock: Callable[[], datetime] | None = None) -> Engine:
    """The engine for this configuration: its backends and the state database."""
    from followupd.backends import build_backends

    backends = build_backends(cfg)
    _freeze_startup_objects()
    return Engine(cfg, backends, State(), clock or _utc_now)


_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Take what start-up allocated (modules, classes, the parsed discovery documents)
    out of the garbage collector's sight, once per process.

    Those objects live as long as the process, yet every full collection walks
    them again, and a first sync triggers several: it parses 10,000 events of
    JSON, hundreds of thousands of containers.  Frozen, they are skipped (about
    a tenth of a first sync's wall time; issue #7), and so they are in every
    later pass of the daemon.  A collection first, so that no garbage is frozen
    for good.  The first engine's backends are frozen with them; engines opened
    later (SIGHUP, the hourly retries while authorization is needed) are not,
    and stay collectable.
    """
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()


__all__ = ["Action", "Engine", "PassReport", "open_engine"]
