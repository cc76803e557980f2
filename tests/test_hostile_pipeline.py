"""Hostile invitations through the whole pipeline (SPEC §4.7, issue #6).

Anyone can put an event in your calendar.  Its title, description and
attendee names travel through detect, plan and render into real drafts.  Here
they go end to end: seeded in the Google emulator, listed by the real client,
turned into drafts by the engine and created through the Gmail API.  The
bytes Gmail received are then parsed with the standard library, and each
draft must have exactly its intended recipient, no added header, a one-line
subject of at most 200 characters and no line over 998 characters.
``preview`` gets the same invitations and must print them without evaluating
template syntax or passing control characters to the terminal.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from email import policy
from email.utils import getaddresses
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator.builders import NY, interview_event
from emulator.fixtures import emulator_config
from followupd.auth import google as auth
from followupd.cli.context import Context
from followupd.core.settings import Config, MeConfig
from followupd.runtime.engine import open_engine
from followupd.cli.explain import cmd_preview

START = datetime(2030, 1, 7, 10, 0, tzinfo=NY)
ENDED = START + timedelta(hours=1, minutes=5)
ME = {"email": "me@example.com", "self": True, "responseStatus": "accepted"}
VICTIM = "ann@acme.example"
EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "x-followupd-key", "content-type",
                    "content-transfer-encoding", "mime-version"}
FORBIDDEN = ("\r", "\n", "\x00", "\x85", "\u2028", "\u2029", "\x1b")

INJECTIONS = [
    "Ann\r\nBcc: eve@evil.example",
    "Ann\nBcc: eve@evil.example",
    "Ann\rCc: eve@evil.example",
    "Ann Smith\n",
    "=?UTF-8?Q?=0A?=Bcc: eve@evil.example",
    "=?UTF-8?Q?Ann=0D=0ABcc:_eve@evil.example?=",
    "Ann\u2028Bcc: eve@evil.example",
    "Ann\u2029Cc: eve@evil.example",
    "Ann\x85Bcc: eve@evil.example",
    "Ann\x00Bcc: eve@evil.example",
    "Ann \x1b[31mred\x1b[0m \x1b]0;pwned\x07",
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} {{ cfg.__class__ }}",
    "A" * 10_000,
]


def _bad_title(payload: str) -> str:
    return f"Interview: {payload} at Acme"


@pytest.fixture
def cfg(google_emulator: Emulator) -> Config:
    base = Config(me=MeConfig(name="Jordan Rivera", email=google_emulator.account, phone="+1 555 0100"))
    c = emulator_config(google_emulator, base)
    auth.store_authorized_user(c, json.loads(google_emulator.credentials().to_json()))
    return c


def _seed(emu: Emulator, payload: str) -> None:
    attendees: list[dict[str, Any]] = [
        ME,
        {"email": VICTIM, "displayName": payload, "responseStatus": "accepted"},
        # an "email" holding two addresses must never yield two recipients (nor a draft)
        {"email": "sam@acme.example, eve@evil.example", "displayName": "Sam", "responseStatus": "accepted"},
        {"email": "raj@acme.example", "displayName": f"Raj {payload}", "responseStatus": "accepted"},
    ]
    interview_event(emu, "hostile1", START, title=_bad_title(payload), attendees=attendees,
                    description=f"{payload}\ndecision: 2030-01-20",
                    organizer={"email": VICTIM, "displayName": payload})


def _check_raw(raw: bytes) -> str:
    """Every rule of SPEC §4.7 on the bytes Gmail received; returns the recipient."""
    assert all(len(line) <= 998 for line in raw.split(b"\r\n")), "a line over 998 characters"
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    names = [k.lower() for k in msg.keys()]
    assert set(names) <= EXPECTED_HEADERS, f"unexpected headers: {set(names) - EXPECTED_HEADERS}"
    assert len(names) == len(set(names)), "a repeated header"
    assert "bcc" not in names and "cc" not in names
    to = msg["To"].addresses
    assert len(to) == 1
    subject = str(msg["Subject"])
    assert len(subject) <= 200
    for header in ("Subject", "To", "From"):
        value = str(msg[header])
        assert not any(ch in value for ch in FORBIDDEN), f"{header} carries a control character: {value!r}"
    body = msg.get_content()
    assert "49" not in subject and "loop" not in body.replace("{% for x in range(3) %}loop", "")
    return str(to[0].addr_spec)


@pytest.mark.parametrize("payload", INJECTIONS, ids=lambda p: repr(p[:30]))
def test_hostile_invitation_yields_only_safe_drafts_through_gmail(
        google_emulator: Emulator, cfg: Config, payload: str) -> None:
    emu = google_emulator
    _seed(emu, payload)
    engine = open_engine(cfg, clock=lambda: ENDED)
    try:
        engine.run_pass()
    finally:
        engine.close()
    raws = [d.raw for d in emu.gmail.drafts.values()]
    recipients = sorted(_check_raw(raw) for raw in raws)
    # one thank-you per usable interviewer; the two-address attendee is left out entirely
    assert recipients == sorted([VICTIM, "raj@acme.example"])
    assert not any("evil.example" in r for r in recipients)
    assert emu.violations == []
    # reminders carry the title too: the calendar gets it as data, never as markup
    for event in emu.events():
        private = event.get("extendedProperties", {}).get("private", {})
        if private:
            assert "\x00" not in event["summary"] and "\n" not in event["summary"]


def test_template_syntax_in_a_title_is_text_never_evaluated(google_emulator: Emulator, cfg: Config) -> None:
    _seed(google_emulator, "{{ 7*7 }}")
    engine = open_engine(cfg, clock=lambda: ENDED)
    try:
        engine.run_pass()
    finally:
        engine.close()
    bodies = [d.parsed().get_content() for d in google_emulator.gmail.drafts.values()]
    assert bodies and all("49" not in b for b in bodies)


@pytest.mark.parametrize("payload", INJECTIONS, ids=lambda p: repr(p[:30]))
def test_preview_of_a_hostile_invitation_prints_safely(
        google_emulator: Emulator, cfg: Config, payload: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _seed(google_emulator, payload)
    ctx = Context(config_path=tmp_path / "unused.toml")
    ctx._config = cfg
    assert cmd_preview(argparse.Namespace(event="hostile1"), ctx, clock=lambda: ENDED) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x00" not in out and "\u2028" not in out and "\x85" not in out
    to_lines = [line.strip()[3:] for line in out.splitlines() if line.strip().startswith("To:")]
    assert to_lines, "preview shows the drafts"
    for value in to_lines:
        (only,) = getaddresses([value])  # exactly one mailbox per draft
        assert only[1] in (VICTIM, "raj@acme.example")
    assert "49" not in out.replace("2049", "")
    assert google_emulator.gmail.drafts == {}  # preview writes nothing


def test_malformed_ics_is_a_clear_error_not_a_traceback(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from followupd.cli.app import main

    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\n\x00\xff\xfe garbage")
    config = tmp_path / "config.toml"
    config.write_text(f'[me]\nname = "Me"\nemail = "me@example.com"\n[ics]\nsource = "{bad}"\n'
                      f'output = "{tmp_path / "out.ics"}"\n[maildir]\npath = "{tmp_path / "Drafts"}"\n')
    code = main(["--config", str(config), "run", "--once"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "bad.ics" in err
