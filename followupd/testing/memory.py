"""In-memory backends: a calendar (source and reminder sink) and a draft store.

Shipped in the package as a test double (vdirsyncer's habit) and used by the
contract tests and the hypothesis state machine.  They follow the semantics
the real backends promise (``protocols.py``): incremental sync tokens with
cancelled tombstones and a full resync when a token goes stale; deterministic
ids whose retried create adopts the existing item; an etag bumped on every
change; conditional updates and deletes.

Fault injection: ``fail_next(op, exc, after_commit=False)`` makes the next call
of ``op`` (or of any operation, with ``op="*"``) raise ``exc``.  With
``after_commit=True`` the write happens first and the call raises afterwards,
like a response lost on the way back.  ``fail_always(op, exc, interview_id)``
makes every call of ``op`` about that interview's follow-ups raise ``exc``, for
good: a permanent failure of one item (until ``clear_faults``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, TypeVar

from followupd.core import ids
from followupd.errors import UserDeleted, UserEdited
from followupd.core.model import PROP_INTERVIEW, PROP_STEP, CalendarEvent, DraftContent, EventStatus, FollowUp, LedgerEntry, ReminderContent
from followupd.backends.protocols import Written
from followupd.core.model import SyncResult

T = TypeVar("T")


@dataclass
class _Fault:
    op: str
    exc: BaseException
    after_commit: bool


class _Faulty:
    """Call counting and queued faults shared by both memory backends."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._always: list[tuple[str, BaseException, str]] = []

    def fail_next(self, op: str, exc: BaseException, after_commit: bool = False) -> None:
        """The next call of ``op`` ("*" = any operation) raises ``exc``."""
        self._faults.append(_Fault(op, exc, after_commit))

    def fail_always(self, op: str, exc: BaseException, interview_id: str) -> None:
        """Every call of ``op`` ("*" = any) about ``interview_id``'s follow-ups raises ``exc``."""
        self._always.append((op, exc, interview_id))

    def clear_faults(self, *, permanent: bool = True) -> None:
        """Forget the queued faults (and, unless ``permanent=False``, the permanent ones)."""
        self._faults.clear()
        if permanent:
            self._always.clear()

    def _call(self, op: str, body: Callable[[], T], about: str = "") -> T:
        self.calls[op] += 1
        for want, exc, interview_id in self._always:
            if want in (op, "*") and about == interview_id:
                raise exc
        fault = next((f for f in self._faults if f.op in (op, "*")), None)
        if fault is None:
            return body()
        self._faults.remove(fault)
        if fault.after_commit:
            body()
        raise fault.exc


@dataclass
class _Item:
    event: CalendarEvent
    seq: int
    deleted: bool = False


class MemoryCalendar(_Faulty):
    """An EventSource and EventSink holding events by calendar."""

    def __init__(self, account: str = "memory", write_to: str = "primary", tz: str = "UTC") -> None:
        super().__init__()
        self.account = account
        self.write_to = write_to
        self.tz: dict[str, str] = {}
        self.default_tz = tz
        self._cals: dict[str, dict[str, _Item]] = {}
        self._seq = itertools.count(1)
        self._etag = itertools.count(1)
        self._generation = 0

    # -- helpers for tests (the person's side) ------------------------------
    def _items(self, calendar_id: str) -> dict[str, _Item]:
        return self._cals.setdefault(calendar_id, {})

    def _store(self, calendar_id: str, event: CalendarEvent, deleted: bool = False) -> CalendarEvent:
        event = replace(event, calendar_id=calendar_id, etag=f'"e{next(self._etag)}"')
        self._items(calendar_id)[event.id] = _Item(event, next(self._seq), deleted)
        return event

    def put_event(self, event: CalendarEvent) -> CalendarEvent:
        """Add or change an event (as the person or an inviter would); bumps its etag."""
        return self._store(event.calendar_id or self.write_to, event)

    def get(self, event_id: str, calendar_id: str | None = None) -> CalendarEvent | None:
        """The live event with this id, or None when absent or deleted."""
        item = self._items(calendar_id or self.write_to).get(event_id)
        return None if item is None or item.deleted else item.event

    def events(self, calendar_id: str | None = None) -> list[CalendarEvent]:
        """The live events of a calendar."""
        return [i.event for i in self._items(calendar_id or self.write_to).values() if not i.deleted]

    def all_events(self, calendar_id: str | None = None) -> list[CalendarEvent]:
        """Every event of a calendar, deleted ones included (as ``status == "cancelled"``)."""
        return [replace(i.event, status=EventStatus.CANCELLED) if i.deleted else i.event
                for i in self._items(calendar_id or self.write_to).values()]

    def user_edit(self, event_id: str, calendar_id: str | None = None, **changes: object) -> CalendarEvent:
        cal = calendar_id or self.write_to
        item = self._items(cal)[event_id]
        changes.setdefault("description", item.event.description + " (edited)")
        return self._store(cal, replace(item.event, **changes))  # type: ignore[arg-type]

    def user_delete(self, event_id: str, calendar_id: str | None = None) -> None:
        cal = calendar_id or self.write_to
        item = self._items(cal)[event_id]
        self._store(cal, replace(item.event, status=EventStatus.CANCELLED), deleted=True)

    def invalidate_tokens(self) -> None:
        """Every outstanding sync token becomes stale (Google's 410 Gone)."""
        self._generation += 1

    # -- EventSource --------------------------------------------------------
    def sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        return self._call("sync", lambda: self._sync(calendar_id, token, time_min))

    def _sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        items = self._items(calendar_id)
        last = max((i.seq for i in items.values()), default=0)
        new_token = f"{self._generation}:{last}"
        since = self._parse_token(token)
        if since is None:
            events = tuple(i.event for i in sorted(items.values(), key=lambda i: i.seq)
                           if not i.deleted and i.event.end > time_min)
            return SyncResult(events=events, next_token=new_token, full=True)
        changed = tuple(replace(i.event, status=EventStatus.CANCELLED) if i.deleted else i.event
                        for i in sorted(items.values(), key=lambda i: i.seq) if i.seq > since)
        return SyncResult(events=changed, next_token=new_token, full=False)

    def _parse_token(self, token: str | None) -> int | None:
        if not token:
            return None
        gen, _, seq = token.partition(":")
        if not gen.isdigit() or int(gen) != self._generation or not seq.isdigit():
            return None  # stale: the caller gets a full listing, as after a 410
        return int(seq)

    def timezone(self, calendar_id: str) -> str:
        return self._call("timezone", lambda: self.tz.get(calendar_id, self.default_tz))

    # -- EventSink ----------------------------------------------------------
    def event_id(self, f: FollowUp) -> str:
        return ids.calendar_event_id(self.account, self.write_to, f.interview_id, f.step)

    def _reminder(self, f: FollowUp, event_id: str) -> CalendarEvent:
        c = f.content
        assert isinstance(c, ReminderContent), "a reminder sink only takes reminders"
        return CalendarEvent(id=event_id, calendar_id=self.write_to, title=c.title, start=c.start, end=c.end,
                             description=c.description, private={PROP_INTERVIEW: f.interview_id, PROP_STEP: f.step})

    def create(self, f: FollowUp) -> Written:
        def body() -> Written:
            eid = self.event_id(f)
            existing = self._items(self.write_to).get(eid)
            if existing is not None:  # a retried insert: 409, adopt what is there
                if existing.deleted:
                    raise UserDeleted(f"reminder {eid} was deleted")
                mine, there = self._reminder(f, eid), existing.event
                if (there.title, there.description, there.start, there.end) != (
                        mine.title, mine.description, mine.start, mine.end):
                    raise UserEdited(f"reminder {eid} was changed after an interrupted write")
                return Written(eid, there.etag)
            ev = self._store(self.write_to, self._reminder(f, eid))
            return Written(eid, ev.etag)
        return self._call("create", body, f.interview_id)

    def _current(self, entry: LedgerEntry) -> _Item:
        item = self._items(self.write_to).get(entry.backend_id)
        if item is None or item.deleted:
            raise UserDeleted(f"reminder {entry.backend_id} is gone")
        if item.event.etag != entry.version:
            raise UserEdited(f"reminder {entry.backend_id} changed since it was written")
        return item

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        def body() -> Written:
            self._current(entry)
            ev = self._store(self.write_to, self._reminder(f, entry.backend_id))
            return Written(entry.backend_id, ev.etag)
        return self._call("update", body, f.interview_id)

    def delete(self, entry: LedgerEntry) -> None:
        def body() -> None:
            item = self._current(entry)
            self._store(self.write_to, replace(item.event, status=EventStatus.CANCELLED), deleted=True)
        self._call("delete", body, entry.interview_id)



@dataclass
class Draft:
    id: str
    key: str  # the X-Followupd-Key header
    to: str
    subject: str
    body: str
    version: str  # changes on every rewrite, like Gmail's message id
    sent: bool = field(default=False)


class MemoryDrafts(_Faulty):
    """A DraftSink.  Drafts carry the ``X-Followupd-Key`` header; nothing is ever sent by followupd."""

    def __init__(self) -> None:
        super().__init__()
        self.drafts: dict[str, Draft] = {}
        self.sent: list[Draft] = []
        self._ids = itertools.count(1)
        self._versions = itertools.count(1)

    @staticmethod
    def header(f: FollowUp) -> str:
        return ids.draft_key(f.interview_id, f.step, f.recipient)

    def _version(self) -> str:
        return f"m{next(self._versions)}"

    # -- helpers for tests (the person's side) ------------------------------
    def with_key(self, f: FollowUp) -> list[Draft]:
        return [d for d in self.drafts.values() if d.key == self.header(f)]

    def user_edit(self, draft_id: str) -> None:
        d = self.drafts[draft_id]
        d.body += "\n(edited)"
        d.version = self._version()

    def user_delete(self, draft_id: str) -> None:
        del self.drafts[draft_id]

    def user_send(self, draft_id: str) -> None:
        """The person sends the draft: it leaves the drafts folder."""
        d = self.drafts.pop(draft_id)
        d.sent = True
        self.sent.append(d)

    # -- DraftSink ----------------------------------------------------------
    def _fill(self, d: Draft, f: FollowUp) -> None:
        c = f.content
        assert isinstance(c, DraftContent), "a draft sink only takes drafts"
        d.to, d.subject, d.body, d.key = c.to.email, c.subject, c.body, self.header(f)

    def create(self, f: FollowUp) -> Written:
        def body() -> Written:
            d = Draft(id=f"d{next(self._ids)}", key="", to="", subject="", body="", version=self._version())
            self._fill(d, f)
            self.drafts[d.id] = d
            return Written(d.id, d.version)
        return self._call("create", body, f.interview_id)

    def find(self, f: FollowUp) -> Written | None:
        def body() -> Written | None:
            found = sorted(self.with_key(f), key=lambda d: d.id)
            if not found:
                return None
            c = f.content
            assert isinstance(c, DraftContent), "a draft sink only takes drafts"
            if (found[0].to, found[0].subject, found[0].body) != (c.to.email, c.subject, c.body):
                raise UserEdited(f"draft {found[0].id} was changed after an interrupted write")
            return Written(found[0].id, found[0].version)
        return self._call("find", body, f.interview_id)

    def _current(self, entry: LedgerEntry) -> Draft:
        d = self.drafts.get(entry.backend_id)
        if d is None:
            raise UserDeleted(f"draft {entry.backend_id} is gone (sent or deleted)")
        if d.version != entry.version:
            raise UserEdited(f"draft {entry.backend_id} changed since it was written")
        return d

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        def body() -> Written:
            d = self._current(entry)
            self._fill(d, f)
            d.version = self._version()
            return Written(d.id, d.version)
        return self._call("update", body, f.interview_id)

    def delete(self, entry: LedgerEntry) -> None:
        def body() -> None:
            self._current(entry)
            del self.drafts[entry.backend_id]
        self._call("delete", body, entry.interview_id)

    def check(self, entry: LedgerEntry) -> Written | None:
        def body() -> Written | None:
            d = self.drafts.get(entry.backend_id)
            return Written(d.id, d.version) if d else None
        return self._call("check", body, entry.interview_id)
