"""Drafts in a local Maildir (``[maildir] path``), readable by mutt, aerc and friends.

Each draft is one RFC 5322 file in ``cur/`` whose name carries the Maildir
flag ``D`` (draft).  The mailbox key (the unique part of the file name) is the
draft's ``backend_id``; its version is the SHA-256 of the file's bytes, so a
flag change (marking it read renames the file) is not an edit, while any
change of headers or body is.

Delivery of a new draft goes through the stdlib ``mailbox.Maildir`` (unique
name, write to ``tmp/``, fsync, link into ``cur/``).  Rewriting an untouched
draft replaces its file atomically under the same name, so a crash leaves
either the old draft or the new one, never neither: a missing draft would
read as "the person deleted it" and never be written again.
"""

from __future__ import annotations

import hashlib
import logging
import mailbox
import os
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from followupd.core import ids
from followupd.core.settings import Config, MeConfig
from followupd.errors import ConfigError, UserDeleted, UserEdited
from followupd.core.message import build_message, message_bytes, same_draft
from followupd.core.model import DRAFT_KEY_HEADER, DraftContent, FollowUp, LedgerEntry
from followupd.backends.protocols import Written
from followupd.paths import atomic_write, fsync_dir, private_dir, write_problem

log = logging.getLogger("followupd.backends.maildir")

_SUBDIRS = ("tmp", "new", "cur")
_HEADER_LIMIT = 256 * 1024  # stop looking for the end of the headers after this much

_StatKey = tuple[int, int, int]


def _stat_key(st: os.stat_result) -> _StatKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def check_location(cfg: Config) -> Path:
    """``[maildir] path``, once drafts can be written there: a Maildir (its ``tmp``, ``new``
    and ``cur`` writable), or a folder still to be made inside a writable one.  Raises
    ConfigError naming the key before anything is written."""
    root = Path(cfg.maildir.path).expanduser()
    where = f"[maildir] path in {cfg.path}" if cfg.path else "[maildir] path"
    problem = None
    if root.exists() and not root.is_dir():
        problem = f"{root} is a file, not a Maildir folder"
    elif root.exists():
        for folder in (root / sub for sub in _SUBDIRS):
            if folder.exists() and not folder.is_dir():
                problem = f"{root} is not a Maildir ({folder} is not a folder)"
            else:  # drafts go into it, or it is made in the Maildir
                problem = write_problem(folder if folder.exists() else root)
            if problem:
                break
    else:
        existing = root.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        problem = write_problem(existing)
    if problem:
        raise ConfigError(f"{where}: {problem}; drafts cannot be written there. "
                          "Fix the permissions, or point it at a Maildir folder of yours")
    return root


class MaildirDrafts:
    """``protocols.DraftSink`` over a Maildir.  Never sends anything."""

    def __init__(self, cfg: Config) -> None:
        self._path = check_location(cfg)
        self._me: MeConfig = cfg.me
        self._mailbox: mailbox.Maildir | None = None
        self._index: dict[str, Path] = {}  # mailbox key -> file, rebuilt on a miss
        self._hashes: dict[Path, tuple[_StatKey, str]] = {}

    @property
    def path(self) -> Path:
        return self._path

    def create(self, f: FollowUp) -> Written:
        """Deliver the draft into ``cur/`` flagged D; returns its key and content hash."""
        raw = self._render(f)
        box = self._open()
        message = mailbox.MaildirMessage(raw)
        message.set_subdir("cur")
        message.set_flags("D")
        try:
            key = box.add(message)
        except OSError as exc:
            raise ConfigError(f"{self._path}: cannot write a draft ({exc.strerror or type(exc).__name__}); "
                              "check [maildir] path") from None
        path = self._locate(key)
        if path is None:  # only if another program removed it within microseconds
            raise UserDeleted(f"draft {key} vanished from {self._path} right after it was written")
        os.chmod(path, 0o600)
        fsync_dir(path.parent)
        return Written(key, self._hash(path))

    def find(self, f: FollowUp) -> Written | None:
        """The draft carrying this follow-up's ``X-Followupd-Key``, if any (headers only are read)."""
        wanted = ids.draft_key(f.interview_id, f.step, f.recipient)
        self._rebuild_index()
        for key, path in sorted(self._index.items()):
            try:
                if _key_header(path) == wanted:
                    assert isinstance(f.content, DraftContent), "a draft sink only takes drafts"
                    if not same_draft(path.read_bytes(), f.content, me=self._me):
                        raise UserEdited(f"draft {path.name} was changed after an interrupted write")
                    return Written(key, self._hash(path))
            except FileNotFoundError:
                continue
        return None

    def check(self, entry: LedgerEntry) -> Written | None:
        """None when the draft is gone (sent or deleted), else its key and current hash."""
        path = self._locate(entry.backend_id)
        if path is None:
            return None
        try:
            return Written(entry.backend_id, self._hash(path))
        except FileNotFoundError:
            return None

    def update(self, f: FollowUp, entry: LedgerEntry) -> Written:
        """Rewrite the draft in place (same key, same flags) if untouched since ``entry``."""
        path = self._untouched(entry)
        raw = self._render(f)
        atomic_write(path, raw, tmp_dir=self._path / "tmp")
        return Written(entry.backend_id, self._hash(path))

    def delete(self, entry: LedgerEntry) -> None:
        """Remove the draft if untouched since ``entry``."""
        path = self._untouched(entry)
        try:
            path.unlink()
        except FileNotFoundError:
            raise UserDeleted(f"draft {entry.backend_id} is no longer in {self._path}") from None
        fsync_dir(path.parent)
        self._index.pop(entry.backend_id, None)
        self._hashes.pop(path, None)

    # -- internals -----------------------------------------------------------------

    def _render(self, f: FollowUp) -> bytes:
        content = f.content
        if not isinstance(content, DraftContent):
            raise TypeError(f"the Maildir takes drafts, not {type(content).__name__}")
        key = ids.draft_key(f.interview_id, f.step, f.recipient)
        message = build_message(content, me=self._me, key=key)
        return message_bytes(message, linesep="\n")  # local files use local line ends

    def _open(self) -> mailbox.Maildir:
        """The Maildir, with ``tmp``/``new``/``cur`` created 0700 where missing."""
        if self._mailbox is None:
            try:
                private_dir(self._path)
                for sub in _SUBDIRS:
                    private_dir(self._path / sub)
            except OSError as exc:
                raise ConfigError(f"{self._path}: cannot create the Maildir "
                                  f"({exc.strerror or type(exc).__name__}); check [maildir] path") from None
            self._mailbox = mailbox.Maildir(self._path, factory=None, create=False)
        return self._mailbox

    def _untouched(self, entry: LedgerEntry) -> Path:
        path = self._locate(entry.backend_id)
        if path is None:
            raise UserDeleted(f"draft {entry.backend_id} is no longer in {self._path}")
        try:
            current = self._hash(path)
        except FileNotFoundError:
            raise UserDeleted(f"draft {entry.backend_id} is no longer in {self._path}") from None
        if current != entry.version:
            raise UserEdited(f"draft {entry.backend_id} in {self._path} was edited since followupd wrote it")
        return path

    def _locate(self, key: str) -> Path | None:
        """The file of mailbox ``key`` in ``cur/`` or ``new/``; the index is rebuilt on a miss."""
        path = self._index.get(key)
        if path is not None and path.exists():
            return path
        self._rebuild_index()
        return self._index.get(key)

    def _rebuild_index(self) -> None:
        colon = self._open().colon
        index: dict[str, Path] = {}
        for sub in ("new", "cur"):
            folder = self._path / sub
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                continue
            for name in names:
                if name.startswith("."):
                    continue
                index[name.split(colon, 1)[0]] = folder / name
        self._index = index

    def _hash(self, path: Path) -> str:
        """SHA-256 of the file's bytes, cached by inode, size and mtime."""
        stat = _stat_key(os.stat(path))
        cached = self._hashes.get(path)
        if cached is not None and cached[0] == stat:
            return cached[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self._hashes[path] = (stat, digest)
        return digest


def _key_header(path: Path) -> str | None:
    """The ``X-Followupd-Key`` of the message at ``path``, reading its header block only."""
    head = bytearray()
    with path.open("rb") as fh:
        for line in fh:
            if line in (b"\n", b"\r\n") or len(head) > _HEADER_LIMIT:
                break
            head += line
    headers = BytesHeaderParser(policy=compat32).parsebytes(bytes(head))
    value = headers.get(DRAFT_KEY_HEADER)
    return str(value).strip() if value is not None else None
