"""Calendar v3 (the parts followupd uses), following Google's documented semantics.

* ``events.insert`` takes a client-chosen id: base32hex (a-v, 0-9), 5-1024
  characters; a reused id is a 409 even when that event was deleted.
* Every modification gets a new etag.  ``patch``/``update``/``delete`` honour
  ``If-Match`` (412 on a mismatch).  A deleted event answers ``patch`` and
  ``update`` with 403 ``forbidden`` (google-api-ruby-client#1811) and
  ``delete`` with 410 ``deleted`` (google-api-python-client#210).
* Deleting keeps a tombstone (``status: cancelled``); ``events.get`` still
  returns it, full listings hide it unless ``showDeleted``, incremental
  listings (``syncToken``) always include it, reduced to id and status (the
  only fields Google guarantees on a deleted event).  ``purge_tombstones``
  drops them as Google does after a while: ``get`` is then a 404 while an
  insert of the id is still a 409, and the sync tokens issued before are
  invalidated (410).
* A calendar added with ``access_role="reader"`` lists with that
  ``accessRole`` and answers every write with 403 ``requiredAccessLevel``.
* ``syncToken`` cannot be combined with ``timeMin``/``timeMax``/``q``/
  ``orderBy``/``updatedMin``/``iCalUID``/``privateExtendedProperty`` (400); an
  invalidated token is a 410 ``fullSyncRequired``.  ``nextSyncToken`` appears on
  the last page only.  ``maxResults`` defaults to 250 and is capped at 2500.

* ``updatedMin`` keeps events modified at or after it and, as Google documents,
  includes deletions whatever ``showDeleted`` says; ``orderBy=updated`` sorts
  by last modification (the automation platforms' pollers use both).

Not emulated: recurrence expansion (seed instances with ``recurringEventId``
instead), free-text ``q``, watch channels.
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .errors import ApiError

Json = dict[str, Any]

_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
_SYNC_INCOMPATIBLE = ("timeMin", "timeMax", "q", "orderBy", "updatedMin", "iCalUID",
                      "privateExtendedProperty", "sharedExtendedProperty")
_KEPT = 1000  # sync and page tokens remembered; older ones are refused
_READ_ONLY = ("id", "etag", "kind", "created", "updated", "htmlLink", "iCalUID", "creator")


@dataclass
class _Event:
    resource: Json
    seq: int  # the change counter value of its last modification

    @property
    def cancelled(self) -> bool:
        return self.resource.get("status") == "cancelled"


@dataclass
class _Calendar:
    id: str
    time_zone: str
    summary: str
    events: dict[str, _Event] = field(default_factory=dict)
    generation: int = 0  # bumped to invalidate every sync token issued so far
    access_role: str = "owner"
    purged: set[str] = field(default_factory=set)  # ids whose tombstone is gone (still not reusable)


@dataclass
class _Page:
    calendar: str
    ids: list[str]
    offset: int
    page_size: int
    sync_token: str
    incremental: bool  # a syncToken listing: deletions are included, reduced to id/etag/status


def _now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_time(value: str, param: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Bad Request: invalid {param} {value!r}", "badRequest") from None
    if parsed.tzinfo is None:
        raise ApiError(400, f"Bad Request: {param} needs a time zone offset", "badRequest")
    return parsed


def _event_bound(resource: Json, key: str) -> datetime | None:
    when = resource.get(key) or {}
    if "dateTime" in when:
        return datetime.fromisoformat(when["dateTime"].replace("Z", "+00:00"))
    if "date" in when:
        return datetime.fromisoformat(when["date"]).replace(tzinfo=timezone.utc)
    return None


def _merge(target: Json, patch: Json) -> None:
    """Patch semantics: objects merge recursively, arrays and scalars replace."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class CalendarApi:
    """State and handlers of Calendar v3.  The server serialises calls with one lock."""

    def __init__(self, account: str, time_zone: str = "UTC") -> None:
        self.account = account
        self.calendars: dict[str, _Calendar] = {}
        self._seq = itertools.count(1)
        self._etag = itertools.count(3181161784712000)
        self._tokens: dict[str, tuple[str, int, int]] = {}  # token -> (calendar, seq, generation)
        self._pages: dict[str, _Page] = {}
        self.add_calendar(account, time_zone=time_zone, summary=account)

    # ---- helpers shared by handlers and test controls ---------------------
    def resolve(self, calendar_id: str) -> _Calendar:
        cal_id = self.account if calendar_id == "primary" else calendar_id
        cal = self.calendars.get(cal_id)
        if cal is None:
            raise ApiError(404, "Not Found", "notFound")
        return cal

    def add_calendar(self, calendar_id: str, *, time_zone: str = "UTC", summary: str = "",
                     access_role: str = "owner") -> None:
        self.calendars[calendar_id] = _Calendar(calendar_id, time_zone, summary or calendar_id,
                                                access_role=access_role)

    def purge_tombstones(self, calendar_id: str | None = None) -> int:
        """Forget deleted events for good, as Google does some time after a deletion."""
        purged = 0
        for cal in self.calendars.values():
            if calendar_id is not None and cal.id != self.resolve(calendar_id).id:
                continue
            gone = [eid for eid, ev in cal.events.items() if ev.cancelled]
            for eid in gone:
                del cal.events[eid]
                cal.purged.add(eid)
            if gone:
                cal.generation += 1
            purged += len(gone)
        return purged

    @staticmethod
    def _may_write(cal: _Calendar) -> None:
        if cal.access_role not in ("owner", "writer"):
            raise ApiError(403, "You need to have writer access to this calendar.", "requiredAccessLevel")

    def touch(self, resource: Json) -> int:
        """Give ``resource`` a new etag and ``updated``; returns the new change seq."""
        resource["etag"] = f'"{next(self._etag)}"'
        resource["updated"] = _now_rfc3339()
        return next(self._seq)

    def store(self, cal: _Calendar, resource: Json) -> Json:
        resource.setdefault("kind", "calendar#event")
        resource.setdefault("status", "confirmed")
        resource.setdefault("created", _now_rfc3339())
        resource.setdefault("iCalUID", f"{resource['id']}@google.com")
        resource.setdefault("organizer", {"email": cal.id, "self": cal.id == self.account})
        resource.setdefault("creator", {"email": self.account, "self": True})
        seq = self.touch(resource)
        cal.events[resource["id"]] = _Event(resource, seq)
        return resource

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        for cal in self.calendars.values():
            if calendar_id is None or cal.id == self.resolve(calendar_id).id:
                cal.generation += 1

    # ---- calendars.get / calendarList.get --------------------------------
    def calendar_get(self, calendar_id: str, *, listing: bool = False) -> Json:
        cal = self.resolve(calendar_id)
        body: Json = {"kind": "calendar#calendarListEntry" if listing else "calendar#calendar",
                      "etag": f'"{cal.generation}"', "id": cal.id, "summary": cal.summary,
                      "timeZone": cal.time_zone}
        if listing:
            body.update(accessRole=cal.access_role, primary=cal.id == self.account)
        return body

    # ---- events.insert ----------------------------------------------------
    def insert(self, calendar_id: str, body: Json) -> Json:
        cal = self.resolve(calendar_id)
        self._may_write(cal)
        event_id = body.get("id") or secrets.token_hex(13)
        if not _ID_RE.match(event_id):
            raise ApiError(400, "Invalid resource id value.", "invalid")
        if event_id in cal.events or event_id in cal.purged:
            raise ApiError(409, "The requested identifier already exists.", "duplicate")
        if "start" not in body or "end" not in body:
            raise ApiError(400, "Missing time range.", "required")
        resource = {k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY}
        resource["id"] = event_id
        return copy.deepcopy(self.store(cal, resource))

    # ---- events.get / patch / update / delete ----------------------------
    def _existing(self, calendar_id: str, event_id: str) -> tuple[_Calendar, _Event]:
        cal = self.resolve(calendar_id)
        event = cal.events.get(event_id)
        if event is None:
            raise ApiError(404, "Not Found", "notFound")
        return cal, event

    def _writable(self, calendar_id: str, event_id: str, if_match: str | None, *, deleting: bool = False) -> _Event:
        cal, event = self._existing(calendar_id, event_id)
        self._may_write(cal)
        if event.cancelled and deleting:
            raise ApiError(410, "Resource has been deleted", "deleted")
        if event.cancelled:
            raise ApiError(403, "Forbidden", "forbidden")
        if if_match is not None and if_match != "*" and if_match != event.resource["etag"]:
            raise ApiError(412, "Precondition Failed", "conditionNotMet")
        return event

    def get(self, calendar_id: str, event_id: str) -> Json:
        _, event = self._existing(calendar_id, event_id)
        return copy.deepcopy(event.resource)

    def patch(self, calendar_id: str, event_id: str, body: Json, if_match: str | None) -> Json:
        event = self._writable(calendar_id, event_id, if_match)
        _merge(event.resource, {k: v for k, v in body.items() if k not in _READ_ONLY})
        event.seq = self.touch(event.resource)
        return copy.deepcopy(event.resource)

    def update(self, calendar_id: str, event_id: str, body: Json, if_match: str | None) -> Json:
        event = self._writable(calendar_id, event_id, if_match)
        kept = {k: event.resource[k] for k in _READ_ONLY if k in event.resource}
        event.resource.clear()
        event.resource.update({k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY}, **kept)
        event.resource.setdefault("status", "confirmed")
        event.seq = self.touch(event.resource)
        return copy.deepcopy(event.resource)

    def delete(self, calendar_id: str, event_id: str, if_match: str | None) -> None:
        event = self._writable(calendar_id, event_id, if_match, deleting=True)
        event.resource["status"] = "cancelled"
        event.seq = self.touch(event.resource)

    # ---- events.list ------------------------------------------------------
    def list_events(self, calendar_id: str, query: dict[str, str]) -> Json:
        cal = self.resolve(calendar_id)
        if "pageToken" in query:
            page = self._pages.get(query["pageToken"])
            if page is None or page.calendar != cal.id:
                raise ApiError(400, "Invalid page token value.", "invalid")
            return self._page(cal, page)
        try:
            page_size = min(int(query.get("maxResults", "250")), 2500)
        except ValueError:
            raise ApiError(400, "Invalid maxResults", "invalid") from None
        if page_size < 1:
            raise ApiError(400, "Invalid maxResults", "invalid")
        if "syncToken" in query:
            clash = [p for p in _SYNC_INCOMPATIBLE if p in query]
            if clash:
                raise ApiError(400, f"The syncToken cannot be combined with {', '.join(clash)}.", "invalid")
            since = self._tokens.get(query["syncToken"])
            if since is None or since[0] != cal.id or since[2] != cal.generation:
                raise ApiError(410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired")
            ids = [eid for eid, ev in sorted(cal.events.items(), key=lambda kv: kv[1].seq) if ev.seq > since[1]]
        else:
            ids = self._full_listing(cal, query)
        page = _Page(cal.id, ids, 0, page_size, self._new_sync_token(cal), incremental="syncToken" in query)
        return self._page(cal, page)

    def _full_listing(self, cal: _Calendar, query: dict[str, str]) -> list[str]:
        time_min = _parse_time(query["timeMin"], "timeMin") if "timeMin" in query else None
        time_max = _parse_time(query["timeMax"], "timeMax") if "timeMax" in query else None
        updated_min = _parse_time(query["updatedMin"], "updatedMin") if "updatedMin" in query else None
        show_deleted = query.get("showDeleted") == "true" or updated_min is not None
        by_updated = query.get("orderBy") == "updated"
        private = [p.split("=", 1) for p in _multi(query, "privateExtendedProperty")]
        selected: list[tuple[datetime, str]] = []
        for eid, ev in cal.events.items():
            res = ev.resource
            if ev.cancelled and not show_deleted:
                continue
            if updated_min is not None and _parse_time(res["updated"], "updated") < updated_min:
                continue
            start, end = _event_bound(res, "start"), _event_bound(res, "end")
            if time_min is not None and end is not None and end <= time_min:
                continue
            if time_max is not None and start is not None and start >= time_max:
                continue
            props = res.get("extendedProperties", {}).get("private", {})
            if any(props.get(k) != v for k, v in private):
                continue
            if by_updated:
                start = _parse_time(res["updated"], "updated")
            selected.append((start or datetime.min.replace(tzinfo=timezone.utc), eid))
        selected.sort()
        return [eid for _, eid in selected]

    def _new_sync_token(self, cal: _Calendar) -> str:
        while len(self._tokens) >= _KEPT:  # the oldest tokens expire (a 410), as Google's do
            del self._tokens[next(iter(self._tokens))]
        token = "sync-" + secrets.token_urlsafe(18)
        # The token covers everything up to now: the listing is a snapshot at this seq.
        current = max((ev.seq for ev in cal.events.values()), default=0)
        self._tokens[token] = (cal.id, current, cal.generation)
        return token

    def _page(self, cal: _Calendar, page: _Page) -> Json:
        chunk = page.ids[page.offset:page.offset + page.page_size]
        items = []
        for eid in chunk:
            event = cal.events.get(eid)
            if event is None:
                continue
            res = event.resource
            if event.cancelled and page.incremental:
                items.append({"kind": "calendar#event", "id": eid, "status": "cancelled"})
            else:
                items.append(copy.deepcopy(res))
        body: Json = {"kind": "calendar#events", "etag": f'"{cal.generation}"', "summary": cal.summary,
                      "updated": _now_rfc3339(), "timeZone": cal.time_zone, "accessRole": cal.access_role,
                      "defaultReminders": [{"method": "popup", "minutes": 10}], "items": items}
        rest = page.offset + page.page_size
        if rest < len(page.ids):
            while len(self._pages) >= _KEPT:
                del self._pages[next(iter(self._pages))]
            token = "page-" + secrets.token_urlsafe(12)
            self._pages[token] = _Page(page.calendar, page.ids, rest, page.page_size, page.sync_token,
                                       page.incremental)
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = page.sync_token
        return body


def _multi(query: dict[str, str], key: str) -> list[str]:
    value = query.get(key)
    return [value] if value else []
