"""The ICS reminder output (``[ics] output``): a calendar file followupd owns wholly.

Each create, update and delete rewrites the whole file atomically before it
returns (see ``paths.atomic_write``), because the ledger is committed right
after the call: a kill -9 must never leave the ledger ahead of the file.  The
file is meant to be imported into, or subscribed to from, a calendar app, so
it carries PRODID, VERSION, METHOD:PUBLISH and the VTIMEZONEs its events use.

The file is followupd's, but the person may still open it in an editor; when
it changed on disk since followupd last wrote it, it is read again before the
next change, so an edit shows up as ``UserEdited`` instead of being lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import icalendar

from followupd.core import ids
from followupd.core.settings import Config
from followupd.errors import ConfigError, UserDeleted, UserEdited
from followupd.core.model import FollowUp, LedgerEntry, ReminderContent
from followupd.backends.protocols import Written
from followupd.paths import atomic_write, file_mode, write_problem
from followupd.backends.ics_events import X_INTERVIEW, X_STEP

log = logging.getLogger("followupd.backends.ics")

PRODID = "-//followupd//followupd reminders//EN"
CALENDAR_NAME = "followupd reminders"
ACCOUNT = "local"  # the account name of the local backends in deterministic ids
CALENDAR = "ics"  # the calendar id of the ICS output (``Backends.write_to``)
# VTIMEZONE definitions cover this span; reminders outside it are unlikely.
_TZ_FIRST = date(2000, 1, 1)
_TZ_LAST = date(2050, 1, 1)

_StatKey = tuple[int, int, int, int]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def event_version(event: icalendar.Component) -> str:
    """A hash of what a reminder shows; stable across a write and a re-read of the file."""
    def when(name: str) -> str:
        prop = event.get(name)
        value = getattr(prop, "dt", None)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(timezone.utc).isoformat()
        return str(value)

    triggers = []
    for alarm in event.walk("VALARM"):
        trigger = getattr(alarm.get("TRIGGER"), "dt", None)
        triggers.append([str(alarm.get("ACTION", "")), str(trigger)])
    data = [str(event.get("UID", "")), str(event.get("SUMMARY", "")), str(event.get("DESCRIPTION", "")),
            when("DTSTART"), when("DTEND"), str(event.get(X_INTERVIEW, "")), str(event.get(X_STEP, "")),
            sorted(triggers)]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:32]


class IcsOutput:
    """``protocols.EventSink`` writing reminders as VEVENTs with a display alarm."""

    def __init__(self, cfg: Config, *, clock: Callable[[], datetime] | None = None) -> None:
        self._path = check_location(cfg)
        self._clock = clock or _utcnow
        self._events: dict[str, icalendar.Event] = {}
        self._stat: _StatKey | None = None
        self._load()

    @property
    def path(self) -> Path:
        return self._path

    def uid_for(self, f: FollowUp) -> str:
        return ids.calendar_event_id(ACCOUNT, CALENDAR, f.interview_id, f.step)

    def create(self, f: FollowUp) -> Written:
        """Write the reminder; an existing one with the same deterministic UID is adopted
        if it still shows what ``f`` writes (same ``event_version``), else UserEdited."""
        self._refresh()
        uid = self.uid_for(f)
        existing = self._events.get(uid)
        if existing is not None:
            if event_version(existing) != event_version(self._build(uid, f)):
                raise UserEdited(f"reminder {uid} in {self.path} was changed after an interrupted write")
            return Written(uid, event_version(existing))
        event = self._build(uid, f)
        self._events[uid] = event
        self._save()
        return Written(uid, event_version(event))

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        """Rewrite the reminder if still at ``entry.version``."""
        self._refresh()
        uid = self._current(entry)
        event = self._build(uid, f)
        self._events[uid] = event
        self._save()
        return Written(uid, event_version(event))

    def delete(self, entry: LedgerEntry) -> None:
        """Remove the reminder if still at ``entry.version``."""
        self._refresh()
        uid = self._current(entry)
        del self._events[uid]
        self._save()


    # -- internals -----------------------------------------------------------------

    def _current(self, entry: LedgerEntry) -> str:
        uid = entry.backend_id
        event = self._events.get(uid)
        if event is None:
            raise UserDeleted(f"reminder {uid} is no longer in {self._path}")
        if entry.version and event_version(event) != entry.version:
            raise UserEdited(f"reminder {uid} in {self._path} was changed since followupd wrote it")
        return uid

    def _build(self, uid: str, f: FollowUp) -> icalendar.Event:
        return build_reminder(uid, f, self._clock())

    def _load(self) -> None:
        try:
            data = self._path.read_bytes()
            stat = os.stat(self._path)
        except FileNotFoundError:
            self._events, self._stat = {}, None
            return
        except OSError as exc:
            raise ConfigError(f"{self._path}: cannot be read ({exc.strerror or type(exc).__name__}); "
                              "check [ics] output") from None
        self._events = _parse_output(data, self._path)
        self._stat = _stat_key(stat)

    def _refresh(self) -> None:
        """Read the file again if something other than this object changed it."""
        try:
            current: _StatKey | None = _stat_key(os.stat(self._path))
        except FileNotFoundError:
            current = None
        if current != self._stat:
            log.info("%s changed on disk; reading it again", self._path)
            self._load()

    def _save(self) -> None:
        cal = icalendar.Calendar()
        cal.add("PRODID", PRODID)
        cal.add("VERSION", "2.0")
        cal.add("CALSCALE", "GREGORIAN")
        cal.add("METHOD", "PUBLISH")
        cal.add("X-WR-CALNAME", CALENDAR_NAME)
        for uid in sorted(self._events, key=lambda u: (_sort_key(self._events[u]), u)):
            cal.add_component(self._events[uid])
        cal.add_missing_timezones(first_date=_TZ_FIRST, last_date=_TZ_LAST)
        # an existing file keeps its mode (it may be served or subscribed to); a new one is private
        atomic_write(self._path, cal.to_ical(), mode=file_mode(self._path))
        self._stat = _stat_key(os.stat(self._path))


def build_reminder(uid: str, f: FollowUp, stamp: datetime) -> icalendar.Event:
    """The VEVENT of one reminder, with a display alarm and followupd's own properties
    (``X-FOLLOWUPD-INTERVIEW``, ``X-FOLLOWUPD-STEP``).  Also what the CalDAV sink writes."""
    content = f.content
    if not isinstance(content, ReminderContent):
        raise TypeError(f"a reminder sink takes reminders, not {type(content).__name__}")
    event = icalendar.Event()
    event.add("UID", uid)
    event.add("DTSTAMP", stamp.astimezone(timezone.utc).replace(microsecond=0))
    event.add("SUMMARY", content.title)
    if content.description:
        event.add("DESCRIPTION", content.description)
    start, end = _ical_time(content.start), _ical_time(content.end)
    event.add("DTSTART", start)
    event.add("DTEND", max(end, start))
    event.add("TRANSP", "TRANSPARENT")  # a reminder does not make the person busy
    event.add(X_INTERVIEW, f.interview_id)
    event.add(X_STEP, f.step)
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", content.title or "followupd reminder")
    alarm.add("TRIGGER", timedelta(minutes=-max(content.popup_minutes, 0)))
    event.add_component(alarm)
    return event


def check_location(cfg: Config) -> Path:
    """``[ics] output``, once it is known to be writable: raises ConfigError naming the key
    before anything is written (the folder must exist; followupd makes no folder there)."""
    path = Path(cfg.ics.output).expanduser()
    where = f"[ics] output in {cfg.path}" if cfg.path else "[ics] output"
    problem = write_problem(path.parent)
    if problem is None and path.is_dir():
        problem = f"{path} is a folder, not a file"
    elif problem is None and path.exists() and not os.access(path, os.W_OK):
        problem = f"{path} is read-only"
    if problem:
        raise ConfigError(f"{where}: {problem}; the reminders file {path} cannot be written there. "
                          f"Fix the permissions, or point {where.split(' in ')[0]} elsewhere")
    return path


def _ical_time(value: datetime) -> datetime:
    """A time icalendar can write with a TZID (zoneinfo) or as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    if isinstance(value.tzinfo, ZoneInfo) or value.tzinfo is timezone.utc:
        return value
    return value.astimezone(timezone.utc)


def _sort_key(event: icalendar.Component) -> str:
    start = getattr(event.get("DTSTART"), "dt", None)
    if isinstance(start, datetime) and start.tzinfo is not None:
        return start.astimezone(timezone.utc).isoformat()
    return str(start)


def _stat_key(st: os.stat_result) -> _StatKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _parse_output(data: bytes, path: Path) -> dict[str, icalendar.Event]:
    if not data.strip():
        return {}
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises assorted types on malformed input
        raise ConfigError(
            f"{path}: not a readable iCalendar file ({' '.join(str(exc).split())[:200]}); this file belongs "
            "to followupd: move it aside and followupd writes a new one ([ics] output)") from None
    events: dict[str, icalendar.Event] = {}
    for comp in cal.walk("VEVENT"):
        uid = str(comp.get("UID", ""))
        if uid and isinstance(comp, icalendar.Event):
            events[uid] = comp
    return events
