"""The CalDAV source and sink against a real Radicale on 127.0.0.1 (issue #13): the sink contract,
sync-collection with its token, deletions, recurrences, calendars by name, conditional writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import caldav
import icalendar
import pytest

from followupd.backends.caldav_calendar import CalDavCalendar
from followupd.core.model import EventStatus, PROP_INTERVIEW
from followupd.core.settings import CalDavConfig, CalendarConfig, Config, MeConfig
from followupd.errors import AuthError, ConfigError
from reconcile_helpers import reminder
from servers import Account, Radicale
from test_contract_sinks import (  # noqa: F401 - collected here with the fixture below
    EventSinkCase,
    test_event_create_is_idempotent,
    test_event_create_never_adopts_what_the_person_edited,
    test_event_delete_then_gone,
    test_event_update_and_delete_are_conditional,
)

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=14)


def caldav_config(server: Radicale, account: Account, *, watch: tuple[str, ...] = ("Work",),
                  write_to: str = "Work") -> Config:
    return Config(me=MeConfig(name="Jordan Rivera", email="jordan@example.org"),
                  calendar=CalendarConfig(backend="caldav", watch=watch, write_to=write_to),
                  caldav=CalDavConfig(url=server.url, username=account.username, cafile=server.cert))


class Person:
    """The person's own calendar app, talking to the same server with the caldav library."""

    def __init__(self, server: Radicale, account: Account) -> None:
        self.client = caldav.DAVClient(server.url, username=account.username, password=account.password,
                                       ssl_verify_cert=str(server.cert))
        self.principal = self.client.principal()
        self.calendars: dict[str, Any] = {}

    def calendar(self, name: str) -> Any:
        """The calendar of that name, made if there is none yet (a second Person finds the first's)."""
        if name not in self.calendars:
            existing = [c for c in self.principal.calendars() if c.get_display_name() == name]
            self.calendars[name] = existing[0] if existing else self.principal.make_calendar(name=name)
        return self.calendars[name]

    def invite(self, name: str, uid: str, start: datetime, title: str = "Interview: Acme", rrule: str = "") -> Any:
        extra = f"RRULE:{rrule}\n" if rrule else ""
        ics = (f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\nUID:{uid}\n"
               f"DTSTAMP:{NOW:%Y%m%dT%H%M%SZ}\nDTSTART:{start:%Y%m%dT%H%M%SZ}\n"
               f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\nSUMMARY:{title}\n{extra}"
               "ORGANIZER;CN=Sam Park:mailto:sam@acme.com\nATTENDEE;CN=Sam Park:mailto:sam@acme.com\n"
               "ATTENDEE;CN=Jordan Rivera;PARTSTAT=ACCEPTED:mailto:jordan@example.org\nEND:VEVENT\nEND:VCALENDAR\n")
        return self.calendar(name).save_event(ics)

    def _object(self, name: str, uid: str) -> Any:
        return self.calendar(name).event_by_uid(uid)

    def edit(self, uid: str, name: str = "Work") -> None:
        obj = self._object(name, uid)
        cal = icalendar.Calendar.from_ical(obj.data)
        for comp in cal.walk("VEVENT"):
            comp["SUMMARY"] = icalendar.vText("Edited by the person")
        obj.data = cal.to_ical().decode()
        obj.save()

    def delete(self, uid: str, name: str = "Work") -> None:
        self._object(name, uid).delete()


@pytest.fixture
def account(radicale: Radicale) -> Account:
    return radicale.new_account()


@pytest.fixture
def person(radicale: Radicale, account: Account) -> Person:
    p = Person(radicale, account)
    p.calendar("Work")
    return p


@pytest.fixture
def cal(radicale: Radicale, account: Account, person: Person) -> Iterator[CalDavCalendar]:
    sink = CalDavCalendar(caldav_config(radicale, account), lambda: account.password)
    yield sink
    sink.close()


@pytest.fixture
def events(cal: CalDavCalendar, person: Person) -> EventSinkCase:
    return EventSinkCase(cal, person.edit, person.delete)


def test_sync_lists_then_reports_only_changes_and_deletions(cal: CalDavCalendar, person: Person) -> None:
    person.invite("Work", "acme-1", NOW + timedelta(days=1))
    person.invite("Work", "globex-1", NOW + timedelta(days=2), title="Phone screen with Globex")
    first = cal.sync("Work", None, SINCE)
    assert first.full and sorted(e.id for e in first.events) == ["acme-1", "globex-1"]
    acme = next(e for e in first.events if e.id == "acme-1")
    assert acme.organizer is not None and acme.organizer.email == "sam@acme.com"
    idle = cal.sync("Work", first.next_token, SINCE)
    assert not idle.full and idle.events == ()
    person.delete("globex-1")
    person.edit("acme-1")
    changes = cal.sync("Work", idle.next_token, SINCE)
    assert not changes.full
    assert {(e.id, e.status, e.title) for e in changes.events} == {
        ("globex-1", EventStatus.CANCELLED, ""), ("acme-1", EventStatus.CONFIRMED, "Edited by the person")}


def test_a_recurring_event_is_expanded_and_its_deletion_cancels_every_instance(
        cal: CalDavCalendar, person: Person) -> None:
    person.invite("Work", "weekly-1", NOW + timedelta(days=1), title="Interview loop", rrule="FREQ=WEEKLY;COUNT=3")
    first = cal.sync("Work", None, SINCE)
    instances = [e for e in first.events if e.recurring_event_id == "weekly-1"]
    assert len(instances) == 3 and len({e.id for e in instances}) == 3
    person.delete("weekly-1")
    gone = cal.sync("Work", first.next_token, SINCE)
    assert sorted(e.id for e in gone.events) == sorted(e.id for e in instances)
    assert all(e.status == EventStatus.CANCELLED for e in gone.events)


def test_a_refused_sync_token_means_one_full_sync(cal: CalDavCalendar, person: Person) -> None:
    person.invite("Work", "acme-1", NOW + timedelta(days=1))
    first = cal.sync("Work", None, SINCE)
    import json

    stale = json.loads(first.next_token or "{}")
    stale["server"] = "http://radicale.org/ns/sync/deadbeef"
    again = cal.sync("Work", json.dumps(stale), SINCE)
    assert again.full and [e.id for e in again.events] == ["acme-1"]


def test_followupd_reminders_carry_their_properties_and_are_seen_as_its_own(
        cal: CalDavCalendar, person: Person) -> None:
    f = reminder(at=NOW + timedelta(days=1))
    w = cal.create(f)
    listed = cal.sync("Work", None, SINCE)
    (ours,) = [e for e in listed.events if e.written_by_followupd]
    assert ours.id == w.backend_id and ours.private[PROP_INTERVIEW] == "iv1"
    raw = person._object("Work", w.backend_id).data
    assert "X-FOLLOWUPD-INTERVIEW:iv1" in raw and "X-FOLLOWUPD-STEP:prepare" in raw


def test_calendars_are_found_by_name_and_an_unknown_one_is_named_with_the_choices(
        radicale: Radicale, account: Account, person: Person) -> None:
    person.calendar("Personal")
    good = CalDavCalendar(caldav_config(radicale, account, watch=("personal",)), lambda: account.password)
    assert good.calendar_url("personal").startswith(radicale.url)
    bad = CalDavCalendar(caldav_config(radicale, account, watch=("Nope",)), lambda: account.password)
    with pytest.raises(ConfigError, match="'Work'"):
        bad.calendar_url("Nope")


def test_a_wrong_password_is_an_auth_error_with_the_fix(radicale: Radicale, account: Account, person: Person) -> None:
    wrong = CalDavCalendar(caldav_config(radicale, account), lambda: "not it")
    with pytest.raises(AuthError, match="followupd auth login --caldav"):
        wrong.sync("Work", None, SINCE)


def test_an_untrusted_certificate_is_a_config_error(radicale: Radicale, account: Account, person: Person,
                                                    tmp_path) -> None:
    from servers import make_certificate

    other, _ = make_certificate(tmp_path)
    cfg = caldav_config(radicale, account)
    stranger = CalDavCalendar(replace(cfg, caldav=replace(cfg.caldav, cafile=other)), lambda: account.password)
    with pytest.raises(ConfigError, match="cafile"):
        stranger.sync("Work", None, SINCE)


def test_without_sync_collection_etags_are_compared(cal: CalDavCalendar, person: Person) -> None:
    """The path for a server that lacks RFC 6578 (a token in "etags" mode takes it)."""
    person.invite("Work", "acme-1", NOW + timedelta(days=1))
    first = cal.sync("Work", '{"mode":"etags","server":null,"hrefs":{}}', SINCE)
    assert first.full and [e.id for e in first.events] == ["acme-1"]
    idle = cal.sync("Work", first.next_token, SINCE)
    assert not idle.full and idle.events == ()
    person.edit("acme-1")
    changed = cal.sync("Work", idle.next_token, SINCE)
    assert changed.full and [e.title for e in changed.events] == ["Edited by the person"]


def test_a_screened_sync_passes_over_plain_events_it_rules_out_and_builds_them_on_request(
        cal: CalDavCalendar, person: Person) -> None:
    person.invite("Work", "acme-1", NOW + timedelta(days=1))
    person.invite("Work", "dentist-1", NOW + timedelta(days=1), title="Dentist")
    person.invite("Work", "yoga-1", NOW + timedelta(days=2), title="Yoga", rrule="FREQ=DAILY;COUNT=2")
    result = cal.sync_screened("Work", None, SINCE, lambda title, _d: "interview" in title.lower())
    assert [e.id for e in result.events if e.recurring_event_id is None] == ["acme-1"]
    assert len([e for e in result.events if e.recurring_event_id == "yoga-1"]) == 2  # recurring: always built
    assert set(result.passed_over) == {"dentist-1"}
    assert result.passed_over["dentist-1"]().title == "Dentist"
    person.delete("dentist-1")
    gone = cal.sync_screened("Work", result.next_token, SINCE, lambda t, d: False)
    assert [(e.id, e.status) for e in gone.events] == [("dentist-1", EventStatus.CANCELLED)]
