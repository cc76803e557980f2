"""The engine pass against the memory backends and a real state.db: SPEC §4 rules 3–6."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from engine_helpers import World, interview, kinds
from followupd.errors import SafetyStop, TransientError
from followupd.core.model import Attendee, Kind, Status

DAY = timedelta(days=1)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(db=tmp_path / "state.db")


def _after_interview(w: World) -> None:
    w.clock.advance(DAY + timedelta(hours=2))


def test_creates_reminders_then_drafts_when_due_and_never_twice(world: World) -> None:
    world.cal.put_event(interview())
    first = world.run()
    assert len(world.reminders()) == 6 and len(first.actions) == 6
    assert not world.drafts.drafts  # drafts wait for their step
    assert world.run().actions == []
    _after_interview(world)
    world.run()
    assert sorted(d.to for d in world.drafts.drafts.values()) == ["dana@example.org", "sam@acme.com"]
    world.run()
    assert len(world.drafts.drafts) == 2 and len(world.reminders()) == 6
    assert set(world.statuses().values()) == {Status.WRITTEN}


def test_idle_pass_is_one_sync_call_per_calendar(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    world.cal.calls.clear()
    world.drafts.calls.clear()
    world.run()
    assert dict(world.cal.calls) == {"sync": 1} and not world.drafts.calls


def test_reschedule_moves_untouched_reminder_and_rewrites_untouched_draft(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    _after_interview(world)
    world.run()
    prepare = next(e for e in world.reminders() if "room" in e.title)
    thanks = next(d for d in world.drafts.drafts.values() if d.to == "sam@acme.com")
    old_body = thanks.body
    # the person edits the references draft: it must stay as they left it
    ref = next(d for d in world.drafts.drafts.values() if d.to == "dana@example.org")
    world.drafts.user_edit(ref.id)
    edited_body = ref.body
    ev = world.cal.get("iv1")
    assert ev is not None
    world.cal.put_event(replace(ev, start=ev.start - DAY, end=ev.end - DAY))
    lines = world.run().actions
    moved = world.cal.get(prepare.id)
    assert moved is not None and moved.start == prepare.start - DAY
    assert thanks.body != old_body and ref.body == edited_body
    assert any("moved reminder" in line for line in lines)
    assert any("left alone" in line and "edited by you" in line for line in lines)
    assert len(world.reminders()) == 6 and len(world.drafts.drafts) == 2


@pytest.mark.parametrize("how", ["cancel", "delete", "decline", "untag"])
def test_gone_interview_withdraws_untouched_and_leaves_touched(world: World, how: str) -> None:
    world.cal.put_event(interview())
    world.run()
    edited = next(e for e in world.reminders() if "room" in e.title)
    world.cal.user_edit(edited.id)
    ev = world.cal.get("iv1")
    assert ev is not None
    if how == "cancel":
        world.cal.put_event(replace(ev, status="cancelled"))
    elif how == "delete":
        world.cal.user_delete("iv1")
    elif how == "decline":
        me = Attendee(email="me@example.com", is_self=True, response="declined")
        world.cal.put_event(replace(ev, attendees=(me,) + ev.attendees[1:]))
    else:
        world.cal.put_event(replace(ev, title="Lunch with Acme"))
    world.run()
    assert [e.id for e in world.reminders()] == [edited.id]
    st = Counter(world.statuses().values())
    assert st == {Status.WITHDRAWN: 5, Status.EDITED: 1}


def test_user_deleted_reminder_is_never_recreated(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    victim = world.reminders()[0]
    world.cal.user_delete(victim.id)
    world.run()
    world.cal.invalidate_tokens()  # a 410: the full resync must not bring it back
    world.run()
    assert victim.id not in {e.id for e in world.reminders()}
    assert list(world.statuses().values()).count(Status.DELETED) == 1


def test_resync_after_410_writes_nothing_twice(world: World) -> None:
    world.cal.put_event(interview())
    _after_interview(world)
    world.run()
    before = (len(world.reminders()), len(world.drafts.drafts))
    world.cal.invalidate_tokens()
    assert world.run().actions == []
    assert (len(world.reminders()), len(world.drafts.drafts)) == before


def test_rejected_tag_cancels_check_in_and_writes_gracious_close(world: World) -> None:
    world.cal.put_event(interview())
    _after_interview(world)
    world.run()
    ev = world.cal.get("iv1")
    assert ev is not None
    world.cal.put_event(replace(ev, description="#rejected"))
    lines = world.run().actions
    st = world.ledger()
    assert any(e.step == "check-in" and e.status == Status.WITHDRAWN for e in st.values())
    assert any(e.step == "gracious-close" and e.status == Status.WRITTEN for e in st.values())
    assert any("gracious" in line.lower() or "withdrew" in line for line in lines)
    assert world.engine.state.interview("iv1").outcome == "rejected"  # type: ignore[union-attr]


def test_pending_draft_intent_is_resolved_by_find(world: World) -> None:
    world.cal.put_event(interview())
    _after_interview(world)
    world.drafts.fail_next("create", TransientError("lost response"), after_commit=True)
    with pytest.raises(TransientError):
        world.run()
    assert world.engine.state.pending_intents()
    world.drafts.calls.clear()
    lines = world.run().actions
    assert any("found it, adopted" in line for line in lines)
    assert world.drafts.calls["find"] == 1
    assert len(world.drafts.drafts) == 2 and not world.engine.state.pending_intents()


def test_safety_stop_on_empty_listing(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    for e in world.cal.events("primary"):
        world.cal.user_delete(e.id)
    world.cal.invalidate_tokens()
    token = world.engine.state.sync_token("primary")
    with pytest.raises(SafetyStop, match="came back empty"):
        world.run()
    assert world.engine.state.sync_token("primary") == token
    assert set(world.statuses().values()) == {Status.WRITTEN}


def test_safety_stop_on_mass_withdrawal(world: World) -> None:
    for i in range(4):
        world.cal.put_event(interview(f"iv{i}", title=f"Interview: Firm{i}", start=world.clock.now + DAY + timedelta(hours=i * 2)))
    world.run()
    assert len(world.reminders()) == 24
    for i in range(4):
        world.cal.user_delete(f"iv{i}")
    world.cal.calls.clear()
    with pytest.raises(SafetyStop, match="withdraw 24"):
        world.run()
    assert len(world.reminders()) == 24 and world.cal.calls["delete"] == 0


def test_dry_run_writes_nothing(world: World) -> None:
    world.cal.put_event(interview())
    report = world.run(dry_run=True)
    assert len(report.actions) == 6 and all(a.startswith("would create") for a in report.actions)
    assert world.reminders() == [] and world.engine.state.counts()["ledger"] == 0
    assert world.engine.state.sync_token("primary") is None


def test_interview_first_seen_after_its_steps_skips_past_reminders(world: World) -> None:
    world.cal.put_event(interview(start=world.clock.now - 3 * DAY))
    world.run()
    st = world.ledger()
    skipped = {e.step for e in st.values() if e.status == Status.SKIPPED}
    assert {"prepare", "thank-you", "references"} <= skipped
    # SPEC §2 "Sanity": drafts three days late are skipped and listed too, never written as if fresh
    late_drafts = {e.step for e in st.values() if e.status == Status.SKIPPED and e.kind == Kind.DRAFT}
    assert {"thank-you", "references"} <= late_drafts
    assert not any(e.kind == Kind.DRAFT and e.status == Status.WRITTEN and e.step == "thank-you"
                   for e in st.values())


def test_old_interview_outside_lookback_is_ignored(world: World) -> None:
    world.cal.put_event(interview(start=world.clock.now - 30 * DAY))
    assert world.run().actions == [] and world.engine.state.counts()["interviews"] == 0


def test_settled_interviews_are_not_loaded(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    world.clock.advance(40 * DAY)  # every step is past, the check-in draft written
    world.run()
    assert world.engine.state.active_interviews() == []
    assert {e.step for e in kinds(world, Kind.DRAFT)} == {"thank-you", "references", "check-in"}
    world.cal.calls.clear()
    assert world.run().actions == [] and dict(world.cal.calls) == {"sync": 1}


def test_reminder_deleted_before_a_full_resync_is_noticed(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    victim = world.reminders()[0]
    world.cal.invalidate_tokens()
    world.cal.user_delete(victim.id)  # a full listing omits deleted events
    world.run()
    assert world.statuses()[next(k for k, e in world.ledger().items() if e.backend_id == victim.id)] \
        == Status.DELETED


def test_pass_reads_only_active_interviews_not_history(world: World) -> None:
    """Per-pass cost follows the active interviews: 2,000 settled ones are never loaded."""
    from followupd.core.tracking import InterviewRecord
    from reconcile_helpers import entry, reminder

    st = world.engine.state
    old = [InterviewRecord(event=interview(f"old{i}", start=world.clock.now - 400 * DAY), first_seen=world.clock.now,
                           settled=True) for i in range(2000)]
    st.put_interviews(old)
    with st.transaction() as db:
        for r in old[:500]:
            e = entry(reminder(r.id))
            db.execute("INSERT INTO ledger(key, interview_id, step, kind, status, at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (e.key, e.interview_id, e.step, e.kind.value,
                                                        e.status.value, e.at.isoformat(), e.at.isoformat()))
    world.cal.put_event(interview())
    loaded: list[int] = []
    real = st.ledger_for

    def spy(ids):  # type: ignore[no-untyped-def]
        rows = real(ids)
        loaded.append(len(rows))
        return rows

    st.ledger_for = spy  # type: ignore[method-assign]
    world.run()
    world.run()
    assert len(st.active_interviews()) == 1
    assert max(loaded) <= 6, loaded  # only the live interview's rows, never the 500 of history


def test_a_note_added_to_the_event_rewrites_the_untouched_thank_you(world: World) -> None:
    """SPEC §2 "Personal notes": a notes: line in the description goes into the draft not yet touched."""
    world.cal.put_event(interview())
    world.run()
    _after_interview(world)
    world.run()
    thanks = next(d for d in world.drafts.drafts.values() if d.to == "sam@acme.com")
    assert "migration" not in thanks.body
    ev = world.cal.get("iv1")
    assert ev is not None
    world.cal.put_event(replace(ev, description="notes:\nSam — the billing migration\n"))
    lines = world.run().actions
    assert any(line.startswith("rewrote draft") and "sam@acme.com" in line for line in lines)
    assert "our conversation about the billing migration" in thanks.body
