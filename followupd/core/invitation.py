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

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from followupd.core import names
from followupd.core.message import sanitize_header
from followupd.core.model import Attendee, CalendarEvent, Person
from followupd.core.people import company_from_domain, employer_domain, is_me, not_a_recipient
from followupd.core.description import FOR_AT, NAME_LIKE, fields_of, notes_of, schedule_people, text_of
from followupd.core.settings import Config
from followupd.core.titles import Fact, parse_title, role_words, tidy, without


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
    (InterviewKind.ONSITE, r"on-?site|virtual\s+on-?site|loop|super\s?day"),
    (InterviewKind.TECHNICAL, r"technical|tech\s+screen|coding|system\s+design|pair(?:ing)?(?:\s+programming)?|"
                              r"live\s+code|take[-\s]home|whiteboard|case\s+study|hackerrank|coderpad"),
    (InterviewKind.SCREEN, r"phone\s+screen|phone\s+interview|screening|screen|recruiter\s+(?:call|chat|screen)|intro(?:ductory)?\s+call|"
                           r"initial\s+call|first\s+call|hr\s+call|talent\s+call"),
)
_KIND_RES = tuple((k, re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)) for k, words in _KIND_WORDS)

# Words that say how or when, never who: stripped before a title segment can name a company.


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


def _my_name_re(cfg: Config) -> re.Pattern[str] | None:
    return _name_re(cfg.me.name)


@lru_cache(maxsize=8)
def _name_re(my_name: str) -> re.Pattern[str] | None:
    """My name in any of the forms invitations write it (with or without accents, "Last, First")."""
    n = names.parse(my_name)
    forms = {my_name.strip(), n.full}
    if n.first and n.last:
        forms |= {f"{n.first} {n.last}", f"{n.last}, {n.first}", f"{n.last} {n.first}"}
    forms |= {names.ascii_fold(f) for f in forms}
    forms = {f for f in forms if f.strip()}
    if not forms:
        return None
    alts = "|".join(r"\s+".join(re.escape(w) for w in f.split()) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?:'s)?(?!\w)", re.IGNORECASE)


def _kind(title: str, description: str) -> Fact:
    for where, text in (("title", title), ("description", description)):
        for kind, rx in _KIND_RES:
            m = rx.search(text)
            if m:
                return Fact(kind.value, f'the {where} says "{m.group(0)}"')
    return Fact(InterviewKind.INTERVIEW.value, "no kind word in the title or description")


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
    fields = fields_of(text)
    me = _my_name_re(cfg)
    people, org_person, left_out = _people(event, cfg)
    listed = [(n, t, "") for n, t in (names.clean(x) for x in re.split(r"\s*(?:,|;|&|\band\b)\s*",
                                                                       fields.get("interviewers", "")) if x)]
    listed += schedule_people(text)
    people, topics = _described(people, listed, text, narrow=bool(fields.get("interviewers")))
    contact, contact_source = _contact(fields, people, org_person, cfg)
    if listed:  # the description says who interviews: the recruiter who only scheduled it is not one
        interviewers = [p for p in people if contact is None or p.email != contact.email
                        or any(_match(n, [p]) is not None for n, _, _ in listed)]
    else:
        interviewers = people
    if not interviewers and org_person is not None:
        interviewers = [org_person]
    kind = _kind(event.title, text)
    company, role = _company_and_role(event, cfg, text, fields, kind, people, org_person, listed, me)
    notes = []
    for who, what in notes_of(text):
        i = _match(who, interviewers)
        if i is not None:
            notes.append((interviewers[i].email, what))
    return Invitation(company=company, role=role, kind=kind,
                      interviewers=tuple(interviewers), contact=contact, contact_source=contact_source,
                      left_out=tuple(left_out), notes=tuple(notes), topics=tuple(topics.items()))


def _people(event: CalendarEvent, cfg: Config) -> tuple[list[Person], Person | None, list[tuple[str, str]]]:
    """The attendees who can get a draft, the organiser if a person, and who gets none and why."""
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
    if org is not None and not not_a_recipient(org, cfg):
        same = next((a for a in event.attendees if a.email.lower() == org.email.lower() and a.name), None)
        org_person = _person(same or org)
    elif org is not None and not is_me(org, cfg) and org.email.strip().lower() not in seen:
        left_out.append((sanitize_header(org.email, 100), "the organiser, " + not_a_recipient(org, cfg)))
    return people, org_person, left_out


def _described(people: list[Person], listed: list[tuple[str, str, str]], text: str, *,
               narrow: bool) -> tuple[list[Person], dict[str, str]]:
    """The attendees with the names, titles and topics the description gives them; with an
    ``Interviewers:`` line (``narrow``), only those it names."""
    people = list(people)
    topics: dict[str, str] = {}
    for name, title, topic in listed:
        i = _match(name, people)
        if i is None:
            continue
        p = people[i]
        people[i] = Person(p.email, p.name or name, p.title or title)
        if topic:
            topics.setdefault(p.email, topic)
    if narrow:
        people = [p for p in people if any(_match(n, [p]) is not None for n, _, _ in listed)] or people
    for i, p in enumerate(people):  # "Sam Park will call me": a name written from the address
        if not p.name:
            found = next((n for n in NAME_LIKE.findall(text) if names.matches_address(n, p.email)), "")
            if found:
                people[i] = Person(p.email, names.clean(found)[0], p.title)
    return people, topics


def _contact(fields: dict[str, str], people: list[Person], org_person: Person | None,
             cfg: Config) -> tuple[Person | None, str]:
    """The recruiter or coordinator: a ``Recruiter:``/``Coordinator:`` line (a person on the invitation,
    or the address it gives), else a human organiser, else an attendee titled so."""
    pool = people + ([org_person] if org_person else [])
    contact: Person | None = None
    source = ""
    for key in ("recruiter", "coordinator"):
        if key not in fields:
            continue
        wanted, _ = names.clean(re.sub(r"<[^>]*>|\S+@\S+", " ", fields[key]))
        line = f'the description line "{key.capitalize()}: {fields[key]}"'
        i = _match(wanted, pool) if wanted else None
        address = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", fields[key])
        if i is not None:
            contact, source = pool[i], line
        elif address and not not_a_recipient(Attendee(email=address.group(0)), cfg):
            contact, source = Person(address.group(0).lower(), wanted), line
        if contact is not None:
            break
    if contact is None and org_person is not None:
        contact, source = org_person, "the organiser"
    if contact is None:
        titled = next((p for p in people if re.search(r"recruit|talent|coordinator|sourcer|people partner",
                                                       p.title, re.IGNORECASE)), None)
        if titled:
            contact, source = titled, f"an attendee titled {titled.title}"
    if contact is not None and not contact.name:  # the name the description gave the same address
        contact = next((p for p in people if p.email == contact.email and p.name), contact)
    return contact, source


def _company_and_role(event: CalendarEvent, cfg: Config, text: str, fields: dict[str, str], kind: Fact,
                      people: list[Person], org_person: Person | None, listed: list[tuple[str, str, str]],
                      me: re.Pattern[str] | None) -> tuple[Fact, Fact]:
    """The person's own lines first, then the description's prose, then the title, then the domain."""
    domains = list(dict.fromkeys(d for d in (employer_domain(p.email, cfg)
                                             for p in ([org_person] if org_person else []) + people) if d))
    company, role = Fact(), Fact()
    if "company" in fields:
        company = Fact(tidy(without(fields["company"], me)), f'the description line "Company: {fields["company"]}"')
    if "role" in fields:
        role = Fact(role_words(without(fields["role"], me)), f'the description line "Role: {fields["role"]}"')
    prose = FOR_AT.search(text)
    if prose:
        said = f'the description: "{sanitize_header(prose.group(0), 100)}"'
        if not role and names.looks_like_role(prose.group("role")):
            role = Fact(tidy(prose.group("role")), said)
        if not company and prose.group("company"):
            company = Fact(tidy(prose.group("company")), said)
    all_names = [p.name for p in people] + ([org_person.name] if org_person else []) + [n for n, _, _ in listed]
    t_company, t_role = parse_title(event.title, all_names, me, domains, names.parse(cfg.me.name).first)
    company = company or t_company
    role = role or t_role
    if kind.value == InterviewKind.AGENCY and "company" not in fields:
        company = Fact()  # an agency recruiter's domain and title name the agency, not the employer
    elif not company and domains:
        company = Fact(company_from_domain(domains[0]), f"the domain {domains[0]}")
    if company and me and me.search(company.value):
        company = Fact()
    if company.value.isupper() and len(company.value) > 4:  # "TYRELL CORP" → "Tyrell Corp"; "IBM" stays
        company = Fact(" ".join(w if len(w) <= 3 else w.capitalize() for w in company.value.split()),
                       company.source)
    return company, role
