"""Gmail drafts: the draft sink.  It creates, rewrites and withdraws drafts and
never sends anything (SPEC §4.1: no code here calls a send method).

Gmail drafts take no client-chosen id, so ``create`` is not idempotent: it is
never retried (see ``retry.py``), the engine records an intent first, and a
create whose answer was lost is resolved by ``find``, which looks for the
draft's ``X-Followupd-Key`` header.  A draft's version is its message id,
which Gmail changes on every edit, the person's included.

Gmail's search index trails a write by some seconds, so ``find`` first looks
through the newest drafts of the plain listing (which shows a new draft at
once), and only then searches ``to:"ADDRESS"`` (quoted: an address may hold
characters Gmail's query language reads as syntax).
"""

from __future__ import annotations

import base64
import logging
from typing import Any, Iterator

from followupd.core import ids
from followupd.core.settings import Config
from followupd.errors import UserDeleted, UserEdited
from followupd.core.message import build_message, message_bytes, same_draft
from followupd.core.model import DRAFT_KEY_HEADER, DraftContent, FollowUp, LedgerEntry
from followupd.backends.protocols import Written
from followupd.backends.google_common import DEFAULT_TIMEOUT, build_service
from followupd.backends.retry import HttpStatus, RetryPolicy

log = logging.getLogger("followupd.backends.gmail")

_ME = "me"
RECENT = 25  # newest drafts looked through before searching (a crash's draft is among them)


class GmailDrafts:
    """Implements ``protocols.DraftSink`` on ``users.drafts``."""

    def __init__(self, cfg: Config, credentials: Any, *, retry: RetryPolicy | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._cfg = cfg
        self._retry = retry or RetryPolicy()
        self._drafts = build_service("gmail", "v1", credentials, cfg.google.api_endpoint, timeout).users().drafts()

    def _raw(self, f: FollowUp) -> str:
        content = f.content
        if not isinstance(content, DraftContent):
            raise TypeError(f"GmailDrafts writes drafts, not {type(content).__name__}")
        key = ids.draft_key(f.interview_id, f.step, f.recipient or content.to.email)
        msg = build_message(content, me=self._cfg.me, key=key)
        return base64.urlsafe_b64encode(message_bytes(msg)).decode("ascii")

    def create(self, f: FollowUp) -> Written:
        # Never retried: a repeat after a lost answer would make a second draft.
        body = {"message": {"raw": self._raw(f)}}
        made = self._retry.call(self._drafts.create(userId=_ME, body=body).execute,
                                what=f"creating the {f.step!r} draft", retry=False)
        return Written(str(made["id"]), str(made["message"]["id"]))

    def find(self, f: FollowUp) -> Written | None:
        """The draft carrying this follow-up's key, if one exists.

        The query narrows by recipient only: the key covers the recipient, while
        the subject may have been rewritten since (a reschedule) or edited.
        """
        content = f.content
        recipient = (f.recipient or (content.to.email if isinstance(content, DraftContent) else "")).lower()
        key = ids.draft_key(f.interview_id, f.step, recipient)
        seen: set[str] = set()
        for listing in self._candidates(recipient):
            for item in listing.get("drafts", ()):
                draft_id = str(item["id"])
                if draft_id in seen:
                    continue
                seen.add(draft_id)
                found = self._header(draft_id, DRAFT_KEY_HEADER)
                if found is not None and found[0] == key:
                    self._check_unchanged(draft_id, f)
                    return Written(draft_id, found[1])
        return None

    def _candidates(self, recipient: str) -> Iterator[dict[str, Any]]:
        """Listings to look through, each fetched only when the one before did not hold the draft:
        the newest drafts (the plain listing shows a new one at once), then every page of the
        ``to:"recipient"`` search."""
        what = "looking for a draft written before"
        yield self._retry.call(self._drafts.list(userId=_ME, maxResults=RECENT).execute, what=what)
        query = 'to:"' + recipient.replace('"', "") + '"'
        page_token: str | None = None
        while True:
            page: dict[str, Any] = self._retry.call(
                self._drafts.list(userId=_ME, q=query, maxResults=100, pageToken=page_token).execute, what=what)
            yield page
            page_token = page.get("nextPageToken")
            if not page_token:
                return

    def _check_unchanged(self, draft_id: str, f: FollowUp) -> None:
        """Raise UserEdited if the draft no longer says what ``f`` says (read in full)."""
        assert isinstance(f.content, DraftContent), "a draft sink only takes drafts"
        try:
            draft = self._retry.call(self._drafts.get(userId=_ME, id=draft_id, format="raw").execute,
                                     what="reading a draft written before", passthrough=(404,))
        except HttpStatus:
            raise UserDeleted(f"draft {draft_id} is gone (sent or deleted)") from None
        raw = base64.urlsafe_b64decode(str(draft.get("message", {}).get("raw", "")) + "==")
        if not same_draft(raw, f.content, me=self._cfg.me):
            raise UserEdited(f"draft {draft_id} was changed by the person after an interrupted write")

    def _header(self, draft_id: str, name: str) -> tuple[str, str] | None:
        """``(header value, message id)`` of one draft; None if it vanished meanwhile."""
        try:
            draft = self._retry.call(self._drafts.get(userId=_ME, id=draft_id, format="metadata").execute,
                                     what="reading a draft's headers", passthrough=(404,))
        except HttpStatus:
            return None
        message = draft.get("message", {})
        for header in message.get("payload", {}).get("headers", ()):
            if header.get("name", "").lower() == name.lower():
                return str(header.get("value", "")).strip(), str(message.get("id", ""))
        return "", str(message.get("id", ""))

    def check(self, entry: LedgerEntry) -> Written | None:
        try:
            draft = self._retry.call(self._drafts.get(userId=_ME, id=entry.backend_id, format="minimal").execute,
                                     what="checking a draft", passthrough=(404,))
        except HttpStatus:
            return None
        return Written(str(draft["id"]), str(draft["message"]["id"]))

    def _untouched(self, entry: LedgerEntry) -> None:
        current = self.check(entry)
        if current is None:
            raise UserDeleted(f"draft {entry.backend_id} is gone (sent or deleted by the person)")
        if current.version != entry.version:
            raise UserEdited(f"draft {entry.backend_id} was edited by the person")

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        # Gmail has no If-Match: check, then write.  A person editing the draft
        # in the second between the two requests is the one race left open.
        self._untouched(entry)
        body = {"id": entry.backend_id, "message": {"raw": self._raw(f)}}
        try:
            made = self._retry.call(self._drafts.update(userId=_ME, id=entry.backend_id, body=body).execute,
                                    what=f"rewriting the {f.step!r} draft", passthrough=(404,))
        except HttpStatus:
            raise UserDeleted(f"draft {entry.backend_id} is gone (sent or deleted by the person)") from None
        return Written(str(made["id"]), str(made["message"]["id"]))

    def delete(self, entry: LedgerEntry) -> None:
        self._untouched(entry)
        try:
            self._retry.call(self._drafts.delete(userId=_ME, id=entry.backend_id).execute,
                             what="withdrawing a draft", passthrough=(404,))
        except HttpStatus as exc:
            if not exc.retried:  # gone between the check and the delete: the person's doing
                raise UserDeleted(f"draft {entry.backend_id} is gone (sent or deleted by the person)") from None
