"""The step registry: every step of the follow-up plan (SPEC §2), declared once.

A step says what it makes (a reminder, drafts, or both), when it falls due,
who its drafts go to, whether it belongs to one round (interview) or to the
whole application, which ``[plan.steps.<id>]`` keys it reads and which
templates it renders.  Config validation, ``plan``, ``render``,
``explain``/``preview`` and ``status`` all read this table and nothing else,
so adding a step is one entry here plus its templates in
``followupd/templates/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from followupd.core.model import Outcome


class Timing(StrEnum):
    """When a step falls due, relative to the interview."""

    BEFORE_START = "before-start"  # [minutes_before] before the start ([duration_minutes] long)
    AT_END = "at-end"  # when the interview ends
    BUSINESS_DAYS = "business-days"  # [time] on the [business_days]-th business day after the last day
    AFTER_DECISION = "after-decision"  # like BUSINESS_DAYS, or 1 business day after a known decision date
    ON_OUTCOME = "on-outcome"  # when the outcome named by ``only_on`` is recorded


class Recipients(StrEnum):
    """Who a step's drafts go to."""

    NONE = "none"  # a reminder only
    INTERVIEWERS = "interviewers"  # one draft per interviewer
    REFERENCES = "references"  # one draft per configured [[references]]
    CONTACT = "contact"  # one draft to the recruiter or coordinator (else the first interviewer)


class Scope(StrEnum):
    """Whether a step happens for every round (interview) or once per application."""

    ROUND = "round"  # every interview
    FIRST_ROUND = "first-round"  # once per application, after its first round (references)
    LATEST_ROUND = "latest-round"  # once per application, for its latest round (a new round supersedes it)


_TIMING_KEYS = {
    Timing.BEFORE_START: frozenset({"minutes_before", "duration_minutes"}),
    Timing.AT_END: frozenset(),
    Timing.BUSINESS_DAYS: frozenset({"business_days", "time"}),
    Timing.AFTER_DECISION: frozenset({"business_days", "time"}),
    Timing.ON_OUTCOME: frozenset(),
}


@dataclass(frozen=True)
class Step:
    id: str
    summary: str  # what the step is for, in a few words (explain, preview, the starter config)
    timing: Timing
    reminder: bool = True
    drafts: Recipients = Recipients.NONE
    scope: Scope = Scope.ROUND
    # the default timing: minutes before the start and the reminder's length (BEFORE_START),
    # or business days after and the local time (BUSINESS_DAYS, AFTER_DECISION)
    minutes_before: int = 30
    duration_minutes: int = 15
    business_days: int = 0
    time: str = "09:00"
    cancelled_by_outcome: bool = False  # an outcome recorded before it falls due cancels it
    only_on: Outcome | None = None  # ON_OUTCOME: the outcome that brings it
    # interview kinds (invitation.InterviewKind values) the step is not for: an informational
    # chat gets no references heads-up and no check-in "about the role"
    not_for: frozenset[str] = frozenset()

    @property
    def has_drafts(self) -> bool:
        return self.drafts is not Recipients.NONE

    @property
    def draft_template(self) -> str:
        return f"{self.id}.j2"

    @property
    def reminder_template(self) -> str:
        return f"reminder-{self.id}.j2"

    @property
    def templates(self) -> tuple[str, ...]:
        """The logical names of the templates this step renders."""
        return ((self.reminder_template,) if self.reminder else ()) + \
            ((self.draft_template,) if self.has_drafts else ())

    @property
    def config_keys(self) -> frozenset[str]:
        """The keys ``[plan.steps.<id>]`` may set for this step."""
        keys = {"enabled"} | _TIMING_KEYS[self.timing]
        if self.reminder:
            keys.add("reminder_template")
        if self.has_drafts:
            keys.add("template")
        return frozenset(keys)


_CHAT = frozenset({"informational"})

STEPS: tuple[Step, ...] = (
    Step("prepare", "get ready: names, titles, when they decide", Timing.BEFORE_START,
         minutes_before=30, duration_minutes=15, not_for=_CHAT),
    Step("thank-you", "thank each interviewer", Timing.AT_END, drafts=Recipients.INTERVIEWERS),
    Step("references", "give the references a heads-up", Timing.AT_END, drafts=Recipients.REFERENCES,
         scope=Scope.FIRST_ROUND, not_for=_CHAT),
    Step("handwritten-note", "mail handwritten cards", Timing.BUSINESS_DAYS, business_days=1, time="09:00"),
    Step("keep-applying", "keep applying", Timing.BUSINESS_DAYS, business_days=2, time="10:00",
         not_for=_CHAT),
    Step("check-in", "a polite check-in if no word came", Timing.AFTER_DECISION, drafts=Recipients.CONTACT,
         scope=Scope.LATEST_ROUND, business_days=10, time="10:00", cancelled_by_outcome=True, not_for=_CHAT),
    Step("gracious-close", "thank them after a rejection", Timing.ON_OUTCOME, reminder=False,
         drafts=Recipients.CONTACT, only_on=Outcome.REJECTED, not_for=_CHAT),
)


def ids() -> tuple[str, ...]:
    """Every step id, in plan order."""
    return tuple(s.id for s in STEPS)


def get(step_id: str) -> Step:
    """The step with this id; KeyError names the known ones."""
    for s in STEPS:
        if s.id == step_id:
            return s
    raise KeyError(f"unknown step {step_id!r}; the steps are {', '.join(ids())}")


def all_templates() -> tuple[str, ...]:
    """Every template name the registry's steps render."""
    return tuple(name for s in STEPS for name in s.templates)
