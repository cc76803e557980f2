"""Faults on every kind of Google call: transient statuses, lost answers, stale
sync tokens, expiring and revoked grants.  After each: one of everything,
nothing lost, nothing sent (the never-send guard runs after every test)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from emulator import Emulator
from emulator.builders import T0, backends, draft, entry, interview_event, reminder
from followupd.backends.gmail import GmailDrafts
from followupd.backends.google_calendar import GoogleCalendar
from followupd.backends.retry import RetryPolicy
from followupd.errors import AuthError, TransientError

SINCE = datetime(2029, 12, 1, tzinfo=timezone.utc)
EVENTS = r"/calendar/v3/calendars/[^/]+/events$"
EVENT = r"/calendar/v3/calendars/[^/]+/events/[^/]+$"
DRAFTS = r"/gmail/v1/users/me/drafts$"
DRAFT = r"/gmail/v1/users/me/drafts/[^/]+$"

TRANSIENT = [(503, "backendError"), (500, "backendError"), (429, "rateLimitExceeded"),
             (403, "rateLimitExceeded"), (403, "userRateLimitExceeded")]


def _setup(emu: Emulator) -> dict[str, Any]:
    """Backends plus one reminder and one draft already written, for update/delete/check."""
    cal, gmail, _ = backends(emu)
    interview_event(emu, "acme1", T0)
    f_rem, f_draft = reminder(), draft()
    return {"cal": cal, "gmail": gmail, "rem": entry(f_rem, cal.create(f_rem)),
            "draft": entry(f_draft, gmail.create(f_draft))}


# (name, HTTP method, path pattern, the call)
CALLS: list[tuple[str, str, str, Callable[[dict[str, Any]], Any]]] = [
    ("events.list", "GET", EVENTS, lambda s: s["cal"].sync("primary", None, SINCE)),
    ("events.insert", "POST", EVENTS, lambda s: s["cal"].create(reminder(step="keep-applying"))),
    ("events.patch", "PATCH", EVENT, lambda s: s["cal"].update(reminder(start=T0 + timedelta(hours=2)), s["rem"])),
    ("events.delete", "DELETE", EVENT, lambda s: s["cal"].delete(s["rem"])),
    ("drafts.list", "GET", DRAFTS, lambda s: s["gmail"].find(draft())),
    ("drafts.get", "GET", DRAFT, lambda s: s["gmail"].check(s["draft"])),
    ("drafts.update", "PUT", DRAFT, lambda s: s["gmail"].update(draft(subject="Thanks again"), s["draft"])),
    ("drafts.delete", "DELETE", DRAFT, lambda s: s["gmail"].delete(s["draft"])),
]


def _hits(emu: Emulator, method: str, pattern: str) -> int:
    import re

    return sum(1 for r in emu.log() if r.method == method and re.search(pattern, r.path))


@pytest.mark.parametrize("status,reason", TRANSIENT)
@pytest.mark.parametrize("name,method,path,call", CALLS, ids=[c[0] for c in CALLS])
def test_a_transient_failure_is_retried_and_the_call_succeeds(
        google_emulator: Emulator, status: int, reason: str, name: str, method: str, path: str,
        call: Callable[[dict[str, Any]], Any]) -> None:
    emu = google_emulator
    setup = _setup(emu)
    before = _hits(emu, method, path)
    emu.fail(method, path, status, reason)
    call(setup)
    assert _hits(emu, method, path) - before >= 2  # the failure, then the successful repeat
    assert len(setup["cal"]._retry.delays) == 1
    assert len(emu.drafts()) == (0 if name == "drafts.delete" else 1)


@pytest.mark.parametrize("name,method,path,call", CALLS, ids=[c[0] for c in CALLS])
def test_an_exhausted_daily_quota_is_transient_and_not_retried_in_the_pass(
        google_emulator: Emulator, name: str, method: str, path: str, call: Callable[[dict[str, Any]], Any]) -> None:
    emu = google_emulator
    setup = _setup(emu)
    before = _hits(emu, method, path)
    emu.fail(method, path, 403, "quotaExceeded", times=5)
    with pytest.raises(TransientError, match="quota"):
        call(setup)
    assert _hits(emu, method, path) - before == 1


@pytest.mark.parametrize("status,reason", [*TRANSIENT, (403, "quotaExceeded")])
def test_drafts_create_is_never_repeated(google_emulator: Emulator, status: int, reason: str) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    emu.fail("POST", DRAFTS, status, reason)
    with pytest.raises(TransientError):
        gmail.create(draft())
    assert _hits(emu, "POST", DRAFTS) == 1 and emu.drafts() == []
    assert gmail.find(draft()) is None  # the intent resolves to "not written": create it on the next pass
    gmail.create(draft())
    assert len(emu.drafts()) == 1


def test_a_persistent_outage_gives_up_after_the_attempts_with_growing_jittered_delays(
        google_emulator: Emulator) -> None:
    emu = google_emulator
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=1.5, sleep=lambda _s: None, rng=lambda: 1.0)
    cal, _, _ = backends(emu, retry=policy)
    emu.fail("GET", EVENTS, 503, times=10)
    with pytest.raises(TransientError, match="503"):
        cal.sync("primary", None, SINCE)
    assert list(policy.delays) == [0.5, 1.0, 1.5] and _hits(emu, "GET", EVENTS) == 4


def test_a_lost_insert_answer_is_adopted_not_duplicated(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu)
    emu.drop_after_commit("POST", EVENTS)
    written = cal.create(reminder())
    [event] = emu.events()
    assert (event["id"], event["etag"]) == (written.backend_id, written.version)
    assert [r.status for r in emu.log("calendar")] == [0, 409, 200]  # dropped, duplicate, get


def test_a_lost_drafts_create_answer_is_never_resent_and_find_resolves_it(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    emu.drop_after_commit("POST", DRAFTS)
    with pytest.raises(TransientError):
        gmail.create(draft())
    assert _hits(emu, "POST", DRAFTS) == 1 and len(emu.drafts()) == 1
    [(draft_id, message_id, _)] = emu.drafts()
    found = gmail.find(draft())
    assert found is not None and (found.backend_id, found.version) == (draft_id, message_id)


def test_a_timed_out_drafts_create_is_not_resent(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu, timeout=0.3)
    emu.delay("POST", DRAFTS, 0.8)
    with pytest.raises(TransientError, match="in time"):
        gmail.create(draft())
    deadline = time.monotonic() + 5
    while not emu.drafts() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server commits once its delay is over
    assert len(emu.drafts()) == 1 and _hits(emu, "POST", DRAFTS) == 1
    assert gmail.find(draft()) is not None


def test_a_timed_out_insert_is_retried_and_adopted(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu, timeout=0.3)
    emu.delay("POST", EVENTS, 0.6)
    written = cal.create(reminder())
    deadline = time.monotonic() + 5
    while emu.event("primary", written.backend_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(emu.events()) == 1


def test_lost_answers_to_conditional_writes_are_not_mistaken_for_the_person(google_emulator: Emulator) -> None:
    emu = google_emulator
    setup = _setup(emu)
    cal: GoogleCalendar = setup["cal"]
    gmail: GmailDrafts = setup["gmail"]
    moved = reminder(start=T0 + timedelta(hours=3))
    emu.drop_after_commit("PATCH", EVENT)
    written = cal.update(moved, setup["rem"])  # the repeat sees 412, but the event says what we wrote
    assert emu.event("primary", written.backend_id)["etag"] == written.version  # type: ignore[index]
    emu.drop_after_commit("DELETE", EVENT)
    cal.delete(entry(moved, written))  # the repeat sees 410: our own deletion
    assert emu.events() == [emu.event("primary", "acme1")]
    emu.drop_after_commit("DELETE", DRAFT)
    gmail.delete(setup["draft"])
    assert emu.drafts() == []


def test_a_sync_token_invalidated_mid_run_leads_to_a_full_resync(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, _, _ = backends(emu)
    interview_event(emu, "acme1", T0)
    token = cal.sync("primary", None, SINCE).next_token
    emu.on_request("GET", EVENTS, emu.invalidate_sync_tokens)
    result = cal.sync("primary", token, SINCE)
    assert result.full and [e.id for e in result.events] == ["acme1"]
    assert [r.status for r in emu.log("calendar")][-2:] == [410, 200]


def test_an_access_token_expiring_mid_run_is_refreshed(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, gmail, _ = backends(emu)
    cal.create(reminder())
    emu.expire_access_tokens()
    gmail.create(draft())
    assert len(emu.drafts()) == 1 and len(emu.events()) == 1
    statuses = [(r.path, r.status) for r in emu.log()]
    assert ("/gmail/v1/users/me/drafts", 401) in statuses and statuses[-1] == ("/gmail/v1/users/me/drafts", 200)
    assert emu.oauth.refresh_count == 2


def test_a_revoked_grant_is_an_auth_error_that_says_to_log_in(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, gmail, _ = backends(emu)
    emu.revoke_grant()
    with pytest.raises(AuthError, match="followupd auth login"):
        cal.sync("primary", None, SINCE)
    with pytest.raises(AuthError, match="followupd auth login"):
        gmail.create(draft())
    assert emu.drafts() == [] and emu.events() == []


def test_an_unreachable_server_is_transient(google_emulator: Emulator) -> None:
    emu = google_emulator
    cal, gmail, _ = backends(emu)
    cal.timezone("primary")
    emu.stop()
    with pytest.raises(TransientError, match="network error"):
        cal.sync("primary", None, SINCE)
    with pytest.raises(TransientError):
        gmail.create(draft())


def test_the_retry_record_stays_bounded_for_the_life_of_the_daemon() -> None:
    policy = RetryPolicy(attempts=2, sleep=lambda _s: None, rng=lambda: 0.5)
    for _ in range(1000):
        with pytest.raises(TransientError):
            policy.call(lambda: (_ for _ in ()).throw(TimeoutError()), what="listing")
    assert 0 < len(policy.delays) <= 32
