"""What an invitation's description says: fields (``Role:``, ``Interviewers:``, ``Recruiter:``,
the person's own ``company:``/``role:`` lines), prose ("for the X position at Y"), schedule lines
with titles and topics (Greenhouse, GoodTime), ``notes:`` blocks, and names.
"""

from __future__ import annotations

import html
import re

from followupd.core import names
from followupd.core.message import sanitize_header
from followupd.core.titles import tidy


FIELD = re.compile(r"^\s*(?P<key>company|employer|organi[sz]ation|role|position|job(?:\s+title)?|"
                    r"interviewers?|panel|recruiter|recruiting\s+coordinator|coordinator|scheduler|"
                    r"hiring\s+manager|decision)\s*[:：]\s*(?P<value>.+?)\s*$", re.IGNORECASE | re.MULTILINE)


FOR_AT = re.compile(r"\b(?:for|in|about|regarding|on)\s+(?:the|a|an|our)\s+(?P<role>[^.\n]{2,80}?)\s+(?:role|position|opening|job)"
                     r"(?:\s+(?:at|with)\s+(?P<company>[A-Z0-9][^.,\n]{1,60}))?", re.IGNORECASE)


_SCHEDULE = re.compile(r"^\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*[-–—to]+\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*"
                       r"[:\-–—|]?\s*(?P<rest>.+?)\s*$", re.IGNORECASE | re.MULTILINE)


_HTML_TAG = re.compile(r"(?i)</?(?:p|div|br|span|b|i|u|a|li|ul|ol|table|tbody|tr|td|th|h\d|strong|em|font|html|"
                       r"body|head|meta|style|img|hr|pre|code|blockquote|center|small|big|sub|sup)\b[^>]*>|<!--.*?-->")


NAME_LIKE = re.compile(r"\b[A-Z][a-zà-ÿ'’-]+(?:\s+[A-Z][a-zà-ÿ'’-]+){1,2}\b")


_NOTES = re.compile(r"^\s*notes?\s*:\s*(?P<inline>.*)$", re.IGNORECASE | re.MULTILINE)


def text_of(description: str) -> str:
    """An event description as plain text: HTML (Google, Outlook) turned into lines."""
    if "<" in description and ">" in description:
        description = re.sub(r"(?i)<\s*br\s*/?>|</\s*(?:p|div|li|tr|h\d)\s*>", "\n", description)
        description = _HTML_TAG.sub(" ", description)  # "<jamie@acme.com>" is no tag: it stays
    text = html.unescape(description).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def fields_of(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in FIELD.finditer(text):
        key = m.group("key").lower()
        key = {"employer": "company", "organisation": "company", "organization": "company", "position": "role",
               "job": "role", "job title": "role", "interviewer": "interviewers", "panel": "interviewers",
               "recruiting coordinator": "coordinator", "scheduler": "coordinator"}.get(key, key)
        found.setdefault(key, sanitize_header(m.group("value"), 200))
    return found


def schedule_people(text: str) -> list[tuple[str, str, str]]:
    """``10:00 - 10:45 System design with José Álvarez (Staff Engineer)`` → (name, title, topic)."""
    out = []
    for m in _SCHEDULE.finditer(text):
        rest = m.group("rest")
        with_ = re.match(r"(?P<topic>.+?)\s+(?:with|w/)\s+(?P<who>.+)$", rest, re.IGNORECASE)
        topic, who = (with_.group("topic"), with_.group("who")) if with_ else ("", rest)
        for part in re.split(r"\s*(?:,|&|\band\b)\s*(?![^()]*\))", who):
            name, title = names.clean(part)
            if name and len(name.split()) <= 4:
                out.append((name, title, tidy(topic)))
    return out


def notes_of(text: str) -> list[tuple[str, str]]:
    """``notes: Alice — the robotics migration`` lines: (who, what)."""
    out: list[tuple[str, str]] = []
    for m in _NOTES.finditer(text):
        lines = [m.group("inline")] if m.group("inline").strip() else []
        if not lines:
            for line in text[m.end():].lstrip("\n").split("\n"):
                if not line.strip() or FIELD.match(line):
                    break
                lines.append(line)
        for line in lines:
            parts = re.split(r"\s*(?:—|–|:|\s-\s)\s*", line.strip().lstrip("-*• "), maxsplit=1)
            if len(parts) == 2 and parts[0] and parts[1]:
                out.append((parts[0].strip(), sanitize_header(parts[1], 300)))
    return out
