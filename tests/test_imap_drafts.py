"""The IMAP draft sink against a real Dovecot on 127.0.0.1 (issue #13): the sink contract, and what
only IMAP has (APPENDUID, SPECIAL-USE \\Drafts, edits saved as new messages, UIDVALIDITY, STARTTLS)."""

from __future__ import annotations

import email
import imaplib
import ssl
from dataclasses import replace
from email import policy

import pytest

from followupd.backends.imap_drafts import ImapDrafts
from followupd.core.model import DRAFT_KEY_HEADER
from followupd.core.settings import Config, ImapConfig, MeConfig
from followupd.errors import AuthError, ConfigError, UserDeleted, UserEdited
from reconcile_helpers import draft, entry
from servers import Account, Dovecot
from test_contract_sinks import (  # noqa: F401 - collected here with the fixture below
    DraftSinkCase,
    test_draft_find_after_create,
    test_draft_find_never_adopts_what_the_person_edited,
    test_draft_update_delete_conditional,
    test_draft_user_delete,
)


def imap_config(server: Dovecot, account: Account, **over: object) -> Config:
    imap = ImapConfig(host="127.0.0.1", port=server.tls_port, username=account.username, cafile=server.cert)
    return Config(me=MeConfig(name="Jordan Rivera", email="jordan@example.org"), imap=replace(imap, **over))


class Person:
    """The person's own mail client: a second connection to the same mailbox."""

    def __init__(self, server: Dovecot, account: Account) -> None:
        context = ssl.create_default_context(cafile=str(server.cert))
        self.imap = imaplib.IMAP4_SSL("127.0.0.1", server.tls_port, ssl_context=context)
        self.imap.login(account.username, account.password)
        self.imap.select("Drafts")

    def _uid(self, backend_id: str) -> str:
        self.imap.noop()  # see what arrived since the mailbox was opened
        return backend_id.partition(":")[2]

    def raw(self, backend_id: str) -> bytes:
        typ, data = self.imap.uid("FETCH", self._uid(backend_id), "(BODY.PEEK[])")
        return bytes(data[0][1])

    def edit(self, backend_id: str) -> None:
        """What Thunderbird does on save: a new message in place of the old one (headers kept)."""
        msg = email.message_from_bytes(self.raw(backend_id), policy=policy.default)
        msg.set_content(str(msg.get_content()) + "\nP.S. written by the person\n")
        self.imap.append("Drafts", r"(\Draft)", imaplib.Time2Internaldate(0), msg.as_bytes(policy=policy.SMTP))
        self.delete(backend_id)

    def delete(self, backend_id: str) -> None:
        self.imap.uid("STORE", self._uid(backend_id), "+FLAGS", r"(\Deleted)")
        self.imap.expunge()

    def count(self) -> int:
        self.imap.noop()
        typ, data = self.imap.search(None, "ALL")
        return len(data[0].split())


@pytest.fixture
def account(dovecot: Dovecot) -> Account:
    return dovecot.new_account()


@pytest.fixture
def drafts(dovecot: Dovecot, account: Account) -> DraftSinkCase:
    person = Person(dovecot, account)
    sink = ImapDrafts(imap_config(dovecot, account), lambda: account.password)
    return DraftSinkCase(sink, person.edit, person.delete)


def test_a_draft_is_appended_flagged_draft_with_its_key_and_id_from_appenduid(dovecot: Dovecot, account: Account) -> None:
    sink = ImapDrafts(imap_config(dovecot, account), lambda: account.password)
    w = sink.create(draft())
    validity, _, uid = w.backend_id.partition(":")
    assert validity and uid.isdigit() and w.version == w.backend_id
    person = Person(dovecot, account)
    typ, data = person.imap.uid("FETCH", uid, "(FLAGS)")
    assert b"\\Draft" in data[0]
    msg = email.message_from_bytes(person.raw(w.backend_id), policy=policy.default)
    assert msg[DRAFT_KEY_HEADER] and msg["To"] == "Sam Park <sam@example.com>"


def test_starttls_on_143_works_and_a_wrong_ca_is_a_config_error(dovecot: Dovecot, account: Account, tmp_path) -> None:
    sink = ImapDrafts(imap_config(dovecot, account, port=dovecot.starttls_port, starttls=True),
                      lambda: account.password)
    assert sink.find(draft()) is None
    from servers import make_certificate

    other, _ = make_certificate(tmp_path)
    stranger = ImapDrafts(imap_config(dovecot, account, cafile=other), lambda: account.password)
    with pytest.raises(ConfigError, match="cannot be trusted"):
        stranger.find(draft())


def test_a_wrong_password_is_an_auth_error_with_the_fix(dovecot: Dovecot, account: Account) -> None:
    sink = ImapDrafts(imap_config(dovecot, account), lambda: "not the password")
    with pytest.raises(AuthError, match="followupd auth login --imap"):
        sink.find(draft())


def test_nothing_connects_until_a_draft_is_needed(dovecot: Dovecot, account: Account) -> None:
    calls: list[str] = []
    ImapDrafts(imap_config(dovecot, account), lambda: calls.append("asked") or account.password)
    assert calls == []


def test_a_configured_drafts_mailbox_that_does_not_exist_is_a_config_error(dovecot: Dovecot, account: Account) -> None:
    sink = ImapDrafts(imap_config(dovecot, account, drafts="Entwürfe"), lambda: account.password)
    with pytest.raises(ConfigError, match=r"\[imap\]"):
        sink.create(draft())


def test_a_changed_uidvalidity_finds_the_draft_by_its_key_and_writes_nothing_twice(
        dovecot: Dovecot, account: Account) -> None:
    sink = ImapDrafts(imap_config(dovecot, account), lambda: account.password)
    f = draft()
    e = replace(entry(f), backend_id="", version="")
    w = sink.create(f)
    e = replace(e, backend_id=w.backend_id, version=w.version)
    renumbered = replace(e, backend_id="1:" + w.backend_id.partition(":")[2], version="1:x")  # another UIDVALIDITY
    assert sink.check(renumbered) is None
    moved = sink.update(replace(f), renumbered)  # the same text: found by key, rewritten once
    person = Person(dovecot, account)
    assert person.count() == 1 and moved.backend_id != w.backend_id


def test_an_edit_saved_as_a_new_message_is_the_persons(dovecot: Dovecot, account: Account) -> None:
    sink = ImapDrafts(imap_config(dovecot, account), lambda: account.password)
    f = draft()
    w = sink.create(f)
    e = replace(entry(f), backend_id=w.backend_id, version=w.version)
    Person(dovecot, account).edit(w.backend_id)
    assert sink.check(e) is None
    with pytest.raises(UserEdited):
        sink.update(draft(subject="Thanks again"), e)
    with pytest.raises(UserEdited):
        sink.delete(e)
    Person(dovecot, account).delete(next(iter(sink._with_key(sink._key(f)))) and
                                    f"{w.backend_id.partition(':')[0]}:{sink._with_key(sink._key(f))[0]}")
    with pytest.raises(UserDeleted):
        sink.delete(e)
