"""Gmail v1 ``users.drafts`` (and the send endpoints, which only record a violation).

Semantics kept from Gmail:
* ``drafts.create``/``drafts.update`` take ``{"message": {"raw": base64url}}``;
  every update gives the draft's message a new id (the draft id stays).
* ``drafts.list`` answers ``{"resultSizeEstimate": 0}`` with no ``drafts`` key
  when nothing matches; ``maxResults`` defaults to 100.
* ``drafts.get`` supports ``format`` = ``minimal`` | ``metadata`` | ``full`` |
  ``raw``; a missing draft is a 404.  It has no ``metadataHeaders`` parameter
  (``messages.get`` has): one is refused with 400, as Google refuses unknown
  parameters.

Supported ``q``, tokenised as Gmail does (terms are ANDed, case-insensitive; a
value is a run of characters up to a space, a parenthesis or a quote, or a
``"quoted phrase"``; an unbalanced quote is a 400):
``to:ADDR`` (a whole address, or a whole word of one, in To/Cc/Bcc — not a
substring), ``from:ADDR`` likewise, ``subject:WORD`` or ``subject:"a phrase"``
(substring of the Subject), ``rfc822msgid:ID`` (the Message-ID, with or
without angle brackets) and bare words or ``"phrases"`` (substring of the
subject or the body).  Gmail's other operators (``in:``, ``after:``, ``OR`` …)
are not emulated and match as words.

Search lag: with ``search_lag`` seconds set, a draft written (created or
updated) less than that long ago is not yet found by a ``q`` search, as
Gmail's index trails a write; the plain listing (no ``q``) shows it at once.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import time
from dataclasses import dataclass, field
from email.utils import getaddresses
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from .errors import ApiError

Json = dict[str, Any]


@dataclass
class _Draft:
    id: str
    message_id: str
    thread_id: str
    raw: bytes
    written: float = field(default_factory=time.monotonic)  # when last created or updated

    def parsed(self) -> EmailMessage:
        msg = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(msg, EmailMessage)
        return msg


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def decode_raw(raw: Any) -> bytes:
    """``message.raw`` as Gmail accepts it: base64url, padding optional."""
    if not isinstance(raw, str) or not raw:
        raise ApiError(400, "Invalid value at 'draft.message.raw'", "invalidArgument")
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise ApiError(400, "Invalid value at 'draft.message.raw' (base64url)", "invalidArgument") from None


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


class GmailApi:
    """State and handlers of Gmail drafts.  The server serialises calls with one lock."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.drafts: dict[str, _Draft] = {}
        self.sent: list[bytes] = []  # messages the *person* sent (test control), never followupd
        self.violations: list[str] = []
        self.search_lag = 0.0  # seconds a new or rewritten draft stays invisible to q
        self._ids = itertools.count(0x18C2A0B1D4E50000)

    def _new_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids):x}"

    def _user(self, user_id: str) -> None:
        if user_id not in ("me", self.account):
            raise ApiError(403, "Delegation denied for " + self.account, "forbidden")

    def _draft(self, draft_id: str) -> _Draft:
        draft = self.drafts.get(draft_id)
        if draft is None:
            raise ApiError(404, "Requested entity was not found.", "notFound")
        return draft

    def _short(self, draft: _Draft) -> Json:
        return {"id": draft.id, "message": {"id": draft.message_id, "threadId": draft.thread_id,
                                            "labelIds": ["DRAFT"]}}

    # ---- handlers ---------------------------------------------------------
    def create(self, user_id: str, body: Json) -> Json:
        self._user(user_id)
        raw = decode_raw((body.get("message") or {}).get("raw"))
        message_id = self._new_id()
        draft = _Draft(self._new_id("r"), message_id, message_id, raw)
        self.drafts[draft.id] = draft
        return self._short(draft)

    def update(self, user_id: str, draft_id: str, body: Json) -> Json:
        self._user(user_id)
        draft = self._draft(draft_id)
        draft.raw = decode_raw((body.get("message") or {}).get("raw"))
        draft.message_id = self._new_id()
        draft.written = time.monotonic()
        return self._short(draft)

    def delete(self, user_id: str, draft_id: str) -> None:
        self._user(user_id)
        self._draft(draft_id)
        del self.drafts[draft_id]

    def get(self, user_id: str, draft_id: str, query: dict[str, Any]) -> Json:
        self._user(user_id)
        draft = self._draft(draft_id)
        fmt = query.get("format", "full")
        if "metadataHeaders" in query:
            raise ApiError(400, 'Invalid JSON payload received. Unknown name "metadataHeaders": Cannot bind query '
                           "parameter.", "invalidArgument")
        body = self._short(draft)
        message: Json = body["message"]
        if fmt == "minimal":
            return body
        msg = draft.parsed()
        message["snippet"] = _body_text(msg)[:100]
        message["sizeEstimate"] = len(draft.raw)
        if fmt == "raw":
            message["raw"] = _b64(draft.raw)
            return body
        headers = [{"name": k, "value": str(v)} for k, v in msg.items()]
        payload: Json = {"mimeType": msg.get_content_type(), "headers": headers}
        if fmt == "full":
            text = _body_text(msg).encode("utf-8")
            payload["body"] = {"size": len(text), "data": _b64(text)}
        elif fmt != "metadata":
            raise ApiError(400, f"Invalid value for format: {fmt}", "invalidArgument")
        message["payload"] = payload
        return body

    def list_drafts(self, user_id: str, query: dict[str, Any]) -> Json:
        self._user(user_id)
        q = str(query.get("q", ""))
        matcher = _Query(q)
        indexed_before = time.monotonic() - self.search_lag
        matches = [d for d in sorted(self.drafts.values(), key=lambda d: d.message_id, reverse=True)
                   if (not q.strip() or d.written <= indexed_before) and matcher.matches(d.parsed())]
        size = min(int(query.get("maxResults", 100)), 500)
        offset = int(query.get("pageToken", "0") or 0)
        chunk = matches[offset:offset + size]
        body: Json = {"resultSizeEstimate": len(matches)}
        if chunk:
            body["drafts"] = [{"id": d.id, "message": {"id": d.message_id, "threadId": d.thread_id}}
                              for d in chunk]
        if offset + size < len(matches):
            body["nextPageToken"] = str(offset + size)
        return body

    def send_violation(self, what: str) -> ApiError:
        """followupd must never send (SPEC §4.1): record it and refuse."""
        self.violations.append(what)
        return ApiError(403, "followupd emulator: sending mail is forbidden (SPEC §4.1)", "forbidden")

    # ---- test controls ------------------------------------------------------
    def user_edit(self, draft_id: str, raw: bytes) -> str:
        draft = self._draft(draft_id)
        draft.raw = raw
        draft.message_id = self._new_id()
        return draft.message_id

    def user_send(self, draft_id: str) -> None:
        """The person pressed Send: the draft disappears from the drafts list."""
        self.sent.append(self._draft(draft_id).raw)
        del self.drafts[draft_id]


_TOKEN = re.compile(r'\s*(?:(?P<op>[A-Za-z0-9]+):)?(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s()"]+)|(?P<other>\S))')
_OPS = {"to", "from", "subject", "rfc822msgid"}
_WORDS = re.compile(r"[^\w.+'-]+|(?<=\w)[.@](?=\w)")


class _Query:
    """The subset of Gmail's search language documented in the module docstring."""

    def __init__(self, q: str) -> None:
        self.terms: list[tuple[str, str]] = []
        position = 0
        while position < len(q.rstrip()):
            found = _TOKEN.match(q, position)
            if found is None or found["other"] == '"':
                raise ApiError(400, "Invalid search query", "invalidArgument")
            position = found.end()
            if found["other"] is not None:  # a parenthesis: grouping is not emulated
                continue
            value = (found["quoted"] if found["quoted"] is not None else found["bare"]).lower()
            op = (found["op"] or "").lower()
            if op and op not in _OPS:  # an operator not emulated matches as a word
                value, op = f"{op}:{value}", ""
            self.terms.append((op or "text", value))

    def matches(self, msg: EmailMessage) -> bool:
        return all(self._match(op, value, msg) for op, value in self.terms)

    @staticmethod
    def _match(op: str, value: str, msg: EmailMessage) -> bool:
        if op in ("to", "from"):
            headers = ("To", "Cc", "Bcc") if op == "to" else ("From",)
            people = getaddresses([str(v) for h in headers for v in msg.get_all(h, [])])
            words = {w for name, addr in people for w in _WORDS.split(f"{name} {addr}".lower()) if w}
            return any(value == addr.lower() for _, addr in people) or value in words
        if op == "subject":
            return value in str(msg.get("Subject", "")).lower()
        if op == "rfc822msgid":
            return value.strip("<>") == str(msg.get("Message-ID", "")).strip().strip("<>").lower()
        return value in str(msg.get("Subject", "")).lower() or value in _body_text(msg).lower()
