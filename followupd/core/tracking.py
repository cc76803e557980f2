"""Interview tracking: an interview's lifecycle between passes, as a pure function of listings.

``InterviewRecord`` is what followupd remembers of an interview from one pass
to the next.  ``Tracker`` takes one pass's calendar listings and returns what
they mean: the records (new, moved, cancelled, declined, untagged, deleted),
what the listings say of the follow-ups followupd wrote (``Observed``), which
interviews were seen for the first time, and the safety verdict on an empty
listing (``SafetyStop``).  ``settled`` says which interviews nothing more can
happen to.  Nothing here does I/O: the engine reads the listings and the
records, and stores what comes out.

The lifecycle of one interview, as recorded here:

* first seen in a listing, judged an interview by ``detect.classify`` and inside
  the lookback window: a live record with ``first_seen``;
* changed (moved, retitled, re-tagged): the record follows the event;
* cancelled, declined, untagged, or absent from a full listing: no longer live,
  with a ``GoneReason``; followupd withdraws its untouched follow-ups;
* an outcome tag in the description (``#rejected``): the outcome is recorded
  with the moment it was first seen;
* every follow-up written or past, or gone with nothing left written: settled,
  so later passes skip it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from followupd.core import detect
from followupd.core.detect import VerdictRule
from followupd.core.records import InterviewRecord
from followupd.core.model import (
    PROP_INTERVIEW,
    PROP_STEP,
    CalendarEvent,
    EventStatus,
    FollowUp,
    Interview,
    Kind,
    LedgerEntry,
    Observed,
    Status,
    SyncResult,
    follow_up_key,
)
from followupd.core.plan import in_window
from followupd.core.settings import Config
from followupd.errors import SafetyStop


class GoneReason(StrEnum):
    """Why an interview is no longer live (shown in log lines and ``status``)."""

    CANCELLED = "interview cancelled"
    DECLINED = "interview declined"
    UNTAGGED = "no longer marked as an interview"
    DELETED = "interview deleted"


_GONE_BY_RULE = {VerdictRule.CANCELLED: GoneReason.CANCELLED, VerdictRule.DECLINED: GoneReason.DECLINED}


@dataclass
class Tracker:
    """One pass's tracking.  Feed it each calendar's listing with ``absorb``; read the results.

    ``records`` starts as the active interviews; ``wanted`` names the listed
    events it does not hold, so the caller can hand in (``know``) the settled
    records among them.
    """

    cfg: Config
    now: datetime
    time_min: datetime
    records: dict[str, InterviewRecord]
    changed: dict[str, InterviewRecord] = field(default_factory=dict)  # to store
    observed: dict[str, Observed] = field(default_factory=dict)  # followupd's own items, as listed
    first_sight: set[str] = field(default_factory=set)
    full_listings: set[str] = field(default_factory=set)  # calendars listed in full this pass
    # ids of cancelled events that carried nothing to say whose they are (Google's incremental
    # tombstones guarantee only the id), by calendar: matched to the ledger by backend id
    tombstones: dict[str, set[str]] = field(default_factory=dict)

    def put(self, rec: InterviewRecord) -> None:
        self.records[rec.id] = rec
        self.changed[rec.id] = rec

    def wanted(self, result: SyncResult) -> list[str]:
        """The listed event ids this tracker holds no record of (the store may know them)."""
        unknown = [e.id for e in result.events if not e.written_by_followupd and e.id not in self.records]
        return unknown + [i for i in result.passed_over if i not in self.records]

    def know(self, records: Mapping[str, InterviewRecord]) -> None:
        self.records.update(records)

    def _known_live(self, cal: str) -> list[InterviewRecord]:
        return [r for r in self.records.values()
                if r.calendar_id == cal and r.live and not r.settled and r.event.end > self.time_min]

    def absorb(self, cal: str, result: SyncResult, *, candidates: bool) -> None:
        """Take in one calendar's listing.  ``candidates`` is False for a calendar synced
        only to observe followupd's reminders.  Raises SafetyStop on an empty full listing
        of a calendar where interviews were known (SPEC §4.6)."""
        if result.full:
            self.full_listings.add(cal)
        if result.full and not result.events and not result.passed_over:
            known = self._known_live(cal)
            if known:
                raise SafetyStop(
                    f"safety stop: calendar {cal!r} came back empty while {len(known)} interview(s) were "
                    "known there, so this pass changed nothing. If the calendar is really empty now, "
                    "check [calendar] watch and the account; followupd keeps stopping until it lists events.")
        events = result.events
        if candidates and result.passed_over:
            # A passed-over event is no interview: it matters only if it was one (untagged, declined…).
            events += tuple(build() for i, build in result.passed_over.items() if i in self.records)
        seen: set[str] = set()
        for ev in events:
            if ev.written_by_followupd:
                key = follow_up_key(ev.private[PROP_INTERVIEW], ev.private.get(PROP_STEP, ""), Kind.REMINDER)
                self.observed[key] = Observed(key, ev.id, ev.etag, deleted=ev.status == EventStatus.CANCELLED)
            else:
                if ev.status == EventStatus.CANCELLED:
                    self.tombstones.setdefault(cal, set()).add(ev.id)
                if candidates:
                    seen.add(ev.id)
                    self._event(cal, ev)
        if result.full and candidates:
            for rec in self._known_live(cal):
                if rec.id not in seen:
                    self.put(replace(rec, live=False, gone_reason=GoneReason.DELETED))

    def _event(self, cal: str, ev: CalendarEvent) -> None:
        rec = self.records.get(ev.id)
        if rec is not None and rec.calendar_id != cal:
            return  # the same event seen through a second calendar: the first one owns it
        if ev.status == EventStatus.CANCELLED:
            if rec is not None and rec.live:
                # a settled interview stays settled: its follow-ups are all in the past
                self.put(replace(rec, event=replace(rec.event, status=EventStatus.CANCELLED), live=False,
                                 gone_reason=GoneReason.CANCELLED))
            return
        verdict = detect.classify(ev, self.cfg)
        if not verdict.is_interview:
            if rec is not None and rec.live:
                self.put(replace(rec, event=ev, live=False,
                                 gone_reason=_GONE_BY_RULE.get(verdict.rule, GoneReason.UNTAGGED)))
            return
        if rec is None:
            if in_window(ev, self.now, self.cfg.plan.lookback_days):
                self.put(InterviewRecord(event=ev, first_seen=self.now))
                self.first_sight.add(ev.id)
            return
        if rec.event != ev or not rec.live:
            self.put(replace(rec, event=ev, live=True, gone_reason="", settled=False))

    def absent_means_deleted(self, ledger: Mapping[str, LedgerEntry]) -> None:
        """A full listing of the reminder calendar omits deleted events: a reminder followupd wrote
        that falls inside the listed window and is absent was deleted by the person."""
        for e in ledger.values():
            if (e.kind == Kind.REMINDER and e.status in (Status.WRITTEN, Status.EDITED)
                    and e.key not in self.observed and e.at > self.time_min):
                self.observed[e.key] = Observed(e.key, e.backend_id, e.version, deleted=True)

    def bare_tombstones(self, ledger: Mapping[str, LedgerEntry], calendar: str) -> None:
        """A reminder followupd wrote whose id came back as a bare tombstone was deleted by the
        person: noticed on the pass that lists it, not when a later write fails."""
        gone = self.tombstones.get(calendar)
        if not gone:
            return
        for e in ledger.values():
            if e.kind == Kind.REMINDER and e.backend_id in gone and e.key not in self.observed:
                self.observed[e.key] = Observed(e.key, e.backend_id, e.version, deleted=True)

    def interview(self, rec: InterviewRecord) -> Interview:
        """The record's interview; an outcome tag seen for the first time is recorded as of now."""
        iv = rec.interview(self.cfg)
        if iv.outcome is not None and rec.outcome is None:  # a tag in the description: record when seen
            self.put(replace(rec, outcome=iv.outcome, outcome_at=self.now))
            iv = replace(iv, outcome_at=self.now)
        return iv


def settled(work: Mapping[str, InterviewRecord], ledger: Iterable[LedgerEntry], desired: Iterable[FollowUp],
            now: datetime) -> list[str]:
    """The interviews on which nothing more can happen, so later passes skip them."""
    entries = list(ledger)
    keys = {e.key for e in entries}
    by_iv: dict[str, list[LedgerEntry]] = {}
    for e in entries:
        by_iv.setdefault(e.interview_id, []).append(e)
    wanted: dict[str, list[FollowUp]] = {}
    for f in desired:
        wanted.setdefault(f.interview_id, []).append(f)
    done: list[str] = []
    for iv_id, rec in work.items():
        mine = by_iv.get(iv_id, [])
        if any(e.status == Status.PLANNED or e.failure is not None for e in mine):
            continue  # an interrupted or failing action is still to be resolved
        if not rec.live:
            if all(e.status != Status.WRITTEN for e in mine):
                done.append(iv_id)
            continue
        if rec.event.end <= now and all(f.at <= now and f.key in keys for f in wanted.get(iv_id, [])):
            done.append(iv_id)
    return done


__all__ = ["GoneReason", "InterviewRecord", "Tracker", "settled"]
