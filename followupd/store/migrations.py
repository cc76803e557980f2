"""Schema of ``state.db`` and its migrations (``PRAGMA user_version``).

Each migration is a function that takes the connection and brings the schema
from version ``i`` to ``i + 1``.  ``migrate`` applies the missing ones in order,
all inside one transaction, so a database is either fully upgraded or left as
it was.  Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from followupd.errors import FollowupdError

Migration = Callable[[sqlite3.Connection], None]


def _v1(db: sqlite3.Connection) -> None:
    """The initial schema."""
    db.execute(
        """CREATE TABLE calendars (
            calendar_id TEXT PRIMARY KEY,
            sync_token  TEXT,
            tz          TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE interviews (
            id          TEXT PRIMARY KEY,
            calendar_id TEXT NOT NULL,
            event_json  TEXT NOT NULL,   -- the CalendarEvent, to re-plan without re-listing
            etag        TEXT NOT NULL,
            start       TEXT NOT NULL,
            "end"       TEXT NOT NULL,
            first_seen  TEXT NOT NULL,
            outcome     TEXT,
            outcome_at  TEXT,
            decision    TEXT,
            status      TEXT NOT NULL DEFAULT 'live',   -- live | gone
            gone_reason TEXT NOT NULL DEFAULT '',
            settled     INTEGER NOT NULL DEFAULT 0
        )"""
    )
    # A pass loads only the interviews that are not settled: a partial index
    # keeps that lookup proportional to the active ones, not to history.
    db.execute("CREATE INDEX interviews_active ON interviews(settled) WHERE settled = 0")
    db.execute(
        """CREATE TABLE ledger (
            key          TEXT PRIMARY KEY,
            interview_id TEXT NOT NULL,
            step         TEXT NOT NULL,
            kind         TEXT NOT NULL,
            recipient    TEXT NOT NULL DEFAULT '',
            backend_id   TEXT NOT NULL DEFAULT '',
            version      TEXT NOT NULL DEFAULT '',
            content_hash TEXT NOT NULL DEFAULT '',
            status       TEXT NOT NULL,
            at           TEXT NOT NULL,
            updated_at   TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX ledger_interview ON ledger(interview_id)")
    db.execute(
        """CREATE TABLE intents (
            key           TEXT PRIMARY KEY,
            created_at    TEXT NOT NULL,
            followup_json TEXT NOT NULL   -- what was about to be written, to resolve it later
        )"""
    )


def _v2(db: sqlite3.Connection) -> None:
    """Ledger rows remember the title they were written with (for log lines and
    ``status`` even after the interview is gone); pending rows get an index."""
    db.execute("ALTER TABLE ledger ADD COLUMN title TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX ledger_pending ON ledger(status) WHERE status = 'planned'")


def _v3(db: sqlite3.Connection) -> None:
    """What the last pass planned, for ``status`` to read instead of planning again: each
    interview's application and round, and the follow-ups still to be written."""
    db.execute(
        """CREATE TABLE plans (
            interview_id TEXT PRIMARY KEY,
            company      TEXT NOT NULL DEFAULT '',
            application  TEXT NOT NULL DEFAULT '',
            round        INTEGER NOT NULL DEFAULT 1,
            rounds       INTEGER NOT NULL DEFAULT 1,
            planned_at   TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE upcoming (
            key          TEXT PRIMARY KEY,
            interview_id TEXT NOT NULL,
            step         TEXT NOT NULL,
            kind         TEXT NOT NULL,
            recipient    TEXT NOT NULL DEFAULT '',
            title        TEXT NOT NULL DEFAULT '',
            at           TEXT NOT NULL,
            due          TEXT NOT NULL    -- when it will be written: the moment, or a draft's write_from
        )"""
    )
    db.execute("CREATE INDEX upcoming_interview ON upcoming(interview_id)")


def _v4(db: sqlite3.Connection) -> None:
    """Per-row failure records (SPEC §4.10): the action that failed, how often, its last error,
    and when it is tried again (NULL with attempts > 0: set aside as *needs attention*)."""
    db.execute("ALTER TABLE ledger ADD COLUMN failed_action TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE ledger ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE ledger ADD COLUMN last_error TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE ledger ADD COLUMN next_attempt TEXT")
    db.execute("CREATE INDEX ledger_failing ON ledger(attempts) WHERE attempts > 0")


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2, _v3, _v4)
LATEST = len(MIGRATIONS)


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply the missing migrations up to ``target`` in one transaction; return the new version.

    ``db`` must be in autocommit mode (``isolation_level=None``).  A database
    newer than this code is refused rather than misread.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        current = version(db)
        if current > LATEST:
            raise FollowupdError(f"state.db has schema version {current}, newer than this followupd "
                               f"understands ({LATEST}); upgrade followupd")
        for i in range(current, target):
            MIGRATIONS[i](db)
        if target > current:
            db.execute(f"PRAGMA user_version = {int(target)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return max(current, target)
