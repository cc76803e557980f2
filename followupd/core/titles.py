"""Company and role from an invitation's title: the shapes the common tools send
("Zoë Okafor - Onsite Interview - Senior Engineer", "Interview: Engineer at Acme", Calendly's
"Intro Call between A and B") and people's own shorthand ("Phone screen - Acme", "Acme onsite").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from followupd.core import names
from followupd.core.message import sanitize_header

@dataclass(frozen=True)
class Fact:
    """One understood field and where it came from ("" when nothing supports it)."""

    value: str = ""
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.value)


_NOISE = re.compile(
    r"(?<!\w)(?:invitation|updated\s+invitation|invite|accepted|declined|tentative|canceled|cancelled|"
    r"fw|fwd|re|virtual|remote|video|zoom|teams|microsoft\s+teams|google\s+meet|meet|webex|phone|call|"
    r"in[-\s]person|meeting|chat|conversation|sync|session|discussion|weekly|bi-?weekly|daily|monthly|recurring|"
    r"interview|interviews|round|stage|step|\d+(?:st|nd|rd|th)?|first|second|third|next|follow[-\s]?up|"
    r"\d+\s*(?:-\s*)?(?:min(?:ute)?s?|hours?|hrs?|h)|minute|minutes|hour|"
    r"with|w/|and|the|a|an|for|of|to|x|vs|&|candidate|hiring\s+manager|recruiter|intro|introductory|"
    r"initial|screen|screening|technical|on-?site|loop|panel|final|informational|coffee|onboarding|pairing|paired|"
    r"pair\s+programming|coding|live\s+coding|system\s+design|take[-\s]home|case\s+study|behaviou?ral|"
    r"culture(?:\s+fit)?|debrief|portfolio\s+review|presentation|opportunity|"
    # the word "interview" in other languages people interview in
    r"entretien|entrevista|colloquio|intervista|sollicitatiegesprek|vorstellungsgespr(?:ä|ae)ch|"
    r"bewerbungsgespr(?:ä|ae)ch|gespr(?:ä|ae)ch|kennenlerngespr(?:ä|ae)ch)(?!\w)",
    re.IGNORECASE)


_PREFIX = re.compile(r"^\s*(?:(?:updated\s+)?invitation|invite|accepted|declined|tentative|canceled|cancelled|"
                     r"fwd?|re)\s*:\s*", re.IGNORECASE)


_SEPARATORS = re.compile(r"\s+[-–—|/·:x]\s+|\s*[|–—·]\s*|:\s+|\s*<>\s*|\s+&\s+|\s*\[|\]\s*")
_WHO_THEY_ARE = re.compile(r"hiring\s+manager|recruiter|recruiting|talent\s+partner|founder", re.IGNORECASE)
_GENDER = re.compile(r"\(\s*(?:[mwfdxi]\s*/\s*){1,3}[mwfdxi]\s*\)|\b(?:m|f|w)/(?:w|m|f)/(?:d|x)\b", re.IGNORECASE)


_CORPORATE = re.compile(r"(?<!\w)(?:inc|llc|ltd|gmbh|corp|corporation|co|company|labs?|technologies|tech|systems|"
                        r"software|group|holdings|ventures|partners|bank|health|robotics|ai|studio|studios|games|"
                        r"solutions|networks|industries|analytics|capital|media)\.?(?!\w)", re.IGNORECASE)


def without(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(" — ", text) if pattern else text


def looks_like_person(seg: str) -> bool:
    words = seg.split()
    return (2 <= len(words) <= 3 and all(w[:1].isupper() and w.replace("-", "").replace("'", "").isalpha()
                                          for w in words) and not _CORPORATE.search(seg)
            and not names.looks_like_role(seg))


def _same_company(a: str, b: str) -> bool:
    x, y = re.sub(r"[^a-z0-9]", "", a.lower()), re.sub(r"[^a-z0-9]", "", b.lower())
    return bool(x and y) and (x == y or (len(y) >= 3 and x.startswith(y)) or (len(x) >= 3 and y.startswith(x)))


def parse_title(title: str, people: Iterable[str] = (), me: re.Pattern[str] | None = None,
                domains: Iterable[str] = (), my_first: str = "") -> tuple[Fact, Fact]:
    """Company and role from the title shapes the common tools and people write.

    ``people`` are names of those on the invitation (never a company), ``me`` matches the
    person's own name and ``my_first`` is their first name (a segment of its own, "Zoë / Notion"),
    ``domains`` are employer domains that can confirm a company.
    """
    text = sanitize_header(title, 300)
    text = re.sub(r"(?<![\w#])#[A-Za-z][\w-]*", " ", _PREFIX.sub("", text))
    text = without(text, me)
    for first in {my_first, names.ascii_fold(my_first)} - {""}:  # my first name as a segment of its own
        text = re.sub(rf"(?:^|(?<=[\s/|–—-])){re.escape(first)}(?=\s*(?:[/|–—:-]|<>|$))", " — ", text,
                      flags=re.IGNORECASE)
    text = _GENDER.sub(" ", text)
    # "with Jane and Raj", "w/ Ann, Bo & Cy": a list of first names is people, not a company
    text = re.sub(r"(?:^|\s)(?:with|w/)\s+[A-Z][\w'’-]+(?:\s*(?:,|&|\band\b)\s*[A-Z][\w'’-]+)+\s*(?=$|[-–—|:/])",
                  " — ", text)
    known = sorted({p for p in people if p}, key=len, reverse=True)
    for person in known:
        text = re.sub(rf"(?<!\w){re.escape(person)}(?!\w)", " — ", text, flags=re.IGNORECASE)
    for first in {names.parse(p).first for p in known} - {""}:  # "with Tom", "Jane and Raj": people
        f = re.escape(first)
        text = re.sub(rf"(?:(?<=^)|(?<=\s))(?:with|w/|and|&|,)\s+{f}(?!\w)|(?<!\w){f}(?=\s*(?:,|&|\band\b))",
                      " — ", text, flags=re.IGNORECASE)
    text = re.sub(r"\bbetween\b.*$", " ", text, flags=re.IGNORECASE)  # Calendly: "... between A and B"
    shown = f'title "{sanitize_header(title, 120)}"'
    role = Fact()
    paren = re.search(r"\(([^()]+)\)", text)
    if paren and names.looks_like_role(paren.group(1)):
        role = Fact(paren.group(1).strip(), shown)
    text = re.sub(r"\([^()]*\)", " ", text)
    company_hint = ""
    at = re.search(r"(?:^|\s)(?:at|@|bei|chez|bij)\s+(.+)$", text, re.IGNORECASE)
    if at:
        company_hint, text = at.group(1), text[: at.start()]
    else:
        with_ = re.search(r"(?:^|\s)(?:with|w/)\s+(.+)$", text, re.IGNORECASE)
        who = tidy(_SEPARATORS.split(with_.group(1))[0]) if with_ else ""
        if with_ and (not looks_like_person(who)
                      or any(_same_company(who, d.split(".")[0]) for d in domains if d)):
            company_hint, text = with_.group(1), text[: with_.start()]
    for_role = re.search(r"(?:^|\s)for\s+(?:the\s+|a\s+|an\s+)?(.+?)(?:\s+(?:role|position))?$", text, re.IGNORECASE)
    if for_role and not role and names.looks_like_role(for_role.group(1)):
        role = Fact(tidy(_SEPARATORS.split(for_role.group(1))[0]), shown)
        text = text[: for_role.start()]
    segments = [tidy(s) for s in _SEPARATORS.split(text)]
    if company_hint:
        segments.insert(0, tidy(re.split(r"\s*,\s*", _SEPARATORS.split(company_hint)[0])[0]))
    company = Fact()
    doms = [d for d in domains if d]
    for seg in segments:
        if not seg:
            continue
        if not role and names.looks_like_role(_WHO_THEY_ARE.sub(" ", seg)):
            role = Fact(seg, shown)
            continue
        rest = tidy(_NOISE.sub(" ", seg))
        if not rest or company or rest.lower() == role.value.lower():
            continue
        if re.match(r"(?i)the\s", seg) or re.search(r"(?i)\bteam$", rest):
            continue  # "with the Platform team": a team, not the employer
        confirmed = next((d for d in doms if _same_company(rest, d.split(".")[0])), "")
        if confirmed:
            company = Fact(rest, f"{shown}, matching the domain {confirmed}")
        elif not looks_like_person(rest) and not (doms and len(rest.split()) > 3):
            company = Fact(rest, shown)
    if role:
        role = Fact(role_words(without(role.value, me)), role.source)
    return company, role


def role_words(text: str) -> str:
    """A role without the kind words around it: "Backend Developer interview" → "Backend Developer"."""
    text = tidy(_GENDER.sub(" ", text))
    edge = re.compile(rf"^(?:(?:{_EDGE})\s+)+|(?:\s+(?:{_EDGE}))+$", re.IGNORECASE)
    return tidy(edge.sub("", text))


_EDGE = (r"interview|interviews|phone\s+screen|screen|screening|call|chat|onsite|on-site|virtual|final|round|"
         r"technical|loop|panel|meeting|session|opportunity|opening|position|vacancy|\d+(?:st|nd|rd|th)?")


def tidy(text: str) -> str:
    return " ".join(text.split()).strip(" -–—|:,.;/<>[]")
