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

from followupd.core.settings import Config
from followupd.core.message import check_address, sanitize_header
from followupd.core.model import Attendee, CalendarEvent, EventStatus, Interview, Outcome, Person, Response

INTERVIEW_TAG = "#interview"
EXCLUDE_TAG = "#nofollowup"
OUTCOME_TAGS = {f"#{o.value}": o for o in Outcome}

# Domains that say nothing about the employer.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me",
    "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com",
    "fastmail.com", "hey.com", "qq.com", "163.com", "tutanota.com", "calendar.google.com",
})
_ROLE_WORDS = re.compile(
    r"(?<!\w)(engineer|developer|designer|manager|analyst|scientist|architect|lead|director|intern|"
    r"consultant|specialist|administrator|admin|researcher|sre|devops|head|vp|officer|associate|"
    r"coordinator|recruiter|product|programmer|technician|writer|editor|accountant)s?(?!\w)",
    re.IGNORECASE,
)
_TAG = re.compile(r"(?<![\w#])#[A-Za-z][\w-]*")
_DECISION = re.compile(r"(?<!\w)decision\s*:\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[-–—|/·:]\s+|\s*[|–—·]\s*|:\s+")


class VerdictRule(StrEnum):
    """The rule of SPEC §3 that decided whether an event is an interview."""

    WRITTEN_BY_FOLLOWUPD = "written-by-followupd"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXCLUDE_TAG = "exclude-tag"
    EXCLUDE_KEYWORD = "exclude-keyword"
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


def _is_me(a: Attendee, cfg: Config) -> bool:
    return a.is_self or (bool(cfg.me.email) and a.email.strip().lower() == cfg.me.email.lower())


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
    me = next((a for a in event.attendees if _is_me(a, cfg)), None)
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
        return Verdict(True, VerdictRule.KEYWORD, f'the title matches the keyword "{word}" ("{m.group(0)}")')
    return Verdict(False, VerdictRule.NO_MATCH, f"the title matches none of the keywords ({', '.join(cfg.detect.keywords)}) "
                   f"and neither title nor description carries {INTERVIEW_TAG}")


def split_name(display: str) -> tuple[str, str]:
    """``"Sam Park (Engineering Manager)"`` → ``("Sam Park", "Engineering Manager")``.

    Also reads ``"Sam Park - Engineering Manager"`` and ``"Sam Park | CTO"``.
    """
    text = sanitize_header(display, 120)
    m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", text)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    parts = re.split(r"\s+[-–—|]\s+", text, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0].strip(), parts[1].strip()
    return text, ""


def _person(a: Attendee) -> Person:
    name, title = split_name(a.name)
    if name and "@" in name and name.lower() == a.email.lower():
        name = ""  # some calendars repeat the address as the name
    return Person(email=a.email.strip().lower(), name=name, title=title)


def _organizer(event: CalendarEvent, cfg: Config) -> Person | None:
    org = event.organizer or next((a for a in event.attendees if a.organizer), None)
    if org is None or not _usable(org.email) or _is_me(org, cfg) or org.resource:
        return None
    # The attendee entry usually has the better display name.
    same = next((a for a in event.attendees if a.email.lower() == org.email.lower() and a.name), None)
    return _person(same or org)


def interviewers(event: CalendarEvent, cfg: Config) -> tuple[Person, ...]:
    """Every attendee except me, resources (rooms) and people who declined.

    Attendees whose address is not exactly one valid mailbox are left out: the
    invitation may come from a stranger, and such an "address" (empty, two
    addresses, an encoded word) can never be a draft's recipient.
    """
    seen: set[str] = set()
    people: list[Person] = []
    for a in event.attendees:
        email = a.email.strip().lower()
        if (not _usable(email) or email in seen or _is_me(a, cfg) or a.resource
                or a.response == Response.DECLINED):
            continue
        seen.add(email)
        people.append(_person(a))
    return tuple(people)


def _usable(email: str) -> bool:
    try:
        check_address(email)
    except ValueError:
        return False
    return True


def _company_from_domain(people: list[Person], cfg: Config) -> str:
    mine = cfg.me.email.rpartition("@")[2].lower()
    for p in people:
        domain = p.email.rpartition("@")[2].lower()
        if not domain or domain in FREE_MAIL or domain == mine or domain.endswith(".calendar.google.com"):
            continue
        labels = domain.split(".")
        # "mail.acme.co.uk" → "acme": the label before the public suffix (roughly).
        core = labels[-3] if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else (
            labels[-2] if len(labels) >= 2 else labels[0])
        return core.capitalize()
    return ""


def parse_title(title: str, keywords: tuple[str, ...]) -> tuple[str, str]:
    """Company and role from common title shapes; ``""`` for what it cannot tell.

    Handles "Interview: Senior Engineer at Acme", "Acme – Onsite (Staff Engineer)",
    "Phone screen with Acme", "Acme | Final round", "Acme: Backend Developer interview".
    """
    kw = keyword_regex(keywords)
    text = sanitize_header(_TAG.sub(" ", title), 200)
    role = ""
    paren = re.search(r"\(([^()]+)\)", text)
    if paren and (kw is None or not kw.fullmatch(paren.group(1).strip())):
        role = paren.group(1).strip()
    text = re.sub(r"\([^()]*\)", " ", text)
    company = ""
    at = re.search(r"\s(?:at|@)\s+(.+)$", text, re.IGNORECASE)
    if at:
        company, text = at.group(1), text[: at.start()]
    else:
        with_ = re.search(r"(?:^|\s)(?:with|w/)\s+(.+)$", text, re.IGNORECASE)
        if with_:
            company, text = with_.group(1), text[: with_.start()]
    company = re.split(r"\s*,\s*", _SEPARATORS.split(company)[0])[0].strip(" -–—|:.") if company else ""
    segments = []
    for seg in _SEPARATORS.split(text):
        rest = kw.sub(" ", seg) if kw else seg
        rest = re.sub(r"(?i)(?<!\w)(?:call|meeting|chat|round|\d+(?:st|nd|rd|th)?)(?!\w)", " ", rest)
        rest = " ".join(rest.split()).strip(" -–—|:,.")
        if rest:
            segments.append(rest)
    for seg in segments:
        if not role and _ROLE_WORDS.search(seg):
            role = seg
        elif not company and seg != role:
            company = seg
    return company, role


def to_interview(event: CalendarEvent, cfg: Config, *, outcome: Outcome | None = None,
                 outcome_at: datetime | None = None, decision: date | None = None,
                 first_seen: datetime | None = None) -> Interview:
    """What followupd knows of an interview; explicit ``outcome``/``decision`` win over tags."""
    people = interviewers(event, cfg)
    organizer = _organizer(event, cfg)
    if not people and organizer is not None:
        people = (organizer,)
    company, role = parse_title(event.title, cfg.detect.keywords)
    if company.lower() in {p.name.lower() for p in people}:
        company = ""  # "Interview with Sam Park" names a person, not the employer
    if not company:
        company = _company_from_domain(([organizer] if organizer else []) + list(people), cfg)
    if outcome is None:
        tags = _OUTCOME_TAG.findall(event.description)
        if tags:
            outcome = Outcome(tags[-1].lower())  # the last one written wins
    if decision is None:
        for m in _DECISION.finditer(event.description):
            try:
                decision = date.fromisoformat(m.group(1))
            except ValueError:
                continue
    return Interview(event=event, company=company, role=role, interviewers=people, organizer=organizer,
                     outcome=outcome, outcome_at=outcome_at, decision=decision, first_seen=first_seen)
