"""IcsSource: golden edge-case calendars, tokens, URLs and robustness on odd files."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import icalendar
import pytest

from followupd.backends.ics import IcsSource
from followupd.backends.ics_source import HORIZON, content_digest
from followupd.errors import ConfigError, TransientError
from followupd.core.model import CalendarEvent
from local_helpers import GOLDEN, NOW, TIME_MIN, CalendarServer, local_config, serve_calendars

Row = tuple[str, str, str, str, bool]  # id, start, end, status, all_day

# The expected listing of every golden file, from TIME_MIN to NOW + HORIZON.
EXPECTED: dict[str, tuple[str, list[Row]]] = {
    "all_day.ics": ("Europe/Berlin", [
        ("gym_20260302", "2026-03-02T00:00:00+01:00", "2026-03-03T00:00:00+01:00", "confirmed", True),
        ("holiday", "2026-03-05T00:00:00+01:00", "2026-03-06T00:00:00+01:00", "confirmed", True),
        ("gym_20260309", "2026-03-09T00:00:00+01:00", "2026-03-10T00:00:00+01:00", "confirmed", True),
        ("conference", "2026-03-10T00:00:00+01:00", "2026-03-12T00:00:00+01:00", "confirmed", True),
    ]),
    "floating.ics": ("America/Chicago", [
        ("floating-before-dst", "2026-03-05T09:00:00-06:00", "2026-03-05T10:00:00-06:00", "confirmed", False),
        ("floating-after-dst", "2026-03-10T09:00:00-05:00", "2026-03-10T10:00:00-05:00", "confirmed", False),
    ]),
    "no_dtend.ics": ("UTC", [
        ("instant", "2026-03-04T15:00:00+00:00", "2026-03-04T15:00:00+00:00", "confirmed", False),
        ("one-day", "2026-03-06T00:00:00+00:00", "2026-03-07T00:00:00+00:00", "confirmed", True),
    ]),
    "duration.ics": ("Europe/London", [
        ("duration", "2026-03-04T14:00:00+00:00", "2026-03-04T15:30:00+00:00", "confirmed", False),
        ("duration-days", "2026-03-09T00:00:00+00:00", "2026-03-11T00:00:00+00:00", "confirmed", True),
    ]),
    "recurring_exdate_override.ics": ("UTC", [
        ("weekly_20260302T150000Z", "2026-03-02T15:00:00+00:00", "2026-03-02T16:00:00+00:00", "confirmed", False),
        # 9 March is an EXDATE; the 16 March instance was moved to Tuesday 17 March and keeps its id
        ("weekly_20260316T150000Z", "2026-03-17T10:00:00+00:00", "2026-03-17T11:00:00+00:00", "confirmed", False),
        ("weekly_20260323T150000Z", "2026-03-23T15:00:00+00:00", "2026-03-23T16:00:00+00:00", "confirmed", False),
    ]),
    "cancelled.ics": ("UTC", [
        ("series_20260303T090000Z", "2026-03-03T09:00:00+00:00", "2026-03-03T10:00:00+00:00", "confirmed", False),
        ("series_20260304T090000Z", "2026-03-04T09:00:00+00:00", "2026-03-04T10:00:00+00:00", "cancelled", False),
        ("series_20260305T090000Z", "2026-03-05T09:00:00+00:00", "2026-03-05T10:00:00+00:00", "confirmed", False),
        ("single-cancelled", "2026-03-06T09:00:00+00:00", "2026-03-06T10:00:00+00:00", "cancelled", False),
        ("tentative", "2026-03-07T09:00:00+00:00", "2026-03-07T10:00:00+00:00", "tentative", False),
    ]),
    "attendees.ics": ("UTC", [
        ("panel", "2026-03-05T15:00:00+00:00", "2026-03-05T16:00:00+00:00", "confirmed", False),
        ("declined-by-me", "2026-03-06T15:00:00+00:00", "2026-03-06T16:00:00+00:00", "confirmed", False),
    ]),
    "dst.ics": ("America/New_York", [
        # 10:00 local on both sides of the 8 March 2026 change: 15:00Z, then 14:00Z
        ("standup_20260305T150000Z", "2026-03-05T10:00:00-05:00", "2026-03-05T10:30:00-05:00", "confirmed", False),
        ("standup_20260312T140000Z", "2026-03-12T10:00:00-04:00", "2026-03-12T10:30:00-04:00", "confirmed", False),
    ]),
    "x_wr_timezone.ics": ("Asia/Tokyo", [
        ("utc-event", "2026-03-05T10:00:00+09:00", "2026-03-05T11:00:00+09:00", "confirmed", False),
        ("floating-event", "2026-03-06T10:00:00+09:00", "2026-03-06T11:00:00+09:00", "confirmed", False),
    ]),
    "windows_tzid.ics": ("Europe/Berlin", [
        ("outlook", "2026-03-05T10:00:00+01:00", "2026-03-05T11:00:00+01:00", "confirmed", False),
    ]),
    "broken_event.ics": ("UTC", [
        ("good-1", "2026-03-03T09:00:00+00:00", "2026-03-03T10:00:00+00:00", "confirmed", False),
        ("good-2", "2026-03-04T09:00:00+00:00", "2026-03-04T10:00:00+00:00", "confirmed", False),
    ]),
    "empty.ics": ("Europe/Paris", []),
}


def _source(tmp_path: Path, source: str | Path, now: datetime = NOW) -> IcsSource:
    return IcsSource(local_config(tmp_path, source), clock=lambda: now)


def _row(e: CalendarEvent) -> Row:
    return (e.id, e.start.isoformat(), e.end.isoformat(), e.status, e.all_day)


def test_every_golden_file_has_an_expectation() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.ics")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden(name: str, tmp_path: Path) -> None:
    zone, rows = EXPECTED[name]
    src = _source(tmp_path, GOLDEN / name)
    result = src.sync("ics", None, TIME_MIN)
    assert result.full and result.next_token
    assert [_row(e) for e in result.events] == rows
    assert src.timezone("ics") == zone
    assert all(e.calendar_id == "ics" and e.start.tzinfo is not None for e in result.events)
    assert len({e.etag for e in result.events}) == len(result.events)


def test_recurring_instances_name_their_series(tmp_path: Path) -> None:
    events = _source(tmp_path, GOLDEN / "recurring_exdate_override.ics").sync("ics", None, TIME_MIN).events
    assert {e.recurring_event_id for e in events} == {"weekly"}
    moved = events[1]
    assert moved.title == "Weekly panel interview (moved to Tuesday)"
    single = _source(tmp_path, GOLDEN / "attendees.ics").sync("ics", None, TIME_MIN).events
    assert all(e.recurring_event_id is None for e in single)


def test_attendees_organizer_rooms_and_me(tmp_path: Path) -> None:
    panel, declined = _source(tmp_path, GOLDEN / "attendees.ics").sync("ics", None, TIME_MIN).events
    people = {a.email: a for a in panel.attendees}
    assert "invalid:nomail" not in people and len(people) == 7
    assert people["sam@example.com"].name == "Sam Park (Engineering Manager)"
    assert people["sam@example.com"].response == "tentative"
    assert people["lee@example.com"].response == "declined"
    assert people["blue-room@example.com"].resource and people["projector@example.com"].resource
    assert not people["sam@example.com"].resource
    assert people["noname@example.org"].response == "needsAction" and people["noname@example.org"].name == ""
    assert people["priya@example.com"].organizer and not people["sam@example.com"].organizer
    me = panel.me()
    assert me is not None and me.email == "Me@Example.COM" and me.response == "accepted"
    assert panel.organizer is not None
    assert (panel.organizer.email, panel.organizer.name, panel.organizer.organizer) == (
        "priya@example.com", "Priya Shah", True)
    declined_me = declined.me()
    assert declined_me is not None and declined_me.response == "declined"


def test_broken_events_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="followupd.backends.ics"):
        _source(tmp_path, GOLDEN / "broken_event.ics").sync("ics", None, TIME_MIN)
    text = caplog.text
    assert "'no-start'" in text and "no readable start" in text
    assert "'bad-rule'" in text


def test_unchanged_source_returns_nothing_without_parsing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "dst.ics").read_bytes())
    src = _source(tmp_path, path)
    first = src.sync("ics", None, TIME_MIN)

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed although nothing changed")

    monkeypatch.setattr(icalendar.Calendar, "from_ical", no_parse)
    fresh = _source(tmp_path, path)  # a new process: the token comes from state
    again = fresh.sync("ics", first.next_token, TIME_MIN)
    assert again.events == () and not again.full and again.next_token == first.next_token


def test_a_full_listing_of_an_unchanged_file_comes_from_the_cache(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """explain and preview list the source in full each time: a second process reads the listing the
    first one kept, without parsing; a changed file, or another window, is parsed again."""
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "dst.ics").read_bytes())
    first = _source(tmp_path, path).sync("ics", None, TIME_MIN)
    zone = _source(tmp_path, path).timezone("ics")
    parsed: list[int] = []
    real = icalendar.Calendar.from_ical
    monkeypatch.setattr(icalendar.Calendar, "from_ical",
                        lambda *a, **k: parsed.append(1) or real(*a, **k))  # type: ignore[func-returns-value]
    fresh = _source(tmp_path, path)
    again = fresh.sync("ics", None, TIME_MIN)
    assert again.full and again.events == first.events and fresh.timezone("ics") == zone and not parsed
    _source(tmp_path, path).sync("ics", None, TIME_MIN - timedelta(days=1))  # another window: parsed
    assert parsed
    path.write_bytes((GOLDEN / "dst.ics").read_bytes().replace(b"COUNT=2", b"COUNT=3"))
    assert len(_source(tmp_path, path).sync("ics", None, TIME_MIN).events) == 3


def test_changed_source_or_new_day_gives_a_full_listing(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "dst.ics").read_bytes())
    first = _source(tmp_path, path).sync("ics", None, TIME_MIN)
    path.write_bytes((GOLDEN / "dst.ics").read_bytes().replace(b"COUNT=2", b"COUNT=3"))
    changed = _source(tmp_path, path).sync("ics", first.next_token, TIME_MIN)
    assert changed.full and len(changed.events) == 3 and changed.next_token != first.next_token
    # the window moves once a day, so an unchanged file is listed again the next day
    tomorrow = _source(tmp_path, path, now=NOW + timedelta(days=1)).sync("ics", changed.next_token, TIME_MIN)
    assert tomorrow.full and len(tomorrow.events) == 3


def test_dtstamp_renewal_is_not_a_change() -> None:
    data = (GOLDEN / "dst.ics").read_bytes()
    renewed = data.replace(b"DTSTAMP:20260101T000000Z", b"DTSTAMP:20261122T101010Z")
    assert renewed != data and content_digest(renewed) == content_digest(data)
    assert content_digest(data.replace(b"COUNT=2", b"COUNT=3")) != content_digest(data)


def test_window_ends_at_the_horizon(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "dst.ics").read_bytes().replace(b"COUNT=2", b"COUNT=52"))
    events = _source(tmp_path, path).sync("ics", None, TIME_MIN).events
    assert events and all(e.start < NOW + HORIZON for e in events)
    assert events[-1].start > NOW + HORIZON - timedelta(days=7)


def test_etag_is_stable_and_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "attendees.ics").read_bytes())
    a = _source(tmp_path, path).sync("ics", None, TIME_MIN).events
    b = _source(tmp_path, path).sync("ics", None, TIME_MIN).events
    assert [e.etag for e in a] == [e.etag for e in b]
    path.write_bytes(path.read_bytes().replace(b"Staff Engineer", b"Principal Engineer"))
    c = _source(tmp_path, path).sync("ics", None, TIME_MIN).events
    assert c[0].etag != a[0].etag and c[1].etag == a[1].etag


def test_followupd_properties_become_private(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((GOLDEN / "no_dtend.ics").read_bytes().replace(
        b"UID:instant\n", b"UID:instant\nX-FOLLOWUPD-INTERVIEW:iv1\nX-FOLLOWUPD-STEP:prepare\n"))
    instant = _source(tmp_path, path).sync("ics", None, TIME_MIN).events[0]
    assert instant.written_by_followupd and dict(instant.private) == {
        "followupd_interview": "iv1", "followupd_step": "prepare"}


def test_timezone_then_sync_read_the_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from followupd.backends import ics_fetch

    reads: list[str] = []
    real = ics_fetch.read_source

    def counting(source: str) -> bytes:
        reads.append(source)
        return real(source)

    monkeypatch.setattr("followupd.backends.ics_source.read_source", counting)
    src = _source(tmp_path, GOLDEN / "dst.ics")
    assert src.timezone("ics") == "America/New_York"
    src.sync("ics", None, TIME_MIN)
    assert src.timezone("ics") == "America/New_York"
    assert len(reads) == 1
    src.sync("ics", None, TIME_MIN)  # the next pass reads again
    assert len(reads) == 2


def test_timezone_falls_back_to_the_system_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n")
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    assert _source(tmp_path, path).timezone("ics") == "Pacific/Auckland"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"this is not a calendar\n", "not a readable iCalendar file"),
    (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Sam\r\nEND:VCARD\r\n", "no VCALENDAR"),
])
def test_unreadable_files_are_config_errors(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=reason) as info:
        _source(tmp_path, path).sync("ics", None, TIME_MIN)
    assert str(path) in str(info.value) and "[ics] source" in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        _source(tmp_path, tmp_path / "missing.ics").sync("ics", None, TIME_MIN)


# --- the source as a URL ----------------------------------------------------------

SECRET = "/calendar/ical/jordan%40example.com/private-0123456789abcdef/basic.ics"


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    yield from serve_calendars()


def test_url_source_and_unchanged_bytes(tmp_path: Path, server: CalendarServer) -> None:
    server.routes[SECRET] = (200, (GOLDEN / "dst.ics").read_bytes())
    src = _source(tmp_path, server.base + SECRET)
    first = src.sync("ics", None, TIME_MIN)
    assert [e.id for e in first.events] == ["standup_20260305T150000Z", "standup_20260312T140000Z"]
    again = src.sync("ics", first.next_token, TIME_MIN)
    assert again.events == () and not again.full and again.next_token == first.next_token
    assert server.requests == [SECRET, SECRET]  # one request per pass


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_url_gone_is_a_config_error_without_the_secret(tmp_path: Path, server: CalendarServer,
                                                       status: int) -> None:
    server.routes[SECRET + "?token=hunter2"] = (status, b"no")
    with pytest.raises(ConfigError) as info:
        _source(tmp_path, server.base + SECRET + "?token=hunter2").sync("ics", None, TIME_MIN)
    message = str(info.value)
    assert str(status) in message and "127.0.0.1" in message and "[ics] source" in message
    for secret in ("private-0123456789abcdef", "hunter2", "jordan", "basic.ics"):
        assert secret not in message


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_url_server_errors_are_transient(tmp_path: Path, server: CalendarServer, status: int) -> None:
    server.routes[SECRET] = (status, b"try later")
    with pytest.raises(TransientError) as info:
        _source(tmp_path, server.base + SECRET).sync("ics", None, TIME_MIN)
    assert "private-0123456789abcdef" not in str(info.value)


def test_url_unreachable_is_transient(tmp_path: Path, server: CalendarServer) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError) as info:
        _source(tmp_path, f"http://127.0.0.1:{port}{SECRET}").sync("ics", None, TIME_MIN)
    assert "private-0123456789abcdef" not in str(info.value)


def test_url_serving_garbage_is_a_config_error(tmp_path: Path, server: CalendarServer) -> None:
    server.routes[SECRET] = (200, b"<html>Sign in</html>")
    with pytest.raises(ConfigError, match="not a readable iCalendar file") as info:
        _source(tmp_path, server.base + SECRET).sync("ics", None, TIME_MIN)
    assert "private-0123456789abcdef" not in str(info.value)


# --- robustness: the calendars icalendar's own test suite ships ------------------------

ODD_FILES = sorted(Path(icalendar.__file__).parent.rglob("*.ics"))


@pytest.mark.parametrize("path", ODD_FILES, ids=lambda p: str(p.relative_to(Path(icalendar.__file__).parent)))
def test_odd_calendars_give_events_or_config_error(path: Path, tmp_path: Path) -> None:
    src = _source(tmp_path, path)
    try:
        result = src.sync("ics", None, datetime(1990, 1, 1, tzinfo=timezone.utc))
    except ConfigError:
        return
    assert isinstance(result.events, tuple) and result.full
    assert all(isinstance(e, CalendarEvent) and e.start.tzinfo is not None and e.end >= e.start
               for e in result.events)
    assert isinstance(src.timezone("ics"), str)


def test_the_robustness_corpus_is_not_empty() -> None:
    assert len(ODD_FILES) > 20
