"""End to end on CalDAV + IMAP: the engine, real Radicale and real Dovecot (issue #13).

What the Google path has works here too: reminders and drafts once each, an idle pass that makes
no IMAP connection, the person's edits and deletions respected, reschedules and cancellations,
failure isolation; and the backends mix (ics + imap, caldav + maildir).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from followupd.auth import passwords
from followupd.auth.passwords import Service
from followupd.core.model import Status
from followupd.core.settings import (CalDavConfig, CalendarConfig, Config, ImapConfig, MailConfig, MeConfig)
from followupd.runtime.engine import Engine, open_engine
from servers import Account, Dovecot, Radicale
from test_caldav_calendar import NOW, Person as CalendarPerson
from test_imap_drafts import Person as MailPerson


def config(radicale: Radicale, cal: Account, dovecot: Dovecot, mail: Account) -> Config:
    return Config(me=MeConfig(name="Jordan Rivera", email="jordan@example.org"),
                  calendar=CalendarConfig(backend="caldav", watch=("Work",), write_to="Work"),
                  mail=MailConfig(backend="imap"),
                  caldav=CalDavConfig(url=radicale.url, username=cal.username, cafile=radicale.cert),
                  imap=ImapConfig(host="127.0.0.1", port=dovecot.tls_port, username=mail.username,
                                  cafile=dovecot.cert))


class World:
    def __init__(self, radicale: Radicale, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.cal_account, self.mail_account = radicale.new_account(), dovecot.new_account()
        self.cfg = config(radicale, self.cal_account, dovecot, self.mail_account)
        passwords.store(self.cfg, Service.CALDAV, self.cal_account.password)
        passwords.store(self.cfg, Service.IMAP, self.mail_account.password)
        self.calendar = CalendarPerson(radicale, self.cal_account)
        self.calendar.calendar("Work")
        self.now = NOW
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.cfg, clock=lambda: self.now)
        return self._engine

    def restart(self) -> None:
        if self._engine is not None:
            self._engine.close()
            for sink in (self._engine.backends.drafts, self._engine.backends.events):
                getattr(sink, "close", lambda: None)()
        self._engine = None

    def mail(self) -> MailPerson:
        return MailPerson(self.dovecot, self.mail_account)

    def logins(self) -> int:
        time.sleep(0.2)  # the log line follows the login
        return self.dovecot.log.read_text().count(f"Login: user=<{self.mail_account.username}>")

    def reminders(self) -> list[object]:
        return [e for e in self.calendar.calendar("Work").events() if "X-FOLLOWUPD-INTERVIEW" in e.data]


@pytest.fixture
def world(radicale: Radicale, dovecot: Dovecot) -> Iterator[World]:
    w = World(radicale, dovecot)
    yield w
    w.restart()


def test_reminders_and_drafts_once_the_persons_word_and_an_idle_pass_without_imap(world: World) -> None:
    world.calendar.invite("Work", "acme-1", world.now - timedelta(hours=2))  # ended: thank-you due
    world.calendar.invite("Work", "globex-1", world.now + timedelta(days=2), title="Phone screen with Globex")
    report = world.engine.run_pass()
    assert report.interviews == 2 and report.actions
    person = world.mail()
    assert person.count() == 1  # the thank-you to Sam
    reminders = world.reminders()
    assert reminders
    # an idle pass, after a restart: one REPORT per calendar and no IMAP connection at all
    world.restart()
    before = world.logins()
    assert world.engine.run_pass().actions == []
    assert world.logins() == before
    # the person edits a reminder and deletes the draft: both are theirs from now on
    ours = [e for e in world.calendar.calendar("Work").events() if "X-FOLLOWUPD-INTERVIEW" in e.data]
    uid = str(ours[0].icalendar_component["UID"])
    world.calendar.edit(uid)
    (draft_id,) = _draft_ids(person)
    person.delete(draft_id)
    world.now += timedelta(minutes=5)
    world.engine.run_pass()
    assert world.mail().count() == 0  # never re-created
    edited = [e for e in world.engine.state.ledger_for(["acme-1", "globex-1"]).values() if e.backend_id == uid]
    assert [e.status for e in edited] == [Status.EDITED]
    # both interviews are cancelled: what followupd wrote is withdrawn, what the person touched stays
    world.calendar.delete("acme-1")
    world.calendar.delete("globex-1")
    world.engine.run_pass()
    ledger = world.engine.state.ledger_for(["acme-1", "globex-1"])
    statuses = Counter(e.status for e in ledger.values())
    assert statuses[Status.EDITED] == 1 and statuses[Status.DELETED] == 1  # the draft: deleted by the person
    assert set(statuses) <= {Status.EDITED, Status.DELETED, Status.WITHDRAWN, Status.SKIPPED}
    assert [str(e.icalendar_component["UID"]) for e in world.reminders()] == [uid]
    assert "Edited by the person" in world.calendar._object("Work", uid).data


def test_a_reschedule_moves_and_a_cancellation_withdraws_the_reminders(world: World) -> None:
    start = world.now + timedelta(days=2)
    world.calendar.invite("Work", "globex-1", start, title="Phone screen with Globex")
    world.engine.run_pass()
    before = {str(e.icalendar_component["UID"]): e.icalendar_component["DTSTART"].dt for e in world.reminders()}
    obj = world.calendar._object("Work", "globex-1")
    later = start + timedelta(days=1)
    obj.icalendar_component["DTSTART"].dt = later
    obj.icalendar_component["DTEND"].dt = later + timedelta(hours=1)
    obj.save()
    world.engine.run_pass()
    after = {str(e.icalendar_component["UID"]): e.icalendar_component["DTSTART"].dt for e in world.reminders()}
    assert set(after) == set(before) and any(after[u] != before[u] for u in before)  # (business-day ones may stay)
    rows = world.engine.state.ledger_for(["globex-1"]).values()
    assert {e.status for e in rows} == {Status.WRITTEN} and not world.engine.state.failing()
    world.calendar.delete("globex-1")
    world.engine.run_pass()
    assert world.reminders() == []
    assert {e.status for e in world.engine.state.ledger_for(["globex-1"]).values()} == {Status.WITHDRAWN}


def test_a_draft_the_server_refuses_is_set_aside_and_the_rest_goes_on(world: World) -> None:
    world.calendar.invite("Work", "acme-1", world.now - timedelta(hours=2))
    real = world.engine.backends.drafts.create

    def refuse(f):  # the server refuses this one message for good (an over-quota mailbox, a filter)
        if f.interview_id == "acme-1":
            from followupd.errors import FollowupdError
            raise FollowupdError("writing the draft: the IMAP server answered NO [OVERQUOTA]")
        return real(f)

    world.engine.backends.drafts.create = refuse  # type: ignore[method-assign]
    world.calendar.invite("Work", "zulu-1", world.now - timedelta(hours=2), title="Interview: Zulu")
    report = world.engine.run_pass()
    assert any(line.startswith("could not write draft") for line in report.actions)
    assert world.mail().count() == 1  # Zulu's thank-you
    assert [e.interview_id for e in world.engine.state.failing()] == ["acme-1"]


def test_ics_with_imap_and_caldav_with_maildir_mix(world: World, tmp_path: Path) -> None:
    source = tmp_path / "in.ics"
    start = world.now - timedelta(hours=2)
    source.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:local-1\n"
        f"DTSTAMP:{world.now:%Y%m%dT%H%M%SZ}\nDTSTART:{start:%Y%m%dT%H%M%SZ}\n"
        f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\nSUMMARY:Interview: Initech\n"
        "ORGANIZER;CN=Bob:mailto:bob@initech.example\nATTENDEE;CN=Bob:mailto:bob@initech.example\n"
        "END:VEVENT\nEND:VCALENDAR\n")
    (tmp_path / "out").mkdir()
    local_imap = replace(world.cfg, calendar=CalendarConfig(backend="ics"),
                         ics=replace(world.cfg.ics, source=str(source), output=tmp_path / "out" / "r.ics"))
    open_engine(local_imap, clock=lambda: world.now).run_pass()
    assert world.mail().count() == 1
    world.calendar.invite("Work", "acme-1", world.now - timedelta(hours=2))
    dav_maildir = replace(world.cfg, mail=MailConfig(backend="maildir"),
                          maildir=replace(world.cfg.maildir, path=tmp_path / "Drafts"))
    open_engine(dav_maildir, clock=lambda: world.now).run_pass()
    assert len(list((tmp_path / "Drafts" / "cur").iterdir())) == 1 and world.reminders()


def _draft_ids(person: MailPerson) -> list[str]:
    person.imap.noop()
    typ, data = person.imap.uid("SEARCH", "ALL")
    typ, validity = person.imap.status("Drafts", "(UIDVALIDITY)")
    number = validity[0].split(b"UIDVALIDITY ")[1].rstrip(b")").decode()
    return [f"{number}:{u.decode()}" for u in data[0].split()]


def test_now_is_timezone_aware() -> None:
    assert NOW.tzinfo is timezone.utc and isinstance(NOW, datetime)
