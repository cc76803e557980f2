"""Which events are interviews (SPEC §3), and what we know of each one.

``classify`` runs over every event of every sync (10,000 on a first sync), so
the keyword matchers are compiled once per keyword list and cached.  Nothing
here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

from followupd.core.invitation import understand
from followupd.core.model import CalendarEvent, EventStatus, Interview, Outcome, Response
from followupd.core.people import is_me
from followupd.core.settings import Config

INTERVIEW_TAG = "#interview"
EXCLUDE_TAG = "#nofollowup"
OUTCOME_TAGS = {f"#{o.value}": o for o in Outcome}

_TAG = re.compile(r"(?<![\w#])#[A-Za-z][\w-]*")
_DECISION = re.compile(r"(?<!\w)decision\s*:\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


class VerdictRule(StrEnum):
    """The rule of SPEC §3 that decided whether an event is an interview."""

    WRITTEN_BY_FOLLOWUPD = "written-by-followupd"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXCLUDE_TAG = "exclude-tag"
    EXCLUDE_KEYWORD = "exclude-keyword"
    RECURRING = "recurring-series"
    TAG = "tag"
    KEYWORD = "keyword"
    NO_MATCH = "no-match"


@dataclass(frozen=True)
class Verdict:
    """Whether an event is an interview, the rule that decided, and why (for ``explain``)."""

    is_interview: bool
    rule: VerdictRule
    reason: str


def _tag_regex(tag: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w#]){re.escape(tag)}(?![\w-])", re.IGNORECASE)


_INTERVIEW_TAG = _tag_regex(INTERVIEW_TAG)
_EXCLUDE_TAG = _tag_regex(EXCLUDE_TAG)
_OUTCOME_TAG = re.compile(r"(?<![\w#])#(offer|rejected|withdrawn)(?![\w-])", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@lru_cache(maxsize=32)
def keyword_regex(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for all keywords: case-insensitive, at word boundaries.

    Runs of spaces in a keyword match any whitespace, and a plural "s" is
    allowed ("Interviews with Acme"), but a keyword never matches inside a word:
    "reinterview" and "interviewer training" are not interviews.  Longer
    keywords are tried first so the reported one is the most specific.
    """
    words = sorted({_norm(k) for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split(" ")) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})s?(?!\w)", re.IGNORECASE)


def _matched_keyword(match: re.Match[str], keywords: tuple[str, ...]) -> str:
    found = _norm(match.group(0))
    for k in keywords:
        if _norm(k) in (found, found[:-1]):
            return k
    return found


def may_be_interview(title: str, description: str, cfg: Config) -> bool:
    """A cheap necessary condition of ``classify(...).is_interview``, from the text alone.

    False means no event with this title and description can be an interview,
    whatever its attendees, status or exclude rules: ``classify`` needs the tag
    in the title or description, or a keyword in the title, to say yes.  A
    source uses it to pass over most events of a large listing without
    building them (``protocols.ScreeningEventSource``).
    """
    if ("#" in title and _INTERVIEW_TAG.search(title)) or ("#" in description and _INTERVIEW_TAG.search(description)):
        return True
    keywords = keyword_regex(cfg.detect.keywords)
    return keywords is not None and keywords.search(title) is not None


def classify(event: CalendarEvent, cfg: Config) -> Verdict:
    """Decide whether ``event`` is an interview (SPEC §3); the first rule that applies wins."""
    if event.written_by_followupd:
        return Verdict(False, VerdictRule.WRITTEN_BY_FOLLOWUPD, "followupd wrote this event (it is one of its reminders)")
    if event.status == EventStatus.CANCELLED:
        return Verdict(False, VerdictRule.CANCELLED, "the event is cancelled")
    me = next((a for a in event.attendees if is_me(a, cfg)), None)
    if me is not None and me.response == Response.DECLINED:
        return Verdict(False, VerdictRule.DECLINED, "you declined the invitation")
    title = event.title
    # Most events carry no "#" at all: skip the tag searches for them (this runs on every event).
    tagged = [(w, text) for w, text in (("title", title), ("description", event.description)) if "#" in text]
    where = next((w for w, text in tagged if _EXCLUDE_TAG.search(text)), None)
    if where:
        return Verdict(False, VerdictRule.EXCLUDE_TAG, f"the {where} carries the tag {EXCLUDE_TAG}")
    excludes = keyword_regex(cfg.detect.exclude)
    m = excludes.search(title) if excludes else None
    if m:
        word = _matched_keyword(m, cfg.detect.exclude)
        return Verdict(False, VerdictRule.EXCLUDE_KEYWORD, f'the title matches the exclude keyword "{word}"')
    where = next((w for w, text in tagged if _INTERVIEW_TAG.search(text)), None)
    if where:
        return Verdict(True, VerdictRule.TAG, f"the {where} carries the tag {INTERVIEW_TAG}")
    keywords = keyword_regex(cfg.detect.keywords)
    m = keywords.search(title) if keywords else None
    if m:
        word = _matched_keyword(m, cfg.detect.keywords)
        if event.recurring_event_id:
            return Verdict(False, VerdictRule.RECURRING,
                           f'the title matches the keyword "{word}", but the event repeats (a weekly catch-up '
                           f"is no interview); add {INTERVIEW_TAG} to its description if it is one")
        return Verdict(True, VerdictRule.KEYWORD, f'the title matches the keyword "{word}" ("{m.group(0)}")')
    return Verdict(False, VerdictRule.NO_MATCH, f"the title matches none of the keywords ({', '.join(cfg.detect.keywords)}) "
                   f"and neither title nor description carries {INTERVIEW_TAG}")


def to_interview(event: CalendarEvent, cfg: Config, *, outcome: Outcome | None = None,
                 outcome_at: datetime | None = None, decision: date | None = None,
                 first_seen: datetime | None = None) -> Interview:
    """What followupd knows of an interview; explicit ``outcome``/``decision`` win over tags."""
    inv = understand(event, cfg)
    facts = {"company": inv.company.source, "role": inv.role.source, "kind": inv.kind.source,
             "contact": inv.contact_source}
    if outcome is None:
        tags = _OUTCOME_TAG.findall(event.description)
        if tags:
            outcome = Outcome(tags[-1].lower())  # the last one written wins
    if decision is None:
        for m in _DECISION.finditer(event.description):
            try:
                found = date.fromisoformat(m.group(1))
            except ValueError:
                continue
            if found < event.start.date():
                facts["decision"] = f"decision: {found.isoformat()} in the description is before the interview: ignored"
                continue
            decision, facts["decision"] = found, f"the description line \"decision: {found.isoformat()}\""
    return Interview(event=event, company=inv.company.value, role=inv.role.value, interviewers=inv.interviewers,
                     organizer=inv.contact, outcome=outcome, outcome_at=outcome_at, decision=decision,
                     first_seen=first_seen, kind=inv.kind.value, facts=tuple(facts.items()),
                     notes=inv.notes, topics=inv.topics, left_out=inv.left_out)
