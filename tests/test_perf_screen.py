"""The first-sync screen (SPEC §6): a screening source builds only the events
that may be interviews, and the engine decides exactly as it does without it.

* ``detect.may_be_interview`` is a necessary condition of ``classify``;
* ``GoogleCalendar.sync_screened`` passes over the rest, and builds each of them
  on demand exactly as ``sync`` does;
* over random histories, an engine fed by a screening source makes the same
  actions, records and ledger as one fed the full events;
* start-up objects are frozen out of the collector's sight once per process.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emulator import Emulator
from emulator.builders import T0, backends, interview_event
from engine_helpers import CFG, World, interview
from followupd.core import detect
from followupd.testing.memory import MemoryCalendar
from followupd.core.settings import DetectConfig
from followupd.core.model import PROP_INTERVIEW, PROP_STEP, Attendee, CalendarEvent
from followupd.backends.protocols import Screen, ScreeningEventSource
from followupd.core.model import SyncResult

SINCE = datetime(2029, 12, 1, tzinfo=timezone.utc)
ME = Attendee(email="me@example.com", is_self=True, response="accepted")
SAM = Attendee(email="sam@acme.com", name="Sam Park", organizer=True, response="accepted")


# ---------------------------------------------------------------- the screen itself

_WORDS = ["Interview", "interviews", "phone screen", "Phone  Screen", "onsite", "on-site", "mock interview",
          "#interview", "#Interview", "#interviewer", "#nofollowup", "x#interview", "##interview", "Lunch",
          "Standup", "reinterview", "interviewer training", "final round", "#offer", ":", "–", "with", "Acme"]
_text = st.lists(st.sampled_from(_WORDS), max_size=5).map(" ".join) | st.text(max_size=30)


@given(title=_text, description=_text, declined=st.booleans(), cancelled=st.booleans(),
       keywords=st.sampled_from([CFG.detect.keywords, ("standup",), ()]))
def test_the_screen_never_rules_out_an_interview(title: str, description: str, declined: bool, cancelled: bool,
                                                 keywords: tuple[str, ...]) -> None:
    cfg = replace(CFG, detect=replace(CFG.detect, keywords=keywords))
    me = replace(ME, response="declined" if declined else "accepted")
    event = interview(title=title, description=description, attendees=(me, SAM),
                      status="cancelled" if cancelled else "confirmed")
    if detect.classify(event, cfg).is_interview:
        assert detect.may_be_interview(title, description, cfg)


def test_the_screen_lets_through_keywords_and_tags_and_nothing_else() -> None:
    cfg = replace(CFG, detect=DetectConfig())
    assert detect.may_be_interview("Phone screen with Acme", "", cfg)
    assert detect.may_be_interview("Coffee", "bring the CV #Interview", cfg)
    assert detect.may_be_interview("Coffee #interview", "", cfg)
    assert not detect.may_be_interview("Standup", "Notes: bring the laptop #agenda", cfg)
    assert not detect.may_be_interview("Interviewer training", "#interviewer", cfg)
    assert not detect.may_be_interview("Standup", "", replace(cfg, detect=replace(cfg.detect, keywords=())))


# ---------------------------------------------------------------- GoogleCalendar.sync_screened

def _interviews_only(title: str, description: str) -> bool:
    return detect.may_be_interview(title, description, CFG)


def test_google_passes_over_what_the_screen_rules_out_and_builds_it_as_sync_does(
        google_emulator: Emulator) -> None:
    emu = google_emulator
    interview_event(emu, "acme1", T0)
    interview_event(emu, "tagged1", T0, title="Coffee with Ann", description="#interview for the SRE role")
    interview_event(emu, "plain1", T0, title="Standup", description="daily",
                    attendees=[{"email": "me@example.com", "self": True, "responseStatus": "declined"}],
                    organizer={"email": "lead@acme.example", "displayName": "Lee"})
    interview_event(emu, "ours1", T0, title="Send your thank-you emails",
                    extendedProperties={"private": {PROP_INTERVIEW: "acme1", PROP_STEP: "thank-you"}})
    interview_event(emu, "other-props1", T0, title="Gym", extendedProperties={"private": {"x": "y"}})
    cal, _, _ = backends(emu)
    assert isinstance(cal, ScreeningEventSource)

    plain = cal.sync("primary", None, SINCE)
    screened = cal.sync_screened("primary", None, SINCE, _interviews_only)
    assert screened.full and screened.next_token
    assert {e.id for e in screened.events} == {"acme1", "tagged1", "ours1"}
    assert set(screened.passed_over) == {"plain1", "other-props1"}
    by_id = {e.id: e for e in plain.events}
    assert screened.events == tuple(e for e in plain.events if e.id in {"acme1", "tagged1", "ours1"})
    assert {i: build() for i, build in screened.passed_over.items()} == {
        "plain1": by_id["plain1"], "other-props1": by_id["other-props1"]}

    # incremental: a deleted event comes as a bare cancellation (id and status only), which is
    # always built: it may be one of followupd's reminders, matched to the ledger by its id
    emu.user_delete_event("primary", "plain1")
    emu.user_edit_event("primary", "acme1", summary="Lunch with Acme")
    changes = cal.sync_screened("primary", screened.next_token, SINCE, _interviews_only)
    assert not changes.full and [(e.id, e.title, e.status) for e in changes.events] == [
        ("plain1", "", "cancelled")]
    assert {i: (e.title, e.status) for i, e in ((i, b()) for i, b in changes.passed_over.items())} == {
        "acme1": ("Lunch with Acme", "confirmed")}


def test_google_screening_spans_pages(google_emulator: Emulator) -> None:
    emu = google_emulator
    for i in range(2600):
        emu.calendar.store(emu.calendar.resolve("primary"), {
            "id": f"bulk{i:05d}", "summary": "Interview" if i % 1000 == 999 else "e",
            "start": {"dateTime": "2030-02-01T10:00:00Z"}, "end": {"dateTime": "2030-02-01T11:00:00Z"}})
    cal, _, _ = backends(emu)
    result = cal.sync_screened("primary", None, SINCE, _interviews_only)
    assert [e.id for e in result.events] == ["bulk00999", "bulk01999"]
    assert len(result.passed_over) == 2598 and result.next_token


# ---------------------------------------------------------------- the engine decides the same

class ScreeningMemoryCalendar(MemoryCalendar):
    """The memory calendar as a screening source: what it passes over is built on demand."""

    def __init__(self) -> None:
        super().__init__(account="acct", write_to="primary")
        self.built = 0  # passed-over events the engine asked for

    def sync_screened(self, calendar_id: str, token: str | None, time_min: datetime,
                      screen: Screen) -> SyncResult:
        result = self.sync(calendar_id, token, time_min)
        kept = tuple(e for e in result.events if e.written_by_followupd or screen(e.title, e.description))
        passed = {e.id: partial(self._build, e) for e in result.events if e not in kept}
        return SyncResult(kept, result.next_token, result.full, passed)

    def _build(self, event: CalendarEvent) -> CalendarEvent:
        self.built += 1
        return event


_TITLES = ["Interview: Acme", "Phone screen with Globex", "Lunch", "Standup", "Mock interview", "Coffee"]
_DESCRIPTIONS = ["", "#interview", "#nofollowup", "#offer", "decision: 2026-12-01", "notes"]
_op = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 2), st.sampled_from(_TITLES), st.sampled_from(_DESCRIPTIONS),
              st.integers(-20, 20), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 2)),
    st.tuples(st.just("resync"),),
    st.tuples(st.just("later"), st.integers(1, 72)),
)


def _in(calendar_id: str, event: CalendarEvent) -> CalendarEvent:
    return replace(event, calendar_id=calendar_id)


def _apply(cal: MemoryCalendar, where: str, now: datetime, op: tuple[Any, ...]) -> None:
    if op[0] == "put":
        _, n, title, description, days, declined = op
        me = replace(ME, response="declined" if declined else "accepted")
        start = now + timedelta(days=days)
        cal.put_event(_in(where, interview(f"ev{n}", start=start, title=title, description=description,
                                           attendees=(me, SAM))))
    elif op[0] == "delete" and cal.get(f"ev{op[1]}", where) is not None:
        cal.user_delete(f"ev{op[1]}", where)
    elif op[0] == "resync":
        cal.invalidate_tokens()


def _snapshot(w: World) -> tuple[object, ...]:
    st_ = w.engine.state
    records = sorted((r.id, r.live, r.gone_reason, r.settled, r.outcome, r.decision, r.event.title)
                     for r in st_.all_interviews())
    ledger = sorted((k, e.status, e.at) for k, e in w.ledger().items())
    reminders = sorted((e.id, e.title, e.start) for e in w.reminders())
    drafts = sorted((d.to, d.subject) for d in w.drafts.drafts.values())
    return records, ledger, reminders, drafts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, min_size=1, max_size=14), where=st.sampled_from(["primary", "work"]))
@example(ops=[("put", 0, "Interview: Acme", "", 1, False), ("put", 0, "Lunch", "", 1, False)], where="primary")
@example(ops=[("put", 0, "Coffee", "#interview", 1, False), ("put", 1, "Standup", "", 2, False), ("resync",),
              ("put", 0, "Coffee", "notes", 1, True)], where="work")
@example(ops=[("put", 0, "Interview: Acme", "#offer", -5, False), ("later", 1), ("put", 0, "Lunch", "", -5, False)],
         where="primary")  # a settled interview, untagged
@example(ops=[("put", 0, "Phone screen with Globex", "", 3, False), ("later", 24), ("resync",),
              ("put", 0, "Lunch", "#offer", 3, False), ("later", 72)], where="primary")
def test_an_engine_fed_by_a_screening_source_decides_exactly_the_same(ops: list[tuple[Any, ...]], where: str) -> None:
    """``where`` is the interviews' calendar: the one reminders go to, or a second one
    (then the watched calendar's listing holds no event followupd wrote)."""
    with tempfile.TemporaryDirectory() as tmp:
        full = World(db=Path(tmp) / "full.db", watch=(where,))
        screened = World(db=Path(tmp) / "screened.db", cal=ScreeningMemoryCalendar(), watch=(where,))
        assert isinstance(screened.cal, ScreeningEventSource) and not isinstance(full.cal, ScreeningEventSource)
        try:
            for op in ops:
                for w in (full, screened):
                    if op[0] == "later":
                        w.clock.advance(timedelta(hours=op[1]))
                    else:
                        _apply(w.cal, where, w.clock.now, op)
                outcomes = [_run(w) for w in (full, screened)]
                assert outcomes[0] == outcomes[1]
                assert _snapshot(full) == _snapshot(screened)
        finally:
            full.crash()
            screened.crash()


def _run(w: World) -> tuple[object, ...]:
    try:
        report = w.run()
    except Exception as exc:  # a safety stop must happen on both sides alike
        return type(exc).__name__, str(exc)
    return tuple(report.actions), report.interviews, report.next_due, report.summary


def test_a_known_interview_untagged_in_a_full_listing_is_withdrawn_not_a_safety_stop(tmp_path: Path) -> None:
    """The watched calendar is not the reminders' one, so after the change its full
    listing holds only passed-over events: not an empty listing."""
    w = World(db=tmp_path / "state.db", cal=ScreeningMemoryCalendar(), watch=("work",))
    assert isinstance(w.cal, ScreeningMemoryCalendar)
    w.cal.put_event(_in("work", interview()))
    w.cal.put_event(_in("work", interview("ev2", title="Standup")))
    w.run()
    assert len(w.reminders()) == 6 and w.cal.built == 0  # the standup was never built
    w.cal.put_event(_in("work", interview(title="Lunch", attendees=(replace(ME, response="declined"), SAM))))
    w.cal.invalidate_tokens()  # the next listing is a full one
    report = w.run()
    assert w.cal.built == 1  # only the known interview
    assert len(report.actions) == 6 and w.reminders() == []
    (rec,) = w.engine.state.all_interviews()
    assert not rec.live and rec.gone_reason == "interview declined" and rec.event.title == "Lunch"
    assert rec.event.attendees == (replace(ME, response="declined"), SAM)  # built in full


def test_dry_run_through_a_screening_source_writes_nothing(tmp_path: Path) -> None:
    w = World(db=tmp_path / "state.db", cal=ScreeningMemoryCalendar())
    w.cal.put_event(interview())
    report = w.run(dry_run=True)
    assert len(report.actions) == 6 and all(a.startswith("would ") for a in report.actions)
    assert w.reminders() == [] and w.engine.state.all_interviews() == []



def test_start_up_objects_are_collected_then_frozen_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from followupd.runtime import engine

    calls: list[str] = []
    monkeypatch.setattr(engine, "_startup_frozen", False)
    monkeypatch.setattr(engine.gc, "collect", lambda: calls.append("collect") or 0)
    monkeypatch.setattr(engine.gc, "freeze", lambda: calls.append("freeze"))
    engine._freeze_startup_objects()
    engine._freeze_startup_objects()  # a second engine (SIGHUP): stays collectable
    assert calls == ["collect", "freeze"]
