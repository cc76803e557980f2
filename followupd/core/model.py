"""Frozen value types shared by the pure core and the backends.

Nothing here does I/O.  All datetimes are timezone-aware; an all-day event's
``start``/``end`` are midnights in the calendar's time zone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Callable, Mapping

# Keys of extendedProperties.private on the events followupd writes (SPEC §4.2).
PROP_INTERVIEW = "followupd_interview"
PROP_STEP = "followupd_step"
# Header carried by every draft (SPEC §4.4).
DRAFT_KEY_HEADER = "X-Followupd-Key"


class EventStatus(StrEnum):
    """An event's status, as Google and iCalendar name it."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"

    @classmethod
    def parse(cls, text: str | None) -> EventStatus:
        """The status a source reports; anything unknown counts as confirmed."""
        try:
            return cls((text or "").lower())
        except ValueError:
            return cls.CONFIRMED


class Response(StrEnum):
    """An attendee's answer to the invitation (Google's responseStatus, iCalendar's PARTSTAT)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needsAction"

    @classmethod
    def parse(cls, text: str | None) -> Response:
        """Google's spelling or iCalendar's (``NEEDS-ACTION``); anything unknown: no answer yet."""
        value = (text or "").strip()
        for r in cls:
            if value.lower().replace("-", "") == r.value.lower():
                return r
        return cls.NEEDS_ACTION


class Kind(StrEnum):
    REMINDER = "reminder"
    DRAFT = "draft"


class Outcome(StrEnum):
    OFFER = "offer"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Status(StrEnum):
    """A ledger row's state (kopf's per-handler progress record)."""

    PLANNED = "planned"  # intent recorded, backend call not known to have succeeded
    WRITTEN = "written"  # written by followupd, untouched as far as we know
    EDITED = "edited-by-user"  # the person changed it: never touched again
    DELETED = "deleted-by-user"  # the person removed (or sent) it: never re-created
    WITHDRAWN = "withdrawn"  # followupd removed it (cancel, reschedule away, outcome)
    DONE = "done"  # settled; nothing more will happen to it
    SKIPPED = "skipped"  # never written: already past when first seen, or cancelled by outcome


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""
    title: str = ""

    @property
    def first_name(self) -> str:
        """The given name to greet with; "" when the name is unknown (never the address)."""
        from followupd.core.names import parse

        return parse(self.name).first if self.name.strip() else ""


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""
    is_self: bool = False
    organizer: bool = False
    resource: bool = False  # a room or other resource (CUTYPE=ROOM|RESOURCE, Google's resource: true)
    response: Response = Response.NEEDS_ACTION
    group: bool = False  # a group or mailing list (CUTYPE=GROUP)


@dataclass(frozen=True)
class CalendarEvent:
    """One event (one instance, for recurring events) as a source reports it."""

    id: str
    calendar_id: str
    title: str
    start: datetime
    end: datetime
    description: str = ""
    status: EventStatus = EventStatus.CONFIRMED
    all_day: bool = False
    attendees: tuple[Attendee, ...] = ()
    organizer: Attendee | None = None
    etag: str = ""  # Google's etag, or a content hash for ICS
    recurring_event_id: str | None = None
    private: Mapping[str, str] = field(default_factory=dict)  # extendedProperties.private
    location: str = ""

    @property
    def written_by_followupd(self) -> bool:
        return PROP_INTERVIEW in self.private

    def me(self) -> Attendee | None:
        return next((a for a in self.attendees if a.is_self), None)


@dataclass(frozen=True)
class Interview:
    """An event that ``detect`` judged to be an interview, with what we know of it."""

    event: CalendarEvent
    company: str
    role: str
    interviewers: tuple[Person, ...]
    organizer: Person | None
    outcome: Outcome | None = None
    outcome_at: datetime | None = None
    decision: date | None = None
    first_seen: datetime | None = None
    kind: str = "interview"  # invitation.InterviewKind
    facts: tuple[tuple[str, str], ...] = ()  # (field, where it came from), for explain and preview
    notes: tuple[tuple[str, str], ...] = ()  # (interviewer address, the person's own note)
    topics: tuple[tuple[str, str], ...] = ()  # (interviewer address, what they covered)
    left_out: tuple[tuple[str, str], ...] = ()  # (address, why it gets no draft)

    @property
    def id(self) -> str:
        return self.event.id

    def note_for(self, email: str) -> str:
        return next((n for e, n in self.notes if e == email.lower()), "")

    def topic_for(self, email: str) -> str:
        return next((n for e, n in self.topics if e == email.lower()), "")

    @property
    def calendar_id(self) -> str:
        return self.event.calendar_id


@dataclass(frozen=True)
class ReminderContent:
    title: str
    description: str
    start: datetime
    end: datetime
    popup_minutes: int = 0


@dataclass(frozen=True)
class DraftContent:
    to: Person
    subject: str
    body: str


@dataclass(frozen=True)
class FollowUp:
    """One desired follow-up: a reminder, or one draft to one recipient.

    ``at`` is the step's moment.  ``write_from`` is when it may be written:
    reminders as soon as the interview is seen, drafts when the step falls due.
    """

    interview_id: str
    step: str
    kind: Kind
    at: datetime
    write_from: datetime
    content: ReminderContent | DraftContent
    recipient: str = ""  # lower-case email for drafts, "" for reminders
    calendar_id: str = ""  # the interview's calendar

    @property
    def key(self) -> str:
        return follow_up_key(self.interview_id, self.step, self.kind, self.recipient)

    @property
    def title(self) -> str:
        """The reminder's title or the draft's subject (log lines, the ledger, ``status``)."""
        return self.content.title if isinstance(self.content, ReminderContent) else self.content.subject

    @property
    def content_hash(self) -> str:
        return content_hash(self.content)


@dataclass(frozen=True)
class Observed:
    """What a backend reports of an item followupd wrote."""

    key: str
    backend_id: str
    version: str  # etag, Gmail message id, or content hash
    deleted: bool = False


@dataclass(frozen=True)
class Failure:
    """How an action on one ledger row has been failing (kopf's per-handler retry record).

    ``next_attempt`` is when it is tried again; ``None`` means it was set aside
    as *needs attention* and waits for ``followupd retry``.
    """

    action: str  # the operation that failed: "write", "update" or "withdraw"
    attempts: int
    error: str  # the last error, one line
    next_attempt: datetime | None

    @property
    def needs_attention(self) -> bool:
        return self.next_attempt is None


@dataclass(frozen=True)
class LedgerEntry:
    """What followupd wrote (or intends to write) for one follow-up."""

    key: str
    interview_id: str
    step: str
    kind: Kind
    recipient: str
    status: Status
    at: datetime
    backend_id: str = ""
    version: str = ""  # etag / message id / hash recorded at write time
    content_hash: str = ""  # hash of the FollowUp content that was written
    updated_at: datetime | None = None
    title: str = ""  # the reminder title or draft subject, for log lines and ``status``
    failure: Failure | None = None  # the action on this row is failing (SPEC §4.10)


def follow_up_key(interview_id: str, step: str, kind: Kind | str, recipient: str = "") -> str:
    return f"{interview_id}|{step}|{Kind(kind).value}|{recipient.lower()}"


def content_hash(content: ReminderContent | DraftContent) -> str:
    if isinstance(content, ReminderContent):
        data = [content.title, content.description, content.start.isoformat(), content.end.isoformat(),
                content.popup_minutes]
    else:
        data = [content.to.email, content.to.name, content.subject, content.body]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SyncResult:
    """One calendar's changes since a sync token, as a source reports them.

    ``full`` is True when ``events`` is the complete listing (first sync, an
    ICS source, or a resync after a 410): anything known that is absent from it
    is gone.  When False, ``events`` holds only what changed, deletions
    included as ``status == "cancelled"``.

    ``passed_over`` is filled only by ``ScreeningEventSource.sync_screened``:
    the listed events its screen ruled out, by id, each with a function that
    builds the event.  They belong to the listing as much as ``events`` do.
    """

    events: tuple[CalendarEvent, ...]
    next_token: str | None
    full: bool
    passed_over: Mapping[str, Callable[[], CalendarEvent]] = field(default_factory=dict)
