"""message.py: hostile header input never yields extra headers or recipients (SPEC §4.7)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followupd.core.settings import MeConfig
from followupd.core.message import (
    SUBJECT_LIMIT,
    build_message,
    check_address,
    message_bytes,
    sanitize_header,
)
from followupd.core.model import DRAFT_KEY_HEADER, DraftContent, Person

ME = MeConfig(name="Jordan Rivera", email="jordan@example.com", phone="+1 555 0100")
WHEN = datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)
FORBIDDEN = "\r\n\x00\x85\u2028\u2029"
EXPECTED = {"from", "to", "subject", "date", "message-id", DRAFT_KEY_HEADER.lower(),
            "mime-version", "content-type", "content-transfer-encoding"}


def _parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def _content(msg: email.message.EmailMessage) -> str:
    """The text body with line ends normalized (the wire form uses CRLF)."""
    return str(msg.get_content()).replace("\r\n", "\n")


def _check_safe(raw: bytes, to: str) -> email.message.EmailMessage:
    """The properties every produced message must have, checked on the bytes."""
    msg = _parse(raw)
    names = [n.lower() for n in msg.keys()]
    assert set(names) <= EXPECTED, names
    assert len(names) == len(set(names))
    assert "cc" not in names and "bcc" not in names
    addresses = msg["To"].addresses
    assert [a.addr_spec for a in addresses] == [to]
    subject = str(msg["Subject"])
    assert len(subject) <= SUBJECT_LIMIT
    assert not any(ch in subject for ch in FORBIDDEN)
    assert all(len(line) <= 998 for line in re.split(rb"\r\n|\n", raw))
    return msg


def _build(name: str = "Sam Park", to: str = "sam@acme.com", subject: str = "Thank you",
           body: str = "Hi Sam,\n\nThanks!\n") -> bytes:
    draft = DraftContent(to=Person(email=to, name=name), subject=subject, body=body)
    return message_bytes(build_message(draft, me=ME, key="k3y", date=WHEN))


def test_ordinary_message_headers_and_body() -> None:
    msg = _check_safe(_build(), "sam@acme.com")
    assert msg["From"].addresses[0].display_name == "Jordan Rivera"
    assert msg["From"].addresses[0].addr_spec == "jordan@example.com"
    assert msg["To"].addresses[0].display_name == "Sam Park"
    assert str(msg["Subject"]) == "Thank you"
    assert msg[DRAFT_KEY_HEADER] == "k3y"
    assert msg["Date"].datetime == WHEN
    assert msg["Message-ID"].endswith("@example.com>")
    assert _content(msg) == "Hi Sam,\n\nThanks!\n"


def test_bytes_use_crlf_by_default_and_lf_on_request() -> None:
    draft = DraftContent(to=Person("sam@acme.com"), subject="s", body="a\nb")
    msg = build_message(draft, me=ME, key="k", date=WHEN)
    crlf = message_bytes(msg)
    assert b"\r\n" in crlf and b"\n" not in crlf.replace(b"\r\n", b"")
    lf = message_bytes(msg, linesep="\n")
    assert b"\r" not in lf


@pytest.mark.parametrize("name", [
    "=?UTF-8?Q?=0A?=Bcc: x@evil.com",
    "=?utf-8?b?Cg==?=Bcc: x@evil.com",
    "Sam\nBcc: x@evil.com",
    "Sam\r\nBcc: x@evil.com",
    "Sam\x00Bcc: x@evil.com",
    "Sam\u2028Bcc: x@evil.com",
    "Sam\u0085Bcc: x@evil.com",
    "Sam\u2029Bcc: x@evil.com",
    'a@x.com, b@y.com',
    '"x" <a@x.com>, b@y.com',
    "Undisclosed: a@x.com, b@y.com;",
    "\x1b[31mSam\x1b[0m",
    "Sam " * 200,
])
def test_hostile_display_name_never_adds_headers_or_recipients(name: str) -> None:
    msg = _check_safe(_build(name=name), "sam@acme.com")
    display = msg["To"].addresses[0].display_name
    assert not any(ch in display for ch in FORBIDDEN)
    assert "\x1b" not in display


@pytest.mark.parametrize("subject", [
    "=?UTF-8?Q?=0A?=Bcc: x@evil.com",
    "Thanks\r\nBcc: x@evil.com",
    "Thanks\u2028Bcc: x@evil.com\u2029",
    "x" * 5000,
    "Zoë " * 300,
])
def test_hostile_subject_is_one_capped_line(subject: str) -> None:
    msg = _check_safe(_build(subject=subject), "sam@acme.com")
    assert "Bcc" not in msg.keys()


@pytest.mark.parametrize("to", [
    "a@x.com, b@y.com",
    '"x" <a@x>, b@y',
    "a@x.com b@y.com",
    "<a@x.com>",
    "a@x.com;b@y.com",
    "Group: a@x.com;",
    "a@x.com\nBcc: b@y.com",
    "=?UTF-8?Q?a=40x.com?=@y.com",
    "no-at-sign",
    "",
    "a@localhost",
])
def test_recipient_must_be_exactly_one_address(to: str) -> None:
    with pytest.raises(ValueError):
        _build(to=to)


def test_recipient_whitespace_is_trimmed() -> None:
    _check_safe(_build(to="  sam@acme.com "), "sam@acme.com")
    assert check_address(" a.b+c@sub.example.org ") == "a.b+c@sub.example.org"


def test_bad_key_and_bad_me_email_are_refused() -> None:
    draft = DraftContent(to=Person("sam@acme.com"), subject="s", body="b")
    with pytest.raises(ValueError, match="X-Followupd-Key"):
        build_message(draft, me=ME, key="k\nBcc: x@y.com")
    with pytest.raises(ValueError, match=r"\[me\] email"):
        build_message(draft, me=MeConfig(name="J", email="a@x.com, b@y.com"), key="k")


def test_long_body_lines_are_quoted_printable_and_round_trip() -> None:
    body = "word " * 1000 + "\n" + "y" * 4000 + "\nZoë ✓\n"
    raw = _build(body=body)
    msg = _check_safe(raw, "sam@acme.com")
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert _content(msg) == body


def test_body_keeps_text_but_drops_control_characters() -> None:
    msg = _parse(_build(body="Hi\r\nthere\x00\x1b[2J\tok\n"))
    assert _content(msg) == "Hi\nthere\tok\n"


@given(st.text())
@settings(max_examples=300)
def test_sanitize_header_never_leaves_forbidden_characters(text: str) -> None:
    clean = sanitize_header(text)
    assert not any(ch in clean for ch in FORBIDDEN)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in clean)
    assert "=?" not in clean
    assert clean == clean.strip()
    assert sanitize_header(clean) == clean  # idempotent


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_sanitize_header_respects_limit(text: str, limit: int) -> None:
    assert len(sanitize_header(text, limit)) <= limit


@given(name=st.text(max_size=300), subject=st.text(max_size=400), body=st.text(max_size=2000))
@settings(max_examples=150, deadline=None)
def test_round_trip_never_adds_headers(name: str, subject: str, body: str) -> None:
    _check_safe(_build(name=name, subject=subject, body=body), "sam@acme.com")


def test_sanitize_collapses_whitespace_and_strips_ansi() -> None:
    assert sanitize_header("  Sam \t\n Park\x1b[1m!\x1b[0m ") == "Sam Park!"
    assert sanitize_header("a\u202eb") == "ab"
    assert sanitize_header("abcdef", 4) == "abc…"
