"""People's names as calendars write them, read with a maintained parser (nameparser).

Display names come in every shape: ``"Nakamura, Kenji"`` (Outlook), ``"Jill Valentine
(she/her)"``, ``"Ravi Kumar | Hooli"``, ``"Dr. Emily Nguyen"``, ``"PRIYA RAMAN"``, or an
address standing in for a name.  ``clean`` turns one into the person's name and, where
it says so, their job title; ``greeting`` addresses them as a careful person would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PRONOUNS = re.compile(r"\(\s*(?:she|he|they|ze|xe|her|him|them)(?:\s*/\s*\w+){1,2}\s*\)|\b(?:she|he|they)/\w+(?:/\w+)?\b",
                       re.IGNORECASE)
_TAGS = re.compile(r"\[[^\]]*\]|\((?:external|ext|contractor|guest|optional|required)\)", re.IGNORECASE)
_ROLE_WORDS = re.compile(
    r"(?<!\w)(engineer|engineering|developer|designer|manager|analyst|scientist|architect|lead|director|"
    r"intern|consultant|specialist|administrator|researcher|sre|devops|head|vp|officer|associate|"
    r"coordinator|recruiter|recruiting|sourcer|partner|talent|product|programmer|technician|writer|editor|"
    r"accountant|founder|ceo|cto|cfo|coo|cpo|principal|staff|senior|sr\.?|junior|president|owner)(?!\w)",
    re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")  # never part of a name (nor of a header)
_HONORIFICS = {"dr": "Dr.", "prof": "Prof.", "professor": "Prof.", "mr": "Mr.", "mrs": "Mrs.", "ms": "Ms.",
               "mx": "Mx.", "miss": "Miss", "sir": "Sir", "dame": "Dame"}


@dataclass(frozen=True)
class Name:
    """A person's name, read."""

    full: str = ""  # "Emily Nguyen", as it should be written
    first: str = ""  # "Emily"
    last: str = ""  # "Nguyen"
    honorific: str = ""  # "Dr."

    def __bool__(self) -> bool:
        return bool(self.full)


def looks_like_role(text: str) -> bool:
    """True when ``text`` reads like a job title ("Staff Engineer", "Recruiter")."""
    return bool(_ROLE_WORDS.search(text))


def clean(display: str, email: str = "") -> tuple[str, str]:
    """``(name, job title)`` from a display name; ``""`` for what it does not say.

    ``"Sam Park (Engineering Manager)"`` → ``("Sam Park", "Engineering Manager")``;
    ``"Ravi Kumar | Hooli"`` → ``("Ravi Kumar", "")`` (a company is no title);
    ``"Jill Valentine (she/her)"`` → ``("Jill Valentine", "")``;
    ``"Nakamura, Kenji"`` → ``("Kenji Nakamura", "")``; an address → ``("", "")``.
    """
    text = " ".join(_TAGS.sub(" ", _PRONOUNS.sub(" ", _CONTROL.sub(" ", display or "")[:200])).split())
    title = ""
    paren = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", text)
    if paren:
        text, inside = paren.group(1).strip(), paren.group(2).strip()
        title = inside if looks_like_role(inside) else ""
    else:
        parts = re.split(r"\s+[-–—|·]\s+|\s*\|\s*", text, maxsplit=1)
        if len(parts) == 2 and parts[0] and parts[1]:
            text, after = parts[0].strip(), parts[1].strip()
            title = after if looks_like_role(after) else ""
    local = email.split("@", 1)[0] if email else ""
    if "@" in text or (local and text == local and text.islower()) or not re.search(r"[^\W\d_]", text):
        return "", title  # an address, the address's local part as it is, or no letters at all: no name
    n = parse(text)
    return (f"{n.honorific} {n.full}" if n.honorific else n.full), title


def matches_address(name: str, email: str) -> bool:
    """Whether ``email``'s local part is written from ``name``: ``lisa.smith``, ``lsmith``,
    ``smithl``, ``lisas``, ``lisa``, ``lisa_smith`` for Lisa Smith."""
    n = parse(name)
    local = re.sub(r"[^a-z]", "", ascii_fold(email.split("@", 1)[0].split("+", 1)[0].lower()))
    first, last = ascii_fold(n.first.lower()), ascii_fold(n.last.lower().split()[-1] if n.last else "")
    first, last = re.sub(r"[^a-z]", "", first), re.sub(r"[^a-z]", "", last)
    if not local or not first:
        return False
    forms = {first + last, first[0] + last, last + first[0], first + (last[:1]), last + first} if last else {first}
    return local in forms or (bool(last) and local == last) or (local == first and len(first) > 2)


def ascii_fold(text: str) -> str:
    """``Zoë Álvarez`` → ``Zoe Alvarez`` (for matching, never for writing)."""
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@lru_cache(maxsize=1024)
def parse(text: str) -> Name:
    """A display name (already cleaned) read with nameparser; all-caps and all-lower names are re-cased.

    "Given Family" and a lone given name, the shapes most names come in, are read without loading
    nameparser (it answers the same for them, and its import is a command's slowest)."""
    text = " ".join(text.split())
    if not text:
        return Name()
    plain = _plain(text)
    if plain is not None:
        return plain
    from nameparser import HumanName

    name = HumanName(text)
    if text.isupper() or text.islower():
        name.capitalize(force=True)
    first, last = name.first.strip(), name.last.strip()
    if not first and last:
        first, last = last, ""
    honorific = _HONORIFICS.get(name.title.lower().rstrip("."), name.title.strip()) if name.title else ""
    full = " ".join(p for p in (first, name.middle.strip(), last, name.suffix.strip()) if p)
    return Name(full=full, first=first, last=last, honorific=honorific)


_PLAIN_WORD = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ]+(?:[-'’][A-ZÀ-Þa-zß-ÿ][a-zß-ÿ]+)*")
# Titles and suffixes nameparser knows that can look like a given or family name: with one of them
# the name goes to nameparser ("Judge Smith", "John Jr", "Ann Lee PhD").
_NOT_PLAIN = frozenset("""
dr doctor mr mrs ms mx miss master madam madame prof professor sir dame lord lady hon honorable rev reverend
father fr pastor rabbi imam sheikh judge justice coach captain capt col colonel gen general lt lieutenant sgt
sergeant officer president senator sen rep governor gov mayor dean chancellor st saint sister brother mother
king queen prince princess duke duchess count baron chief elder bishop cardinal pope deacon cantor sheriff
jr sr ii iii iv v vi phd md dds dmd dvm do od jd llm ba bs bsc ma msc mba cpa cfa rn np pa pe esq cd ret
""".split())


def _plain(text: str) -> Name | None:
    """``Sam Park`` or ``Sam``: one or two capitalised words, no title, suffix or particle."""
    words = text.split(" ")
    if len(words) > 2 or not all(_PLAIN_WORD.fullmatch(w) and w.lower() not in _NOT_PLAIN for w in words):
        return None
    return Name(full=text, first=words[0], last=words[1] if len(words) == 2 else "")


def greeting(name: str, tone: str = "warm") -> str:
    """The salutation line: ``"Hi Emily,"``; formal: ``"Dear Dr. Nguyen,"``; no name: ``"Hello,"``."""
    n = parse(name)
    if not n:
        return "Hello,"
    if tone == "formal":
        if n.honorific and n.last:
            return f"Dear {n.honorific} {n.last},"
        return f"Dear {n.full},"
    return f"Hi {n.first},"
