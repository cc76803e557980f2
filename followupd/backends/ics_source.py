"""The ICS event source (``[ics] source``): a file or a calendar's iCal address.

An ICS source has no change feed, so every listing it returns is full.  The
sync token is a hash of the downloaded bytes plus the UTC day: when neither
changed, ``sync`` answers "nothing changed" without parsing, which keeps idle
passes at one read (one HTTP request for a URL).  The day is part of the token
because the listing covers a moving window, ``time_min`` to ``HORIZON`` ahead:
once a day the window moves and recurring events get their next instances.

The horizon is deliberately shorter than a year: every instance of a weekly
recurring "interview" becomes an interview with half a dozen reminders, and
reminders only matter in the days before.  An event enters the listing (and
gets its reminders) ``HORIZON`` before it happens.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from followupd.backends import ics_cache
from followupd.backends.ics_fetch import read_source, shown
from followupd.backends.tzname import system_timezone
from followupd.core.model import SyncResult
from followupd.core.settings import Config
from followupd.errors import ConfigError

if TYPE_CHECKING:  # icalendar is imported only when a file must be parsed (a cached listing needs none)
    import icalendar

HORIZON = timedelta(days=30)

# DTSTAMP is "when this copy was made": some servers (Google's secret iCal
# address among them) renew it on every download.  It says nothing about the
# events, so it is left out of the change-detecting hash.
_DTSTAMP = re.compile(rb"^DTSTAMP[;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.MULTILINE | re.IGNORECASE)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Snapshot:
    """One read of the source, parsed lazily (a matching token needs no parse)."""

    digest: str
    data: bytes
    calendar: icalendar.Calendar | None = None


def content_digest(data: bytes) -> str:
    """The change-detecting hash of an iCalendar file's bytes, DTSTAMP lines left out."""
    return hashlib.sha256(_DTSTAMP.sub(b"", data)).hexdigest()[:32]


def parse_calendar(data: bytes, source: str) -> icalendar.Calendar:
    """The one VCALENDAR in ``data`` (several are merged into the first); broken VEVENTs dropped.

    Raises ConfigError("<source>: not a readable iCalendar file: <reason>").
    """
    def unreadable(reason: str) -> ConfigError:
        return ConfigError(f"{source}: not a readable iCalendar file: {reason} ([ics] source)")

    import icalendar

    from followupd.backends.ics_events import drop_broken_events

    if not data.strip():
        raise unreadable("the file is empty")
    try:
        components = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # icalendar raises assorted types on malformed input
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise unreadable(reason) from None
    calendars = [c for c in components if isinstance(c, icalendar.Calendar) and c.name == "VCALENDAR"]
    if not calendars:
        raise unreadable("there is no VCALENDAR in it")
    calendar = calendars[0]
    for extra in calendars[1:]:
        calendar.subcomponents.extend(extra.subcomponents)
    drop_broken_events(calendar, source)
    return calendar


class IcsSource:
    """``protocols.EventSource`` over one iCalendar file or URL (``[ics] source``).

    The source is read at most once per pass: ``timezone()`` reuses the last
    read, and a read made by ``timezone()`` is used by the next ``sync()``.
    """

    def __init__(self, cfg: Config, *, clock: Callable[[], datetime] | None = None) -> None:
        self._source = cfg.ics.source
        self._name = shown(cfg.ics.source)
        self._me = cfg.me.email.strip().lower()
        self._clock = clock or _utcnow
        self._last: _Snapshot | None = None
        self._unconsumed = False  # ``_last`` was read by timezone() and not yet by sync()
        self._zones: dict[str, str] = {}  # digest -> zone name, known from a cached listing

    def sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        """Every event instance from ``time_min`` to ``HORIZON`` ahead (``full=True``),
        or nothing (``full=False``) when ``token`` says the source and the day are unchanged."""
        if self._last is not None and self._unconsumed:
            snapshot = self._last
        else:
            snapshot = self._read()
        self._unconsumed = False
        now = self._clock().astimezone(timezone.utc)
        next_token = f"{snapshot.digest}.{now:%Y%m%d}"
        if token == next_token:
            return SyncResult((), token, full=False)
        if time_min.tzinfo is None:
            time_min = time_min.replace(tzinfo=timezone.utc)
        # from the start of that UTC day: the same listing all day long, so it can be kept (a few hours
        # more than asked for; callers judge the window themselves)
        time_min = time_min.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        cache_key = ics_cache.key(snapshot.digest, calendar_id, time_min, now, self._me, self._source)
        cached = ics_cache.load(cache_key) if snapshot.calendar is None else None
        if cached is not None:
            self._zones[snapshot.digest] = cached[0]
            return SyncResult(tuple(cached[1]), next_token, full=True)
        from followupd.backends.ics_events import expand

        calendar = self._parse(snapshot)
        zone_name = self._zone_name(calendar)
        events = expand(calendar, calendar_id=calendar_id, zone=ZoneInfo(zone_name), start=time_min,
                        end=now + HORIZON, me=self._me, source=self._name)
        ics_cache.save(cache_key, zone_name, events)
        return SyncResult(tuple(events), next_token, full=True)

    def timezone(self, calendar_id: str) -> str:
        """X-WR-TIMEZONE, else the first VTIMEZONE's IANA TZID, else the system zone, else UTC."""
        if self._last is None:
            self._read()
            self._unconsumed = True
        assert self._last is not None
        known = self._zones.get(self._last.digest)
        if known is not None and self._last.calendar is None:
            return known
        return self._zone_name(self._parse(self._last))

    def _read(self) -> _Snapshot:
        data = read_source(self._source)
        digest = content_digest(data)
        if self._last is not None and self._last.digest == digest:
            self._last.data = data  # keep the parsed calendar of identical content
        else:
            self._last = _Snapshot(digest=digest, data=data)
        return self._last

    def _parse(self, snapshot: _Snapshot) -> icalendar.Calendar:
        if snapshot.calendar is None:
            snapshot.calendar = parse_calendar(snapshot.data, self._name)
        return snapshot.calendar

    @staticmethod
    def _zone_name(calendar: icalendar.Calendar) -> str:
        from followupd.backends.ics_events import calendar_zone_name

        return calendar_zone_name(calendar) or system_timezone()
