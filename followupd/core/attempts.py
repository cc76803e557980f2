"""When a failing action is tried again, and when it is set aside (SPEC §4.10).

An action that fails for a reason other than a transient one is recorded on its
ledger row as a ``Failure``.  The row is tried again on a later pass after a
growing delay; after ``MAX_ATTEMPTS`` it is set aside as *needs attention* and
waits for ``followupd retry``.  Every other action goes on meanwhile: one
failing item never delays another.

Pure: the runtime asks ``due`` before an action and ``after_failure`` when one
failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from followupd.core.model import Failure, LedgerEntry

# The wait after the 1st, 2nd, 3rd and 4th failure; the 5th sets the row aside
# (about ten and a half hours after the first failure).
RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=8))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_ERROR = 300  # characters of the last error kept on the row

WRITE, UPDATE, WITHDRAW = "write", "update", "withdraw"


def due(entry: LedgerEntry | None, action: str, now: datetime) -> bool:
    """May ``action`` on this row run now?  A failure of a *different* action does not hold it
    back (a withdrawal after a failing move is a new request)."""
    f = entry.failure if entry is not None else None
    if f is None or f.action != action:
        return True
    return f.next_attempt is not None and f.next_attempt <= now


def after_failure(entry: LedgerEntry | None, action: str, error: str, now: datetime) -> Failure:
    """The row's failure record once ``action`` failed once more with ``error``."""
    f = entry.failure if entry is not None else None
    attempts = (f.attempts if f is not None and f.action == action else 0) + 1
    wait = RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None
    text = " ".join(error.split()) or "unknown error"
    if len(text) > MAX_ERROR:
        text = text[:MAX_ERROR - 1] + "…"
    return Failure(action, attempts, text, now + wait if wait is not None else None)


def needing_attention(n: int) -> str:
    """"1 follow-up needs attention", "3 follow-ups need attention" (STATUS=, status, run, doctor)."""
    return f"{n} follow-up{'s need' if n != 1 else ' needs'} attention"


__all__ = ["MAX_ATTEMPTS", "needing_attention", "RETRY_DELAYS", "UPDATE", "WITHDRAW", "WRITE", "after_failure", "due"]
