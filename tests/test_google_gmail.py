"""GmailDrafts against the emulator, through the real client: the DraftSink contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.builders import backends, draft, entry
from followupd.core import ids
from followupd.errors import UserDeleted, UserEdited
from followupd.core.model import DRAFT_KEY_HEADER

PACKAGE = Path(__file__).resolve().parent.parent / "followupd"


def test_create_writes_one_raw_draft_with_the_key_header(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    written = gmail.create(draft())
    [(draft_id, message_id, msg)] = emu.drafts()
    assert (draft_id, message_id) == (written.backend_id, written.version)
    assert msg["To"] == "Ann Smith <ann@acme.example>" and msg["Subject"] == "Thank you, Ann"
    assert msg[DRAFT_KEY_HEADER] == ids.draft_key("interview1", "thank-you", "ann@acme.example")
    assert "Thank you." in msg.get_content()
    creates = [r for r in emu.log("gmail") if r.method == "POST"]
    assert [r.path for r in creates] == ["/gmail/v1/users/me/drafts"]  # JSON body, not the upload path


def test_find_matches_the_key_among_drafts_to_the_same_person(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    assert gmail.find(draft()) is None
    other_step = gmail.create(draft(step="references"))
    mine = gmail.create(draft())
    gmail.create(draft(to="bob@acme.example", name="Bob"))
    assert gmail.find(draft()) == mine
    assert gmail.find(draft(step="references")) == other_step
    assert gmail.find(draft(step="check-in")) is None


def test_check_reports_versions_and_disappearance(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    f = draft()
    written = gmail.create(f)
    assert gmail.check(entry(f, written)) == written
    new_id = emu.user_edit_draft(written.backend_id, "My own words")
    assert gmail.check(entry(f, written)) == type(written)(written.backend_id, new_id)
    emu.user_send_draft(written.backend_id)
    assert gmail.check(entry(f, written)) is None


def test_update_rewrites_an_untouched_draft_only(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    f = draft()
    written = gmail.create(f)
    moved = draft(subject="Thank you, Ann (Tuesday)")
    again = gmail.update(moved, entry(f, written))
    assert again.backend_id == written.backend_id and again.version != written.version
    assert emu.drafts()[0][2]["Subject"] == "Thank you, Ann (Tuesday)"

    emu.user_edit_draft(written.backend_id, "My own words")
    with pytest.raises(UserEdited):
        gmail.update(f, entry(f, again))
    with pytest.raises(UserEdited):
        gmail.delete(entry(f, again))
    assert emu.drafts()[0][2].get_content().strip() == "My own words"


def test_delete_withdraws_an_untouched_draft_and_a_sent_one_is_user_deleted(google_emulator: Emulator) -> None:
    emu = google_emulator
    _, gmail, _ = backends(emu)
    f, g = draft(), draft(to="bob@acme.example", name="Bob")
    first, second = gmail.create(f), gmail.create(g)
    gmail.delete(entry(f, first))
    assert [d[0] for d in emu.drafts()] == [second.backend_id]
    emu.user_send_draft(second.backend_id)
    with pytest.raises(UserDeleted):
        gmail.delete(entry(g, second))
    with pytest.raises(UserDeleted):
        gmail.update(g, entry(g, second))
    assert emu.violations == [] and len(emu.gmail.sent) == 1  # the person sent it, not followupd


def test_no_code_in_the_package_can_send_mail() -> None:
    """SPEC §4.1: no send call anywhere in followupd, however it is spelled."""
    pattern = re.compile(r"""(drafts|messages)\(\)\s*\.\s*send\b|\.send\(\s*userId|["']send["']\s*\)""")
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{n}"
                 for path in PACKAGE.rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
