"""SPEC §4.10: one failing item never blocks the others (engine over the memory backends).

A failure that is not transient is recorded on its ledger row; the pass goes on;
the row is tried again after a growing delay and, after the last attempt, set
aside as *needs attention* with one WARNING, counted in the pass summary, until
``State.retry_now`` (``followupd retry``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from engine_helpers import World, interview
from followupd.core import attempts
from followupd.core.model import Kind, Status
from followupd.errors import FollowupdError, TransientError

DAY = timedelta(days=1)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(db=tmp_path / "state.db")


def _rows(w: World, interview_id: str) -> list:
    return [e for e in w.ledger().values() if e.interview_id == interview_id]


def _complete(w: World, interview_id: str) -> bool:
    """Every follow-up of the interview is written, none failing."""
    rows = _rows(w, interview_id)
    return bool(rows) and all(e.status == Status.WRITTEN and e.failure is None for e in rows)


def test_a_permanently_failing_draft_is_set_aside_and_never_delays_the_others(world: World,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    world.cal.put_event(interview("bad"))
    world.drafts.fail_always("create", ValueError("the address is refused"), "bad")
    world.clock.advance(DAY + timedelta(hours=2))  # its drafts are due now
    report = world.run()  # no exception: the pass completes
    failing = [e for e in _rows(world, "bad") if e.failure is not None]
    assert failing and all(e.kind == Kind.DRAFT and e.failure.attempts == 1 for e in failing)
    assert any(line.startswith("could not write draft") and "attempt 1 of 5" in line for line in report.actions)
    # interviews added afterwards, one sorting before the failing one and one after
    world.cal.put_event(interview("aaa", start=world.clock.now + DAY))
    world.cal.put_event(interview("zzz", start=world.clock.now + DAY))
    world.clock.advance(timedelta(minutes=1))
    world.run()
    assert _complete(world, "aaa") and _complete(world, "zzz")
    calls = world.drafts.calls["create"]
    world.run()  # not due yet: no new attempt
    assert world.drafts.calls["create"] == calls
    caplog.set_level(logging.INFO, logger="followupd.apply")
    for delay in attempts.RETRY_DELAYS:
        world.clock.advance(delay)
        report = world.run()
    set_aside = world.engine.state.failing(set_aside_only=True)
    assert {e.key for e in set_aside} == {e.key for e in failing}
    assert all(e.failure.attempts == attempts.MAX_ATTEMPTS for e in set_aside)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(failing), warnings
    assert all(w.startswith("needs attention: could not write draft") and "followupd retry" in w for w in warnings)
    assert report.attention == len(failing) and "need attention" in report.summary
    # set aside: no more attempts, however long one waits (later steps are new items: tried)
    world.clock.advance(10 * DAY)
    world.run()
    assert {e.key: e.failure for e in world.engine.state.failing(set_aside_only=True)} == \
        {e.key: e.failure for e in set_aside}
    failing = world.engine.state.failing()
    # the person fixes the cause and asks for another try
    world.drafts.clear_faults()
    assert len(world.engine.state.retry_now(world.clock.now, ["bad"])) == len(failing)
    report = world.run()
    assert not world.engine.state.failing() and report.attention == 0
    keys = [d.key for d in world.drafts.drafts.values()]
    assert len(keys) == len(set(keys))  # nothing twice


def test_transient_failures_still_stop_the_pass(world: World) -> None:
    world.cal.put_event(interview())
    world.cal.fail_next("create", TransientError("503"))
    with pytest.raises(TransientError):
        world.run()
    assert not world.engine.state.failing()
    world.run()
    assert _complete(world, "iv1")


def test_a_local_os_error_backs_off_the_pass_rather_than_setting_items_aside(world: World) -> None:
    world.cal.put_event(interview())
    world.cal.fail_next("create", OSError(28, "No space left on device"))
    with pytest.raises(TransientError, match="No space left"):
        world.run()
    assert not world.engine.state.failing()


def test_a_failing_move_does_not_hold_back_the_withdrawal_that_follows(world: World) -> None:
    world.cal.put_event(interview())
    world.run()
    world.cal.fail_always("update", FollowupdError("HTTP 400 badRequest"), "iv1")
    moved = interview(start=world.clock.now + 2 * DAY)
    world.cal.put_event(moved)
    world.run()
    assert any(e.failure and e.failure.action == attempts.UPDATE for e in _rows(world, "iv1"))
    world.cal.user_delete("iv1")  # the interview is cancelled: its reminders are withdrawn at once
    world.run()
    assert {e.status for e in _rows(world, "iv1")} == {Status.WITHDRAWN}
    assert not world.engine.state.failing() and not world.reminders()


def test_a_row_that_succeeds_again_forgets_its_failure(world: World) -> None:
    world.cal.put_event(interview())
    world.cal.fail_next("create", FollowupdError("HTTP 400 odd"))
    world.run()
    assert len(world.engine.state.failing()) == 1
    world.clock.advance(attempts.RETRY_DELAYS[0])
    world.run()
    assert not world.engine.state.failing() and _complete(world, "iv1")


def test_crash_after_a_draft_create_then_an_edit_then_a_cancel_leaves_the_draft_alone(world: World) -> None:
    """Issue #12 (b): the withdrawal of an interrupted write finds the person's edit and records it."""
    world.cal.put_event(interview())
    world.cal.put_event(interview("other", title="Lunch with Kim", attendees=()))  # the calendar is not empty
    world.clock.advance(DAY + timedelta(hours=2))
    world.drafts.fail_next("create", TransientError("lost answer"), after_commit=True)
    with pytest.raises(TransientError):
        world.run()
    world.crash()
    (draft_id,) = [d.id for d in world.drafts.drafts.values()]
    world.drafts.user_edit(draft_id)
    world.cal.user_delete("iv1")
    world.run()
    world.run()
    assert draft_id in world.drafts.drafts  # the person's edit is kept
    assert not world.engine.state.failing() and not world.engine.state.pending_intents()
    assert Status.EDITED in {e.status for e in _rows(world, "iv1")}
