"""IANA time zone names: validating them and finding the system's own.

Calendars name their zone in several ways (``X-WR-TIMEZONE``, a VTIMEZONE's
TZID, Outlook's Windows names such as "W. Europe Standard Time").  followupd
stores and computes with IANA names only, so everything funnels through
:func:`iana_name`.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


_ZONEINFO_MARKER = "zoneinfo/"


def is_iana(name: str) -> bool:
    """True when ``name`` is a zone the tz database (``zoneinfo``) knows."""
    name = name.strip()
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def iana_name(name: str) -> str | None:
    """``name`` as an IANA zone name, translating Windows names; None if unknown."""
    name = name.strip().strip('"')
    if is_iana(name):
        return name
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON  # only for a name that is not IANA

    olson = WINDOWS_TO_OLSON.get(name)
    if olson and is_iana(olson):
        return olson
    if name.startswith("/"):  # a "globally unique" TZID: /mozilla.org/20070129_1/America/New_York
        parts = name.strip("/").split("/")
        for i in range(1, len(parts)):
            candidate = "/".join(parts[i:])
            if "/" in candidate and is_iana(candidate):
                return candidate
    return None


def _from_zoneinfo_path(path: str) -> str | None:
    """``/usr/share/zoneinfo/Europe/Berlin`` -> ``Europe/Berlin``."""
    if _ZONEINFO_MARKER not in path:
        return None
    candidate = path.rsplit(_ZONEINFO_MARKER, 1)[1]
    for prefix in ("posix/", "right/"):
        candidate = candidate.removeprefix(prefix)
    return candidate if is_iana(candidate) else None


def system_timezone(
    *,
    environ: dict[str, str] | None = None,
    etc_timezone: Path = Path("/etc/timezone"),
    etc_localtime: Path = Path("/etc/localtime"),
) -> str:
    """The system's IANA zone: ``$TZ``, ``/etc/timezone``, the ``/etc/localtime`` link, else "UTC".

    The keyword arguments exist for tests; callers use the defaults.
    """
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").strip().lstrip(":")
    if tz:
        if is_iana(tz):
            return tz
        from_path = _from_zoneinfo_path(tz)
        if from_path:
            return from_path
    try:
        first = etc_timezone.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError):
        first = []
    if first and is_iana(first[0]):
        return first[0].strip()
    try:
        target = os.readlink(etc_localtime)
    except OSError:
        target = ""
    if target:
        from_link = _from_zoneinfo_path(os.path.normpath(os.path.join(etc_localtime.parent, target)))
        if from_link:
            return from_link
    return "UTC"
