"""Listings of an ICS source kept in followupd's cache folder, so a command does not parse the file again.

``explain`` and ``preview`` list the source in full every time they run, and
parsing an iCalendar file (icalendar, recurring-ical-events) is most of their
time.  A listing depends only on the file's content, the calendar, the window
and who "me" is, so it is kept under ``$XDG_CACHE_HOME/followupd/ics/``, keyed
by all of those: a changed file, another day or another config simply misses.
The newest few are kept; a cache that cannot be read or written is not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from pathlib import Path

from followupd import paths
from followupd.core.model import CalendarEvent
from followupd.store.codecs import event_from_json, event_to_json

log = logging.getLogger("followupd.backends.ics")

KEEP = 8  # listings kept: a few sources, a few days
VERSION = 1  # bump when the listing's shape changes


def key(digest: str, calendar_id: str, time_min: datetime, now: datetime, me: str, source: str) -> str:
    """Everything a listing depends on: content, calendar, window, me, the system zone (a calendar
    that names none is read in it) and the code that converted it."""
    from followupd import __version__
    from followupd.backends.tzname import system_timezone

    text = json.dumps([VERSION, __version__, digest, calendar_id, time_min.isoformat(), f"{now:%Y%m%d}", me,
                       source, system_timezone()])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _folder() -> Path:
    return paths.cache_dir() / "ics"


def load(name: str) -> tuple[str, list[CalendarEvent]] | None:
    """The cached (zone name, events) of this key, or None."""
    try:
        data = json.loads((_folder() / f"{name}.json").read_text(encoding="utf-8"))
        return str(data["zone"]), [event_from_json(json.dumps(e)) for e in data["events"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(name: str, zone: str, events: list[CalendarEvent]) -> None:
    folder = _folder()
    try:
        paths.private_dir(folder)
        body = {"zone": zone, "events": [json.loads(event_to_json(e)) for e in events]}
        paths.atomic_write(folder / f"{name}.json", json.dumps(body, ensure_ascii=False).encode("utf-8"))
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("ICS listing not cached (%s): %s", folder, exc)
