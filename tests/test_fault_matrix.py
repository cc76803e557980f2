"""The fault matrix of issue #12, end to end on the Google path (the real client, the emulator).

For each fault, an interview ``mmm1`` is hit by it; then two interviews are added, ``aaa1``
(whose id sorts before) and ``zzz1`` (after).  On the next pass both get all their follow-ups;
nothing is written twice, nothing is lost, and no pass fails with an unexpected error.

(a) the person deletes a reminder just as the interview is moved;
(b) a crash right after a draft is created (its answer lost, Gmail's search lagging), then the
    person edits that draft, then the interview is cancelled;
(c) an invitation that lists an address no message can carry;
(d) ``write_to`` is a calendar the account may only read (until its owner shares it);
(e) a 400 on the incremental sync;
and a permanent failure on every write about one item, for reminders and for drafts, with the
statuses Google gives for a request it will never accept.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from emulator import Emulator
from emulator.builders import NY, interview_event
from emulator.fixtures import emulator_config
from followupd.auth import google as auth
from followupd.core import attempts
from followupd.core.model import DRAFT_KEY_HEADER, Status
from followupd.core.settings import Config, MeConfig
from followupd.errors import AccessDenied, FollowupdError, TransientError
from followupd.runtime.engine import PassReport
from test_google_e2e import Run as E2ERun

NOW = datetime(2030, 1, 7, 12, 0, tzinfo=NY)  # a Monday
ME = {"email": "me@example.com", "self": True, "responseStatus": "accepted"}
EVENTS = r"/calendar/v3/calendars/[^/]+/events$"


def _panel(company: str) -> list[dict[str, str]]:
    return [ME, {"email": f"ann@{company}.example", "displayName": "Ann Smith", "responseStatus": "accepted"},
            {"email": f"raj@{company}.example", "displayName": "Raj Patel", "responseStatus": "accepted"}]


class Run(E2ERun):
    """The end-to-end runner, at this file's moment; no pass may say "unexpected"."""

    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        self.now = NOW

    def once(self) -> PassReport:
        report = super().once()
        assert not any("unexpected" in line for line in report.actions), report.actions
        return report


@pytest.fixture
def run(google_emulator: Emulator) -> Iterator[Run]:
    cfg = emulator_config(google_emulator, Config(me=MeConfig(name="Jordan Rivera", email=google_emulator.account)))
    auth.store_authorized_user(cfg, json.loads(google_emulator.credentials().to_json()))
    r = Run(cfg)
    yield r
    r.restart()


def _interview(emu: Emulator, event_id: str, company: str, start: datetime, **extra: object) -> None:
    interview_event(emu, event_id, start, title=f"Interview: {company.title()} – Engineer",
                    attendees=_panel(company), **extra)


def _add_the_two(emu: Emulator, run: Run) -> None:
    """Two interviews that ended an hour ago: their thank-you drafts are due at once."""
    _interview(emu, "aaa1", "alpha", run.now - timedelta(hours=2))
    _interview(emu, "zzz1", "zulu", run.now - timedelta(hours=2))


def _assert_complete(emu: Emulator, run: Run, *interviews: str) -> None:
    ledger = run.engine.state.ledger_for(interviews)
    for iv in interviews:
        rows = [e for e in ledger.values() if e.interview_id == iv]
        assert rows and all(e.status in (Status.WRITTEN, Status.SKIPPED) and e.failure is None for e in rows), rows
        drafted = {e.recipient for e in rows if e.kind == "draft" and e.status == Status.WRITTEN}
        company = {"aaa1": "alpha", "zzz1": "zulu"}[iv]
        assert drafted >= {f"ann@{company}.example", f"raj@{company}.example"}
    again = run.once()
    assert not [line for line in again.actions if "Alpha" in line or "Zulu" in line], again.actions


def _assert_nothing_twice(emu: Emulator) -> None:
    keys = Counter(str(msg[DRAFT_KEY_HEADER]) for _, _, msg in emu.drafts())
    assert all(n == 1 for n in keys.values()), keys


def test_a_reminder_deleted_as_the_interview_moves(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _interview(emu, "mmm1", "mid", run.now + timedelta(days=2))
    run.once()
    ours = [e for e in emu.events() if "extendedProperties" in e]
    deleted = ours[0]["id"]
    emu.user_delete_event("primary", deleted)
    later = run.now + timedelta(days=3)
    emu.user_edit_event("primary", "mmm1", start={"dateTime": later.isoformat(), "timeZone": "America/New_York"},
                        end={"dateTime": (later + timedelta(hours=1)).isoformat(), "timeZone": "America/New_York"})
    _add_the_two(emu, run)
    run.once()
    rows = run.engine.state.ledger_for(["mmm1"])
    assert [e.status for e in rows.values() if e.backend_id == deleted] == [Status.DELETED]
    assert emu.event("primary", deleted)["status"] == "cancelled"  # never re-created
    _assert_complete(emu, run, "aaa1", "zzz1")
    assert not run.engine.state.failing()


def test_a_deleted_reminder_is_noticed_from_its_bare_tombstone_before_any_write(
        google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _interview(emu, "mmm1", "mid", run.now + timedelta(days=2))
    run.once()
    deleted = next(e["id"] for e in emu.events() if "extendedProperties" in e)
    emu.user_delete_event("primary", deleted)
    emu.clear_log()
    run.once()
    assert [e.status for e in run.engine.state.ledger_for(["mmm1"]).values() if e.backend_id == deleted] == \
        [Status.DELETED]
    assert [r.method for r in emu.log("calendar")] == ["GET"]  # one listing, no write


def test_a_crash_after_a_draft_create_under_search_lag_then_an_edit_then_a_cancel(
        google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    emu.set_search_lag(60)  # the new draft stays invisible to q for longer than the test
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    emu.drop_after_commit("POST", r"/gmail/v1/users/me/drafts$")
    with pytest.raises(TransientError):
        run.once()
    run.restart()
    (draft_id, _, msg), = [d for d in emu.drafts()]
    emu.user_edit_draft(draft_id, "My own words now.")
    emu.user_delete_event("primary", "mmm1")
    _add_the_two(emu, run)
    run.once()
    assert draft_id in {d for d, _, _ in emu.drafts()}  # the person's edit is kept
    rows = run.engine.state.ledger_for(["mmm1"])
    assert Status.EDITED in {e.status for e in rows.values()} and not run.engine.state.pending_intents()
    _assert_complete(emu, run, "aaa1", "zzz1")
    _assert_nothing_twice(emu)


def test_a_crash_after_a_draft_create_under_search_lag_adopts_it(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    emu.set_search_lag(60)
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    emu.drop_after_commit("POST", r"/gmail/v1/users/me/drafts$")
    with pytest.raises(TransientError):
        run.once()
    run.restart()
    report = run.once()
    assert any("found it, adopted" in line for line in report.actions)
    _assert_nothing_twice(emu)


def test_an_address_no_message_can_carry(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    panel = _panel("mid") + [{"email": "odd..dots@mid.example", "displayName": "Odd Dots"}]
    interview_event(emu, "mmm1", run.now - timedelta(hours=2), title="Interview: Mid – Engineer", attendees=panel)
    run.once()
    rows = run.engine.state.ledger_for(["mmm1"])
    assert "odd..dots@mid.example" not in {e.recipient for e in rows.values()}
    assert {e.recipient for e in rows.values() if e.kind == "draft"} >= {"ann@mid.example", "raj@mid.example"}
    _add_the_two(emu, run)
    run.once()
    _assert_complete(emu, run, "aaa1", "zzz1")


def test_a_write_to_calendar_the_account_may_only_read(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    emu.set_access_role("primary", "reader")
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    with pytest.raises(AccessDenied) as caught:
        run.once()
    message = str(caught.value)
    assert "'primary'" in message and "Make changes to events" in message and caught.value.exit_code == 2
    assert not emu.drafts() and not [e for e in emu.events() if "extendedProperties" in e]  # nothing written
    emu.set_access_role("primary", "writer")  # the owner shares it
    _add_the_two(emu, run)
    run.once()
    _assert_complete(emu, run, "aaa1", "zzz1")
    _assert_nothing_twice(emu)


def test_a_400_on_the_incremental_sync_is_one_full_resync(google_emulator: Emulator, run: Run) -> None:
    emu = google_emulator
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    run.once()
    emu.fail("GET", EVENTS, 400, "invalid")
    _add_the_two(emu, run)
    run.once()
    _assert_complete(emu, run, "aaa1", "zzz1")
    _assert_nothing_twice(emu)


@pytest.mark.parametrize("subject", ["mmm1", "ann@mid.example"], ids=["reminders", "a draft"])
@pytest.mark.parametrize("status,reason", [(400, "badRequest"), (400, "invalid"), (403, "forbidden"),
                                           (404, "notFound"), (413, "requestTooLarge")])
def test_a_permanent_failure_of_one_item_never_delays_the_others(
        google_emulator: Emulator, run: Run, subject: str, status: int, reason: str) -> None:
    emu = google_emulator
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    emu.fail_item(subject, status, reason)
    report = run.once()
    assert any(line.startswith("could not") for line in report.actions), report.actions
    failing = run.engine.state.failing()
    assert failing and all(e.interview_id == "mmm1" for e in failing)
    _add_the_two(emu, run)
    run.now += timedelta(minutes=1)
    run.once()
    _assert_complete(emu, run, "aaa1", "zzz1")
    for delay in attempts.RETRY_DELAYS:  # tried again with growing delays, then set aside
        run.now += delay
        last = run.once()
    held = run.engine.state.failing(set_aside_only=True)
    assert {e.key for e in held} == {e.key for e in failing}
    assert last.attention == len(held) and "need" in last.summary
    emu.faults.clear()
    run.engine.state.retry_now(run.now)
    run.once()
    assert not run.engine.state.failing()
    _assert_nothing_twice(emu)


def test_only_followupd_errors_escape_a_pass(google_emulator: Emulator, run: Run) -> None:
    """A write Google answers with something followupd has no name for is still one item's failure."""
    emu = google_emulator
    _interview(emu, "mmm1", "mid", run.now - timedelta(hours=2))
    emu.fail_item("raj@mid.example", 418, "teapot")
    try:
        run.once()
    except FollowupdError as exc:  # pragma: no cover - the assertion below says what happened
        pytest.fail(f"the pass failed: {exc}")
    assert [e.recipient for e in run.engine.state.failing()] == ["raj@mid.example"]
