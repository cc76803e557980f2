"""The invitation corpus: invitations shaped like what Greenhouse, Lever, Ashby, GoodTime, Calendly,
Workday, iCIMS, SmartRecruiters, Outlook/Teams, Zoom, Google Meet and Webex send, and people's own
shorthand, in ICS and in Google API JSON form.  Each has what a careful person reads in it
(``invitations/expected.toml``) and golden rendered drafts (``invitations/golden/``).

``FOLLOWUPD_UPDATE_GOLDEN=1 pytest tests/test_invitation_corpus.py`` rewrites the golden files
after a deliberate change of the templates; read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime

import pytest

from followupd.core.detect import classify, to_interview
from followupd.core.message import build_message
from followupd.core.model import Attendee, Interview, Kind, Outcome
from followupd.core.names import greeting
from followupd.core.people import not_a_recipient
from followupd.core.plan import plan
from invitation_corpus import CFG, HERE, NY, SEEN, event, expected, names

CASES = expected()
INTERVIEWS = [n for n in names() if CASES[n].get("interview", True)]
GOLDEN = HERE / "golden"


def _interview(name: str) -> Interview:
    ev = event(name)
    assert classify(ev, CFG).is_interview, name
    return to_interview(ev, CFG)


def _drafts(iv: Interview, step: str) -> list[str]:
    return [f.recipient for f in plan(iv, CFG, NY, SEEN) if f.kind is Kind.DRAFT and f.step == step]


def test_the_corpus_covers_the_tools_in_both_forms() -> None:
    files = list(HERE.iterdir())
    assert len(names()) >= 30
    assert sum(p.suffix == ".ics" for p in files) >= 10 and sum(p.suffix == ".json" for p in files) >= 10
    assert set(names()) == set(CASES), "every invitation has its expectations, and only those"


@pytest.mark.parametrize("name", names())
def test_what_a_careful_person_reads(name: str) -> None:
    want = CASES[name]
    ev = event(name)
    verdict = classify(ev, CFG)
    if not want.get("interview", True):
        assert (verdict.is_interview, verdict.rule) == (False, want["rule"])
        return
    iv = to_interview(ev, CFG)
    assert (iv.company, iv.role, iv.kind) == (want["company"], want["role"], want["kind"])
    assert [p.email for p in iv.interviewers] == want["interviewers"]
    assert _drafts(iv, "thank-you") == want["thank_you"]
    assert _drafts(iv, "check-in") == want["check_in"]
    assert bool(_drafts(iv, "references")) is want["references"]
    assert {p.email: greeting(p.name, CFG.me.tone) for p in iv.interviewers} == want["greetings"]


def _attendees(name: str) -> set[str]:
    ev = event(name)
    people = {a.email.lower() for a in ev.attendees}
    if ev.organizer:
        people.add(ev.organizer.email.lower())
    return people


@pytest.mark.parametrize("name", INTERVIEWS)
def test_every_draft_goes_to_a_person_who_took_part(name: str) -> None:
    iv = _interview(name)
    on_invite = _attendees(name)
    described = set(re.findall(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", event(name).description.lower()))
    for f in plan(replace(iv, outcome=Outcome.REJECTED, outcome_at=iv.event.end), CFG, NY, SEEN):
        if f.kind is not Kind.DRAFT:
            continue
        to = f.recipient
        if f.step == "references":
            assert to == "dana.lee@example.org"
            continue
        assert to in on_invite or to in described, (f.step, to)
        assert "okafor" not in to, "never to me"
        assert not_a_recipient(Attendee(email=to), CFG) == "", (f.step, to)


@pytest.mark.parametrize("name", INTERVIEWS)
def test_no_draft_names_me_as_company_or_role_or_greets_wrongly(name: str) -> None:
    iv = _interview(name)
    want = CASES[name]["greetings"]
    for f in plan(iv, CFG, NY, SEEN):
        if f.kind is not Kind.DRAFT:
            continue
        body = f.content.body  # type: ignore[union-attr]
        text = f.title + "\n" + body.split("Best regards,")[0]
        assert "Okafor" not in text and "Zoë" not in text and "Zoe" not in text.split("\n", 2)[-1], (f.step, text)
        if f.step != "references":
            assert body.startswith(want.get(f.recipient, greeting(f.content.to.name)) + "\n"), body  # type: ignore[union-attr]
        for wrong in (" at .", " at ,", "the  ", "  role", "Hi ,", "Hi Dr.,", ",,"):
            assert wrong not in body, (wrong, body)


def test_references_hear_once_per_application() -> None:
    first, second = _interview("greenhouse-phone-screen"), _interview("greenhouse-panel")
    # two rounds at one company: the heads-up comes with the first only
    from followupd.core.applications import rounds

    second = replace(second, company=first.company, event=replace(second.event, start=first.event.start.replace(
        day=first.event.start.day + 3), end=first.event.end.replace(day=first.event.end.day + 3)))
    where = rounds([first, second], CFG)
    assert where[first.id].first and where[second.id].latest and where[first.id].application == where[second.id].application
    assert _steps(first, where[first.id]) >= {"references"} and "check-in" not in _steps(first, where[first.id])
    assert "references" not in _steps(second, where[second.id]) and "check-in" in _steps(second, where[second.id])


def _steps(iv: Interview, round_: object) -> set[str]:
    return {f.step for f in plan(iv, CFG, NY, SEEN, round_)}  # type: ignore[arg-type]


def test_a_rejection_via_a_bot_organiser_closes_graciously_to_a_human_or_not_at_all() -> None:
    for name in INTERVIEWS:
        iv = _interview(name)
        rejected = replace(iv, outcome=Outcome.REJECTED, outcome_at=iv.event.end)
        close = _drafts(rejected, "gracious-close")
        assert len(close) <= 1
        if close:
            assert not_a_recipient(Attendee(email=close[0]), CFG) == "", (name, close)


def test_an_informational_chat_tells_no_references_and_checks_in_on_no_role() -> None:
    iv = _interview("coffee-chat")
    assert {f.step for f in plan(iv, CFG, NY, SEEN)} == {"thank-you", "handwritten-note"}


def test_an_all_day_onsite_is_planned_at_sensible_local_times() -> None:
    iv = _interview("all-day-onsite")
    at = {f.step: f.at.astimezone(NY) for f in plan(iv, CFG, NY, SEEN) if f.kind is Kind.REMINDER}
    assert at["prepare"] == datetime(2026, 11, 24, 8, 30, tzinfo=NY)
    assert at["thank-you"] == datetime(2026, 11, 24, 17, 0, tzinfo=NY)


def test_a_room_only_invitation_gets_no_thank_you_and_its_reminder_says_so() -> None:
    iv = _interview("room-only")
    fs = plan(iv, CFG, NY, SEEN)
    reminder = next(f for f in fs if f.step == "thank-you")
    assert not _drafts(iv, "thank-you") and "drafts are ready" not in reminder.title
    assert "Nobody on the invitation could get a draft" in reminder.content.description  # type: ignore[union-attr]


def _golden_text(name: str) -> str:
    iv = _interview(name)
    out = []
    for f in plan(replace(iv, outcome=Outcome.REJECTED, outcome_at=iv.event.end), CFG, NY, SEEN):
        if f.kind is not Kind.DRAFT:
            continue
        msg = build_message(f.content, me=CFG.me, key="golden")  # type: ignore[arg-type]
        out += [f"=== {f.step} ===", f"To: {msg['To']}", f"Subject: {msg['Subject']}", "",
                f.content.body.rstrip("\n"), ""]  # type: ignore[union-attr]
    return "\n".join(out)


@pytest.mark.parametrize("name", INTERVIEWS)
def test_golden_drafts(name: str) -> None:
    path = GOLDEN / f"{name}.txt"
    text = _golden_text(name)
    if os.environ.get("FOLLOWUPD_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text
