"""Each reconcile rule on hand-built follow-ups (no I/O)."""

from __future__ import annotations

from datetime import timedelta

from followupd.core.model import Observed, Status
from followupd.core.reconcile import (
    NOT_DESIRED,
    PAST_WHEN_SEEN,
    Create,
    MarkDeleted,
    MarkEdited,
    ResolveIntent,
    Skip,
    Update,
    Withdraw,
    reconcile,
    withdrawals,
)
from reconcile_helpers import T0, draft, entry, reminder

LIVE = {"iv1"}


def test_creates_what_is_due_and_waits_for_the_rest() -> None:
    due, later = reminder(), draft(write_from=T0 + timedelta(hours=1))
    assert reconcile([due, later], {}, {}, LIVE, T0) == [Create(due)]


def test_second_pass_creates_nothing() -> None:
    f = reminder()
    assert reconcile([f], {f.key: entry(f)}, {}, LIVE, T0) == []


def test_never_recreates_a_known_key_whatever_its_status() -> None:
    f = reminder()
    for status in (Status.DELETED, Status.EDITED, Status.WITHDRAWN, Status.SKIPPED, Status.DONE):
        assert reconcile([f], {f.key: entry(f, status)}, {}, LIVE, T0) == [], status


def test_changed_content_updates_an_untouched_entry() -> None:
    old = reminder()
    moved = reminder(at=T0 + timedelta(days=1))
    assert reconcile([moved], {old.key: entry(old)}, {}, LIVE, T0) == [Update(moved, entry(old))]


def test_written_draft_rescheduled_to_the_future_is_rewritten_not_withdrawn() -> None:
    old = draft()
    moved = draft(at=T0 + timedelta(days=3), subject="Thank you (moved)")
    acts = reconcile([moved], {old.key: entry(old)}, {}, LIVE, T0)
    assert acts == [Update(moved, entry(old))]


def test_observed_edit_is_recorded_and_wins_over_update() -> None:
    old = reminder()
    moved = reminder(at=T0 + timedelta(days=1))
    obs = {old.key: Observed(old.key, "b1", "v2")}
    assert reconcile([moved], {old.key: entry(old)}, obs, LIVE, T0) == [MarkEdited(entry(old))]


def test_observed_same_version_is_not_an_edit() -> None:
    f = reminder()
    assert reconcile([f], {f.key: entry(f)}, {f.key: Observed(f.key, "b1", "v1")}, LIVE, T0) == []


def test_observed_deletion_is_recorded_never_recreated() -> None:
    f = reminder()
    obs = {f.key: Observed(f.key, "b1", "v1", deleted=True)}
    assert reconcile([f], {f.key: entry(f)}, obs, LIVE, T0) == [MarkDeleted(entry(f))]
    edited = entry(f, Status.EDITED)
    assert reconcile([f], {f.key: edited}, obs, LIVE, T0) == [MarkDeleted(edited)]


def test_gone_interview_withdraws_untouched_and_leaves_touched() -> None:
    a, b, c = reminder(step="prepare"), reminder(step="keep-applying"), draft()
    ledger = {a.key: entry(a), b.key: entry(b, Status.EDITED), c.key: entry(c, Status.DELETED)}
    acts = reconcile([a, b, c], ledger, {}, set(), T0, gone_reasons={"iv1": "interview cancelled"})
    assert acts == [Withdraw(entry(a), "interview cancelled")]
    assert withdrawals(acts) == 1


def test_no_longer_desired_is_withdrawn() -> None:
    checkin = reminder(step="check-in")
    assert reconcile([], {checkin.key: entry(checkin)}, {}, LIVE, T0) == [Withdraw(entry(checkin), NOT_DESIRED)]


def test_planned_row_is_resolved_not_created() -> None:
    f = draft()
    e = entry(f, Status.PLANNED, version="", backend_id="")
    assert reconcile([f], {f.key: e}, {}, LIVE, T0) == [ResolveIntent(f, e)]
    assert reconcile([], {f.key: e}, {}, LIVE, T0) == [Withdraw(e, NOT_DESIRED)]


def test_skip_is_recorded_once() -> None:
    f = reminder(at=T0 - timedelta(days=2))
    assert reconcile([], {}, {}, LIVE, T0, skipped=[f]) == [Skip(f, PAST_WHEN_SEEN)]
    assert reconcile([], {f.key: entry(f, Status.SKIPPED)}, {}, LIVE, T0, skipped=[f]) == []


def test_desired_of_a_gone_interview_is_not_created() -> None:
    assert reconcile([reminder()], {}, {}, set(), T0) == []


def test_order_is_deterministic() -> None:
    fs = [reminder(interview_id=f"iv{i}", step=s) for i in range(5) for s in ("prepare", "keep-applying")]
    live = {f.interview_id for f in fs}
    a = reconcile(fs, {}, {}, live, T0)
    b = reconcile(list(reversed(fs)), {}, {}, live, T0)
    assert a == b and len(a) == 10
    assert [x.followup.key for x in a if isinstance(x, Create)] == sorted(f.key for f in fs)  # same time: by key
