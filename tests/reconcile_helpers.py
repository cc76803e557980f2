"""Hand-built follow-ups, interviews and ledger rows for the reconcile/state/engine tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from followupd.core.model import (
    Attendee,
    CalendarEvent,
    DraftContent,
    FollowUp,
    Kind,
    LedgerEntry,
    Person,
    ReminderContent,
    Status,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday


def reminder(interview_id: str = "iv1", step: str = "prepare", at: datetime = T0,
             write_from: datetime | None = None, title: str = "Prepare") -> FollowUp:
    return FollowUp(interview_id=interview_id, step=step, kind=Kind.REMINDER, at=at,
                    write_from=write_from if write_from is not None else at - timedelta(days=30),
                    content=ReminderContent(title=title, description="d", start=at, end=at + timedelta(minutes=15)),
                    calendar_id="primary")


def draft(interview_id: str = "iv1", step: str = "thank-you", to: str = "sam@example.com",
          at: datetime = T0, write_from: datetime | None = None, subject: str = "Thank you") -> FollowUp:
    return FollowUp(interview_id=interview_id, step=step, kind=Kind.DRAFT, at=at,
                    write_from=write_from if write_from is not None else at,
                    content=DraftContent(to=Person(email=to, name="Sam Park"), subject=subject, body="Hi Sam"),
                    recipient=to.lower(), calendar_id="primary")


def entry(f: FollowUp, status: Status = Status.WRITTEN, version: str = "v1", backend_id: str = "b1",
          content_hash: str | None = None) -> LedgerEntry:
    return LedgerEntry(key=f.key, interview_id=f.interview_id, step=f.step, kind=f.kind, recipient=f.recipient,
                       status=status, at=f.at, backend_id=backend_id, version=version,
                       content_hash=f.content_hash if content_hash is None else content_hash, updated_at=T0,
                       title="t")


def event(event_id: str = "iv1", title: str = "Interview: Acme", start: datetime = T0,
          minutes: int = 60, **kw: object) -> CalendarEvent:
    attendees = (Attendee(email="me@example.com", is_self=True, response="accepted"),
                 Attendee(email="sam@example.com", name="Sam Park", organizer=True, response="accepted"))
    return CalendarEvent(id=event_id, calendar_id="primary", title=title, start=start,
                         end=start + timedelta(minutes=minutes), attendees=attendees,
                         organizer=attendees[1], **kw)  # type: ignore[arg-type]
