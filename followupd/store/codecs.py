"""The JSON forms of the values the state database stores whole: a ``CalendarEvent``
(to plan again without listing again) and a ``FollowUp`` intent (to resolve an
interrupted write)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from followupd.core.model import (
    Attendee,
    CalendarEvent,
    DraftContent,
    EventStatus,
    FollowUp,
    Kind,
    Person,
    ReminderContent,
    Response,
)


def event_to_json(ev: CalendarEvent) -> str:
    def person(a: Attendee | None) -> dict[str, Any] | None:
        if a is None:
            return None
        return {"email": a.email, "name": a.name, "is_self": a.is_self, "organizer": a.organizer,
                "resource": a.resource, "response": a.response, "group": a.group}

    return json.dumps({
        "id": ev.id, "calendar_id": ev.calendar_id, "title": ev.title, "start": ev.start.isoformat(),
        "end": ev.end.isoformat(), "description": ev.description, "status": ev.status,
        "all_day": ev.all_day, "attendees": [person(a) for a in ev.attendees],
        "organizer": person(ev.organizer), "etag": ev.etag, "recurring_event_id": ev.recurring_event_id,
        "private": dict(ev.private), "location": ev.location,
    }, ensure_ascii=False, sort_keys=True)


def _attendee(d: dict[str, Any]) -> Attendee:
    return Attendee(**{**d, "response": Response.parse(d.get("response"))})


def event_from_json(text: str) -> CalendarEvent:
    d = json.loads(text)
    org = d.get("organizer")
    return CalendarEvent(
        id=d["id"], calendar_id=d["calendar_id"], title=d["title"],
        start=datetime.fromisoformat(d["start"]), end=datetime.fromisoformat(d["end"]),
        description=d.get("description", ""), status=EventStatus.parse(d.get("status")),
        all_day=bool(d.get("all_day", False)),
        attendees=tuple(_attendee(a) for a in d.get("attendees", [])),
        organizer=_attendee(org) if org else None, etag=d.get("etag", ""),
        recurring_event_id=d.get("recurring_event_id"), private=dict(d.get("private", {})),
        location=d.get("location", ""),
    )


def followup_to_json(f: FollowUp) -> str:
    c = f.content
    content: dict[str, Any]
    if isinstance(c, ReminderContent):
        content = {"type": "reminder", "title": c.title, "description": c.description,
                   "start": c.start.isoformat(), "end": c.end.isoformat(), "popup_minutes": c.popup_minutes}
    else:
        content = {"type": "draft", "to": {"email": c.to.email, "name": c.to.name, "title": c.to.title},
                   "subject": c.subject, "body": c.body}
    return json.dumps({"interview_id": f.interview_id, "step": f.step, "kind": f.kind.value,
                       "at": f.at.isoformat(), "write_from": f.write_from.isoformat(),
                       "recipient": f.recipient, "calendar_id": f.calendar_id, "content": content},
                      ensure_ascii=False, sort_keys=True)


def followup_from_json(text: str) -> FollowUp:
    d = json.loads(text)
    c = d["content"]
    content: ReminderContent | DraftContent
    if c["type"] == "reminder":
        content = ReminderContent(title=c["title"], description=c["description"],
                                  start=datetime.fromisoformat(c["start"]), end=datetime.fromisoformat(c["end"]),
                                  popup_minutes=int(c["popup_minutes"]))
    else:
        content = DraftContent(to=Person(**c["to"]), subject=c["subject"], body=c["body"])
    return FollowUp(interview_id=d["interview_id"], step=d["step"], kind=Kind(d["kind"]),
                    at=datetime.fromisoformat(d["at"]), write_from=datetime.fromisoformat(d["write_from"]),
                    content=content, recipient=d["recipient"], calendar_id=d["calendar_id"])


__all__ = ["event_from_json", "event_to_json", "followup_from_json", "followup_to_json"]
