"""detect.py: which events are interviews (SPEC §3), and the facts read from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from core_helpers import CFG, LEE, RILEY, ROOM, SAM, SELF, event
from followupd.core.settings import DetectConfig
from followupd.core.detect import classify, keyword_regex, to_interview
from followupd.core.titles import parse_title
from followupd.core.names import clean as split_name
from followupd.core.model import PROP_INTERVIEW, Attendee, Outcome, Person


@pytest.mark.parametrize("title, keyword", [
    ("Interview: Senior Engineer at Acme", "interview"),
    ("ACME PHONE SCREEN", "phone screen"),
    ("Phone   screen with Acme", "phone screen"),
    ("Acme – On-site (Staff Engineer)", "on-site"),
    ("Acme onsite", "onsite"),
    ("Technical screen: Globex", "technical screen"),
    ("Hiring manager chat", "hiring manager"),
    ("Recruiter call / Initech", "recruiter call"),
    ("Acme | Final round", "final round"),
    ("Screening call", "screening call"),
    ("Interviews with Acme", "interview"),
])
def test_keywords_match_case_insensitively(title: str, keyword: str) -> None:
    verdict = classify(event(title), CFG)
    assert verdict.is_interview and verdict.rule == "keyword"
    assert f'"{keyword}"' in verdict.reason


@pytest.mark.parametrize("title", [
    "Reinterview prep",  # inside a word: no
    "Interviewer training",  # an internal training, not an interview of mine
    "Team lunch",
    "onsiteness review",
    "Weekly 1:1",
])
def test_keywords_only_at_word_boundaries(title: str) -> None:
    verdict = classify(event(title), CFG)
    assert not verdict.is_interview and verdict.rule == "no-match"
    assert "#interview" in verdict.reason


def test_interview_tag_in_title_or_description() -> None:
    assert classify(event("Coffee with Sam #interview"), CFG).rule == "tag"
    verdict = classify(event("Coffee with Sam", description="Bring CV\n#Interview"), CFG)
    assert verdict.is_interview and verdict.rule == "tag" and "description" in verdict.reason
    assert not classify(event("Coffee", description="#interviews galore"), CFG).is_interview


def test_exclude_tag_and_exclude_keyword_win() -> None:
    v = classify(event("Interview: Acme", description="practice #nofollowup"), CFG)
    assert (v.is_interview, v.rule) == (False, "exclude-tag")
    v = classify(event("Mock interview with Lee"), CFG)
    assert (v.is_interview, v.rule) == (False, "exclude-keyword") and '"mock interview"' in v.reason
    v = classify(event("Mock  Interview #interview"), CFG)
    assert v.rule == "exclude-keyword"


def test_declined_and_cancelled_and_written_by_followupd() -> None:
    declined = replace(SELF, response="declined")
    assert classify(event(attendees=(declined, SAM)), CFG).rule == "declined"
    # Matched by [me] email when the source does not mark "self".
    by_email = Attendee("JORDAN@example.com", response="declined")
    assert classify(event(attendees=(by_email, SAM)), CFG).rule == "declined"
    assert classify(event(status="cancelled"), CFG).rule == "cancelled"
    v = classify(event("Send your thank-you emails (interview)", private={PROP_INTERVIEW: "ev0"}), CFG)
    assert (v.is_interview, v.rule) == (False, "written-by-followupd")


def test_configured_keywords_replace_defaults() -> None:
    cfg = replace(CFG, detect=DetectConfig(keywords=("coffee chat",), exclude=()))
    assert classify(event("Coffee chat with Acme"), cfg).rule == "keyword"
    assert classify(event("Interview at Acme"), cfg).rule == "no-match"
    assert classify(event("Mock interview #interview"), cfg).rule == "tag"


def test_recurring_instances_are_judged_independently() -> None:
    # SPEC §2 "Kinds": a series is an interview only when tagged; each instance is judged on its own.
    first = event("Interview loop", id="rec_20261124", recurring_event_id="rec", description="#interview")
    second = event("Interview loop", id="rec_20261201", recurring_event_id="rec", status="cancelled",
                   description="#interview")
    assert classify(first, CFG).is_interview and not classify(second, CFG).is_interview
    assert to_interview(first, CFG).id == "rec_20261124"


def test_an_untagged_recurring_series_is_not_an_interview() -> None:
    weekly = event("Weekly recruiter call", id="rec_20261124", recurring_event_id="rec")
    verdict = classify(weekly, CFG)
    assert (verdict.is_interview, verdict.rule) == (False, "recurring-series")
    assert "#interview" in verdict.reason


def test_keyword_regex_is_cached() -> None:
    assert keyword_regex(CFG.detect.keywords) is keyword_regex(CFG.detect.keywords)


@pytest.mark.parametrize("title, company, role", [
    ("Interview: Senior Engineer at Acme", "Acme", "Senior Engineer"),
    ("Acme – Onsite (Staff Engineer)", "Acme", "Staff Engineer"),
    ("Phone screen with Acme", "Acme", ""),
    ("Acme | Final round", "Acme", ""),
    ("Acme: Backend Developer interview", "Acme", "Backend Developer"),
    ("Technical screen - Globex Corp - Data Scientist", "Globex Corp", "Data Scientist"),
    ("Onsite @ Hooli, Palo Alto", "Hooli", ""),
    ("Interview #interview", "", ""),
])
def test_company_and_role_from_title(title: str, company: str, role: str) -> None:
    found_company, found_role = parse_title(title)
    assert (found_company.value, found_role.value) == (company, role)


def test_company_falls_back_to_organiser_domain_ignoring_free_mail() -> None:
    iv = to_interview(event("Interview"), CFG)
    assert iv.company == "Acme"
    gmail_org = Attendee("recruiter@gmail.com", "R", organizer=True)
    iv = to_interview(event("Interview", organizer=gmail_org, attendees=(SELF, Attendee("x@globex.co.uk"))), CFG)
    assert iv.company == "Globex"
    iv = to_interview(event("Interview with Sam Park", organizer=gmail_org,
                            attendees=(SELF, Attendee("sam@gmail.com", "Sam Park"))), CFG)
    assert iv.company == ""


def test_interviewers_exclude_me_rooms_and_decliners_with_titles() -> None:
    declined = Attendee("no@acme.com", "Nope", response="declined")
    iv = to_interview(event(attendees=(SELF, SAM, ROOM, declined, LEE, RILEY)), CFG)
    assert iv.interviewers == (
        Person("sam.park@acme.com", "Sam Park", "Engineering Manager"),
        Person("lee@acme.com", "Lee Chen"),
        Person("riley@acme.com", "Riley Recruiter"),
    )
    assert iv.organizer == Person("riley@acme.com", "Riley Recruiter")


def test_interviewers_fall_back_to_the_organiser() -> None:
    iv = to_interview(event(attendees=(SELF, ROOM)), CFG)
    assert iv.interviewers == (Person("riley@acme.com", "Riley Recruiter"),)


def test_organiser_who_is_me_is_not_a_contact() -> None:
    me_org = Attendee("jordan@example.com", "Jordan", is_self=True, organizer=True)
    iv = to_interview(event(organizer=me_org, attendees=(me_org, SAM)), CFG)
    assert iv.organizer is None and [p.email for p in iv.interviewers] == ["sam.park@acme.com"]


@pytest.mark.parametrize("display, name, title", [
    ("Sam Park (Engineering Manager)", "Sam Park", "Engineering Manager"),
    ("Lee Chen - CTO", "Lee Chen", "CTO"),
    ("Ana María López", "Ana María López", ""),
    ("Evil\nBcc: x@y.com", "", ""),  # an address in the name: no name at all (and never two lines)
    ("Evil\nBcc", "Evil Bcc", ""),
])
def test_split_name(display: str, name: str, title: str) -> None:
    assert split_name(display) == (name, title)


def test_outcome_and_decision_from_description() -> None:
    iv = to_interview(event(description="Notes...\ndecision: 2026-12-04\n#rejected"), CFG)
    assert iv.outcome is Outcome.REJECTED and iv.decision == date(2026, 12, 4)
    assert to_interview(event(description="decision: 2026-02-31"), CFG).decision is None


def test_explicit_outcome_and_decision_win_over_tags() -> None:
    iv = to_interview(event(description="#rejected decision: 2026-12-04"), CFG,
                      outcome=Outcome.OFFER, decision=date(2026, 12, 10))
    assert iv.outcome is Outcome.OFFER and iv.decision == date(2026, 12, 10)


def test_attendees_with_unusable_addresses_never_become_recipients() -> None:
    """A stranger's invitation can carry any "address"; one that is not exactly one
    valid mailbox is left out instead of failing every pass when its draft is built."""
    from followupd.core.settings import Config, MeConfig
    from followupd.core.detect import to_interview
    from followupd.core.model import Attendee, CalendarEvent
    from datetime import datetime, timezone

    start = datetime(2026, 11, 24, 14, tzinfo=timezone.utc)
    hostile = ("a@b", "sam@example.com, eve@evil.example", "=?UTF-8?Q?=0A?=x@example.com", "", "no-at-sign")
    event = CalendarEvent(
        id="e1", calendar_id="primary", title="Interview at Acme", start=start, end=start,
        attendees=tuple(Attendee(email=e, name="X") for e in hostile)
        + (Attendee(email="ok@acme.example", name="Ok Person"),),
        organizer=Attendee(email="a@b", organizer=True))
    iv = to_interview(event, Config(me=MeConfig(name="Me", email="me@example.com")))
    assert [p.email for p in iv.interviewers] == ["ok@acme.example"]
    assert iv.organizer is None
