"""iCalendar components -> ``model.CalendarEvent``: expansion and conversion.

Everything here works on an already parsed ``icalendar.Calendar`` and does no
I/O.  Calendars come from strangers (anyone can send an invitation), so one
bad VEVENT or one bad recurrence rule costs that event, with a warning, and
never the whole listing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Iterable

import icalendar
import recurring_ical_events

from followupd.core.model import PROP_INTERVIEW, PROP_STEP, Attendee, CalendarEvent, EventStatus, Response
from followupd.backends.tzname import iana_name

log = logging.getLogger("followupd.backends.ics")

# Properties followupd puts on the reminders it writes (the ICS twin of
# Google's extendedProperties.private, SPEC §4.2).
X_INTERVIEW = "X-FOLLOWUPD-INTERVIEW"
X_STEP = "X-FOLLOWUPD-STEP"

_RESOURCE_TYPES = {"ROOM", "RESOURCE"}


def calendar_zone_name(cal: icalendar.Calendar) -> str | None:
    """X-WR-TIMEZONE, else the first VTIMEZONE's TZID, when either is an IANA (or Windows) name."""
    declared = cal.get("X-WR-TIMEZONE")
    if declared is not None:
        name = iana_name(str(_first(declared)))
        if name:
            return name
    first_tz = next(iter(cal.walk("VTIMEZONE")), None)
    if first_tz is not None:
        return iana_name(str(first_tz.get("TZID", "")))
    return None


def drop_broken_events(cal: icalendar.Calendar, source: str) -> None:
    """Remove (with a warning) the VEVENTs no calendar app could place in time."""
    kept = []
    for comp in cal.subcomponents:
        problem = _problem(comp) if comp.name == "VEVENT" else None
        if problem is None:
            kept.append(comp)
            continue
        log.warning("%s: skipped an event (UID %r, %r): %s", source, _text(comp, "UID")[:80],
                    _text(comp, "SUMMARY")[:80], problem)
    cal.subcomponents[:] = kept


def expand(cal: icalendar.Calendar, *, calendar_id: str, zone: tzinfo, start: datetime, end: datetime,
           me: str, source: str) -> list[CalendarEvent]:
    """Every event instance overlapping [start, end), sorted by start, each id unique."""
    recurring = {
        _text(c, "UID") for c in cal.walk("VEVENT")
        if c.get("RRULE") is not None or c.get("RDATE") is not None or c.get("RECURRENCE-ID") is not None
    }
    events: dict[str, CalendarEvent] = {}
    for occurrence in _occurrences(cal, start, end, source):
        try:
            event = _event(occurrence, calendar_id=calendar_id, zone=zone, recurring=recurring, me=me)
        except Exception as exc:  # untrusted input: one odd instance must not cost the listing
            log.warning("%s: skipped an event instance (UID %r): %s", source,
                        _text(occurrence, "UID")[:80], _why(exc))
            continue
        events.setdefault(event.id, event)
    return sorted(events.values(), key=lambda e: (e.start, e.id))


def _occurrences(cal: icalendar.Calendar, start: datetime, end: datetime,
                 source: str) -> Iterable[icalendar.Component]:
    """The expanded instances; a series the expander cannot handle is skipped alone."""
    try:
        return list(recurring_ical_events.of(cal).between(start, end))
    except Exception:  # find the culprit series below, expanding one UID at a time
        pass
    timezones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    series: dict[str, list[icalendar.Component]] = {}
    for comp in cal.subcomponents:
        if comp.name == "VEVENT":
            series.setdefault(_text(comp, "UID"), []).append(comp)
    found: list[icalendar.Component] = []
    for uid, comps in series.items():
        single = icalendar.Calendar()
        for key, value in cal.items():
            single[key] = value
        single.subcomponents = [*timezones, *comps]
        try:
            found.extend(recurring_ical_events.of(single).between(start, end))
        except Exception as exc:  # a malformed RRULE/RDATE/EXDATE in a stranger's invitation
            log.warning("%s: skipped the event series UID %r (%r): %s", source, uid[:80],
                        _text(comps[0], "SUMMARY")[:80], _why(exc))
    return found


def _problem(comp: icalendar.Component) -> str | None:
    """Why this VEVENT cannot be placed in time, or None."""
    start = _value(comp, "DTSTART")
    if start is None:
        return "it has no readable start (DTSTART)"
    if not isinstance(start, date):
        return "its start (DTSTART) is not a date or a date-time"
    end = _value(comp, "DTEND")
    if comp.get("DTEND") is not None:
        if not isinstance(end, date):
            return "its end (DTEND) is not a date or a date-time"
        if isinstance(end, datetime) != isinstance(start, datetime):
            return "its start and end mix a date with a date-time"
    if comp.get("DURATION") is not None and not isinstance(_value(comp, "DURATION"), timedelta):
        return "its DURATION is not a duration"
    return None


def _event(comp: icalendar.Component, *, calendar_id: str, zone: tzinfo, recurring: set[str],
           me: str) -> CalendarEvent:
    raw_start = _value(comp, "DTSTART")
    raw_end = _value(comp, "DTEND")
    if not isinstance(raw_start, date):
        raise ValueError("the instance has no start")
    all_day = not isinstance(raw_start, datetime)
    start = _aware(raw_start, zone)
    end = _aware(raw_end, zone) if isinstance(raw_end, date) else start
    if end < start:
        end = start

    uid = _text(comp, "UID") or _synthetic_uid(comp)
    recurring_event_id: str | None = None
    event_id = uid
    if uid in recurring:
        recurrence = _value(comp, "RECURRENCE-ID")
        instance = recurrence if isinstance(recurrence, date) else raw_start
        event_id = f"{uid}_{_instance_suffix(instance, zone)}"
        recurring_event_id = uid

    organizer_email, organizer_name = _address(comp.get("ORGANIZER"))
    attendees = tuple(_attendees(comp, me=me, organizer=organizer_email))
    organizer: Attendee | None = None
    if organizer_email:
        same = next((a for a in attendees if a.email.lower() == organizer_email.lower()), None)
        organizer = Attendee(
            email=organizer_email, name=organizer_name or (same.name if same else ""),
            is_self=bool(me) and organizer_email.lower() == me, organizer=True,
            resource=same.resource if same else False,
            response=same.response if same else Response.ACCEPTED,
        )
    private = {key: _text(comp, prop) for key, prop in ((PROP_INTERVIEW, X_INTERVIEW), (PROP_STEP, X_STEP))
               if comp.get(prop) is not None}

    fields: dict[str, Any] = dict(
        id=event_id, calendar_id=calendar_id, title=_text(comp, "SUMMARY"), start=start, end=end,
        description=_text(comp, "DESCRIPTION"),
        status=EventStatus.parse(_text(comp, "STATUS")),
        all_day=all_day, attendees=attendees, organizer=organizer,
        recurring_event_id=recurring_event_id, private=private, location=_text(comp, "LOCATION"),
    )
    return CalendarEvent(etag=_etag(fields), **fields)


def _attendees(comp: icalendar.Component, *, me: str, organizer: str) -> Iterable[Attendee]:
    seen: set[str] = set()
    for prop in _all(comp.get("ATTENDEE")):
        email, name = _address(prop)
        if not email or email.lower() in seen:
            continue
        seen.add(email.lower())
        params = getattr(prop, "params", {})
        yield Attendee(
            email=email,
            name=name,
            is_self=bool(me) and email.lower() == me,
            organizer=bool(organizer) and email.lower() == organizer.lower(),
            resource=str(params.get("CUTYPE", "")).upper() in _RESOURCE_TYPES,
            response=Response.parse(str(params.get("PARTSTAT", ""))),
            group=str(params.get("CUTYPE", "")).upper() == "GROUP",
        )


def _address(prop: Any) -> tuple[str, str]:
    """(email, common name) of an ATTENDEE/ORGANIZER value; ("", "") when absent."""
    prop = _first(prop)
    if prop is None:
        return "", ""
    email = str(prop).strip()
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:"):].strip()
    if "@" not in email:
        email = ""
    name = str(getattr(prop, "params", {}).get("CN", "")).strip()
    return email, name


def _aware(value: date, zone: tzinfo) -> datetime:
    """DATE -> midnight in the calendar zone; floating DATE-TIME -> the calendar zone."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=zone)
    return value


def _instance_suffix(instance: date, zone: tzinfo) -> str:
    """Google's instance id suffix: ``20261124T150000Z``, or ``20261124`` for all-day series."""
    if not isinstance(instance, datetime):
        return instance.strftime("%Y%m%d")
    return _aware(instance, zone).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _synthetic_uid(comp: icalendar.Component) -> str:
    """A stable id for a VEVENT without UID (invalid, but some exporters do it)."""
    basis = "\x1f".join(_text(comp, p) for p in ("DTSTART", "SUMMARY", "DESCRIPTION", "LOCATION"))
    basis += "\x1f" + repr(_value(comp, "DTSTART"))
    return "nouid-" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _etag(fields: dict[str, Any]) -> str:
    """A hash of what the engine reads: unchanged content keeps its etag across downloads
    (Google's iCal export renews DTSTAMP on every download, so the bytes alone would not do)."""
    organizer = fields["organizer"]
    data = [
        fields["id"], fields["title"], fields["description"], fields["location"], fields["status"],
        fields["start"].isoformat(), fields["end"].isoformat(), fields["all_day"],
        [[a.email, a.name, a.response, a.resource, a.is_self] for a in fields["attendees"]],
        [organizer.email, organizer.name] if organizer else None,
        sorted(fields["private"].items()),
    ]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _value(comp: icalendar.Component, name: str) -> object:
    """The decoded value (``.dt``) of a date/time property, or None when absent or unreadable."""
    prop = _first(comp.get(name))
    if prop is None:
        return None
    try:
        return getattr(prop, "dt", None)
    except Exception:  # icalendar's vBroken raises on .dt for an unparsable value
        return None


def _text(comp: icalendar.Component, name: str) -> str:
    value = _first(comp.get(name))
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _why(exc: BaseException) -> str:
    """A short, single-line reason: exception texts can quote the stranger's data."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]!r}" if text else type(exc).__name__
