"""Runs reconcile's actions against the sinks, committing the ledger after each.

Durability order, for every write (SPEC §4.4):

1. a PLANNED ledger row and the follow-up itself (the *intent*) are committed;
2. the backend call is made (every sink's write is durable when it returns, so
   the ICS output file holds the event before the ledger says it does);
3. the outcome is committed (WRITTEN, EDITED, DELETED, …).

A kill -9 between 1 and 3 leaves a PLANNED row, which the next pass resolves
with ``ResolveIntent``: drafts by ``drafts.find`` (adopt if found, else
create), reminders by a create that adopts the deterministic id.  Nothing is
created twice and nothing is lost.  (The one thing ``find`` cannot tell apart: a draft
whose create was interrupted *and* that the person deleted or sent before the
next pass looks like a create that never happened, so it is written once more.)  A crash between an *update* and its commit
makes the next pass see a version it did not record and treat the item as the
person's: followupd errs on the side of never overwriting.

``TransientError`` (and AuthError) propagate: the pass stops and the rest of
its work stays pending for the next one.  The conflicts the sinks report
(``UserEdited``, ``UserDeleted``) are recorded, never retried.

Any other failure belongs to the one action that raised it (SPEC §4.10, in the
manner of vdirsyncer's per-action errors and kopf's per-handler retry record):
it is recorded on that row (``core.attempts``) and the pass goes on with every
other action.  The row is tried again on a later pass after a growing delay,
and after the last attempt it is set aside as *needs attention*, with one
WARNING line that names it and the fix, until ``followupd retry``.

"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Mapping, Sequence

from followupd.core import attempts
from followupd.errors import AuthError, ConfigError, SafetyStop, TransientError, UserDeleted, UserEdited
from followupd.core.model import FollowUp, Kind, LedgerEntry, Status
from followupd.backends.protocols import Backends, Written
from followupd.core.reconcile import (Action, Create, MarkDeleted, MarkEdited, ResolveIntent, Skip, Update, Withdraw,
                                     action_key)
from followupd.store.state import State

log = logging.getLogger("followupd.apply")

def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _what(kind: Kind, title: str, recipient: str, interview: str) -> str:
    if kind == Kind.REMINDER:
        return f"reminder '{title}' for '{interview}'"
    return f"draft '{title}' to {recipient}"


def describe(action: Action, titles: Mapping[str, str], *, dry_run: bool = False) -> str:
    """The human line for an action: past tense once done, "would …" in a dry run."""
    def verb(done: str, would: str) -> str:
        return f"would {would}" if dry_run else done

    if isinstance(action, Create):
        f = action.followup
        what = _what(f.kind, f.title, f.recipient, titles.get(f.interview_id, f.interview_id))
        if f.kind == Kind.REMINDER:
            return f"{verb('created', 'create')} {what} at {_when(f.at)}"
        return f"{verb('wrote', 'write')} {what}"
    if isinstance(action, Skip):
        f = action.followup
        what = _what(f.kind, f.title, f.recipient, titles.get(f.interview_id, f.interview_id))
        return f"{verb('skipped', 'skip')} {what} ({action.reason})"
    e = action.entry
    what = _what(e.kind, e.title or e.step, e.recipient, titles.get(e.interview_id, e.interview_id))
    if isinstance(action, ResolveIntent):
        if e.failure is not None:  # a write tried again after it failed, not an interrupted one
            return describe(Create(action.followup), titles, dry_run=dry_run)
        return f"{verb('resolved', 'resolve')} the interrupted write of {what}"
    if isinstance(action, Update):
        if e.kind == Kind.REMINDER:
            return f"{verb('moved', 'move')} {what} to {_when(action.followup.at)}"
        return f"{verb('rewrote', 'rewrite')} {what}"
    if isinstance(action, Withdraw):
        return f"{verb('withdrew', 'withdraw')} {what} ({action.reason})"
    if isinstance(action, MarkEdited):
        return f"{verb('left alone', 'leave alone')} {what} (edited by you)"
    return f"{verb('left alone', 'leave alone')} {what} (deleted by you — not re-created)"


# Failures that are not one item's: they stop the pass (the daemon backs off, or reports the
# configuration); everything else is recorded on the item's row.
_NOT_ONE_ITEMS = (TransientError, AuthError, ConfigError, SafetyStop, sqlite3.Error)
RETRY_HINT = "fix it, then run `followupd retry` (or delete the interview's follow-up by hand)"


def operation(action: Action) -> str | None:
    """The backend operation an action makes (``core.attempts`` names), or None for ledger-only ones."""
    if isinstance(action, (Create, ResolveIntent)):
        return attempts.WRITE
    if isinstance(action, Update):
        return attempts.UPDATE
    if isinstance(action, Withdraw):
        return attempts.WITHDRAW
    return None


@dataclass
class ApplyResult:
    lines: list[str] = field(default_factory=list)
    applied: int = 0
    stopped: bool = False  # a stop was requested before every action ran


class Applier:
    """Applies actions one at a time; each one's ledger row is committed before the next."""

    def __init__(self, backends: Backends, state: State, clock: Callable[[], datetime],
                 titles: Mapping[str, str]) -> None:
        self.b = backends
        self.state = state
        self.clock = clock
        self.titles = titles

    def run(self, actions: Sequence[Action], should_stop: Callable[[], bool] = lambda: False) -> ApplyResult:
        result = ApplyResult()
        now = self.clock()
        for action in actions:
            if should_stop():
                result.stopped = True
                break
            op = operation(action)
            entry = None if isinstance(action, (Create, Skip)) else action.entry
            if op is not None and not attempts.due(entry, op, now):
                continue  # its row failed before and is not due again yet
            try:
                line = self._one(action)
            except _NOT_ONE_ITEMS:
                raise
            except OSError as exc:  # a local disk or socket problem is no item's: back off the pass
                what = describe(action, self.titles, dry_run=True).removeprefix("would ")
                raise TransientError(f"could not {what}: {exc}") from exc
            except Exception as exc:  # noqa: BLE001 - one item's failure: recorded, the pass goes on
                assert op is not None, "ledger-only actions make no backend call"
                result.lines.append(self._failed(action, op, exc))
                continue
            log.info("%s", line)
            result.lines.append(line)
            result.applied += 1
        return result

    def _failed(self, action: Action, op: str, exc: Exception) -> str:
        """Record the failure on the row (written before the call for a create) and say so."""
        key = action_key(action)
        row = self.state.entry(key)
        if row is None:  # pragma: no cover - a create writes its row before the call
            assert isinstance(action, Create)
            row = self._entry_for(action.followup, Status.PLANNED)
        error = str(exc).strip() or type(exc).__name__
        failure = attempts.after_failure(row, op, error, self.clock())
        self.state.put_entry(replace(row, failure=failure, updated_at=self.clock()))
        what = describe(action, self.titles, dry_run=True).removeprefix("would ")
        if failure.needs_attention:
            line = (f"needs attention: could not {what} after {failure.attempts} attempts: {failure.error} — "
                    f"set aside; {RETRY_HINT}")
            log.warning("%s", line)
            return line
        assert failure.next_attempt is not None
        line = (f"could not {what}: {failure.error} (attempt {failure.attempts} of {attempts.MAX_ATTEMPTS}; "
                f"trying again after {failure.next_attempt.astimezone():%Y-%m-%d %H:%M})")
        log.info("%s", line)
        return line

    # -- ledger helpers ------------------------------------------------------
    def _record(self, e: LedgerEntry, status: Status, written: Written | None = None,
                content_hash: str | None = None, intent: FollowUp | None = None) -> LedgerEntry:
        new = replace(e, status=status, updated_at=self.clock(), failure=None)
        if written is not None:
            new = replace(new, backend_id=written.backend_id, version=written.version)
        if content_hash is not None:
            new = replace(new, content_hash=content_hash)
        self.state.put_entry(new, intent=intent)
        return new

    @staticmethod
    def _entry_for(f: FollowUp, status: Status) -> LedgerEntry:
        return LedgerEntry(key=f.key, interview_id=f.interview_id, step=f.step, kind=f.kind, recipient=f.recipient,
                           status=status, at=f.at, content_hash=f.content_hash, title=f.title)

    def _create(self, f: FollowUp) -> Written:
        return self.b.events.create(f) if f.kind == Kind.REMINDER else self.b.drafts.create(f)

    def _conflict(self, e: LedgerEntry, exc: Exception, edited_line: str, deleted_line: str) -> str:
        if isinstance(exc, UserEdited):
            self._record(e, Status.EDITED)
            return edited_line
        self._record(e, Status.DELETED)
        return deleted_line

    # -- the actions ---------------------------------------------------------
    def _one(self, action: Action) -> str:
        line = describe(action, self.titles)
        if isinstance(action, Create):
            return self._do_create(action, line)
        if isinstance(action, ResolveIntent):
            return self._do_resolve(action, line)
        if isinstance(action, Update):
            return self._do_update(action, line)
        if isinstance(action, Withdraw):
            return self._do_withdraw(action, line)
        if isinstance(action, Skip):
            self.state.put_entry(self._entry_for(action.followup, Status.SKIPPED))
            return line
        self._record(action.entry, Status.EDITED if isinstance(action, MarkEdited) else Status.DELETED)
        return line

    def _left_alone(self, e: LedgerEntry) -> tuple[str, str]:
        what = describe(MarkEdited(e), self.titles)
        return what, describe(MarkDeleted(e), self.titles)

    def _do_create(self, action: Create, line: str) -> str:
        f = action.followup
        planned = self._entry_for(f, Status.PLANNED)
        self.state.put_entry(planned, intent=f)  # the intent, committed before the call
        try:
            w = self._create(f)
        except (UserEdited, UserDeleted) as exc:
            return self._conflict(planned, exc, *self._left_alone(planned))
        self._record(planned, Status.WRITTEN, w, f.content_hash)
        return line

    def _do_resolve(self, action: ResolveIntent, line: str) -> str:
        f, e = action.followup, action.entry
        intended = self.state.intent(e.key) or f
        try:
            if f.kind == Kind.REMINDER:
                # the deterministic id makes create adopt what the interrupted call wrote,
                # if it still says what was written (else UserEdited)
                w = self._create(intended)
                self._record(e, Status.WRITTEN, w, intended.content_hash)
                return line
            found = self.b.drafts.find(intended)
        except (UserEdited, UserDeleted) as exc:
            # the interrupted write landed, then the person changed or removed it: theirs now
            return self._conflict(e, exc, *self._left_alone(e))
        if found is not None:
            self._record(e, Status.WRITTEN, found, intended.content_hash)
            return line if e.failure is not None else f"{line}: found it, adopted"
        w = self._create(f)
        self._record(e, Status.WRITTEN, w, f.content_hash)
        return line if e.failure is not None else f"{line}: not found, wrote it"

    def _do_update(self, action: Update, line: str) -> str:
        f, e = action.followup, action.entry
        sink = self.b.events if f.kind == Kind.REMINDER else self.b.drafts
        try:
            w = sink.update(f, e)
        except (UserEdited, UserDeleted) as exc:
            return self._conflict(e, exc, *self._left_alone(e))
        self._record(replace(e, at=f.at, title=f.title), Status.WRITTEN, w, f.content_hash)
        return line

    def _do_withdraw(self, action: Withdraw, line: str) -> str:
        e = action.entry
        try:
            if e.status == Status.PLANNED:
                target = self._find_planned(e)
                if target is None:  # the interrupted call never wrote anything
                    self._record(e, Status.WITHDRAWN)
                    return line
                e = target
            if e.kind == Kind.REMINDER:
                self.b.events.delete(e)
            else:
                self.b.drafts.delete(e)
        except (UserEdited, UserDeleted) as exc:
            return self._conflict(e, exc, *self._left_alone(e))
        self._record(e, Status.WITHDRAWN)
        return line

    def _find_planned(self, e: LedgerEntry) -> LedgerEntry | None:
        """Where an interrupted write of ``e`` landed, if it did (the row is updated to say so).
        Raises ``UserEdited`` when it landed and the person changed it since."""
        intended = self.state.intent(e.key)
        if intended is None:
            return None
        try:
            if e.kind == Kind.REMINDER:
                # An EventSink cannot look an id up; a create adopts it if it exists
                # (or writes it, to be removed right after — rare: a crash, then a cancel).
                w: Written | None = self.b.events.create(intended)
            else:
                w = self.b.drafts.find(intended)
        except UserDeleted:
            return None
        if w is None:
            return None
        return self._record(e, Status.WRITTEN, w, intended.content_hash)
