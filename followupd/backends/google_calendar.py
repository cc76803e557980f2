"""Google Calendar: the event source (incremental sync) and the reminder sink.

Reminders get deterministic ids (``ids.calendar_event_id``), so a repeated
insert is a 409 and the existing event is adopted; updates and deletions carry
``If-Match: <etag recorded at write time>``, so an event the person edited is
never overwritten (412 → ``UserEdited``) and one they deleted is never
re-created (cancelled/404/410 → ``UserDeleted``).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timezone
from functools import partial
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followupd.core import ids
from followupd.core.settings import Config
from followupd.errors import AccessDenied, ConfigError, FollowupdError, UserDeleted, UserEdited
from followupd.core.model import PROP_INTERVIEW, PROP_STEP, Attendee, CalendarEvent, EventStatus, FollowUp, LedgerEntry, ReminderContent, Response
from followupd.backends.protocols import Screen, Written
from followupd.core.model import SyncResult
from followupd.backends.google_common import DEFAULT_TIMEOUT, build_service, rfc3339
from followupd.backends.retry import HttpStatus, RetryPolicy

log = logging.getLogger("followupd.backends.google_calendar")

PAGE_SIZE = 2500  # the maximum events.list allows: a 10,000-event first sync is 4 requests
FOOTER = "\n\n—\nWritten by followupd. Edit or delete it and followupd will leave it alone."
# A cancelled event in an incremental listing may carry nothing but its id and status.
_NO_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
# accessRole values (events.list) under which events cannot be written
READ_ONLY_ROLES = frozenset({"freeBusyReader", "reader"})


class GoogleCalendar:
    """Implements ``protocols.ScreeningEventSource`` and ``protocols.EventSink``."""

    def __init__(self, cfg: Config, credentials: Any, *, retry: RetryPolicy | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._cfg = cfg
        self._retry = retry or RetryPolicy()
        self._service = build_service("calendar", "v3", credentials, cfg.google.api_endpoint, timeout)
        self._events = self._service.events()
        self._zones: dict[str, str] = {}  # calendar id -> time zone seen in a listing
        self._roles: dict[str, str] = {}  # calendar id -> accessRole seen in a listing
        self._config_where = f"[calendar] watch in {cfg.path}" if cfg.path else "[calendar] watch"

    # ---- EventSource --------------------------------------------------------
    def sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        return self._sync(calendar_id, token, time_min, None)

    def sync_screened(self, calendar_id: str, token: str | None, time_min: datetime,
                      screen: Screen) -> SyncResult:
        """``sync``, building only the events followupd wrote and those ``screen`` lets through."""
        return self._sync(calendar_id, token, time_min, screen)

    def _sync(self, calendar_id: str, token: str | None, time_min: datetime, screen: Screen | None) -> SyncResult:
        if token:
            try:
                return self._list(calendar_id, {"syncToken": token}, screen, full=False)
            except HttpStatus as exc:
                if exc.status not in (400, 410):
                    raise self._unknown_calendar(calendar_id, exc) from None
                # 410: the token expired; 400: Google refuses it (a token of another calendar,
                # mangled, or from an older API): either way one full sync starts afresh
                log.info("the sync token of calendar %r was refused (%s %s); doing a full sync", calendar_id,
                         exc.status, exc.reason)
        try:
            return self._list(calendar_id, {"timeMin": rfc3339(time_min)}, screen, full=True)
        except HttpStatus as exc:
            raise self._unknown_calendar(calendar_id, exc) from None

    def timezone(self, calendar_id: str) -> str:
        """The calendar's zone, from the ``timeZone`` of an events listing.

        ``calendars.get`` would need a broader scope than ``calendar.events``
        (SPEC §4.9), but every ``events.list`` answer carries the zone: a sync
        already made in this process answers without a request.
        """
        if calendar_id not in self._zones:
            request = self._events.list(calendarId=calendar_id, maxResults=1, fields="timeZone")
            try:
                page = self._retry.call(request.execute, what=f"reading calendar {calendar_id!r}",
                                        passthrough=(400, 403, 404))
            except HttpStatus as exc:
                raise self._unknown_calendar(calendar_id, exc) from None
            self._zones[calendar_id] = str(page.get("timeZone") or "UTC")
        return self._zones[calendar_id]

    def _list(self, calendar_id: str, params: dict[str, str], screen: Screen | None, *, full: bool) -> SyncResult:
        """Every page of one listing; raises HttpStatus for 400/403/404/410.

        When there is more than one page, the next one is fetched on a helper
        thread while this one converts the page it has, so waiting for the
        server and parsing events overlap (a 10,000-event first sync is four
        pages).  Only one thread talks HTTP at a time: the helper, from the
        second page on.  An idle pass (one page) starts no thread.
        """
        page = self._page(calendar_id, params, None)
        self._zones[calendar_id] = page.get("timeZone") or "UTC"
        self._roles[calendar_id] = str(page.get("accessRole") or "")
        if calendar_id == self._cfg.calendar.write_to and page.get("accessRole") in READ_ONLY_ROLES:
            raise self._read_only(calendar_id, f"accessRole {page['accessRole']}")
        listing = _Listing(calendar_id, _zone(self._zones[calendar_id]), screen)
        if not page.get("nextPageToken"):
            listing.add(page.get("items", ()))
            return listing.result(page.get("nextSyncToken"), full)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="followupd-list") as pool:
            while True:
                page_token = page.get("nextPageToken")
                ahead = pool.submit(self._page, calendar_id, params, page_token) if page_token else None
                listing.add(page.get("items", ()))
                if ahead is None:
                    return listing.result(page.get("nextSyncToken"), full)
                page = ahead.result()

    def _page(self, calendar_id: str, params: dict[str, str], page_token: str | None) -> dict[str, Any]:
        request = self._events.list(calendarId=calendar_id, singleEvents=True, maxResults=PAGE_SIZE,
                                    pageToken=page_token, **params)
        page: dict[str, Any] = self._retry.call(request.execute, what=f"listing calendar {calendar_id!r}",
                                                passthrough=(400, 403, 404, 410))
        return page

    def _read_only(self, calendar_id: str, why: str) -> AccessDenied:
        account = self._cfg.google.account or "this account"
        where = f"[calendar] write_to in {self._cfg.path}" if self._cfg.path else "[calendar] write_to"
        return AccessDenied(
            f"Google Calendar lets {account} only read calendar {calendar_id!r} ({why}), so followupd cannot "
            f"write its reminders there and wrote nothing. Fix: share that calendar with {account} with "
            f"\"Make changes to events\", or set {where} to a calendar of yours (\"primary\")")

    def _refused(self, exc: HttpStatus, what: str) -> FollowupdError:
        """A 403 on a write that is no rate limit nor a missing scope (``retry.classify``): the
        calendar's sharing, or this one item."""
        cal = self._cfg.calendar.write_to
        if exc.reason == "requiredAccessLevel" or self._roles.get(cal) in READ_ONLY_ROLES:
            return self._read_only(cal, f"403 {exc.reason}".rstrip())
        # e.g. "forbidden" on an event the account may not change: this item's failure, recorded on its row
        return FollowupdError(f"Google refused {what} in calendar {cal!r} (403 {exc.reason})".rstrip())

    def _unknown_calendar(self, calendar_id: str, exc: HttpStatus) -> FollowupdError:
        if exc.status in (400, 403, 404):
            return ConfigError(f"Google Calendar has no calendar {calendar_id!r} that "
                               f"{self._cfg.google.account or 'this account'} can read "
                               f"({exc.status} {exc.reason}): check {self._config_where}")
        return FollowupdError(f"calendar {calendar_id!r}: unexpected answer {exc.status} {exc.reason}")

    # ---- EventSink ----------------------------------------------------------
    def create(self, f: FollowUp) -> Written:
        cal = self._cfg.calendar.write_to
        event_id = ids.calendar_event_id(self._cfg.google.account, cal, f.interview_id, f.step)
        body = dict(self._body(f), id=event_id)
        insert = self._events.insert(calendarId=cal, body=body, sendUpdates="none")
        try:
            made = self._retry.call(insert.execute, what=f"creating reminder {f.step!r}", passthrough=(403, 409))
            return Written(event_id, str(made["etag"]))
        except HttpStatus as exc:
            if exc.status == 403:
                raise self._refused(exc, f"creating reminder {f.step!r}") from None
            # 409: the id exists: a repeat of our own insert, or the person deleted it since
        existing = self._get(event_id, f"reading reminder {event_id}")
        if existing is None:  # 409 then 404: the person deleted it and Google purged the tombstone
            raise UserDeleted(f"reminder {event_id} was deleted by the person (and purged)")
        if existing.get("status") == "cancelled":
            raise UserDeleted(f"reminder {event_id} was deleted by the person")
        if not _same_content(existing, body):  # our lost insert, then the person's edit
            raise UserEdited(f"reminder {event_id} was changed by the person after an interrupted write")
        return Written(event_id, str(existing["etag"]))

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        cal = self._cfg.calendar.write_to
        body = self._body(f)
        request = self._events.patch(calendarId=cal, eventId=entry.backend_id, body=body, sendUpdates="none")
        request.headers["If-Match"] = entry.version
        try:
            made = self._retry.call(request.execute, what=f"moving reminder {f.step!r}",
                                    passthrough=(403, 404, 410, 412))
            return Written(entry.backend_id, str(made["etag"]))
        except HttpStatus as exc:
            if exc.status != 412:
                self._gone_or_denied(entry, exc)
                raise UserDeleted(f"reminder {entry.backend_id} is gone") from None
            if exc.retried:  # perhaps our own first attempt landed and the answer was lost
                current = self._get(entry.backend_id, f"reading reminder {entry.backend_id}")
                if current is not None and _same_content(current, body):
                    return Written(entry.backend_id, str(current["etag"]))
            raise UserEdited(f"reminder {entry.backend_id} was edited by the person") from None

    def delete(self, entry: LedgerEntry) -> None:
        request = self._events.delete(calendarId=self._cfg.calendar.write_to, eventId=entry.backend_id,
                                      sendUpdates="none")
        request.headers["If-Match"] = entry.version
        try:
            self._retry.call(request.execute, what=f"withdrawing reminder {entry.backend_id}",
                             passthrough=(403, 404, 410, 412))
        except HttpStatus as exc:
            if exc.status == 412:
                raise UserEdited(f"reminder {entry.backend_id} was edited by the person") from None
            self._gone_or_denied(entry, exc)
            if exc.retried:
                return  # our first attempt deleted it; only its answer was lost
            raise UserDeleted(f"reminder {entry.backend_id} is already gone") from None

    def _get(self, event_id: str, what: str) -> dict[str, Any] | None:
        """``events.get`` of a reminder; None when Google no longer knows the id (404)."""
        request = self._events.get(calendarId=self._cfg.calendar.write_to, eventId=event_id)
        try:
            found: dict[str, Any] = self._retry.call(request.execute, what=what, passthrough=(403, 404))
        except HttpStatus as exc:
            if exc.status == 403:
                raise self._refused(exc, f"reading reminder {event_id}") from None
            return None
        return found

    def _gone_or_denied(self, entry: LedgerEntry, exc: HttpStatus) -> None:
        """After a 403, 404 or 410 on a write: return if the event is gone (deleted, its tombstone
        perhaps purged), else raise AccessDenied.  Google answers a write to a deleted event with
        403 as well as 410, and a 403 is also what a calendar the account may only read gives."""
        current = self._get(entry.backend_id, f"reading reminder {entry.backend_id}")
        if current is None or current.get("status") == "cancelled" or exc.status != 403:
            return
        raise self._refused(exc, f"changing reminder {entry.backend_id}")


    def _body(self, f: FollowUp) -> dict[str, Any]:
        content = f.content
        if not isinstance(content, ReminderContent):
            raise TypeError(f"GoogleCalendar writes reminders, not {type(content).__name__}")
        return {
            "summary": content.title,
            "description": content.description + FOOTER,
            "start": _when(content.start),
            "end": _when(content.end),
            "reminders": {"useDefault": False,
                          "overrides": [{"method": "popup", "minutes": content.popup_minutes}]},
            "extendedProperties": {"private": {PROP_INTERVIEW: f.interview_id, PROP_STEP: f.step}},
            "transparency": "transparent",
        }


class _Listing:
    """The events of one listing as its pages arrive.

    With a screen, an item followupd did not write (no ``followupd_interview``
    private property) whose title and description the screen rules out is
    kept raw, with its conversion deferred, in ``passed_over``: on a first
    sync that is nearly every event, and only the ones the engine already
    knows as interviews are ever built.
    """

    def __init__(self, calendar_id: str, tz: ZoneInfo, screen: Screen | None) -> None:
        self.calendar_id = calendar_id
        self.tz = tz
        self.screen = screen
        self.events: list[CalendarEvent] = []
        self.passed_over: dict[str, Callable[[], CalendarEvent]] = {}

    def add(self, items: Iterable[dict[str, Any]]) -> None:
        cal, tz, screen = self.calendar_id, self.tz, self.screen
        if screen is None:
            self.events.extend(to_event(item, cal, tz) for item in items)
            return
        for item in items:
            props = item.get("extendedProperties")
            ours = props is not None and PROP_INTERVIEW in (props.get("private") or {})
            # a deletion (perhaps a bare tombstone: id and status only) is always built: it may be
            # one of followupd's reminders, matched to the ledger by its id
            if ours or item.get("status") == "cancelled" or screen(item.get("summary", ""),
                                                                    item.get("description", "")):
                self.events.append(to_event(item, cal, tz))
            else:
                self.passed_over[item["id"]] = partial(to_event, item, cal, tz)

    def result(self, next_token: str | None, full: bool) -> SyncResult:
        return SyncResult(tuple(self.events), next_token, full=full, passed_over=self.passed_over)


def _when(moment: datetime) -> dict[str, str]:
    when = {"dateTime": rfc3339(moment)}
    zone = getattr(moment.tzinfo, "key", None)
    if zone:
        when["timeZone"] = zone
    return when


def _same_content(current: dict[str, Any], body: dict[str, Any]) -> bool:
    """Does the event already say what ``body`` writes (times compared as instants)?"""
    if current.get("status") == "cancelled":
        return False
    for key in ("summary", "description"):
        if current.get(key, "") != body[key]:
            return False
    return all(_parse_time((current.get(k) or {}).get("dateTime")) == _parse_time(body[k]["dateTime"])
               for k in ("start", "end"))


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown calendar time zone %r; using UTC", name)
        return ZoneInfo("UTC")


def _bound(when: dict[str, Any] | None, tz: ZoneInfo) -> tuple[datetime, bool]:
    """``(moment, all_day)`` of an event's start or end."""
    if not when:
        return _NO_TIME, False
    value = when.get("dateTime")
    if value is not None:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(when["timeZone"]) if "timeZone" in when else tz)
        return moment, False
    return datetime.combine(date.fromisoformat(when["date"]), time(), tz), True


def _attendee(data: dict[str, Any], *, organizer: bool = False) -> Attendee:
    return Attendee(email=str(data.get("email", "")).lower(), name=data.get("displayName", ""),
                    is_self=bool(data.get("self", False)), organizer=organizer or bool(data.get("organizer")),
                    resource=bool(data.get("resource", False)),
                    response=Response.parse(data.get("responseStatus")))


def to_event(item: dict[str, Any], calendar_id: str, tz: ZoneInfo) -> CalendarEvent:
    """One ``events.list`` item as a ``CalendarEvent`` (kept lean: it runs per event)."""
    start, all_day = _bound(item.get("start"), tz)
    end, _ = _bound(item.get("end"), tz)
    attendees = item.get("attendees")
    organizer = item.get("organizer")
    props = item.get("extendedProperties")
    return CalendarEvent(
        id=item["id"], calendar_id=calendar_id, title=item.get("summary", ""), start=start, end=end,
        description=item.get("description", ""), status=EventStatus.parse(item.get("status")), all_day=all_day,
        attendees=tuple(_attendee(a) for a in attendees) if attendees else (),
        organizer=_attendee(organizer, organizer=True) if organizer else None,
        etag=item.get("etag", ""), recurring_event_id=item.get("recurringEventId"),
        private=dict(props.get("private", {})) if props else {}, location=item.get("location", ""),
    )
