"""IcsOutput: the reminders file followupd owns, rewritten atomically on every change."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from followupd.core import ids
from followupd.backends.ics import IcsOutput, IcsSource
from followupd.errors import ConfigError, UserDeleted, UserEdited
from followupd.core.model import FollowUp, Kind, LedgerEntry, ReminderContent, Status
from local_helpers import local_config

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 24, 9, 0, tzinfo=NY)


def reminder(step: str = "prepare", at: datetime = AT, title: str = "Prepare for Acme",
             popup: int = 10) -> FollowUp:
    content = ReminderContent(title=title, description="Ask when they expect to decide;\ncollect names.",
                              start=at, end=at + timedelta(minutes=15), popup_minutes=popup)
    return FollowUp(interview_id="acme_20261124T150000Z", step=step, kind=Kind.REMINDER, at=at,
                    write_from=at - timedelta(days=30), content=content, calendar_id="ics")


def ledger(f: FollowUp, backend_id: str, version: str) -> LedgerEntry:
    return LedgerEntry(key=f.key, interview_id=f.interview_id, step=f.step, kind=f.kind, recipient="",
                       status=Status.WRITTEN, at=f.at, backend_id=backend_id, version=version)


def parse(path: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def test_create_writes_a_valid_calendar_with_alarms(tmp_path: Path) -> None:
    out = IcsOutput(local_config(tmp_path))
    f = reminder()
    w = out.create(f)
    assert w.backend_id == ids.calendar_event_id("local", "ics", f.interview_id, f.step)
    cal = parse(out.path)
    assert str(cal["PRODID"]) and str(cal["VERSION"]) == "2.0"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == w.backend_id
    assert str(event["SUMMARY"]) == "Prepare for Acme"
    assert str(event["DESCRIPTION"]) == "Ask when they expect to decide;\ncollect names."
    assert event.decoded("DTSTART") == AT and event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTEND") == AT + timedelta(minutes=15)
    assert str(event["X-FOLLOWUPD-INTERVIEW"]) == f.interview_id and str(event["X-FOLLOWUPD-STEP"]) == "prepare"
    assert "DTSTAMP" in event
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and alarm.decoded("TRIGGER") == timedelta(minutes=-10)


def test_zero_popup_alarms_at_the_start(tmp_path: Path) -> None:
    out = IcsOutput(local_config(tmp_path))
    out.create(reminder(popup=0, at=datetime(2026, 11, 24, 14, 0, tzinfo=timezone.utc)))
    (event,) = parse(out.path).walk("VEVENT")
    assert event.walk("VALARM")[0].decoded("TRIGGER") == timedelta(0)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)


def test_a_new_file_is_private_its_folder_is_left_alone_and_no_temp_files_remain(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    cfg.ics.output.parent.chmod(0o755)
    out = IcsOutput(cfg)
    out.create(reminder())
    out.create(reminder(step="thank-you"))
    assert stat.S_IMODE(os.stat(out.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out.path.parent).st_mode) == 0o755  # SPEC §4.11: not followupd's folder
    assert os.listdir(out.path.parent) == ["followups.ics"]


def test_an_existing_file_keeps_its_mode_so_it_can_still_be_served(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    out = IcsOutput(cfg)
    out.create(reminder())
    cfg.ics.output.chmod(0o644)  # the person serves it, or a calendar app subscribes to it
    out.create(reminder(step="thank-you"))
    assert stat.S_IMODE(os.stat(cfg.ics.output).st_mode) == 0o644


@pytest.mark.parametrize("case", ["missing folder", "a folder", "parent is a file"])
def test_an_unusable_output_location_is_a_config_error_naming_the_key(tmp_path: Path, case: str) -> None:
    cfg = local_config(tmp_path)
    if case == "missing folder":
        cfg = replace(cfg, ics=replace(cfg.ics, output=tmp_path / "nowhere" / "followups.ics"))
    elif case == "a folder":
        cfg.ics.output.mkdir()
    else:
        (tmp_path / "file").write_text("x")
        cfg = replace(cfg, ics=replace(cfg.ics, output=tmp_path / "file" / "followups.ics"))
    with pytest.raises(ConfigError, match=r"\[ics\] output"):
        IcsOutput(cfg)


def test_repeated_create_adopts_after_a_crash(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    f = reminder()
    first = IcsOutput(cfg).create(f)
    again = IcsOutput(cfg).create(f)  # a new process: the ledger never heard of ``first``
    assert again == first
    assert len(parse(cfg.ics.output).walk("VEVENT")) == 1


def test_update_and_delete_round_trip(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    out = IcsOutput(cfg)
    f = reminder()
    w = out.create(f)
    e = ledger(f, w.backend_id, w.version)
    moved = reminder(at=AT + timedelta(days=1), title="Prepare for Acme (moved)")
    w2 = IcsOutput(cfg).update(moved, e)  # survives a restart between the calls
    assert w2.backend_id == w.backend_id and w2.version != w.version
    (event,) = parse(cfg.ics.output).walk("VEVENT")
    assert event.decoded("DTSTART") == AT + timedelta(days=1) and str(event["SUMMARY"]) == "Prepare for Acme (moved)"
    with pytest.raises(UserEdited):  # the ledger's version is stale
        out.update(f, e)
    out.delete(replace(e, version=w2.version))
    assert parse(cfg.ics.output).walk("VEVENT") == []
    with pytest.raises(UserDeleted):
        out.delete(replace(e, version=w2.version))
    with pytest.raises(UserDeleted):
        out.update(f, replace(e, version=w2.version))


def test_hand_edit_of_the_file_is_the_users_word(tmp_path: Path) -> None:
    out = IcsOutput(local_config(tmp_path))
    f = reminder()
    w = out.create(f)
    out.path.write_bytes(out.path.read_bytes().replace(b"SUMMARY:Prepare for Acme", b"SUMMARY:My own words"))
    e = ledger(f, w.backend_id, w.version)
    with pytest.raises(UserEdited):
        out.update(reminder(title="Prepare again"), e)
    with pytest.raises(UserEdited):
        out.delete(e)
    assert b"My own words" in out.path.read_bytes()


def test_each_change_is_on_disk_before_the_call_returns(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    out = IcsOutput(cfg)
    for step in ("prepare", "thank-you", "keep-applying"):
        out.create(reminder(step=step))
        # no flush(): what a kill -9 right now would leave behind
        assert len(parse(cfg.ics.output).walk("VEVENT")) == ["prepare", "thank-you", "keep-applying"].index(step) + 1


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = IcsOutput(local_config(tmp_path))
    out.create(reminder())
    before = out.path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        out.create(reminder(step="thank-you"))
    assert out.path.read_bytes() == before
    assert os.listdir(out.path.parent) == ["followups.ics"]


def test_the_output_reads_back_as_followupd_events(tmp_path: Path) -> None:
    """Someone who points [ics] source at the output sees reminders marked as followupd's own."""
    cfg = local_config(tmp_path)
    out = IcsOutput(cfg)
    out.create(reminder())
    source = IcsSource(replace(cfg, ics=replace(cfg.ics, source=str(cfg.ics.output))),
                       clock=lambda: datetime(2026, 11, 20, tzinfo=timezone.utc))
    (event,) = source.sync("ics", None, datetime(2026, 11, 1, tzinfo=timezone.utc)).events
    assert event.written_by_followupd and event.private["followupd_step"] == "prepare"


def test_a_corrupt_output_file_is_a_config_error(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    cfg.ics.output.write_bytes(b"\x00garbage, not a calendar")
    with pytest.raises(ConfigError, match=r"\[ics\] output"):
        IcsOutput(cfg)
