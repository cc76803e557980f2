"""Understanding an invitation (SPEC §3 "Understanding an invitation"): from the title,
description, organiser and attendees, the company, the role, the kind, the interviewers
(with titles where the description lists them) and the recruiter or coordinator.

Every field says where it came from (``Fact.source``), and ``explain``/``preview`` show
it.  When unsure, say less: a field nothing supports is left empty, and the templates
then write around it ("our conversation" beats a wrong name).  The person's own name is
never part of a company or role; ``company:`` and ``role:`` lines in the description win
over every guess.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from followupd.core import names
from followupd.core.message import sanitize_header
from followupd.core.model import Attendee, CalendarEvent, Person
from followupd.core.people import company_from_domain, employer_domain, is_me, not_a_recipient
from followupd.core.settings import Config


class InterviewKind(StrEnum):
    SCREEN = "screen"
    TECHNICAL = "technical"
    ONSITE = "onsite"
    FINAL = "final"
    INFORMATIONAL = "informational"
    AGENCY = "agency"
    INTERVIEW = "interview"


_KIND_WORDS: tuple[tuple[InterviewKind, str], ...] = (
    (InterviewKind.INFORMATIONAL, r"informational|coffee\s+chat|coffee|info(?:rmation)?\s+chat|networking|"
                                  r"career\s+chat|get\s+to\s+know"),
    (InterviewKind.AGENCY, r"agency|on\s+behalf\s+of\s+(?:my|our)\s+client|my\s+client|our\s+client"),
    (InterviewKind.FINAL, r"final(?:\s+round|\s+interview|\s+stage)?|last\s+round"),
    (InterviewKind.ONSITE, r"on-?site|virtual\s+on-?site|loop|super\s?day|panel"),
    (InterviewKind.TECHNICAL, r"technical|tech\s+screen|coding|system\s+design|pair(?:ing)?(?:\s+programming)?|"
                              r"live\s+code|take[-\s]home|whiteboard|case\s+study|hackerrank|coderpad"),
    (InterviewKind.SCREEN, r"phone\s+screen|screening|screen|recruiter\s+(?:call|chat|screen)|intro(?:ductory)?\s+call|"
                           r"initial\s+call|first\s+call|hr\s+call|talent\s+call"),
)
_KIND_RES = tuple((k, re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)) for k, words in _KIND_WORDS)

# Words that say how or when, never who: stripped before a title segment can name a company.
_NOISE = re.compile(
    r"(?<!\w)(?:invitation|updated\s+invitation|invite|accepted|declined|tentative|canceled|cancelled|"
    r"fw|fwd|re|virtual|remote|video|zoom|teams|microsoft\s+teams|google\s+meet|meet|webex|phone|call|"
    r"in[-\s]person|meeting|chat|conversation|sync|session|discussion|weekly|bi-?weekly|daily|monthly|recurring|"
    r"interview|interviews|round|stage|step|\d+(?:st|nd|rd|th)?|first|second|third|next|follow[-\s]?up|"
    r"\d+\s*(?:-\s*)?(?:min(?:ute)?s?|hours?|hrs?|h)|minute|minutes|hour|"
    r"with|and|the|a|an|for|of|to|x|vs|&|candidate|hiring\s+manager|recruiter|intro|introductory|"
    r"initial|screen|screening|technical|on-?site|loop|panel|final|informational|coffee|onboarding)(?!\w)",
    re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(?:(?:updated\s+)?invitation|invite|accepted|declined|tentative|canceled|cancelled|"
                     r"fwd?|re)\s*:\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[-–—|/·:x]\s+|\s*[|–—·]\s*|:\s+|\s+<>\s+|\s+&\s+")
_CORPORATE = re.compile(r"(?<!\w)(?:inc|llc|ltd|gmbh|corp|corporation|co|company|labs?|technologies|tech|systems|"
                        r"software|group|holdings|ventures|partners|bank|health|robotics|ai|studio|studios|games|"
                        r"solutions|networks|industries|analytics|capital|media)\.?(?!\w)", re.IGNORECASE)
_FIELD = re.compile(r"^\s*(?P<key>company|employer|organi[sz]ation|role|position|job(?:\s+title)?|"
                    r"interviewers?|panel|recruiter|recruiting\s+coordinator|coordinator|scheduler|"
                    r"hiring\s+manager|decision)\s*[:：]\s*(?P<value>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_FOR_AT = re.compile(r"\bfor\s+(?:the|a|an)\s+(?P<role>[^.\n]{2,80}?)\s+(?:role|position|opening|job)"
                     r"(?:\s+(?:at|with)\s+(?P<company>[A-Z0-9][^.,\n]{1,60}))?", re.IGNORECASE)
_SCHEDULE = re.compile(r"^\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*[-–—to]+\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*"
                       r"[:\-–—|]?\s*(?P<rest>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_NOTES = re.compile(r"^\s*notes?\s*:\s*(?P<inline>.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Fact:
    """One understood field and where it came from ("" when nothing supports it)."""

    value: str = ""
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True)
class Invitation:
    company: Fact = Fact()
    role: Fact = Fact()
    kind: Fact = Fact(InterviewKind.INTERVIEW.value, "no kind word in the title or description")
    interviewers: tuple[Person, ...] = ()
    contact: Person | None = None  # the recruiter or coordinator: organiser-bound drafts go here
    contact_source: str = ""
    left_out: tuple[tuple[str, str], ...] = ()  # (address, why it gets no draft)
    notes: tuple[tuple[str, str], ...] = ()  # (interviewer address, the person's note)
    topics: tuple[tuple[str, str], ...] = field(default=())  # (interviewer address, what they covered)


def text_of(description: str) -> str:
    """An event description as plain text: HTML (Google, Outlook) turned into lines."""
    if "<" in description and ">" in description:
        description = re.sub(r"(?i)<\s*br\s*/?>|</\s*(?:p|div|li|tr|h\d)\s*>", "\n", description)
        description = re.sub(r"<[^>]+>", " ", description)
    text = html.unescape(description).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _my_name_re(cfg: Config) -> re.Pattern[str] | None:
    n = names.parse(cfg.me.name)
    forms = {cfg.me.name.strip(), n.full}
    if n.first and n.last:
        forms |= {f"{n.first} {n.last}", f"{n.last}, {n.first}", f"{n.last} {n.first}"}
    forms = {f for f in forms if f}
    if not forms:
        return None
    alts = "|".join(r"\s+".join(re.escape(w) for w in f.split()) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?:'s)?(?!\w)", re.IGNORECASE)


def _without(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(" — ", text) if pattern else text


def _kind(title: str, description: str) -> Fact:
    for where, text in (("title", title), ("description", description)):
        for kind, rx in _KIND_RES:
            m = rx.search(text)
            if m:
                return Fact(kind.value, f'the {where} says "{m.group(0)}"')
    return Fact(InterviewKind.INTERVIEW.value, "no kind word in the title or description")


def _fields(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in _FIELD.finditer(text):
        key = m.group("key").lower()
        key = {"employer": "company", "organisation": "company", "organization": "company", "position": "role",
               "job": "role", "job title": "role", "interviewer": "interviewers", "panel": "interviewers",
               "recruiting coordinator": "coordinator", "scheduler": "coordinator"}.get(key, key)
        found.setdefault(key, sanitize_header(m.group("value"), 200))
    return found


def _looks_like_person(seg: str) -> bool:
    words = seg.split()
    return (2 <= len(words) <= 3 and all(w[:1].isupper() and w.replace("-", "").replace("'", "").isalpha()
                                          for w in words) and not _CORPORATE.search(seg)
            and not names.looks_like_role(seg))


def _same_company(a: str, b: str) -> bool:
    x, y = re.sub(r"[^a-z0-9]", "", a.lower()), re.sub(r"[^a-z0-9]", "", b.lower())
    return bool(x and y) and (x == y or (len(y) >= 3 and x.startswith(y)) or (len(x) >= 3 and y.startswith(x)))


def parse_title(title: str, people: Iterable[str] = (), me: re.Pattern[str] | None = None,
                domains: Iterable[str] = ()) -> tuple[Fact, Fact]:
    """Company and role from the title shapes the common tools and people write.

    ``people`` are names of those on the invitation (never a company), ``me`` matches the
    person's own name, ``domains`` are employer domains that can confirm a company.
    """
    text = sanitize_header(title, 300)
    text = re.sub(r"(?<![\w#])#[A-Za-z][\w-]*", " ", _PREFIX.sub("", text))
    text = _without(text, me)
    for person in sorted({p for p in people if p}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(person)}(?!\w)", " — ", text, flags=re.IGNORECASE)
    text = re.sub(r"\bbetween\b.*$", " ", text, flags=re.IGNORECASE)  # Calendly: "... between A and B"
    shown = f'title "{sanitize_header(title, 120)}"'
    role = Fact()
    paren = re.search(r"\(([^()]+)\)", text)
    if paren and names.looks_like_role(paren.group(1)):
        role = Fact(paren.group(1).strip(), shown)
    text = re.sub(r"\([^()]*\)", " ", text)
    company_hint = ""
    at = re.search(r"(?:^|\s)(?:at|@)\s+(.+)$", text, re.IGNORECASE)
    if at:
        company_hint, text = at.group(1), text[: at.start()]
    else:
        with_ = re.search(r"(?:^|\s)(?:with|w/)\s+(.+)$", text, re.IGNORECASE)
        if with_ and not _looks_like_person(_SEPARATORS.split(with_.group(1))[0].strip(" ,.")):
            company_hint, text = with_.group(1), text[: with_.start()]
    for_role = re.search(r"(?:^|\s)for\s+(?:the\s+|a\s+|an\s+)?(.+?)(?:\s+(?:role|position))?$", text, re.IGNORECASE)
    if for_role and not role and names.looks_like_role(for_role.group(1)):
        role = Fact(_tidy(_SEPARATORS.split(for_role.group(1))[0]), shown)
        text = text[: for_role.start()]
    segments = [_tidy(s) for s in _SEPARATORS.split(text)]
    if company_hint:
        segments.insert(0, _tidy(re.split(r"\s*,\s*", _SEPARATORS.split(company_hint)[0])[0]))
    company = Fact()
    doms = [d for d in domains if d]
    for seg in segments:
        if not seg:
            continue
        if not role and names.looks_like_role(seg):
            role = Fact(seg, shown)
            continue
        rest = _tidy(_NOISE.sub(" ", seg))
        if not rest or company or rest.lower() == role.value.lower():
            continue
        confirmed = next((d for d in doms if _same_company(rest, d.split(".")[0])), "")
        if confirmed:
            company = Fact(rest, f"{shown}, matching the domain {confirmed}")
        elif not _looks_like_person(rest) and not (doms and len(rest.split()) > 3):
            company = Fact(rest, shown)
    if role:
        role = Fact(_role_words(_without(role.value, me)), role.source)
    return company, role


def _role_words(text: str) -> str:
    """A role without the kind words around it: "Backend Developer interview" → "Backend Developer"."""
    text = _tidy(text)
    edge = re.compile(rf"^(?:(?:{_EDGE})\s+)+|(?:\s+(?:{_EDGE}))+$", re.IGNORECASE)
    return _tidy(edge.sub("", text))


_EDGE = (r"interview|interviews|phone\s+screen|screen|screening|call|chat|onsite|on-site|virtual|final|round|"
         r"technical|loop|panel|meeting|session|\d+(?:st|nd|rd|th)?")


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(" -–—|:,.;/")


def _schedule_people(text: str) -> list[tuple[str, str, str]]:
    """``10:00 - 10:45 System design with José Álvarez (Staff Engineer)`` → (name, title, topic)."""
    out = []
    for m in _SCHEDULE.finditer(text):
        rest = m.group("rest")
        with_ = re.match(r"(?P<topic>.+?)\s+(?:with|w/)\s+(?P<who>.+)$", rest, re.IGNORECASE)
        topic, who = (with_.group("topic"), with_.group("who")) if with_ else ("", rest)
        for part in re.split(r"\s*(?:,|&|\band\b)\s*(?![^()]*\))", who):
            name, title = names.clean(part)
            if name and len(name.split()) <= 4:
                out.append((name, title, _tidy(topic)))
    return out


def _notes(text: str) -> list[tuple[str, str]]:
    """``notes: Alice — the robotics migration`` lines: (who, what)."""
    out: list[tuple[str, str]] = []
    for m in _NOTES.finditer(text):
        lines = [m.group("inline")] if m.group("inline").strip() else []
        if not lines:
            for line in text[m.end():].lstrip("\n").split("\n"):
                if not line.strip() or _FIELD.match(line):
                    break
                lines.append(line)
        for line in lines:
            parts = re.split(r"\s*(?:—|–|:|\s-\s)\s*", line.strip().lstrip("-*• "), maxsplit=1)
            if len(parts) == 2 and parts[0] and parts[1]:
                out.append((parts[0].strip(), sanitize_header(parts[1], 300)))
    return out


def _match(person_name: str, people: list[Person]) -> int | None:
    want = names.parse(person_name)
    for i, p in enumerate(people):
        have = names.parse(p.name) if p.name else names.Name()
        if have and (have.full.lower() == want.full.lower()
                     or (want.first.lower() == have.first.lower() and (not want.last or want.last.lower()
                                                                       == have.last.lower()))):
            return i
        if not p.name and want and names.matches_address(want.full, p.email):
            return i
    return None


def _person(a: Attendee) -> Person:
    name, title = names.clean(a.name, a.email)
    return Person(email=a.email.strip().lower(), name=name, title=title)


def understand(event: CalendarEvent, cfg: Config) -> Invitation:
    """What the invitation says, field by field, with where each came from."""
    text = text_of(event.description)
    fields = _fields(text)
    me = _my_name_re(cfg)
    org = event.organizer or next((a for a in event.attendees if a.organizer), None)
    left_out: list[tuple[str, str]] = []
    people: list[Person] = []
    seen: set[str] = set()
    for a in event.attendees:
        email = a.email.strip().lower()
        if email in seen:
            continue
        seen.add(email)
        why = not_a_recipient(a, cfg)
        if why:
            if not is_me(a, cfg):
                left_out.append((sanitize_header(a.email, 100), why))
            continue
        people.append(_person(a))
    org_person: Person | None = None
    if org is not None and not not_a_recipient(replace(org, response=org.response), cfg):
        same = next((a for a in event.attendees if a.email.lower() == org.email.lower() and a.name), None)
        org_person = _person(same or org)
    elif org is not None and not is_me(org, cfg) and org.email.strip().lower() not in seen:
        left_out.append((sanitize_header(org.email, 100), "the organiser, " + not_a_recipient(org, cfg)))

    # Names and titles the description gives (Greenhouse/GoodTime schedules, "Interviewers:" lines).
    listed = [(n, t, "") for n, t in (names.clean(x) for x in re.split(r"\s*(?:,|;|&|\band\b)\s*",
                                                                       fields.get("interviewers", "")) if x)]
    listed += _schedule_people(text)
    topics: dict[str, str] = {}
    for name, title, topic in listed:
        i = _match(name, people)
        if i is None:
            continue
        p = people[i]
        people[i] = Person(p.email, p.name or name, p.title or title)
        if topic:
            topics.setdefault(p.email, topic)
    if fields.get("interviewers"):
        named = [p for p in people if any(_match(n, [p]) is not None for n, _, _ in listed)]
        people = named or people

    # The recruiter or coordinator: a named line, else a human organiser, else an attendee titled so.
    contact, contact_source = None, ""
    for key in ("recruiter", "coordinator"):
        if key in fields:
            wanted, _ = names.clean(re.sub(r"<[^>]*>|\S+@\S+", " ", fields[key]))
            pool = people + ([org_person] if org_person else [])
            i = _match(wanted, pool) if wanted else None
            if i is not None:
                contact, contact_source = pool[i], f'the description line "{key.capitalize()}: {fields[key]}"'
                break
    if contact is None and org_person is not None:
        contact, contact_source = org_person, "the organiser"
    if contact is None:
        titled = next((p for p in people if re.search(r"recruit|talent|coordinator|sourcer|people partner",
                                                       p.title, re.IGNORECASE)), None)
        if titled:
            contact, contact_source = titled, f"an attendee titled {titled.title}"
    if fields.get("interviewers") or listed:
        interviewers = [p for p in people if contact is None or p.email != contact.email
                        or any(_match(n, [p]) is not None for n, _, _ in listed)]
    else:
        interviewers = people
    if not interviewers and org_person is not None:
        interviewers = [org_person]

    domains = list(dict.fromkeys(d for d in (employer_domain(p.email, cfg)
                                             for p in ([org_person] if org_person else []) + people) if d))
    company, role = Fact(), Fact()
    if "company" in fields:
        company = Fact(_tidy(_without(fields["company"], me)), f'the description line "Company: {fields["company"]}"')
    if "role" in fields:
        role = Fact(_tidy(_without(fields["role"], me)), f'the description line "Role: {fields["role"]}"')
    prose = _FOR_AT.search(text)
    if prose:
        if not role and names.looks_like_role(prose.group("role")):
            role = Fact(_tidy(prose.group("role")), f'the description: "{sanitize_header(prose.group(0), 100)}"')
        if not company and prose.group("company"):
            company = Fact(_tidy(prose.group("company")), f'the description: "{sanitize_header(prose.group(0), 100)}"')
    all_names = [p.name for p in people] + ([org_person.name] if org_person else []) + [n for n, _, _ in listed]
    t_company, t_role = parse_title(event.title, all_names, me, domains)
    company = company or t_company
    role = role or t_role
    if not company and domains:
        company = Fact(company_from_domain(domains[0]), f"the domain {domains[0]}")
    if company and me and me.search(company.value):
        company = Fact()
    notes = []
    for who, what in _notes(text):
        i = _match(who, interviewers)
        if i is not None:
            notes.append((interviewers[i].email, what))
    return Invitation(company=company, role=role, kind=_kind(event.title, text),
                      interviewers=tuple(interviewers), contact=contact, contact_source=contact_source,
                      left_out=tuple(left_out), notes=tuple(notes), topics=tuple(topics.items()))
