"""Deterministic identifiers (SPEC §4.4).  Pure functions, no I/O."""

from __future__ import annotations

import base64
import hashlib


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def calendar_event_id(account: str, calendar_id: str, interview_id: str, step: str) -> str:
    """A Google Calendar event id: base32hex (a-v, 0-9), 32 characters.

    The same inputs always give the same id, so a retried insert gets a 409 and
    the existing event is adopted instead of duplicated.
    """
    raw = base64.b32hexencode(_digest(account, calendar_id, interview_id, step)[:20])
    return raw.decode("ascii").lower().rstrip("=")


def draft_key(interview_id: str, step: str, recipient: str) -> str:
    """The value of the ``X-Followupd-Key`` header: unique per interview, step and recipient."""
    return _digest(interview_id, step, recipient.lower()).hex()[:40]
