"""What a CalDAV sync is made of: the REPORT bodies, the multistatus answers read, and the
token kept between passes (``caldav_calendar`` does the requests)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import unquote

from followupd.core.model import CalendarEvent, EventStatus

_NO_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}
SYNC = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:sync-token>{token}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
</d:sync-collection>"""
QUERY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>
</c:calendar-query>"""
TIMEZONE = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-timezone/></d:prop>
</d:propfind>"""



class Token:
    """What is kept between passes for one calendar: the server's sync token (or, comparing
    ETags, their digest and the day) and the event ids of each resource."""

    def __init__(self, mode: str, server: str | None, hrefs: dict[str, list[str]]) -> None:
        self.mode, self.server, self.hrefs = mode, server, hrefs

    @classmethod
    def parse(cls, token: str | None) -> Token:
        if token:
            try:
                data = json.loads(token)
                return cls(str(data["mode"]), data.get("server"), {str(k): list(v) for k, v in data["hrefs"].items()})
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
        return cls("sync", None, {})

    def dump(self) -> str:
        return json.dumps({"mode": self.mode, "server": self.server, "hrefs": self.hrefs}, separators=(",", ":"),
                          sort_keys=True)


def items(tree: Any) -> Iterable[tuple[str, str, str | None, int]]:
    """``(href, etag, calendar data or None, status)`` of each response of a multistatus."""
    for response in tree.findall("d:response", namespaces=NS):
        href = unquote(response.findtext("d:href", default="", namespaces=NS).strip())
        status = status_code(response.findtext("d:status", default="", namespaces=NS))
        etag, data = "", None
        for propstat in response.findall("d:propstat", namespaces=NS):
            if status_code(propstat.findtext("d:status", default="", namespaces=NS)) != 200:
                continue
            etag = propstat.findtext("d:prop/d:getetag", default=etag, namespaces=NS) or etag
            data = propstat.findtext("d:prop/c:calendar-data", default=None, namespaces=NS) or data
            status = 200
        if href and not href.endswith("/"):
            yield href, etag, data, status or 200


def status_code(text: str) -> int:
    parts = text.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0


def tombstone(event_id: str, calendar_id: str) -> CalendarEvent:
    return CalendarEvent(id=event_id, calendar_id=calendar_id, title="", start=_NO_TIME, end=_NO_TIME,
                         status=EventStatus.CANCELLED)


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_UNFOLD = re.compile(r"\r?\n[ \t]")
_TEXT_ESCAPES = {"\\n": "\n", "\\N": "\n", "\\,": ",", "\\;": ";", "\\\\": "\\"}


def plain_text(data: str) -> tuple[str, str, str] | None:
    """``(uid, summary, description)`` of a resource holding one plain event, read from the text
    without parsing it; None when it needs the real parser to be judged: several components, a
    recurrence, a cancellation, followupd's own properties, or anything unusual."""
    text = _UNFOLD.sub("", data)
    upper = text.upper()
    if upper.count("BEGIN:VEVENT") != 1 or "RRULE" in upper or "RDATE" in upper or "RECURRENCE-ID" in upper \
            or "X-FOLLOWUPD-" in upper or "STATUS:CANCELLED" in upper:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        key = name.split(";", 1)[0].upper()
        if sep and key in ("UID", "SUMMARY", "DESCRIPTION"):
            if key in fields:
                return None
            fields[key] = re.sub(r"\\[nN,;\\]", lambda m: _TEXT_ESCAPES[m.group(0)], value)
    if not fields.get("UID"):
        return None
    return fields["UID"], fields.get("SUMMARY", ""), fields.get("DESCRIPTION", "")


__all__ = ["plain_text", "NS", "QUERY", "SYNC", "TIMEZONE", "Token", "items", "status_code", "tombstone", "xml_text"]
