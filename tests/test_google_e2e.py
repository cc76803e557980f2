"""End to end on the Google path: ``open_engine`` with credentials from the
keyring, the real google-api-python-client and google-auth refresh, against
the emulator.  A clock is injected; the emulator keeps real time for tokens."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from emulator import Emulator
from emulator.builders import NY, interview_event
from emulator.fixtures import emulator_config
from followupd.auth import google as auth
from followupd.core import ids
from followupd.core.settings import Config, MeConfig, Reference
from followupd.runtime.engine import Engine, PassReport, open_engine
from followupd.errors import AuthError, SafetyStop
from followupd.core.model import DRAFT_KEY_HEADER, PROP_INTERVIEW, PROP_STEP

START = datetime(2030, 1, 7, 10, 0, tzinfo=NY)  # a Monday
ENDED = START + timedelta(hours=1, minutes=5)  # the clock: five minutes after the interview
ME = {"email": "me@example.com", "self": True, "responseStatus": "accepted"}
PANEL = [ME, {"email": "ann@acme.example", "displayName": "Ann Smith", "responseStatus": "accepted"},
         {"email": "raj@acme.example", "displayName": "Raj Patel", "responseStatus": "needsAction"},
         {"email": "room-4@resource.calendar.google.com", "displayName": "Room 4", "resource": True,
          "responseStatus": "accepted"},
         {"email": "rita@acme.example", "displayName": "Rita Recruiter", "organizer": True,
          "responseStatus": "accepted"}]


class Run:
    """The engine for one config, reopened like a restarted daemon."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.now = ENDED
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.cfg, clock=lambda: self.now)
        return self._engine

    def once(self) -> PassReport:
        return self.engine.run_pass()

    def restart(self) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine = None


@pytest.fixture
def run(google_emulator: Emulator) -> Iterator[Run]:
    emu = google_emulator
    base = Config(me=MeConfig(name="Jordan Rivera", email=emu.account),
                  references=(Reference(name="Dana Lee", email="dana@example.org"),))
    cfg = emulator_config(emu, base)
    auth.store_authorized_user(cfg, json.loads(emu.credentials().to_json()))
    r = Run(cfg)
    yield r
    r.restart()


def _standard_calendar(emu: Emulator) -> None:
    interview_event(emu, "acme1", START, title="Interview: Acme – Backend Engineer", attendees=PANEL,
                    organizer={"email": "rita@acme.example", "displayName": "Rita Recruiter"})
    interview_event(emu, "globex1", START + timedelta(days=3), title="Phone screen with Globex",
                    attendees=[ME, {"email": "hm@globex.example", "displayName": "Hank"}])
    interview_event(emu, "initech1", START - timedelta(hours=2), title="Interview: Initech",
                    attendees=[dict(ME, responseStatus="declined"), {"email": "bob@initech.example"}])
    interview_event(emu, "stale1", START - timedelta(days=40), title="Interview: Long ago",
                    attendees=[ME, {"email": "old@stale.example"}])
    interview_event(emu, "dentist1", START + timedelta(days=1), title="Dentist")


def _ours(emu: Emulator, include_cancelled: bool = False) -> list[dict[str, Any]]:
    return [e for e in emu.events(include_cancelled=include_cancelled)
            if PROP_INTERVIEW in e.get("extendedProperties", {}).get("private", {})]


def _draft_recipients(emu: Emulator) -> Counter[str]:
    return Counter(str(msg["To"].addresses[0].addr_spec) for _, _, msg in emu.drafts())


def test_the_standard_calendar_gets_its_reminders_and_drafts_once(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _standard_calendar(emu)
    report = run.once()
    assert report.actions and report.interviews == 2

    reminders = _ours(emu)
    by_interview = Counter(e["extendedProperties"]["private"][PROP_INTERVIEW] for e in reminders)
    assert set(by_interview) == {"acme1", "globex1"}
    for event in reminders:
        private = event["extendedProperties"]["private"]
        assert event["id"] == ids.calendar_event_id(emu.account, "primary", private[PROP_INTERVIEW],
                                                    private[PROP_STEP])
        assert event["reminders"]["useDefault"] is False
        assert event["reminders"]["overrides"][0]["method"] == "popup"
    assert "prepare" not in {e["extendedProperties"]["private"][PROP_STEP] for e in reminders
                             if e["extendedProperties"]["private"][PROP_INTERVIEW] == "acme1"}  # long past

    # thank-you: one per interviewer (not me, not the room); references: one to Dana; none for Globex yet
    assert _draft_recipients(emu) == Counter({"ann@acme.example": 1, "raj@acme.example": 1,
                                              "rita@acme.example": 1, "dana@example.org": 1})
    keys = {msg[DRAFT_KEY_HEADER] for _, _, msg in emu.drafts()}
    assert ids.draft_key("acme1", "thank-you", "ann@acme.example") in keys

    # a second pass writes nothing and costs one request for the one calendar
    emu.clear_log()
    again = run.once()
    assert again.actions == []
    assert [(r.method, r.path) for r in emu.log() if r.api != "oauth"] == [
        ("GET", "/calendar/v3/calendars/primary/events")]
    assert emu.violations == []


def test_reschedule_moves_untouched_reminders_and_cancellation_withdraws_them(
        google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    run.now = START - timedelta(days=2)
    interview_event(emu, "globex1", START, title="Phone screen with Globex",
                    attendees=[ME, {"email": "hm@globex.example", "displayName": "Hank"}])
    run.once()
    before = {e["id"]: e["start"]["dateTime"] for e in _ours(emu)}
    assert before

    later = START + timedelta(days=1)
    emu.user_edit_event("primary", "globex1", start={"dateTime": later.isoformat(), "timeZone": "America/New_York"},
                        end={"dateTime": (later + timedelta(hours=1)).isoformat(), "timeZone": "America/New_York"})
    run.once()
    after = {e["id"]: e["start"]["dateTime"] for e in _ours(emu)}
    assert set(after) == set(before) and all(after[i] != before[i] for i in before)

    emu.user_delete_event("primary", "globex1")
    run.once()
    assert _ours(emu) == [] and emu.drafts() == []


def test_the_person_edits_and_deletes_win(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    run.now = START - timedelta(days=2)
    interview_event(emu, "globex1", START, title="Phone screen with Globex",
                    attendees=[ME, {"email": "hm@globex.example", "displayName": "Hank"}])
    run.once()
    edited, deleted, *_ = sorted(_ours(emu), key=lambda e: e["id"])
    emu.user_edit_event("primary", edited["id"], summary="My own words")
    emu.user_delete_event("primary", deleted["id"])
    run.once()
    # followupd stopped; then the interview moves: the edited one stays, the deleted one stays deleted
    run.restart()
    later = START + timedelta(days=1)
    emu.user_edit_event("primary", "globex1", start={"dateTime": later.isoformat()},
                        end={"dateTime": (later + timedelta(hours=1)).isoformat()})
    run.once()
    run.once()
    assert emu.event("primary", edited["id"])["summary"] == "My own words"  # type: ignore[index]
    assert emu.event("primary", edited["id"])["start"] == edited["start"]  # type: ignore[index]
    assert emu.event("primary", deleted["id"])["status"] == "cancelled"  # type: ignore[index]


def test_a_follow_up_deleted_while_followupd_was_stopped_is_never_recreated(
        google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _standard_calendar(emu)
    run.once()
    run.restart()
    victim = _ours(emu)[0]
    [(draft_id, _, _), *_] = emu.drafts()
    emu.user_delete_event("primary", victim["id"])
    emu.user_delete_draft(draft_id)
    drafts_left = len(emu.drafts())
    run.once()
    run.once()
    assert emu.event("primary", victim["id"])["status"] == "cancelled"  # type: ignore[index]
    assert len(emu.drafts()) == drafts_left


def test_a_revoked_grant_stops_the_pass_with_an_auth_error(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _standard_calendar(emu)
    emu.revoke_grant()
    with pytest.raises(AuthError, match="auth login"):
        run.once()
    assert _ours(emu) == [] and emu.drafts() == []


def test_an_empty_listing_where_interviews_were_known_is_a_safety_stop(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _standard_calendar(emu)
    run.once()
    written = (len(_ours(emu)), len(emu.drafts()))
    for event in emu.events():  # a broken sync, or the wrong account: the calendar looks empty
        emu.user_delete_event("primary", event["id"])
    emu.invalidate_sync_tokens()  # so the next listing is a full one, and empty
    with pytest.raises(SafetyStop):
        run.once()
    assert len(emu.drafts()) == written[1]  # nothing withdrawn


def test_faults_during_a_pass_leave_exactly_one_of_everything(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _standard_calendar(emu)
    emu.drop_after_commit("POST", r"/events$")  # the first reminder lands, its answer is lost
    emu.drop_after_commit("POST", r"/drafts$", skip=1)  # the second draft lands, its answer is lost
    emu.fail("GET", r"/events$", 503)
    emu.expire_access_tokens()
    for _ in range(4):
        try:
            run.once()
        except Exception as exc:  # noqa: BLE001 - a transient failure ends the pass; the next one resumes
            assert type(exc).__name__ == "TransientError", exc
    ids_written = Counter(e["id"] for e in _ours(emu, include_cancelled=True))
    assert ids_written and max(ids_written.values()) == 1
    assert _draft_recipients(emu) == Counter({"ann@acme.example": 1, "raj@acme.example": 1,
                                              "rita@acme.example": 1, "dana@example.org": 1})
    assert run.once().actions == [] and emu.violations == [] and not emu.faults.pending


def test_a_config_with_an_unreachable_endpoint_fails_transiently(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    run.cfg = replace(run.cfg, google=replace(run.cfg.google, api_endpoint="http://127.0.0.1:9"))
    from followupd.errors import TransientError

    with pytest.raises(TransientError):
        run.once()
    assert emu.events() == []
