"""tzname: IANA names from calendars and from the system."""

from __future__ import annotations

from pathlib import Path

import pytest

from followupd.backends.tzname import iana_name, is_iana, system_timezone


@pytest.mark.parametrize("name, expected", [
    ("Europe/Berlin", "Europe/Berlin"),
    ('"America/New_York"', "America/New_York"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Eastern Standard Time", "America/New_York"),
    ("/mozilla.org/20070129_1/America/New_York", "America/New_York"),
    ("/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("Custom Zone 1", None),
    ("", None),
    ("../../etc/passwd", None),
])
def test_iana_name(name: str, expected: str | None) -> None:
    assert iana_name(name) == expected


def test_is_iana_refuses_paths() -> None:
    assert is_iana("UTC") and not is_iana("/usr/share/zoneinfo/UTC") and not is_iana("Nowhere/Town")


def test_system_timezone_prefers_tz(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    assert system_timezone(environ={"TZ": ":Asia/Tokyo"}, etc_timezone=missing, etc_localtime=missing) == "Asia/Tokyo"
    assert system_timezone(environ={"TZ": "/usr/share/zoneinfo/Europe/Oslo"}, etc_timezone=missing,
                           etc_localtime=missing) == "Europe/Oslo"


def test_system_timezone_reads_etc_timezone_then_localtime(tmp_path: Path) -> None:
    etc_timezone = tmp_path / "timezone"
    etc_timezone.write_text("Europe/Lisbon\n")
    localtime = tmp_path / "localtime"
    localtime.symlink_to("/usr/share/zoneinfo/posix/Australia/Sydney")
    assert system_timezone(environ={}, etc_timezone=etc_timezone, etc_localtime=localtime) == "Europe/Lisbon"
    etc_timezone.write_text("not a zone\n")
    assert system_timezone(environ={}, etc_timezone=etc_timezone, etc_localtime=localtime) == "Australia/Sydney"
    assert system_timezone(environ={"TZ": "garbage"}, etc_timezone=tmp_path / "no",
                           etc_localtime=tmp_path / "no") == "UTC"
