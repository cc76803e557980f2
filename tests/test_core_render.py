"""render.py: default drafts read like a person wrote them; templates are sandboxed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core_helpers import CFG, NY, SAM, SELF, cfg_with, event
from followupd.core.settings import StepConfig
from followupd.core.detect import to_interview
from followupd.errors import ConfigError
from followupd.core.model import Attendee, Interview, Person
from followupd.core import steps as registry
from followupd.core.render import join_names, render_draft, render_reminder

DRAFT_STEPS = [s.id for s in registry.STEPS if s.has_drafts]
REMINDER_STEPS = [s.id for s in registry.STEPS if s.reminder]

SAM_P = Person("sam.park@acme.com", "Sam Park", "Engineering Manager")


def iv(title: str = "Interview: Senior Engineer at Acme", **kw: object) -> Interview:
    return to_interview(event(title, **kw), CFG)  # type: ignore[arg-type]


def test_thank_you_is_personal() -> None:
    d = render_draft("thank-you", iv(), SAM_P, CFG, NY)
    assert d.to == SAM_P
    assert d.subject
    assert d.body.startswith("Hi Sam,\n")
    for needle in ("the Senior Engineer role", "on Tuesday, November 24",
                   "Jordan Rivera\njordan@example.com\n+1 555 0100"):
        assert needle in d.body, needle


def test_interviewers_of_one_interview_do_not_get_the_same_letter() -> None:
    four = tuple(Attendee(f"{n.lower()}@acme.com", f"{n} Park", response="accepted")
                 for n in ("Ann", "Ben", "Cem", "Dev"))
    interview = iv(attendees=(SELF, *four))
    bodies = [render_draft("thank-you", interview, p, CFG, NY).body for p in interview.interviewers]
    unnamed = [b.split("\n", 1)[1] for b in bodies]  # everything but the greeting
    assert len(set(unnamed)) == 4


def test_a_note_and_a_topic_make_the_thank_you_personal() -> None:
    interview = iv(description="10:00 - 10:45 System design with Lee Chen (Staff Engineer)\n"
                               "notes:\nSam — the robotics migration\n")
    by_email = {p.email: p for p in interview.interviewers}
    sam = render_draft("thank-you", interview, by_email["sam.park@acme.com"], CFG, NY).body
    lee = render_draft("thank-you", interview, by_email["lee@acme.com"], CFG, NY).body
    assert "our conversation about the robotics migration" in sam
    assert "our system design session" in lee and by_email["lee@acme.com"].title == "Staff Engineer"


def test_formal_tone_uses_title_and_surname() -> None:
    cfg = replace(CFG, me=replace(CFG.me, tone="formal"))
    dr = Person("emily@acme.com", "Dr. Emily Nguyen")
    assert render_draft("thank-you", iv(), dr, cfg, NY).body.startswith("Dear Dr. Nguyen,\n")
    assert render_draft("thank-you", iv(), dr, CFG, NY).body.startswith("Hi Emily,\n")


def test_references_check_in_and_gracious_close() -> None:
    dana = Person("dana@example.org", "Dana Lee")
    ref = render_draft("references", iv(), dana, CFG, NY)
    assert ref.body.startswith("Hi Dana,") and "may reach out to you" in ref.body
    assert "Acme" in ref.subject and "Senior Engineer role" in ref.body
    riley = Person("riley@acme.com", "Riley Recruiter")
    check = render_draft("check-in", replace(iv(), decision=__import__("datetime").date(2026, 12, 4)), riley, CFG, NY)
    assert "decision around Friday, December 4" in check.body and check.body.startswith("Hi Riley,")
    assert "timeline and next steps" in render_draft("check-in", iv(), riley, CFG, NY).body
    close = render_draft("gracious-close", iv(), riley, CFG, NY)
    assert "consideration" in close.subject.lower() and "keep me in mind" in close.body


def test_every_default_template_renders_with_little_known() -> None:
    bare = to_interview(event("#interview", organizer=None, attendees=(SELF, Attendee("x@gmail.com"))), CFG)
    for step in DRAFT_STEPS:
        d = render_draft(step, bare, Person("x@gmail.com"), CFG, NY)
        # no name is known: no made-up one ("Hi X," from the address), just "Hello,"
        assert d.subject and d.body.startswith("Hello,\n") and "  " not in d.subject
    for step in REMINDER_STEPS:
        title, description = render_reminder(step, bare, CFG, NY, bare.event.end)
        assert title and "followupd" in description


def test_template_syntax_in_untrusted_text_stays_literal() -> None:
    hostile = replace(iv("Interview {{ 7*7 }} at Acme"), company="{{ 7*7 }}",
                      role="{% for x in range(3) %}Dev{% endfor %}")
    to = Person("sam@acme.com", "{{ signature }} {{ ''.__class__ }}")
    d = render_draft("thank-you", hostile, to, CFG, NY)
    assert "the {% for x in range(3) %}Dev{% endfor %} role" in d.body
    close = render_draft("gracious-close", hostile, to, CFG, NY)
    assert "{{ 7*7 }}" in close.subject and "{{ 7*7 }}" in close.body and "49" not in close.body
    assert d.body.startswith("Hi {{,")
    assert "49" not in d.body and "DevDev" not in d.body and "<class" not in d.body
    _, description = render_reminder("thank-you", hostile, CFG, NY, hostile.event.end)
    assert "'Interview {{ 7*7 }} at Acme'" in description


def test_newlines_in_names_cannot_add_lines_to_headings() -> None:
    hostile = iv("Interview at Acme\nSubject: pwned", attendees=(SELF, Attendee("s@acme.com", "Sam\nBcc: x@y")))
    d = render_draft("thank-you", hostile, hostile.interviewers[0], CFG, NY)
    assert "\n" not in d.subject and "pwned" not in d.subject
    title, _ = render_reminder("handwritten-note", hostile, CFG, NY, hostile.event.end)
    assert "\n" not in title


def test_user_template_replaces_the_default(tmp_path: Path) -> None:
    tpl = tmp_path / "ty.j2"
    tpl.write_text("Subject: Thanks, {{ recipient.first_name }}!\n\n{{ company }} / {{ role }} / {{ date }}\n")
    cfg = cfg_with(steps={"thank-you": StepConfig(template=tpl)})
    d = render_draft("thank-you", iv(), SAM_P, cfg, NY)
    assert d.subject == "Thanks, Sam!" and d.body == "Acme / Senior Engineer / Tuesday, November 24\n"
    rtpl = tmp_path / "r.j2"
    rtpl.write_text("Title: Cards for {{ interviewer_names }}\n\nGo.\n")
    cfg = cfg_with(steps={"handwritten-note": StepConfig(reminder_template=rtpl)})
    assert render_reminder("handwritten-note", iv(), cfg, NY, iv().event.end) == ("Cards for Sam Park and Lee Chen",
                                                                                   "Go.\n")


@pytest.mark.parametrize("source, line", [
    ("Subject: x\n\n{% if role %}\nno end\n", None),
    ("Subject: x\n\nHello {{ recipient.nickname }}\n", 3),
    ("Subject: x\n\nline two\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", 4),
    ("no heading here\n", 1),
])
def test_broken_user_template_is_a_config_error_naming_file_and_line(tmp_path: Path, source: str,
                                                                      line: int | None) -> None:
    tpl = tmp_path / "bad.j2"
    tpl.write_text(source)
    cfg = cfg_with(steps={"thank-you": StepConfig(template=tpl)})
    with pytest.raises(ConfigError) as info:
        render_draft("thank-you", iv(), SAM_P, cfg, NY)
    message = str(info.value)
    assert "bad.j2" in message
    if line is not None:
        assert f"line {line}:" in message


def test_join_names() -> None:
    assert join_names([]) == "" and join_names(["A"]) == "A" and join_names(["A", "B"]) == "A and B"
    assert join_names(["A", "B", "C"]) == "A, B and C"


def test_signature_leaves_out_a_missing_phone() -> None:
    cfg = replace(CFG, me=replace(CFG.me, phone=""))
    assert render_draft("thank-you", iv(), SAM_P, cfg, NY).body.endswith("Jordan Rivera\njordan@example.com\n")


def test_company_unknown_reads_naturally() -> None:
    bare = to_interview(event("Phone screen", organizer=None, attendees=(SELF, replace(SAM, email="sam@gmail.com"))),
                        CFG)
    d = render_draft("thank-you", bare, bare.interviewers[0], CFG, NY)
    assert " at ." not in d.body and " at ," not in d.body and "the role" in d.body
    assert " at " not in d.body.split("\n\n")[2]  # no company named where none is known


def test_default_drafts_have_no_doubled_blank_lines_or_presumptions() -> None:
    """Read like a note a person writes: no stray empty paragraphs, and the
    reference heads-up makes no claim about how the interview went."""
    from datetime import date

    riley = Person("riley@acme.com", "Riley Recruiter")
    for step in ("thank-you", "references", "check-in", "gracious-close"):
        for decision in (None, date(2026, 12, 4)):
            d = render_draft(step, replace(iv(), decision=decision), riley, CFG, NY)
            assert "\n\n\n" not in d.body, step
    assert "went well" not in render_draft("references", iv(), riley, CFG, NY).body
