"""plan.py: the SPEC §2 plan, business days, time zones, skip-past, outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from core_helpers import BERLIN, CFG, NY, RILEY, SAM, SELF, cfg_with, event
from followupd.core.settings import StepConfig
from followupd.core.detect import to_interview
from followupd.core.model import Attendee, DraftContent, FollowUp, Interview, Kind, Outcome, ReminderContent
from followupd.core.plan import ALWAYS, add_business_days, in_window, plan

BEFORE = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # seen days before the interview


def interview(cfg=CFG, **kw) -> Interview:  # type: ignore[no-untyped-def]
    extra = {k: kw.pop(k) for k in ("outcome", "outcome_at", "decision", "first_seen") if k in kw}
    return to_interview(event(**kw), cfg, **extra)


def by_step(fs: list[FollowUp], kind: Kind = Kind.REMINDER) -> dict[str, FollowUp]:
    return {f.step: f for f in fs if f.kind is kind}


def drafts(fs: list[FollowUp], step: str) -> list[FollowUp]:
    return [f for f in fs if f.kind is Kind.DRAFT and f.step == step]


def local(f: FollowUp, tz=NY) -> str:  # type: ignore[no-untyped-def]
    return f.at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


def test_business_days_skip_weekends_and_holidays() -> None:
    assert add_business_days(date(2026, 11, 20), 1, "") == date(2026, 11, 23)  # Fri → Mon
    assert add_business_days(date(2026, 11, 25), 1, "") == date(2026, 11, 26)
    assert add_business_days(date(2026, 11, 25), 1, "US") == date(2026, 11, 27)  # Thanksgiving
    assert add_business_days(date(2026, 11, 24), 10, "US") == date(2026, 12, 9)
    assert add_business_days(date(2026, 12, 24), 1, "DE") == date(2026, 12, 28)  # 25th, 26th, weekend
    assert add_business_days(date(2026, 11, 21), 0, "US") == date(2026, 11, 21)


def test_default_plan_for_a_tuesday_interview() -> None:
    fs = plan(interview(), cfg_with(holidays="US"), NY, BEFORE)
    r = by_step(fs)
    assert list(r) == ["prepare", "thank-you", "references", "handwritten-note", "keep-applying", "check-in"]
    assert local(r["prepare"]) == "Tue 2026-11-24 13:30 EST"
    assert r["prepare"].content.end - r["prepare"].content.start == timedelta(minutes=15)  # type: ignore[union-attr]
    assert local(r["thank-you"]) == "Tue 2026-11-24 15:00 EST"
    assert local(r["handwritten-note"]) == "Wed 2026-11-25 09:00 EST"
    assert local(r["keep-applying"]) == "Fri 2026-11-27 10:00 EST"  # Thanksgiving skipped
    assert local(r["check-in"]) == "Wed 2026-12-09 10:00 EST"
    for f in r.values():
        assert f.write_from == ALWAYS and f.calendar_id == "primary" and f.recipient == ""
        assert isinstance(f.content, ReminderContent) and f.content.popup_minutes == 0
        assert "Interview: Senior Engineer at Acme" in f.content.description
        assert "followupd" in f.content.description


def test_drafts_one_per_recipient_written_when_due() -> None:
    fs = plan(interview(), CFG, NY, BEFORE)
    thanks = drafts(fs, "thank-you")
    assert [f.recipient for f in thanks] == ["sam.park@acme.com", "lee@acme.com"]  # not me, not the room
    assert all(f.write_from == f.at == thanks[0].at for f in thanks)
    assert [f.recipient for f in drafts(fs, "references")] == ["dana@example.org"]
    check_in = drafts(fs, "check-in")
    assert [f.recipient for f in check_in] == ["riley@acme.com"]
    assert check_in[0].write_from == check_in[0].at == by_step(fs)["check-in"].at
    assert not drafts(fs, "gracious-close")
    assert len({f.key for f in fs}) == len(fs)


def test_thank_you_reminder_lists_interviewers() -> None:
    r = by_step(plan(interview(), CFG, NY, BEFORE))
    assert "Sam Park (Engineering Manager)" in r["thank-you"].content.description  # type: ignore[union-attr]
    hw = r["handwritten-note"].content
    assert isinstance(hw, ReminderContent)
    assert hw.title == "Mail handwritten thank-you cards to Sam Park and Lee Chen"
    assert "Sam Park (Engineering Manager)" in hw.description and "roofread" in hw.description


def test_check_in_goes_to_first_interviewer_without_organiser() -> None:
    fs = plan(interview(organizer=None, attendees=(SELF, SAM)), CFG, NY, BEFORE)
    assert [f.recipient for f in drafts(fs, "check-in")] == ["sam.park@acme.com"]


def test_references_without_configured_people_keep_only_the_reminder() -> None:
    fs = plan(interview(), replace(CFG, references=()), NY, BEFORE)
    assert "references" in by_step(fs) and not drafts(fs, "references")


def test_dst_end_new_york() -> None:
    start = datetime(2026, 10, 30, 14, 0, tzinfo=NY)  # Friday, EDT; clocks go back Sunday Nov 1
    r = by_step(plan(interview(start=start), CFG, NY, BEFORE - timedelta(days=30)))
    assert local(r["handwritten-note"]) == "Mon 2026-11-02 09:00 EST"
    assert r["handwritten-note"].at.utcoffset() == timedelta(hours=-5)
    assert local(r["keep-applying"]) == "Tue 2026-11-03 10:00 EST"
    elapsed = r["handwritten-note"].at.astimezone(timezone.utc) - r["thank-you"].at.astimezone(timezone.utc)
    assert elapsed == timedelta(days=2, hours=19)  # 15:00 EDT Friday → 09:00 EST Monday, an hour gained


def test_dst_end_berlin() -> None:
    start = datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN)  # Friday, CEST; CET from Sunday Oct 25
    r = by_step(plan(interview(start=start, tz=BERLIN), cfg_with(holidays="DE"), BERLIN,
                     BEFORE - timedelta(days=30)))
    assert local(r["handwritten-note"], BERLIN) == "Mon 2026-10-26 09:00 CET"
    assert r["handwritten-note"].at.astimezone(timezone.utc).hour == 8


def test_times_follow_the_calendar_zone_not_the_event_zone() -> None:
    start = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)  # 18:30 in New York, Wed 00:30 in Berlin
    assert local(by_step(plan(interview(start=start), CFG, NY, BEFORE))["handwritten-note"]) == \
        "Wed 2026-11-25 09:00 EST"
    assert local(by_step(plan(interview(start=start), CFG, BERLIN, BEFORE))["handwritten-note"], BERLIN) == \
        "Thu 2026-11-26 09:00 CET"


def test_all_day_interview_ends_at_the_end_of_the_day() -> None:
    start = datetime(2026, 11, 24, 0, 0, tzinfo=NY)
    r = by_step(plan(interview(start=start, minutes=24 * 60, all_day=True), CFG, NY, BEFORE))
    # SPEC §2 "Sanity": never at midnight; prepare at 08:30 that day, thank-you at 17:00
    assert local(r["thank-you"]) == "Tue 2026-11-24 17:00 EST"
    assert local(r["handwritten-note"]) == "Wed 2026-11-25 09:00 EST"
    assert local(r["prepare"]) == "Tue 2026-11-24 08:30 EST"


def test_lookback_window() -> None:
    ev = event()  # ends 2026-11-24 20:00 UTC
    assert in_window(ev, ev.end + timedelta(days=14), 14)
    assert not in_window(ev, ev.end + timedelta(days=14, seconds=1), 14)
    assert in_window(ev, ev.start - timedelta(days=100), 14)
    assert not in_window(ev, ev.end + timedelta(seconds=1), 0)


def test_reminders_already_past_when_first_seen_are_skipped() -> None:
    seen = datetime(2026, 11, 25, 15, 0, tzinfo=NY)  # the day after, 15:00
    fs = plan(interview(first_seen=seen), CFG, NY, seen + timedelta(days=1))
    assert list(by_step(fs)) == ["keep-applying", "check-in"]  # handwritten-note (09:00) is 6 h past
    assert drafts(fs, "thank-you")  # drafts are not reminders: still wanted
    # Within the hour of grace it is kept.
    fs = plan(interview(first_seen=datetime(2026, 11, 25, 9, 59, tzinfo=NY)), CFG, NY, seen)
    assert "handwritten-note" in by_step(fs)


def test_first_seen_defaults_to_now() -> None:
    now = datetime(2026, 11, 24, 16, 30, tzinfo=NY)
    assert "thank-you" not in by_step(plan(interview(), CFG, NY, now))
    assert "thank-you" in by_step(plan(interview(), CFG, NY, now - timedelta(minutes=60)))


def test_decision_date_moves_the_check_in() -> None:
    fs = plan(interview(decision=date(2026, 12, 4)), cfg_with(holidays="US"), NY, BEFORE)  # a Friday
    assert local(by_step(fs)["check-in"]) == "Mon 2026-12-07 10:00 EST"
    assert drafts(fs, "check-in")[0].at == by_step(fs)["check-in"].at
    assert "Friday, December 4" in drafts(fs, "check-in")[0].content.body  # type: ignore[union-attr]
    described = plan(interview(description="decision: 2026-12-04"), CFG, NY, BEFORE)
    assert by_step(described)["check-in"].at == by_step(fs)["check-in"].at


def test_outcome_cancels_a_check_in_not_yet_due() -> None:
    for outcome in Outcome:
        fs = plan(interview(outcome=outcome, outcome_at=datetime(2026, 11, 30, tzinfo=NY)), CFG, NY, BEFORE)
        assert "check-in" not in by_step(fs) and not drafts(fs, "check-in"), outcome
        assert "keep-applying" in by_step(fs)


def test_outcome_after_the_check_in_fell_due_keeps_it() -> None:
    fs = plan(interview(outcome=Outcome.OFFER, outcome_at=datetime(2026, 12, 15, tzinfo=NY)), CFG, NY, BEFORE)
    assert "check-in" in by_step(fs) and drafts(fs, "check-in")


def test_outcome_tag_uses_now_as_the_moment() -> None:
    now = datetime(2026, 12, 1, tzinfo=NY)
    assert "check-in" not in by_step(plan(interview(description="#offer"), CFG, NY, now))


def test_rejected_writes_a_gracious_close_to_the_organiser() -> None:
    at = datetime(2026, 12, 2, 11, 15, tzinfo=NY)
    fs = plan(interview(outcome=Outcome.REJECTED, outcome_at=at), CFG, NY, BEFORE)
    close = drafts(fs, "gracious-close")
    assert [f.recipient for f in close] == ["riley@acme.com"]
    assert close[0].at == close[0].write_from == at
    assert isinstance(close[0].content, DraftContent) and "keep me in mind" in close[0].content.body
    now = datetime(2026, 12, 3, tzinfo=NY)
    assert drafts(plan(interview(description="#rejected"), CFG, NY, now), "gracious-close")[0].at == now
    assert not drafts(plan(interview(outcome=Outcome.WITHDRAWN), CFG, NY, BEFORE), "gracious-close")


def test_disabled_steps_produce_nothing() -> None:
    off = {s: StepConfig(enabled=False) for s in ("prepare", "thank-you", "check-in", "gracious-close")}
    rejected_after = datetime(2026, 11, 24, 18, 0, tzinfo=NY)  # recorded once the interview was over
    fs = plan(interview(outcome=Outcome.REJECTED, outcome_at=rejected_after), cfg_with(steps=off), NY, BEFORE)
    assert {f.step for f in fs} == {"references", "handwritten-note", "keep-applying"}


def test_changed_offsets() -> None:
    steps = {
        "prepare": StepConfig(minutes_before=60, duration_minutes=20),
        "handwritten-note": StepConfig(business_days=2, time="08:15"),
        "keep-applying": StepConfig(business_days=0),
        "check-in": StepConfig(business_days=5, time="14:00"),
    }
    r = by_step(plan(interview(), cfg_with(steps=steps, holidays="US"), NY, BEFORE))
    assert local(r["prepare"]) == "Tue 2026-11-24 13:00 EST"
    assert r["prepare"].content.end - r["prepare"].at == timedelta(minutes=20)  # type: ignore[union-attr]
    assert local(r["handwritten-note"]) == "Fri 2026-11-27 08:15 EST"
    assert local(r["keep-applying"]) == "Tue 2026-11-24 10:00 EST"
    assert local(r["check-in"]) == "Wed 2026-12-02 14:00 EST"


def test_duplicate_attendees_get_one_draft() -> None:
    twice = (SELF, SAM, Attendee("SAM.PARK@acme.com", "Sam"), RILEY)
    fs = plan(interview(attendees=twice), CFG, NY, BEFORE)
    assert [f.recipient for f in drafts(fs, "thank-you")] == ["sam.park@acme.com", "riley@acme.com"]
