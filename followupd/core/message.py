"""Safe e-mail message building (SPEC §4.7).

Every header value that reaches a draft passes through here.  The text comes
from strangers (anyone can send an invitation), so:

* control characters, line and paragraph separators and ANSI escapes are
  removed from header values (``sanitize_header``);
* RFC 2047 encoded-word openers (``=?``) are defanged, because Python 3.11 and
  3.12 before their security releases decode ``=?UTF-8?Q?=0A?=`` inside a
  header value into a real newline and then fold it out unquoted
  (CVE-2024-6923, header injection);
* the recipient must be exactly one plain address, so a calendar "email" such as
  ``a@x.com, b@y.com`` can never turn into two recipients;
* the subject is capped at 200 characters and no line of the message exceeds
  998 characters (long body lines are sent quoted-printable);
* the built message is serialized and parsed back with the standard parser,
  and anything other than the expected headers and the one recipient is
  refused (defence in depth, whatever the interpreter's patch level).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from followupd.core.settings import MeConfig
from followupd.core import addresses
from followupd.core.model import DRAFT_KEY_HEADER, DraftContent

SUBJECT_LIMIT = 200
NAME_LIMIT = 100
MAX_LINE = 998
# Lines longer than this (or non-ASCII bodies) are sent quoted-printable.
_PLAIN_LINE = 78

# The policy used for the bytes handed to the sinks: RFC 5322 wire format.
WIRE_POLICY = policy.default.clone(linesep="\r\n", max_line_length=_PLAIN_LINE)

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[@-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# Characters that end a line somewhere (turned into a space, then collapsed).
_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Bidirectional overrides and isolates: invisible, used to disguise text.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")

# A single plain addr-spec: dot-atom local part, dotted domain.  No quotes,
# comments, angle brackets, commas or spaces, so it can only be one mailbox.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")
_KEY = re.compile(r"[A-Za-z0-9._-]{1,128}")

_EXPECTED_HEADERS = frozenset({
    "from", "to", "subject", "date", "message-id", DRAFT_KEY_HEADER.lower(),
    "mime-version", "content-type", "content-transfer-encoding",
})


def sanitize_header(text: str, limit: int | None = None) -> str:
    """Make ``text`` safe to use as (part of) one header value.

    Removes ANSI escapes, bidirectional overrides, lone surrogates and every
    control character (C0, DEL, C1); turns line breaks (CR, LF, NUL-like
    separators, U+0085, U+2028, U+2029) and tabs into spaces; collapses runs of
    whitespace; defangs RFC 2047 encoded-word openers; and caps the result at
    ``limit`` characters (ending in "…" when cut).  Idempotent.
    """
    if not text.isprintable():
        # Everything removed or replaced below (escapes, breaks, tabs, bidi, controls) is
        # non-printable, so the character loop runs only when there is something to strip:
        # plan renders this for every name and title of every active interview, every pass.
        text = _ANSI.sub("", text)
        out: list[str] = []
        for ch in text:
            if ch in _BREAKS or ch == "\t":
                out.append(" ")
            elif ch in _BIDI:
                continue
            elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
                continue  # NUL, other controls, lone surrogates
            else:
                out.append(ch)
        text = "".join(out)
    clean = " ".join(text.split())
    # "=?" starts an encoded word that vulnerable parsers decode (CVE-2024-6923).
    clean = clean.replace("=?", "= ?")
    if limit is not None and len(clean) > limit:
        if limit <= 1:
            return clean[:limit]
        clean = clean[: limit - 1].rstrip() + "…"
    return clean


def check_address(email: str) -> str:
    """Return ``email`` if it is exactly one plain address, else raise ValueError.

    Surrounding whitespace is ignored.  The judge is ``core.addresses`` (the one
    validator, which config uses too); the plain addr-spec shape checked after it
    rules out anything a header could read as several mailboxes or a group.
    """
    candidate = email.strip()
    if not candidate:
        raise ValueError("the recipient has no e-mail address")
    try:
        checked = addresses.check(candidate)
    except addresses.InvalidAddress as exc:
        raise ValueError(f"not exactly one valid e-mail address: {sanitize_header(candidate, 80)!r} ({exc})") \
            from None
    if "=?" in checked or not _ADDR_SPEC.fullmatch(checked):  # an encoded word, or not one plain mailbox
        raise ValueError(f"not exactly one valid e-mail address: {sanitize_header(candidate, 80)!r}")
    return checked


def build_message(draft: DraftContent, *, me: MeConfig, key: str,
                  date: datetime | None = None) -> EmailMessage:
    """A draft message from ``me`` to ``draft.to``: one recipient, safe headers.

    Raises ValueError when the recipient or ``me.email`` is not exactly one
    valid address, or when ``key`` is not a plain token.
    """
    to_addr = check_address(draft.to.email)
    try:
        from_addr = check_address(me.email)
    except ValueError as exc:
        raise ValueError(f"[me] email: {exc}") from None
    if not _KEY.fullmatch(key):
        raise ValueError(f"{DRAFT_KEY_HEADER} must be a plain token, got {sanitize_header(key, 80)!r}")

    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = _address(me.name, from_addr)
    msg["To"] = _address(draft.to.name, to_addr)
    msg["Subject"] = sanitize_header(draft.subject, SUBJECT_LIMIT)
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=from_addr.rsplit("@", 1)[1])
    msg[DRAFT_KEY_HEADER] = key
    _set_body(msg, draft.body)
    _verify(msg, to_addr)
    return msg


def message_bytes(msg: EmailMessage, *, linesep: str = "\r\n") -> bytes:
    """The message in RFC 5322 form (CRLF line ends by default).

    This is what Gmail receives as ``raw`` and what a Maildir stores (pass
    ``linesep="\\n"`` for local-file line ends).
    """
    return msg.as_bytes(policy=WIRE_POLICY.clone(linesep=linesep))


def same_draft(raw: bytes, draft: DraftContent, *, me: MeConfig) -> bool:
    """Does a stored message still say what followupd writes for ``draft``?

    Compares the recipient, the subject and the text, as ``build_message``
    would produce them (Date and Message-ID aside).  Used when a draft found
    by its key after an interrupted write is about to be adopted: one the
    person changed meanwhile is theirs, not followupd's.
    """
    found = message_from_bytes(raw, policy=policy.default)
    key = str(found.get(DRAFT_KEY_HEADER, "")).strip()
    try:
        expected = build_message(draft, me=me, key=key or "0")
        to: tuple[Address, ...] = tuple(found["To"].addresses) if found["To"] is not None else ()
        text = found.get_content() if isinstance(found, EmailMessage) else None
        wanted = str(expected["To"].addresses[0].addr_spec).lower()
    except (ValueError, KeyError, LookupError, AttributeError):
        return False
    if len(to) != 1 or str(to[0].addr_spec).lower() != wanted:
        return False
    if str(found.get("Subject", "")) != str(expected["Subject"]):
        return False
    return _text(text) == _text(expected.get_content())


def _text(body: object) -> str:
    return str(body).replace("\r\n", "\n").rstrip()


def _address(name: str, addr_spec: str) -> Address:
    local, _, domain = addr_spec.rpartition("@")
    return Address(display_name=sanitize_header(name, NAME_LIMIT), username=local, domain=domain)


def _normalize_body(body: str) -> str:
    """Plain text with ``\\n`` line ends and no control characters but tab."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    body = _ANSI.sub("", body)
    body = "".join(
        ch for ch in body
        if ch in "\n\t" or (ch not in _BIDI and unicodedata.category(ch) not in ("Cc", "Cs"))
    )
    body = body.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return body if body.endswith("\n") else body + "\n"


def _set_body(msg: EmailMessage, body: str) -> None:
    text = _normalize_body(body)
    plain = text.isascii() and all(len(line) <= _PLAIN_LINE for line in text.split("\n"))
    msg.set_content(text, charset="utf-8", cte="7bit" if plain else "quoted-printable")


def _verify(msg: EmailMessage, to_addr: str) -> None:
    """Parse the serialized message back and refuse anything unexpected."""
    raw = message_bytes(msg)
    lines = re.split(rb"\r\n|\r|\n", raw)
    if any(len(line) > MAX_LINE for line in lines):
        raise ValueError("the message would have a line longer than 998 characters")
    parsed = message_from_bytes(raw, policy=policy.default)
    names = [n.lower() for n in parsed.keys()]
    unexpected = sorted(set(names) - _EXPECTED_HEADERS)
    if unexpected or len(names) != len(set(names)):
        raise ValueError(f"refusing to build a message with unexpected headers: {unexpected or names}")
    to = parsed["To"]
    addresses: tuple[Address, ...] = tuple(getattr(to, "addresses", ()))
    if len(addresses) != 1 or addresses[0].addr_spec.lower() != to_addr.lower():
        raise ValueError("refusing to build a message that is not addressed to exactly one recipient")
    subject = str(parsed["Subject"] or "")
    if any(ch in subject for ch in "\r\n\x00\x85\u2028\u2029"):
        raise ValueError("refusing to build a message whose subject spans several lines")
