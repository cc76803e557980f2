"""What followupd remembers of an interview between passes (``store`` keeps it, ``tracking`` updates it).

A module of its own so that reading the state (``status``) does not import the
whole core: reading the invitation happens only when ``interview()`` is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from followupd.core.model import CalendarEvent, Interview, Outcome

if TYPE_CHECKING:
    from followupd.core.settings import Config


@dataclass(frozen=True)
class InterviewRecord:
    """An interview as followupd remembers it between passes."""

    event: CalendarEvent
    first_seen: datetime
    outcome: Outcome | None = None
    outcome_at: datetime | None = None
    decision: date | None = None
    live: bool = True
    gone_reason: str = ""  # a GoneReason when no longer live
    settled: bool = False

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def calendar_id(self) -> str:
        return self.event.calendar_id

    @property
    def title(self) -> str:
        return self.event.title

    def interview(self, cfg: Config) -> Interview:
        """What followupd knows of this interview now: the event, read with what was recorded."""
        from followupd.core import detect  # reading an invitation is the core's heaviest import

        return detect.to_interview(self.event, cfg, outcome=self.outcome, outcome_at=self.outcome_at,
                                   decision=self.decision, first_seen=self.first_seen)
