"""GoogleCalendar against the emulator, through the real client: sync and the sink contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emulator import Emulator
from emulator.builders import NY, T0, backends, entry, interview_event, reminder
from followupd.core import ids
from followupd.errors import ConfigError, UserDeleted, UserEdited
from followupd.core.model import PROP_INTERVIEW, PROP_STEP

SINCE = datetime(2029, 12, 1, tzinfo=timezone.utc)


def test_first_sync_maps_events_then_incremental_sync_returns_only_changes(google_emulator: Emulator) -> None:
    emu = google_emulator
    interview_event(emu, "acme1", T0, attendees=[
        {"email": "Ann@Acme.example", "displayName": "Ann Smith", "responseStatus": "accepted"},
        {"email": "room-4@resource.calendar.google.com", "resource": True},
        {"email": "me@example.com", "self": True, "responseStatus": "accepted"}],
        organizer={"email": "recruiter@acme.example", "displayName": "Rita"},
        extendedProperties={"private": {"x": "y"}}, location="HQ")
    emu.seed_event(id="allday1", summary="Vacation", start={"date": "2030-01-09"}, end={"date": "2030-01-10"})
    emu.seed_event(id="old1", summary="Interview long ago", start={"dateTime": "2029-01-01T10:00:00Z"},
                   end={"dateTime": "2029-01-01T11:00:00Z"})
    cal, _, _ = backends(emu)

    first = cal.sync("primary", None, SINCE)
    assert first.full and first.next_token
    by_id = {e.id: e for e in first.events}
    assert set(by_id) == {"acme1", "allday1"}  # timeMin drops the old one
    acme = by_id["acme1"]
    assert acme.start == T0 and acme.end == T0 + timedelta(hours=1) and acme.title.startswith("Interview")
    assert [(a.email, a.name, a.resource, a.is_self) for a in acme.attendees] == [
        ("ann@acme.example", "Ann Smith", False, False),
        ("room-4@resource.calendar.google.com", "", True, False), ("me@example.com", "", False, True)]
    assert acme.organizer is not None and acme.organizer.organizer and acme.organizer.name == "Rita"
    assert acme.private == {"x": "y"} and acme.location == "HQ" and acme.etag
    vacation = by_id["allday1"]
    assert vacation.all_day and vacation.start == datetime(2030, 1, 9, tzinfo=NY)

    emu.user_edit_event("primary", "acme1", summary="Interview: Acme – Staff Engineer")
    emu.user_delete_event("primary", "allday1")
    second = cal.sync("primary", first.next_token, SINCE)
    assert not second.full
    assert [(e.id, e.status) for e in second.events] == [("acme1", "confirmed"), ("allday1", "cancelled")]
    assert cal.sync("primary", second.next_token, SINCE).events == ()


def test_paging_uses_the_largest_page_and_ends_with_a_sync_token(google_emulator: Emulator) -> None:
    emu = google_emulator
    for i in range(2600):
        emu.calendar.store(emu.calendar.resolve("primary"), {
            "id": f"bulk{i:05d}", "summary": "e", "start": {"dateTime": "2030-02-01T10:00:00Z"},
            "end": {"dateTime": "2030-02-01T11:00:00Z"}})
    cal, _, _ = backends(emu)
    emu.clear_log()
    result = cal.sync("primary", None, SINCE)
    lists = emu.log("calendar")
    assert len(result.events) == 2600 and len(lists) == 2
    assert all("maxResults=2500" in r.query and "singleEvents=true" in r.query for r in lists)


def test_stale_sync_token_leads_to_a_full_resync(google_emulator: Emulator) -> None:
    emu = google_emulator
    interview_event(emu, "acme1", T0)
    cal, _, _ = backends(emu)
    token = cal.sync("primary", None, SINCE).next_token
    emu.invalidate_sync_tokens()
    again = cal.sync("primary", token, SINCE)
    assert again.full and [e.id for e in again.events] == ["acme1"] and again.next_token != token


def test_unknown_calendar_is_a_config_error_naming_the_key(google_emulator: Emulator) -> None:
    cal, _, _ = backends(google_emulator)
    with pytest.raises(ConfigError, match=r"\[calendar\] watch"):
        cal.sync("nobody@example.com", None, SINCE)
    with pytest.raises(ConfigError, match=r"\[calendar\] watch"):
        cal.timezone("nobody@example.com")
    assert cal.timezone("primary") == "America/New_York"


def test_create_writes_a_tagged_transparent_reminder_with_a_popup(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, cfg = backends(emu)
    f = reminder(minutes=5)
    written = cal.create(f)
    assert written.backend_id == ids.calendar_event_id(cfg.google.account, "primary", "interview1", "thank-you")
    stored = emu.event("primary", written.backend_id)
    assert stored is not None and stored["etag"] == written.version
    assert stored["extendedProperties"]["private"] == {PROP_INTERVIEW: "interview1", PROP_STEP: "thank-you"}
    assert stored["reminders"] == {"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]}
    assert stored["transparency"] == "transparent" and "followupd" in stored["description"]
    assert stored["start"] == {"dateTime": T0.isoformat(), "timeZone": "America/New_York"}
    assert "sendUpdates=none" in emu.log("calendar")[-1].query


def test_create_again_adopts_and_a_deleted_one_is_user_deleted(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu)
    first = cal.create(reminder())
    assert cal.create(reminder()) == first
    assert len(emu.events()) == 1
    emu.user_delete_event("primary", first.backend_id)
    with pytest.raises(UserDeleted):
        cal.create(reminder())
    assert emu.event("primary", first.backend_id)["status"] == "cancelled"  # type: ignore[index]


def test_update_moves_an_untouched_reminder_and_leaves_an_edited_one(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu)
    f = reminder()
    written = cal.create(f)
    moved = reminder(start=T0 + timedelta(days=1))
    again = cal.update(moved, entry(f, written))
    assert again.version != written.version
    assert emu.event("primary", written.backend_id)["start"]["dateTime"] == moved.at.isoformat()  # type: ignore[index]

    emu.user_edit_event("primary", written.backend_id, summary="My own words")
    with pytest.raises(UserEdited):
        cal.update(f, entry(f, again))
    with pytest.raises(UserEdited):
        cal.delete(entry(f, again))
    assert emu.event("primary", written.backend_id)["summary"] == "My own words"  # type: ignore[index]


def test_delete_withdraws_and_a_second_delete_reports_user_deleted(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu)
    f = reminder()
    written = cal.create(f)
    cal.delete(entry(f, written))
    assert emu.events() == []
    with pytest.raises(UserDeleted):
        cal.delete(entry(f, written))
    with pytest.raises(UserDeleted):
        cal.update(f, entry(f, written))
