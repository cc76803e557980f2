"""The shared sink contract (``test_contract_sinks.py``) run against GoogleCalendar
and GmailDrafts on the emulator: the same tests, with Google-backed fixtures."""

from __future__ import annotations

import pytest

from emulator import Emulator
from emulator.builders import backends
from test_contract_sinks import (  # noqa: F401 - re-collected here with the fixtures below
    DraftSinkCase,
    EventSinkCase,
    test_draft_find_after_create,
    test_draft_find_never_adopts_what_the_person_edited,
    test_draft_update_delete_conditional,
    test_draft_user_delete,
    test_event_create_after_user_delete_raises,
    test_event_create_is_idempotent,
    test_event_create_never_adopts_what_the_person_edited,
    test_event_delete_then_gone,
    test_event_update_and_delete_are_conditional,
)


@pytest.fixture
def events(google_emulator: Emulator) -> EventSinkCase:
    emu = google_emulator
    cal, _, _ = backends(emu)
    return EventSinkCase(cal, lambda i: emu.user_edit_event("primary", i, summary="edited") and None,
                         lambda i: emu.user_delete_event("primary", i))


@pytest.fixture
def drafts(google_emulator: Emulator) -> DraftSinkCase:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    return DraftSinkCase(gmail, lambda i: emu.user_edit_draft(i, "edited") and None, emu.user_delete_draft)
