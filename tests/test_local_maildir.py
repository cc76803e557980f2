"""MaildirDrafts: drafts as files flagged D, found by key, guarded against the user's edits."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from followupd.core import ids
from followupd.backends.maildir import MaildirDrafts
from followupd.errors import UserDeleted, UserEdited
from followupd.core.model import DraftContent, FollowUp, Kind, LedgerEntry, Person, Status
from followupd.backends.protocols import Written
from local_helpers import local_config

AT = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)


def thank_you(to: str = "sam.park@example.com", subject: str = "Thank you for today",
              body: str = "Hi Sam,\n\nThank you for your time today.\n\nJordan") -> FollowUp:
    return FollowUp(interview_id="acme_20261124T150000Z", step="thank-you", kind=Kind.DRAFT, at=AT,
                    write_from=AT, content=DraftContent(to=Person(email=to, name="Sam Park"), subject=subject,
                                                        body=body),
                    recipient=to.lower(), calendar_id="ics")


def ledger(f: FollowUp, w: Written) -> LedgerEntry:
    return LedgerEntry(key=f.key, interview_id=f.interview_id, step=f.step, kind=f.kind, recipient=f.recipient,
                       status=Status.WRITTEN, at=f.at, backend_id=w.backend_id, version=w.version)


@pytest.fixture
def drafts(tmp_path: Path) -> MaildirDrafts:
    return MaildirDrafts(local_config(tmp_path))


def only_file(drafts: MaildirDrafts) -> Path:
    (name,) = os.listdir(drafts.path / "cur")
    return drafts.path / "cur" / name


def test_create_stores_a_draft_in_cur_flagged_d(drafts: MaildirDrafts) -> None:
    f = thank_you()
    w = drafts.create(f)
    path = only_file(drafts)
    assert path.name.startswith(w.backend_id) and path.name.endswith(":2,D")
    assert os.listdir(drafts.path / "new") == [] and os.listdir(drafts.path / "tmp") == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for folder in (drafts.path, drafts.path / "cur", drafts.path / "new", drafts.path / "tmp"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "sam.park@example.com"
    assert msg["From"].addresses[0].addr_spec == "me@example.com"
    assert msg["Subject"] == "Thank you for today"
    assert msg["X-Followupd-Key"] == ids.draft_key(f.interview_id, f.step, f.recipient)
    assert b"\r\n" not in path.read_bytes()  # local files use local line ends
    # what a mail reader sees through the stdlib
    box = mailbox.Maildir(drafts.path, create=False)
    (stored,) = box.values()
    assert "D" in stored.get_flags() and stored.get_subdir() == "cur"


def test_an_existing_empty_folder_becomes_a_maildir(tmp_path: Path) -> None:
    cfg = local_config(tmp_path)
    cfg.maildir.path.mkdir(parents=True)
    MaildirDrafts(cfg).create(thank_you())
    assert sorted(os.listdir(cfg.maildir.path)) == ["cur", "new", "tmp"]


def test_find_by_key_header(drafts: MaildirDrafts) -> None:
    f = thank_you()
    assert drafts.find(f) is None
    w = drafts.create(f)
    drafts.create(thank_you(to="alex.chen@example.com"))
    assert drafts.find(f) == w
    fresh = MaildirDrafts(local_config(drafts.path.parent.parent))  # after a restart
    assert fresh.find(f) == w
    assert fresh.find(thank_you(to="priya.shah@example.com")) is None


def test_check_reports_the_current_hash_or_none(drafts: MaildirDrafts) -> None:
    f = thank_you()
    w = drafts.create(f)
    e = ledger(f, w)
    assert drafts.check(e) == w
    only_file(drafts).write_bytes(only_file(drafts).read_bytes() + b"P.S. edited by hand\n")
    changed = drafts.check(e)
    assert changed is not None and changed.backend_id == w.backend_id and changed.version != w.version
    only_file(drafts).unlink()
    assert drafts.check(e) is None


def test_marking_read_or_moving_to_cur_is_not_an_edit(drafts: MaildirDrafts) -> None:
    f = thank_you()
    w = drafts.create(f)
    path = only_file(drafts)
    path.rename(path.with_name(path.name + "S"))  # what a mail reader does when it is opened
    e = ledger(f, w)
    assert drafts.check(e) == w
    w2 = drafts.update(thank_you(subject="Thank you again"), e)
    assert w2.backend_id == w.backend_id and w2.version != w.version
    updated = only_file(drafts)
    assert updated.name.endswith(":2,DS")  # the person's flags stay
    assert email.message_from_bytes(updated.read_bytes())["Subject"] == "Thank you again"
    assert stat.S_IMODE(os.stat(updated).st_mode) == 0o600
    assert os.listdir(drafts.path / "tmp") == []


def test_user_edit_wins(drafts: MaildirDrafts) -> None:
    f = thank_you()
    w = drafts.create(f)
    path = only_file(drafts)
    edited = path.read_bytes().replace(b"Thank you for your time today.", b"Great to meet you all!")
    path.write_bytes(edited)
    e = ledger(f, w)
    with pytest.raises(UserEdited):
        drafts.update(thank_you(subject="Rewritten"), e)
    with pytest.raises(UserEdited):
        drafts.delete(e)
    assert path.read_bytes() == edited


def test_user_delete_or_send(drafts: MaildirDrafts) -> None:
    f = thank_you()
    e = ledger(f, drafts.create(f))
    only_file(drafts).unlink()
    assert drafts.find(f) is None
    with pytest.raises(UserDeleted):
        drafts.update(f, e)
    with pytest.raises(UserDeleted):
        drafts.delete(e)


def test_delete_removes_an_untouched_draft(drafts: MaildirDrafts) -> None:
    f = thank_you()
    e = ledger(f, drafts.create(f))
    drafts.delete(e)
    assert os.listdir(drafts.path / "cur") == [] and drafts.check(e) is None
    with pytest.raises(UserDeleted):
        drafts.delete(e)


def test_update_keeps_the_old_draft_if_the_write_fails(drafts: MaildirDrafts,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    f = thank_you()
    e = ledger(f, drafts.create(f))
    before = only_file(drafts).read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        drafts.update(thank_you(subject="New"), e)
    assert only_file(drafts).read_bytes() == before
    assert os.listdir(drafts.path / "tmp") == []


def test_hostile_subject_stays_one_header(drafts: MaildirDrafts) -> None:
    f = thank_you(subject="Thanks\r\nBcc: attacker@example.net\u2028X-Evil: 1")
    drafts.create(f)
    msg = email.message_from_bytes(only_file(drafts).read_bytes())
    assert msg["Bcc"] is None and msg["X-Evil"] is None
