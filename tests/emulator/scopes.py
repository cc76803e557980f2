"""Which OAuth scopes each emulated method accepts, read from the discovery
documents that ship with google-api-python-client (the same ones the client
uses), so the emulator refuses what Google would refuse with followupd's
least-privilege grant (SPEC §4.9): e.g. ``calendars.get`` needs more than
``calendar.events``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import googleapiclient

_DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"

# emulator route name -> (discovery document, dotted method path)
ROUTE_METHODS: dict[str, tuple[str, str]] = {
    "calendar_get": ("calendar.v3", "calendars.get"),
    "calendar_list_get": ("calendar.v3", "calendarList.get"),
    "events_list": ("calendar.v3", "events.list"),
    "events_insert": ("calendar.v3", "events.insert"),
    "events_get": ("calendar.v3", "events.get"),
    "events_patch": ("calendar.v3", "events.patch"),
    "events_update": ("calendar.v3", "events.update"),
    "events_delete": ("calendar.v3", "events.delete"),
    "drafts_create": ("gmail.v1", "users.drafts.create"),
    "drafts_list": ("gmail.v1", "users.drafts.list"),
    "drafts_get": ("gmail.v1", "users.drafts.get"),
    "drafts_update": ("gmail.v1", "users.drafts.update"),
    "drafts_delete": ("gmail.v1", "users.drafts.delete"),
    "drafts_send": ("gmail.v1", "users.drafts.send"),
    "messages_send": ("gmail.v1", "users.messages.send"),
}


@cache
def _document(name: str) -> dict[str, object]:
    return json.loads((_DOCS / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def accepted_scopes(route: str) -> frozenset[str]:
    """The scopes any one of which allows the route's method."""
    doc_name, dotted = ROUTE_METHODS[route]
    node: dict[str, object] = _document(doc_name)
    *resources, method = dotted.split(".")
    for resource in resources:
        node = node["resources"][resource]  # type: ignore[index,assignment]
    return frozenset(node["methods"][method]["scopes"])  # type: ignore[index]


def allowed(route: str, granted: frozenset[str]) -> bool:
    return bool(accepted_scopes(route) & granted)
