"""Extension points (structlog's habit): small Protocols every backend implements.

The engine talks to backends only through these, and they carry only what it
calls.  Every write is durable when the call returns (the ledger is committed
right after it), so there is no flush.  ``followupd.testing.memory`` ships an
in-memory implementation of all three, used by the contract tests and the
hypothesis state machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol, runtime_checkable

from followupd.core.model import FollowUp, LedgerEntry, SyncResult


# ``(title, description) -> may this event be an interview?``  False must be certain.
Screen = Callable[[str, str], bool]


@dataclass(frozen=True)
class Written:
    """What a sink reports after a successful write: where it is and its version."""

    backend_id: str
    version: str


@runtime_checkable
class EventSource(Protocol):
    def sync(self, calendar_id: str, token: str | None, time_min: datetime) -> SyncResult:
        """Changes since ``token`` (``None``: a full listing from ``time_min``).

        A stale token is handled inside: the source resyncs and returns
        ``full=True``.  Events followupd wrote are included (with ``private``
        set) so the engine can notice the person's edits and deletions.
        Raises TransientError, AuthError, ConfigError.
        """
        ...

    def timezone(self, calendar_id: str) -> str:
        """The calendar's IANA time zone name (the engine caches it in state)."""
        ...


@runtime_checkable
class ScreeningEventSource(EventSource, Protocol):
    """A source that can skip building the events that cannot matter (Google Calendar).

    A first sync lists every event of the lookback window, thousands of them,
    and only a handful are interviews; building each one in full (attendees,
    organizer, times) is most of the pass's own work.
    """

    def sync_screened(self, calendar_id: str, token: str | None, time_min: datetime,
                      screen: Screen) -> SyncResult:
        """``sync``, except that an event followupd did not write and for which
        ``screen(title, description)`` is False is not built: it comes in
        ``passed_over`` instead of ``events``."""
        ...


@runtime_checkable
class EventSink(Protocol):
    """Where reminder events go (Google Calendar, the ICS output, memory)."""

    def create(self, f: FollowUp) -> Written:
        """Write the reminder.  Idempotent: an existing item with the same
        deterministic id is adopted when it still says what ``f`` says.
        Raises UserDeleted when that existing item was deleted by the person
        (Google: status cancelled), and UserEdited when the person changed it
        (a write whose answer was lost, then edited before the retry)."""
        ...

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        """Rewrite/move the item, only if still at ``entry.version``.
        Raises UserEdited (version differs) or UserDeleted (gone)."""
        ...

    def delete(self, entry: LedgerEntry) -> None:
        """Withdraw the item, only if still at ``entry.version``.
        Raises UserEdited; an item already gone raises UserDeleted."""
        ...


@runtime_checkable
class DraftSink(Protocol):
    """Where drafts go (Gmail, a Maildir, memory).  Never sends anything."""

    def create(self, f: FollowUp) -> Written:
        """Create the draft.  Not idempotent by itself: the caller records an
        intent first and calls ``find`` after a crash."""
        ...

    def find(self, f: FollowUp) -> Written | None:
        """Find a draft carrying this follow-up's ``X-Followupd-Key``, if any.

        Raises UserEdited when the draft found no longer says what ``f`` says
        (``message.same_draft``): the person changed it after an interrupted
        write, so it is theirs and must not be adopted as followupd's."""
        ...

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        """Rewrite an untouched draft.  Raises UserEdited / UserDeleted."""
        ...

    def delete(self, entry: LedgerEntry) -> None:
        """Withdraw an untouched draft.  Raises UserEdited / UserDeleted."""
        ...


@dataclass(frozen=True)
class Backends:
    """The backends one configuration asks for, with what they can do."""

    source: EventSource
    events: EventSink
    drafts: DraftSink
    watch: tuple[str, ...]
    write_to: str
    # The reminder sink writes into a calendar the source lists (Google, CalDAV, memory): a sync
    # reports followupd's own events, so the person's edits and deletions are seen there, and
    # ``write_to`` is synced even when it is not watched.  False for the ICS output file.
    sink_observed_by_source: bool = False
