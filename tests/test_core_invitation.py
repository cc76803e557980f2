"""Understanding an invitation, rule by rule (SPEC §3): titles, descriptions, people, names, rounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from followupd.config.templates import with_templates
from followupd.core.applications import rounds
from followupd.core.detect import to_interview
from followupd.core.model import Attendee, CalendarEvent, Kind, Outcome, Person, Response
from followupd.core.names import clean, greeting, matches_address
from followupd.core.people import bare, is_role_account, not_a_recipient, registrable
from followupd.core.plan import plan, plan_with_skipped
from followupd.core.settings import Config, MeConfig, Reference

CFG = with_templates(Config(me=MeConfig(name="Zoë Okafor", email="zoe.okafor@gmail.com", aliases=("zoe@okafor.dev",)),
                            references=(Reference("Dana Lee", "dana@example.org"),)))
ME = Attendee("zoe.okafor@gmail.com", "Zoë Okafor", is_self=True, response=Response.ACCEPTED)
START = datetime(2026, 11, 24, 15, tzinfo=timezone.utc)
SEEN = START - timedelta(days=4)


def ev(title: str, *attendees: Attendee, organizer: Attendee | None = None, description: str = "",
       start: datetime = START, event_id: str = "e1") -> CalendarEvent:
    return CalendarEvent(id=event_id, calendar_id="primary", title=title, start=start, end=start + timedelta(hours=1),
                         description=description, organizer=organizer, attendees=(ME, *attendees))


@pytest.mark.parametrize("title, attendee, company, role", [
    ("Interview with Acme Corp", Attendee("jane.doe@acme.com", "Jane Doe"), "Acme Corp", ""),
    ("Acme Inc. | Software Engineer Interview", Attendee("jane@acme.com", "Jane Doe"), "Acme Inc", "Software Engineer"),
    ("[Acme] Technical Interview - Staff Engineer", Attendee("bo@acme.io", "Bo Li"), "Acme", "Staff Engineer"),
    ("Interview for Software Engineer position", Attendee("pat@stripe.com", "Pat Kim"), "Stripe", "Software Engineer"),
    ("Second round interview: Jane Doe <> Zoë Okafor", Attendee("jane@figma.com", "Jane Doe"), "Figma", ""),
    ("Zoë / Notion - Hiring Manager Chat", Attendee("ivan@makenotion.com", "Ivan Zhao"), "Notion", ""),
    ("Interview: Zoe O. x Linear", Attendee("karri@linear.app", "Karri S"), "Linear", ""),
    ("Phone Interview - Data Analyst - Initech (45 min)", Attendee("mb@initech.com", "Bolton, Michael"),
     "Initech", "Data Analyst"),
    ("Final interview w/ Dunder Mifflin", Attendee("ds@dundermifflin.com", "SCHRUTE, DWIGHT"), "Dunder Mifflin", ""),
    ("Cloud Solutions Architect interview with Zoe Okafor", Attendee("k@initech.io", "Nakamura, Kenji"),
     "Initech", "Cloud Solutions Architect"),
    ("Weekly sync with Globex", Attendee("a@globex.com", "Ann Ho"), "Globex", ""),
    ("Phone screen", Attendee("sam@gmail.com", "Sam Park"), "", ""),  # nothing supports a company: say less
    ("Interview with the Platform team", Attendee("ann@vercel.com", "Ann Lee"), "Vercel", ""),
    ("Final round with Jane and Raj", Attendee("jane@canva.com", "Jane Park"), "Canva", ""),
    ("Vorstellungsgespräch: Softwareentwickler (m/w/d) bei Siemens #interview",
     Attendee("k.mueller@siemens.com", "Müller, Klaus"), "Siemens", ""),
    ("Entretien - Développeur Backend #interview", Attendee("jd@socgen.com", "Jean Dupont"), "Socgen", ""),
    ("Updated invitation: Acme | Senior PM | Onsite Loop", Attendee("mj@acme.com", "Mary Jones"), "Acme", "Senior PM"),
])
def test_title_shapes(title: str, attendee: Attendee, company: str, role: str) -> None:
    iv = to_interview(ev(title, attendee), CFG)
    assert (iv.company, iv.role) == (company, role)
    assert "Zo" not in iv.company + iv.role


def test_description_lines_win_and_html_is_read() -> None:
    iv = to_interview(ev("Hooli onsite", Attendee("g@hooli.xyz", "Gavin Belson"),
                         description="<p>Company: <b>Pied&nbsp;Piper</b></p><p>role: Compression Lead</p>"), CFG)
    assert (iv.company, iv.role) == ("Pied Piper", "Compression Lead")
    assert dict(iv.facts)["company"].startswith("the description line")


def test_an_agency_recruiter_does_not_name_the_employer() -> None:
    iv = to_interview(ev("Senior Java Developer opportunity - call with Tom", Attendee("tom@hays.com", "Tom Baker"),
                         description="on behalf of my client #interview"), CFG)
    assert (iv.company, iv.kind) == ("", "agency")


@pytest.mark.parametrize("text, kind", [
    ("Phone screen - Acme", "screen"), ("Coding interview", "technical"), ("Virtual onsite", "onsite"),
    ("Final round", "final"), ("Coffee chat #interview", "informational"), ("Interview", "interview"),
])
def test_kinds(text: str, kind: str) -> None:
    assert to_interview(ev(text, Attendee("a@acme.com", "Ann Ho")), CFG).kind == kind


@pytest.mark.parametrize("attendee, why", [
    (Attendee("Zoe.Okafor+jobs@GMAIL.com", "Zoë"), "you"),
    (Attendee("zoe@okafor.dev", "Zoë Okafor"), "you"),
    (Attendee("room@acme.com", "Room", resource=True), "a room or resource"),
    (Attendee("c_1@resource.calendar.google.com", "Room 4"), "a room or resource"),
    (Attendee("eng-leads@acme.com", "Leads", group=True), "a group"),
    (Attendee("c_abc@group.calendar.google.com", "Interviews"), "a group"),
    (Attendee("no-reply@acme.com"), "a role account or bot"),
    (Attendee("talent-acquisition@acme.com"), "a role account or bot"),
    (Attendee("acme-careers@acme.com"), "a role account or bot"),
    (Attendee("notifications@calendly.com"), "a scheduling tool"),
    (Attendee("ann@acme.com", "Ann", response=Response.DECLINED), "declined"),
    (Attendee("a@b", "X"), "not exactly one e-mail address"),
    (Attendee("ann.ho@acme.com", "Ann Ho"), ""),
    (Attendee("sam.park@gmail.com", "Sam Park"), ""),  # a person at free mail is a person
    (Attendee("hr.jane@acme.com", "Jane"), ""),  # a name among the role words: a person
])
def test_who_gets_a_draft(attendee: Attendee, why: str) -> None:
    assert not_a_recipient(attendee, CFG) == why


def test_addresses_and_domains() -> None:
    assert bare("Zoe+Jobs@Example.COM") == "zoe@example.com"
    assert registrable("mail.acme.co.uk") == "acme.co.uk" and registrable("eng.initech.io") == "initech.io"
    assert is_role_account("do-not-reply@x.com") and not is_role_account("jo@x.com")


@pytest.mark.parametrize("display, email, name, warm, formal", [
    ("Nakamura, Kenji", "k@x.com", "Kenji Nakamura", "Hi Kenji,", "Dear Kenji Nakamura,"),
    ("Jill Valentine (she/her)", "j@x.com", "Jill Valentine", "Hi Jill,", "Dear Jill Valentine,"),
    ("Ravi Kumar | Hooli", "r@x.com", "Ravi Kumar", "Hi Ravi,", "Dear Ravi Kumar,"),
    ("Dr. Emily Nguyen", "e@x.com", "Dr. Emily Nguyen", "Hi Emily,", "Dear Dr. Nguyen,"),
    ("PRIYA RAMAN", "p@x.com", "Priya Raman", "Hi Priya,", "Dear Priya Raman,"),
    ("lsmith@acme.com", "lsmith@acme.com", "", "Hello,", "Hello,"),
    ("lsmith", "lsmith@acme.com", "", "Hello,", "Hello,"),
    ("Denpok", "denpok@hooli.xyz", "Denpok", "Hi Denpok,", "Dear Denpok,"),
])
def test_names_and_greetings(display: str, email: str, name: str, warm: str, formal: str) -> None:
    assert clean(display, email)[0] == name
    assert (greeting(name), greeting(name, "formal")) == (warm, formal)


def test_a_missing_name_comes_from_the_description() -> None:
    assert matches_address("Lisa Smith", "lsmith@acme.com") and not matches_address("Hank Scorpio", "lsmith@acme.com")
    iv = to_interview(ev("Interview at Acme", Attendee("lsmith@acme.com"), Attendee("hank@acme.com"),
                         description="Interviewers: Hank Scorpio, Lisa Smith"), CFG)
    assert [greeting(p.name) for p in iv.interviewers] == ["Hi Lisa,", "Hi Hank,"]


def test_the_contact_is_the_recruiter_line_else_a_human_organiser_else_nobody() -> None:
    ann, bot = Attendee("ann@acme.com", "Ann Ho"), Attendee("no-reply@greenhouse.io", organizer=True)
    assert to_interview(ev("Interview at Acme", ann, organizer=bot), CFG).organizer is None
    org = Attendee("rita@acme.com", "Rita Moreno", organizer=True)
    assert to_interview(ev("Interview at Acme", ann, org, organizer=org), CFG).organizer.email == "rita@acme.com"  # type: ignore[union-attr]
    line = to_interview(ev("Interview at Acme", ann, organizer=bot,
                           description="Recruiter: Jamie Fox <jamie.fox@acme.com>"), CFG)
    assert line.organizer == Person("jamie.fox@acme.com", "Jamie Fox")
    assert {f.recipient for f in plan(line, CFG, CFG_TZ, SEEN) if f.step == "check-in" and f.kind is Kind.DRAFT} \
        == {"jamie.fox@acme.com"}


CFG_TZ = __import__("zoneinfo").ZoneInfo("America/New_York")


def _round_plan(*events: CalendarEvent) -> dict[str, set[str]]:
    ivs = [to_interview(e, CFG) for e in events]
    where = rounds(ivs, CFG)
    return {iv.id: {f.step for f in plan(iv, CFG, CFG_TZ, SEEN, where[iv.id])} for iv in ivs}


def test_rounds_of_one_application_share_the_references_and_the_check_in() -> None:
    ann = Attendee("ann@acme.com", "Ann Ho")
    first, second = ev("Phone screen - Acme", ann, event_id="r1"), ev("Acme onsite", ann, event_id="r2",
                                                                        start=START + timedelta(days=9))
    steps = _round_plan(first, second)
    assert "references" in steps["r1"] and "check-in" not in steps["r1"]
    assert "references" not in steps["r2"] and "check-in" in steps["r2"]
    later = ev("Acme onsite", ann, event_id="r3", start=START + timedelta(days=80))  # 60 days of silence
    assert "references" in _round_plan(first, later)["r3"]
    other_role = ev("Acme - Interview (Data Engineer)", ann, event_id="r4", start=START + timedelta(days=3))
    role_one = ev("Acme - Interview (Staff Engineer)", ann, event_id="r5")
    assert all("references" in s for s in _round_plan(role_one, other_role).values())


def test_sanity_decision_before_the_interview_is_ignored_and_said() -> None:
    iv = to_interview(ev("Interview at Acme", Attendee("a@acme.com", "Ann Ho"), description="decision: 2026-11-01"),
                      CFG)
    assert iv.decision is None and "before the interview" in dict(iv.facts)["decision"]
    ok = to_interview(ev("Interview at Acme", Attendee("a@acme.com", "Ann Ho"), description="decision: 2026-12-04"),
                      CFG)
    assert ok.decision == date(2026, 12, 4)


def test_an_outcome_recorded_before_the_interview_withdraws_what_is_to_come() -> None:
    iv = to_interview(ev("Interview at Acme", Attendee("a@acme.com", "Ann Ho")), CFG)
    early = replace(iv, outcome=Outcome.REJECTED, outcome_at=SEEN)
    assert {f.step for f in plan(early, CFG, CFG_TZ, SEEN)} == {"gracious-close"}


def test_late_drafts_are_listed_not_written_and_no_reminder_claims_drafts() -> None:
    iv = replace(to_interview(ev("Interview at Acme", Attendee("a@acme.com", "Ann Ho")), CFG),
                 first_seen=START + timedelta(days=10))
    kept, skipped = plan_with_skipped(iv, CFG, CFG_TZ, START + timedelta(days=10))
    assert not any(f.kind is Kind.DRAFT and f.step == "thank-you" for f in kept)
    assert any(f.kind is Kind.DRAFT and f.step == "thank-you" for f in skipped)
    nobody = to_interview(ev("Interview at Acme", Attendee("room@acme.com", "Room", resource=True)), CFG)
    reminder = next(f for f in plan(nobody, CFG, CFG_TZ, SEEN) if f.step == "thank-you")
    assert "drafts are ready" not in reminder.title


@pytest.mark.parametrize("text", ["Sam Park", "Sam", "José Álvarez", "Zoë Okafor", "Denpok", "Anna Schmidt",
                                  "Jean Dupont", "Luis Von", "Kwame Asante"])
def test_plain_names_skip_nameparser_and_agree_with_it(text: str) -> None:
    from nameparser import HumanName

    from followupd.core.names import _plain

    fast = _plain(text)
    ref = HumanName(text)
    assert fast is not None and (fast.first, fast.last) == (ref.first, ref.last)


@pytest.mark.parametrize("text", ["Dr Emily", "John Jr", "Mary-Jane O'Neil", "Karri S", "de la Cruz",
                                  "Nguyen, Emily", "Emily Nguyen PhD", "Ana María López", "Judge Smith",
                                  "Coach Taylor", "Ab Cd"])
def test_other_names_go_to_nameparser(text: str) -> None:
    from followupd.core.names import _plain

    assert _plain(text) is None
