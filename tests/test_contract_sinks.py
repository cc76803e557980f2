"""The sink contract of ``protocols.py``, run against every backend.

Adding a backend is one line in ``EVENT_SINKS`` / ``DRAFT_SINKS``: a factory
``(tmp_path) -> sink`` (plus, for event sinks, how the person edits/deletes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest

from followupd.testing.memory import MemoryCalendar, MemoryDrafts
from followupd.errors import TransientError, UserDeleted, UserEdited
from followupd.core.model import LedgerEntry
from followupd.backends.protocols import DraftSink, EventSink, Written
from reconcile_helpers import T0, draft, entry, event, reminder


@dataclass
class EventSinkCase:
    sink: EventSink
    user_edit: Callable[[str], None]
    user_delete: Callable[[str], None]


@dataclass
class DraftSinkCase:
    sink: DraftSink
    user_edit: Callable[[str], None]
    user_delete: Callable[[str], None]


def _memory_calendar(tmp_path: Path) -> EventSinkCase:
    cal = MemoryCalendar()
    return EventSinkCase(cal, lambda i: cal.user_edit(i) and None, cal.user_delete)


def _memory_drafts(tmp_path: Path) -> DraftSinkCase:
    d = MemoryDrafts()
    return DraftSinkCase(d, d.user_edit, d.user_delete)


EVENT_SINKS: dict[str, Callable[[Path], EventSinkCase]] = {"memory": _memory_calendar}
DRAFT_SINKS: dict[str, Callable[[Path], DraftSinkCase]] = {"memory": _memory_drafts}


@pytest.fixture(params=sorted(EVENT_SINKS))
def events(request: pytest.FixtureRequest, tmp_path: Path) -> EventSinkCase:
    return EVENT_SINKS[request.param](tmp_path)


@pytest.fixture(params=sorted(DRAFT_SINKS))
def drafts(request: pytest.FixtureRequest, tmp_path: Path) -> DraftSinkCase:
    return DRAFT_SINKS[request.param](tmp_path)


def _written(e: LedgerEntry, w: Written) -> LedgerEntry:
    return replace(e, backend_id=w.backend_id, version=w.version)


def test_event_create_is_idempotent(events: EventSinkCase) -> None:
    f = reminder()
    a = events.sink.create(f)
    b = events.sink.create(f)
    assert a.backend_id == b.backend_id and a.version == b.version


def test_event_create_after_user_delete_raises(events: EventSinkCase) -> None:
    f = reminder()
    w = events.sink.create(f)
    events.user_delete(w.backend_id)
    with pytest.raises(UserDeleted):
        events.sink.create(f)


def test_event_create_never_adopts_what_the_person_edited(events: EventSinkCase) -> None:
    """SPEC §4.3 across an interrupted write: the insert landed but its answer was
    lost, the person edited the reminder, and the retried create must not adopt
    the person's version as followupd's own (a later move would overwrite it)."""
    f = reminder()
    w = events.sink.create(f)
    events.user_edit(w.backend_id)
    with pytest.raises(UserEdited):
        events.sink.create(f)


def test_event_update_and_delete_are_conditional(events: EventSinkCase) -> None:
    f = reminder()
    e = _written(entry(f), events.sink.create(f))
    moved = reminder(at=T0 + timedelta(days=1))
    w2 = events.sink.update(moved, e)
    assert w2.backend_id == e.backend_id and w2.version != e.version
    with pytest.raises(UserEdited):  # stale version
        events.sink.update(f, e)
    e2 = _written(e, w2)
    events.user_edit(e2.backend_id)
    with pytest.raises(UserEdited):
        events.sink.delete(e2)


def test_event_delete_then_gone(events: EventSinkCase) -> None:
    f = reminder()
    e = _written(entry(f), events.sink.create(f))
    events.sink.delete(e)
    with pytest.raises(UserDeleted):
        events.sink.delete(e)
    with pytest.raises(UserDeleted):
        events.sink.update(f, e)


def test_draft_find_after_create(drafts: DraftSinkCase) -> None:
    f = draft()
    assert drafts.sink.find(f) is None
    w = drafts.sink.create(f)
    assert drafts.sink.find(f) == w
    assert drafts.sink.find(draft(to="other@example.com")) is None
    assert drafts.sink.check(_written(entry(f), w)) == w


def test_draft_find_never_adopts_what_the_person_edited(drafts: DraftSinkCase) -> None:
    """The draft twin: an interrupted create, then the person's edit; resolving the
    intent by ``find`` must report the edit instead of adopting it."""
    f = draft()
    w = drafts.sink.create(f)
    drafts.user_edit(w.backend_id)
    with pytest.raises(UserEdited):
        drafts.sink.find(f)


def test_draft_update_delete_conditional(drafts: DraftSinkCase) -> None:
    f = draft()
    e = _written(entry(f), drafts.sink.create(f))
    w2 = drafts.sink.update(draft(subject="Thanks again"), e)
    e2 = _written(e, w2)
    with pytest.raises(UserEdited):
        drafts.sink.delete(e)
    drafts.user_edit(e2.backend_id)
    with pytest.raises(UserEdited):
        drafts.sink.update(f, e2)
    with pytest.raises(UserEdited):
        drafts.sink.delete(e2)


def test_draft_user_delete(drafts: DraftSinkCase) -> None:
    f = draft()
    e = _written(entry(f), drafts.sink.create(f))
    drafts.user_delete(e.backend_id)
    assert drafts.sink.check(e) is None and drafts.sink.find(f) is None
    with pytest.raises(UserDeleted):
        drafts.sink.update(f, e)
    with pytest.raises(UserDeleted):
        drafts.sink.delete(e)


# --- memory-only: the fault injection the state machine relies on -----------

def test_memory_fault_after_commit_writes_then_raises() -> None:
    d = MemoryDrafts()
    f = draft()
    d.fail_next("create", TransientError("lost response"), after_commit=True)
    with pytest.raises(TransientError):
        d.create(f)
    assert d.find(f) is not None and len(d.with_key(f)) == 1


def test_memory_fault_before_commit_writes_nothing() -> None:
    cal = MemoryCalendar()
    cal.fail_next("*", TransientError("down"))
    with pytest.raises(TransientError):
        cal.create(reminder())
    assert cal.events() == [] and cal.calls["create"] == 1


def test_memory_sync_tokens_incremental_and_stale() -> None:
    cal = MemoryCalendar()
    cal.put_event(event("x1", start=T0))
    first = cal.sync("primary", None, T0 - timedelta(days=30))
    assert first.full and [e.id for e in first.events] == ["x1"]
    assert cal.sync("primary", first.next_token, T0).events == ()
    cal.user_delete("x1")
    inc = cal.sync("primary", first.next_token, T0)
    assert not inc.full and [(e.id, e.status) for e in inc.events] == [("x1", "cancelled")]
    cal.invalidate_tokens()
    again = cal.sync("primary", inc.next_token, T0 - timedelta(days=30))
    assert again.full and again.events == ()
