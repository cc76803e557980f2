"""One pass: load → track → plan → reconcile → safety stop → apply → commit (SPEC §5).

The engine does the I/O; the decisions are the core's: ``core.tracking`` turns
the listings into interview records, ``core.plan`` into desired follow-ups,
``core.reconcile`` into actions, which ``runtime.apply`` carries out.

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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from followupd.backends.protocols import Backends, ScreeningEventSource
from followupd.config.templates import with_templates
from followupd.core import applications, attempts, detect, plan
from followupd.core.model import FollowUp, Interview, Kind, LedgerEntry, SyncResult
from followupd.core.reconcile import Action, reconcile, withdrawals
from followupd.core.settings import Config
from followupd.core.tracking import InterviewRecord, Tracker, settled
from followupd.errors import SafetyStop
from followupd.runtime.apply import Applier, describe
from followupd.store.state import Planned, State, Upcoming

log = logging.getLogger("followupd.engine")

MAX_WITHDRAWALS = 20


@dataclass
class PassReport:
    actions: list[str] = field(default_factory=list)  # one human line per action applied (or planned)
    interviews: int = 0  # live interviews known
    next_due: tuple[datetime, str] | None = None  # the next follow-up moment and what it is
    summary: str = ""  # one line for systemd STATUS=
    attention: int = 0  # follow-ups set aside as needing attention (SPEC §4.10), this pass or before


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
    def calendars(self) -> tuple[list[str], set[str]]:
        """The calendars to sync, and those synced only to observe followupd's own reminders."""
        cals = list(dict.fromkeys(self.backends.watch))
        observe_only: set[str] = set()
        if self.backends.sink_observed_by_source and self.backends.write_to not in cals:
            cals.append(self.backends.write_to)
            observe_only.add(self.backends.write_to)
        return cals, observe_only

    def run_pass(self, dry_run: bool = False) -> PassReport:
        """load → track → plan → reconcile → safety stop → apply → commit."""
        now = self.clock()
        time_min = now - timedelta(days=self.cfg.plan.lookback_days)
        cals, observe_only = self.calendars()
        tracker = Tracker(self.cfg, now, time_min, records={r.id: r for r in self.state.active_interviews()})
        tokens: dict[str, str | None] = {}
        for cal in cals:
            result = self._sync(cal, time_min)
            tokens[cal] = result.next_token
            candidates = cal not in observe_only
            unknown = tracker.wanted(result) if candidates else []
            if unknown:
                tracker.know(self.state.interviews_by_id(unknown))  # settled ones that changed
            tracker.absorb(cal, result, candidates=candidates)

        work = {i: r for i, r in tracker.records.items() if not r.settled}
        desired, skipped, where = self._plan(tracker, work, dry_run)
        ledger = self.state.ledger_for(work)
        if self.backends.sink_observed_by_source:
            tracker.bare_tombstones(ledger, self.backends.write_to)
            if self.backends.write_to in tracker.full_listings:
                tracker.absent_means_deleted(ledger)
        live = {i for i, r in work.items() if r.live}
        reasons = {i: r.gone_reason for i, r in work.items() if not r.live}
        actions = reconcile(desired, ledger, tracker.observed, live, now, skipped=skipped, gone_reasons=reasons)
        n = withdrawals(actions)
        if n > MAX_WITHDRAWALS:
            raise SafetyStop(
                f"safety stop: this pass would withdraw {n} follow-ups (more than {MAX_WITHDRAWALS}), "
                "so it changed nothing. Check the calendar: a bulk deletion, or a change to [calendar] watch? "
                "followupd will keep stopping until the calendar looks as expected again.")
        titles = {i: r.title for i, r in tracker.records.items()}
        report = PassReport(interviews=len(live), next_due=_next_due(desired, now))
        if dry_run:
            report.actions = [describe(a, titles, dry_run=True) for a in actions]
        else:
            self.state.put_interviews(list(tracker.changed.values()))
            applied = Applier(self.backends, self.state, self.clock, titles).run(actions, lambda: self._stop)
            report.actions = applied.lines
            if not applied.stopped:
                written = self.state.ledger_for(work)
                self.state.settle(settled(work, written.values(), desired, now))
                self._store_plans(work, where, desired, written, now)
                self.state.set_sync_tokens(tokens)
        report.attention = self.state.count_set_aside()
        report.summary = _summary(len(cals) - len(observe_only), report)
        return report

    def _sync(self, cal: str, time_min: datetime) -> SyncResult:
        """One calendar's changes.  A screening source does not build the events that cannot be
        interviews (most of a first sync's thousands); the tracker builds the few it knows."""
        source, token = self.backends.source, self.state.sync_token(cal)
        if isinstance(source, ScreeningEventSource):
            return source.sync_screened(cal, token, time_min, self._may_be_interview)
        return source.sync(cal, token, time_min)

    def _may_be_interview(self, title: str, description: str) -> bool:
        return detect.may_be_interview(title, description, self.cfg)

    # -- planning --------------------------------------------------------------
    def _timezone(self, calendar_id: str, dry_run: bool) -> ZoneInfo:
        name = self._tz.get(calendar_id) or self.state.timezone(calendar_id)
        if not name:
            name = self.backends.source.timezone(calendar_id)
            if not dry_run:
                self.state.set_timezone(calendar_id, name)
        self._tz[calendar_id] = name
        return ZoneInfo(name)

    def _plan(self, tracker: Tracker, work: Mapping[str, InterviewRecord],
              dry_run: bool) -> tuple[list[FollowUp], list[FollowUp], dict[str, tuple[str, applications.Round]]]:
        """The desired follow-ups, those skipped as too late, and each live interview's company and round."""
        desired: list[FollowUp] = []
        skipped: list[FollowUp] = []
        interviews = {rec.id: tracker.interview(rec) for rec in work.values() if rec.live}
        rounds = applications.rounds(self._recent_rounds(tracker, interviews), self.cfg)
        for rec in work.values():
            if not rec.live:
                continue
            iv = interviews[rec.id]
            wanted, past = plan.plan_with_skipped(iv, self.cfg, self._timezone(rec.calendar_id, dry_run),
                                                  tracker.now, rounds.get(rec.id, applications.ALONE))
            desired.extend(wanted)
            if rec.id in tracker.first_sight:
                skipped.extend(past)  # dropped as already past when first seen: recorded, so it never comes later
        where = {i: (iv.company, rounds.get(i, applications.ALONE)) for i, iv in interviews.items()}
        return desired, skipped, where

    def _store_plans(self, work: Mapping[str, InterviewRecord], where: Mapping[str, tuple[str, applications.Round]],
                     desired: list[FollowUp], written: Mapping[str, LedgerEntry], now: datetime) -> None:
        """Keep what this pass planned for ``status`` to read: only what changed is written."""
        due: dict[str, list[Upcoming]] = {i: [] for i in work}
        for f in desired:
            if f.key not in written and f.interview_id in due:
                due[f.interview_id].append(Upcoming.of(f))
        known, stored = self.state.plans_for(work), self.state.upcoming_for(work)
        plans: list[Planned] = []
        rows: list[Upcoming] = []
        for iv_id, rec in work.items():
            old = known.get(iv_id)
            if rec.live:
                company, round_ = where[iv_id]
            elif old is not None:  # gone: keep where it stood, plan nothing more
                company, round_ = old.company, applications.Round(old.application, old.round, old.rounds)
            else:
                company, round_ = rec.interview(self.cfg).company, applications.ALONE
            plan_row = Planned(iv_id, company, round_.application or f"event:{iv_id}", round_.number, round_.rounds,
                               now)
            same = old is not None and (old.company, old.application, old.round, old.rounds) == \
                (plan_row.company, plan_row.application, plan_row.round, plan_row.rounds)
            if not same or sorted(map(_ukey, stored.get(iv_id, []))) != sorted(map(_ukey, due[iv_id])):
                plans.append(plan_row)
                rows.extend(due[iv_id])
        self.state.set_plans(plans, rows)

    def _recent_rounds(self, tracker: Tracker, interviews: Mapping[str, Interview]) -> list[Interview]:
        """The interviews an application can be made of: the ones planned now, and the live ones of
        the last 60 days (and the lookback) that have settled since."""
        since = tracker.time_min - applications.SILENCE
        recent = [r.interview(self.cfg) for r in self.state.live_interviews_since(since) if r.id not in interviews]
        return list(interviews.values()) + recent


def _ukey(u: Upcoming) -> tuple[str, str, str, datetime, datetime]:
    return u.key, u.title, u.recipient, u.at, u.due


def _next_due(desired: list[FollowUp], now: datetime) -> tuple[datetime, str] | None:
    upcoming = sorted((f.at, f.key, f) for f in desired if f.at > now)
    if not upcoming:
        return None
    f = upcoming[0][2]
    label = f.title if f.kind == Kind.REMINDER else f"draft '{f.title}'"
    return f.at, label


def _summary(calendars: int, report: PassReport) -> str:
    parts = [f"watching {calendars} calendar{'s' if calendars != 1 else ''}",
             f"{report.interviews} interview{'s' if report.interviews != 1 else ''}"]
    if report.next_due:
        at, label = report.next_due
        parts.append(f"next: {label} {at:%a %H:%M}")
    if report.attention:
        parts.append(f"{attempts.needing_attention(report.attention)} (followupd status)")
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
