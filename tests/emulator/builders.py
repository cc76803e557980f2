"""Builders for the Google backend tests: follow-ups, ledger entries, backends
aimed at an emulator, and a retry policy that never really sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from followupd.backends.gmail import GmailDrafts
from followupd.backends.google_calendar import GoogleCalendar
from followupd.backends.retry import RetryPolicy
from followupd.core.settings import Config
from followupd.core.model import DraftContent, FollowUp, Kind, LedgerEntry, Person, ReminderContent, Status
from followupd.backends.protocols import Written

from .fixtures import emulator_config
from .server import Emulator

NY = ZoneInfo("America/New_York")
T0 = datetime(2030, 1, 7, 10, 0, tzinfo=NY)


def fast_retry() -> RetryPolicy:
    """Real backoff arithmetic, recorded in ``delays``, without sleeping."""
    return RetryPolicy(attempts=4, sleep=lambda _s: None)


def backends(emu: Emulator, cfg: Config | None = None, *, timeout: float = 5.0,
             retry: RetryPolicy | None = None) -> tuple[GoogleCalendar, GmailDrafts, Config]:
    cfg = emulator_config(emu, cfg)
    creds = emu.credentials()
    policy = retry or fast_retry()
    return (GoogleCalendar(cfg, creds, retry=policy, timeout=timeout),
            GmailDrafts(cfg, creds, retry=policy, timeout=timeout), cfg)


def reminder(interview: str = "interview1", step: str = "thank-you", start: datetime = T0,
             title: str = "Send your thank-you emails", minutes: int = 0) -> FollowUp:
    content = ReminderContent(title=title, description="Drafts are ready.", start=start,
                              end=start + timedelta(minutes=15), popup_minutes=minutes)
    return FollowUp(interview_id=interview, step=step, kind=Kind.REMINDER, at=start, write_from=start - timedelta(days=1),
                    content=content, calendar_id="primary")


def draft(interview: str = "interview1", step: str = "thank-you", to: str = "ann@acme.example",
          name: str = "Ann Smith", subject: str = "Thank you, Ann", body: str = "Hi Ann,\n\nThank you.\n") -> FollowUp:
    content = DraftContent(to=Person(email=to, name=name), subject=subject, body=body)
    return FollowUp(interview_id=interview, step=step, kind=Kind.DRAFT, at=T0, write_from=T0, content=content,
                    recipient=to.lower(), calendar_id="primary")


def entry(f: FollowUp, written: Written, status: Status = Status.WRITTEN) -> LedgerEntry:
    return LedgerEntry(key=f.key, interview_id=f.interview_id, step=f.step, kind=f.kind, recipient=f.recipient,
                       status=status, at=f.at, backend_id=written.backend_id, version=written.version,
                       content_hash=f.content_hash)


def interview_event(emu: Emulator, event_id: str, start: datetime, *, title: str = "Interview: Acme – Engineer",
                    attendees: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """Seed an invitation as a recruiter would send it."""
    return emu.seed_event(id=event_id, summary=title,
                          start={"dateTime": start.isoformat(), "timeZone": "America/New_York"},
                          end={"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "America/New_York"},
                          attendees=attendees or [], **extra)
