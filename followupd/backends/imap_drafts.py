"""IMAP drafts: the draft sink for any standards mail server (SPEC §5 "CalDAV and IMAP").

* The drafts mailbox is ``[imap] drafts``, else the one LIST marks ``\\Drafts``
  (RFC 6154 SPECIAL-USE).
* A draft is written with ``APPEND`` and the ``\\Draft`` flag; its id is
  ``UIDVALIDITY:UID`` from the UIDPLUS ``APPENDUID`` answer (without UIDPLUS,
  from a ``UID SEARCH HEADER`` of its key).  An IMAP message never changes, so
  the id is its version too.
* A pending intent is resolved by a server-side ``UID SEARCH HEADER
  X-Followupd-Key``; what is found is adopted only if it still says what was
  written (``message.same_draft``).
* A client saves an edited draft as a new message in place of the old one.  So
  when the recorded UID is gone, another message carrying the key means the
  person edited it (``UserEdited``); none means it was deleted or sent
  (``UserDeleted``).  Either way followupd never writes it again.
* A changed ``UIDVALIDITY`` makes every recorded UID meaningless: the draft is
  looked up by its key instead, so nothing is written twice.
* TLS from the start, or STARTTLS (port 143, or ``[imap] starttls = true``),
  which is then required;
  certificates are always verified (``[imap] cafile`` adds a CA to trust).
* Nothing connects until a draft is written or checked: an idle pass makes no
  IMAP connection.  The connection then stays open for later calls and is
  opened again when the server has dropped it.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import ssl
import time
from typing import Any, Callable

from followupd.backends.protocols import Written
from followupd.core import ids
from followupd.core.message import build_message, message_bytes, same_draft
from followupd.core.model import DRAFT_KEY_HEADER, DraftContent, FollowUp, LedgerEntry
from followupd.core.settings import Config
from followupd.errors import ConfigError, FollowupdError, TransientError, UserDeleted, UserEdited

log = logging.getLogger("followupd.backends.imap")

TIMEOUT = 30.0
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_LIST = re.compile(rb'\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')
_ERRORS = (OSError, ssl.SSLError, imaplib.IMAP4.abort, EOFError)


def utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Entwürfe" -> "Entw&APw-rfe"."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            encoded = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{encoded}-")
            pending = ""

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    flush()
    return "".join(out)


def from_utf7(name: str) -> str:
    """The inverse of ``utf7``."""
    def decode(found: re.Match[str]) -> str:
        body = found.group(1)
        if not body:
            return "&"
        data = body.replace(",", "/")
        return base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be")

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)


def _quote(name: str) -> str:
    encoded = utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("ascii", "replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return from_utf7(text)


class ImapDrafts:
    """Implements ``protocols.DraftSink`` over IMAP (imaplib)."""

    def __init__(self, cfg: Config, password: Callable[[], str]) -> None:
        self._cfg = cfg
        self._password = password
        self._imap: imaplib.IMAP4 | None = None
        self._mailbox = ""
        self._uidvalidity = ""
        self._uidplus = False
        self._where = f"[imap] in {cfg.path}" if cfg.path else "[imap]"

    # ---- the connection ----------------------------------------------------
    def close(self) -> None:
        imap, self._imap = self._imap, None
        if imap is not None:
            try:
                imap.logout()
            except (*_ERRORS, imaplib.IMAP4.error):
                pass

    def _context(self) -> ssl.SSLContext:
        cafile = self._cfg.imap.cafile
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)

    def _connect(self) -> imaplib.IMAP4:
        imap_cfg = self._cfg.imap
        host, port = imap_cfg.host, imap_cfg.port
        try:
            if not imap_cfg.uses_starttls:
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=self._context(), timeout=TIMEOUT)
            else:
                imap = imaplib.IMAP4(host, port, timeout=TIMEOUT)
                if "STARTTLS" not in imap.capabilities:
                    imap.shutdown()
                    raise ConfigError(f"{self._where}: {host}:{port} offers no STARTTLS, and followupd sends no "
                                      "password in the clear; use the server's TLS port (993)")
                imap.starttls(ssl_context=self._context())
        except ssl.SSLCertVerificationError as exc:
            raise ConfigError(f"{self._where}: the certificate of {host}:{port} cannot be trusted "
                              f"({exc.verify_message}); for a self-hosted server set [imap] cafile") from None
        except _ERRORS as exc:
            raise TransientError(f"cannot reach the IMAP server {host}:{port} ({exc or type(exc).__name__})") \
                from None
        except imaplib.IMAP4.error as exc:
            raise TransientError(f"the IMAP server {host}:{port} refused the connection: {exc}") from None
        from followupd.auth.passwords import Service, wrong_password

        try:
            imap.login(imap_cfg.username, self._password())
        except imaplib.IMAP4.error as exc:
            imap.shutdown()
            if "UNAVAILABLE" in str(exc).upper():  # RFC 5530: the server cannot log anyone in now
                raise TransientError(f"the IMAP server {host}:{port} cannot log in now ({exc})") from None
            raise wrong_password(Service.IMAP, imap_cfg.username, str(exc)) from None
        except _ERRORS as exc:
            raise TransientError(f"the IMAP server {host}:{port} dropped the login ({exc})") from None
        self._uidplus = "UIDPLUS" in self._capabilities(imap)
        self._mailbox = self._drafts_mailbox(imap)
        self._select(imap)
        return imap

    @staticmethod
    def _capabilities(imap: imaplib.IMAP4) -> set[str]:
        typ, data = imap.capability()
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").upper().split()
        return set(words) | set(imap.capabilities)

    def _drafts_mailbox(self, imap: imaplib.IMAP4) -> str:
        if self._cfg.imap.drafts:
            return self._cfg.imap.drafts
        typ, data = imap.list()
        for line in data or ():
            found = _LIST.match(line) if isinstance(line, bytes) else None
            if found and b"\\drafts" in found["flags"].lower():
                return _unquote(found["name"])
        raise ConfigError(f"{self._where}: the server marks no mailbox as \\Drafts (RFC 6154); set [imap] drafts "
                          "to the name of your drafts mailbox (for example \"Drafts\")")

    def _select(self, imap: imaplib.IMAP4) -> None:
        typ, data = imap.select(_quote(self._mailbox))
        if typ != "OK":
            raise ConfigError(f"{self._where}: the drafts mailbox {self._mailbox!r} cannot be opened "
                              f"({b' '.join(d for d in data if isinstance(d, bytes)).decode(errors='replace')})")
        validity = imap.response("UIDVALIDITY")[1]
        self._uidvalidity = validity[0].decode() if validity and validity[0] else ""

    def _session(self) -> imaplib.IMAP4:
        """The open connection, checked with a NOOP (which also brings news of the mailbox: what the
        person's client expunged).  A new one SELECTs the mailbox and so learns its UIDVALIDITY."""
        if self._imap is not None:
            try:
                self._imap.noop()
                return self._imap
            except (*_ERRORS, imaplib.IMAP4.error):
                self._imap = None
        self._imap = self._connect()
        return self._imap

    def _call(self, what: str, fn: Callable[[imaplib.IMAP4], tuple[str, list[Any]]],
              *, repeat: bool = True) -> list[Any]:
        """One command; a dropped connection is opened again and the command repeated once
        (only for commands that a repeat cannot duplicate)."""
        for attempt in (1, 2):
            imap = self._session()
            try:
                typ, data = fn(imap)
            except _ERRORS as exc:
                self._imap = None
                if attempt == 2 or not repeat:
                    raise TransientError(f"{what}: the IMAP server {self._cfg.imap.host} dropped the connection "
                                         f"({exc or type(exc).__name__})") from None
                continue
            except imaplib.IMAP4.error as exc:
                raise FollowupdError(f"{what}: the IMAP server refused it ({exc})") from None
            if typ != "OK":
                text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
                raise FollowupdError(f"{what}: the IMAP server answered {typ} {text}".rstrip())
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def mailbox(self) -> str:
        """The drafts mailbox's name, once connected (``auth status``, ``doctor``)."""
        self._session()
        return self._mailbox

    # ---- helpers -------------------------------------------------------------
    def _raw(self, f: FollowUp) -> bytes:
        content = f.content
        if not isinstance(content, DraftContent):
            raise TypeError(f"ImapDrafts writes drafts, not {type(content).__name__}")
        return message_bytes(build_message(content, me=self._cfg.me, key=self._key(f)))

    @staticmethod
    def _key(f: FollowUp) -> str:
        content = f.content
        recipient = f.recipient or (content.to.email if isinstance(content, DraftContent) else "")
        return ids.draft_key(f.interview_id, f.step, recipient)

    def _id(self, uid: str) -> str:
        return f"{self._uidvalidity}:{uid}"

    def _with_key(self, key: str) -> list[str]:
        data = self._call("looking for a draft", lambda m: m.uid("SEARCH", "HEADER", DRAFT_KEY_HEADER, key))
        return [u.decode() for d in data if isinstance(d, bytes) for u in d.split()]

    def _fetch(self, uid: str) -> bytes | None:
        data = self._call("reading a draft", lambda m: m.uid("FETCH", uid, "(BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return bytes(item[1])
        return None

    def _uid_of(self, entry: LedgerEntry) -> str | None:
        """The recorded UID, if it still names a message of this mailbox."""
        validity, _, uid = entry.backend_id.partition(":")
        self._session()
        if validity != self._uidvalidity or not uid:
            return None
        data = self._call("checking a draft", lambda m: m.uid("SEARCH", "UID", uid))
        return uid if uid.encode() in b" ".join(d for d in data if isinstance(d, bytes)).split() else None

    def _untouched(self, entry: LedgerEntry, key: str, f: FollowUp | None = None) -> str:
        """The UID of the draft as followupd wrote it; else UserEdited or UserDeleted."""
        uid = self._uid_of(entry)
        others = [u for u in self._with_key(key) if u != uid]
        if uid is not None and not others:
            return uid
        if uid is None and len(others) == 1 and entry.backend_id.partition(":")[0] != self._uidvalidity \
                and f is not None and isinstance(f.content, DraftContent):
            # the mailbox was renumbered (UIDVALIDITY changed): ours if it is what was written
            raw = self._fetch(others[0])
            if raw is not None and same_draft(raw, f.content, me=self._cfg.me):
                return others[0]
        if others:
            raise UserEdited(f"draft {entry.backend_id} was replaced by an edited copy")
        raise UserDeleted(f"draft {entry.backend_id} is gone (sent or deleted)")

    def _append(self, f: FollowUp) -> Written:
        raw = self._raw(f)
        data = self._call(f"writing the {f.step!r} draft",
                          lambda m: m.append(_quote(self._mailbox), r"(\Draft)", imaplib.Time2Internaldate(time.time()),
                                             raw), repeat=False)
        text = b" ".join(d for d in data if isinstance(d, bytes))
        found = _APPENDUID.search(text)
        if found:
            self._uidvalidity = found.group(1).decode()
            return Written(self._id(found.group(2).decode()), self._id(found.group(2).decode()))
        uids = self._with_key(self._key(f))  # no UIDPLUS: the newest message carrying the key
        if not uids:
            raise FollowupdError(f"the {f.step!r} draft was appended but cannot be found again")
        uid = max(uids, key=int)
        return Written(self._id(uid), self._id(uid))

    def _remove(self, uid: str) -> None:
        self._call("withdrawing a draft", lambda m: m.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))
        if self._uidplus:  # only this message: never expunge what the person marked deleted
            self._call("withdrawing a draft", lambda m: m.uid("EXPUNGE", uid))

    # ---- DraftSink -------------------------------------------------------------
    def create(self, f: FollowUp) -> Written:
        return self._append(f)

    def find(self, f: FollowUp) -> Written | None:
        content = f.content
        assert isinstance(content, DraftContent), "a draft sink only takes drafts"
        for uid in sorted(self._with_key(self._key(f)), key=int):
            raw = self._fetch(uid)
            if raw is None:
                continue
            if not same_draft(raw, content, me=self._cfg.me):
                raise UserEdited(f"draft {self._id(uid)} was changed after an interrupted write")
            return Written(self._id(uid), self._id(uid))
        return None

    def check(self, entry: LedgerEntry) -> Written | None:
        uid = self._uid_of(entry)
        return None if uid is None else Written(self._id(uid), self._id(uid))

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        old = self._untouched(entry, self._key(f), self._previous(f, entry))
        made = self._append(f)  # first the new one: a crash between the two leaves two, never none
        self._remove(old)
        return made

    def delete(self, entry: LedgerEntry) -> None:
        # after a renumbering, what is found cannot be told from the person's edit without the
        # text that was written: it is left alone (UserEdited), never removed on a guess
        key = ids.draft_key(entry.interview_id, entry.step, entry.recipient)
        self._remove(self._untouched(entry, key))

    @staticmethod
    def _previous(f: FollowUp, entry: LedgerEntry) -> FollowUp | None:
        """``f`` when it is what the row says was written (the same content hash), else None."""
        return f if f.content_hash == entry.content_hash else None


__all__ = ["ImapDrafts"]
