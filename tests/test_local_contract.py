"""The sink contract of ``protocols.py`` (``tests/test_contract_sinks.py``) run against
the local backends: the ICS reminder output and the Maildir drafts.

The contract's test functions are imported and collected here, where the
``events`` and ``drafts`` fixtures below provide the local sinks.  Left out:
"create after the user deleted it raises UserDeleted", which needs a server
that remembers deletions (Google's cancelled events); the ICS output is a
file followupd owns, and the ledger is what remembers the user's deletions.
"""

from __future__ import annotations

import os
from pathlib import Path

import icalendar
import pytest

from followupd.backends.ics import IcsOutput
from followupd.backends.maildir import MaildirDrafts
from local_helpers import local_config
from test_contract_sinks import (  # noqa: F401 (collected here with the local fixtures)
    DraftSinkCase,
    EventSinkCase,
    test_draft_find_after_create,
    test_draft_find_never_adopts_what_the_person_edited,
    test_draft_update_delete_conditional,
    test_draft_user_delete,
    test_event_create_is_idempotent,
    test_event_create_never_adopts_what_the_person_edited,
    test_event_delete_then_gone,
    test_event_update_and_delete_are_conditional,
)


def _rewrite_output(path: Path, uid: str, *, delete: bool) -> None:
    """What a person does to the file in an editor: change or remove one reminder."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    for comp in list(cal.subcomponents):
        if comp.name == "VEVENT" and str(comp["UID"]) == uid:
            if delete:
                cal.subcomponents.remove(comp)
            else:
                comp["SUMMARY"] = icalendar.vText("Edited by the person")
    path.write_bytes(cal.to_ical())


def _draft_file(folder: Path, key: str) -> Path:
    (name,) = [n for n in os.listdir(folder / "cur") if n.split(":", 1)[0] == key]
    return folder / "cur" / name


@pytest.fixture
def events(tmp_path: Path) -> EventSinkCase:
    cfg = local_config(tmp_path)
    out = cfg.ics.output
    return EventSinkCase(IcsOutput(cfg),
                         lambda uid: _rewrite_output(out, uid, delete=False),
                         lambda uid: _rewrite_output(out, uid, delete=True))


@pytest.fixture
def drafts(tmp_path: Path) -> DraftSinkCase:
    cfg = local_config(tmp_path)
    folder = cfg.maildir.path

    def edit(key: str) -> None:
        path = _draft_file(folder, key)
        path.write_bytes(path.read_bytes() + b"\nP.S. written by the person\n")

    return DraftSinkCase(MaildirDrafts(cfg), edit, lambda key: _draft_file(folder, key).unlink())
