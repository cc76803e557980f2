"""The state database: sync tokens, interviews seen, the follow-up ledger, intents.

One SQLite file, ``$XDG_STATE_HOME/followupd/state.db`` (0600 in a 0700
directory), in WAL mode with ``synchronous=NORMAL``: a commit survives a kill -9
of the process (and, at worst, the last commits are lost on power failure,
which the deterministic ids and intents then recover from).

The connection runs in autocommit mode; every change is its own short
transaction, so a ledger row is durable before the next backend call.  A pass
reads only *active* interviews (``settled = 0``) and their ledger rows, so its
cost does not grow with history.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from followupd import paths
from followupd.store.codecs import event_from_json, event_to_json, followup_from_json, followup_to_json
from followupd.store.migrations import migrate
from followupd.core.records import InterviewRecord
from followupd.core.model import Failure, FollowUp, Kind, LedgerEntry, Outcome, Status

BUSY_TIMEOUT_MS = 10_000


# ---------------------------------------------------------------- the store

_INTERVIEW_COLS = ("id, calendar_id, event_json, first_seen, outcome, outcome_at, decision, status, "
                   "gone_reason, settled")
_LEDGER_COLS = ("key, interview_id, step, kind, recipient, status, at, backend_id, version, content_hash, "
                "updated_at, title, failed_action, attempts, last_error, next_attempt")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _interview_row(row: sqlite3.Row) -> InterviewRecord:
    return InterviewRecord(
        event=event_from_json(row["event_json"]), first_seen=datetime.fromisoformat(row["first_seen"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None, outcome_at=_dt(row["outcome_at"]),
        decision=date.fromisoformat(row["decision"]) if row["decision"] else None,
        live=row["status"] == "live", gone_reason=row["gone_reason"], settled=bool(row["settled"]),
    )


def _ledger_row(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        key=row["key"], interview_id=row["interview_id"], step=row["step"], kind=Kind(row["kind"]),
        recipient=row["recipient"], status=Status(row["status"]), at=datetime.fromisoformat(row["at"]),
        backend_id=row["backend_id"], version=row["version"], content_hash=row["content_hash"],
        updated_at=_dt(row["updated_at"]), title=row["title"],
        failure=Failure(row["failed_action"], row["attempts"], row["last_error"], _dt(row["next_attempt"]))
        if row["attempts"] else None,
    )


@dataclass(frozen=True)
class Planned:
    """What the last pass planned for one interview: its application and round, and when."""

    interview_id: str
    company: str
    application: str
    round: int
    rounds: int
    planned_at: datetime


@dataclass(frozen=True)
class Upcoming:
    """A follow-up the last pass planned and had not written yet."""

    key: str
    interview_id: str
    step: str
    kind: Kind
    recipient: str
    title: str
    at: datetime
    due: datetime  # when it will be written

    @classmethod
    def of(cls, f: FollowUp) -> Upcoming:
        """A planned follow-up as ``status`` shows it: a draft is due when it may be written."""
        return cls(f.key, f.interview_id, f.step, f.kind, f.recipient, f.title, f.at,
                   f.write_from if f.kind is Kind.DRAFT else f.at)


def default_path() -> Path:
    return paths.state_dir() / "state.db"


class State:
    """The state database.  Not thread-safe: one per process, used by one thread."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        paths.private_file(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        self.db.row_factory = sqlite3.Row
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- calendars ---------------------------------------------------------
    def sync_token(self, calendar_id: str) -> str | None:
        row = self.db.execute("SELECT sync_token FROM calendars WHERE calendar_id = ?", (calendar_id,)).fetchone()
        return row["sync_token"] if row else None

    def set_sync_tokens(self, tokens: Mapping[str, str | None]) -> None:
        with self.transaction() as db:
            for cal, token in tokens.items():
                db.execute("INSERT INTO calendars(calendar_id, sync_token) VALUES (?, ?) "
                           "ON CONFLICT(calendar_id) DO UPDATE SET sync_token = excluded.sync_token", (cal, token))

    def timezone(self, calendar_id: str) -> str | None:
        row = self.db.execute("SELECT tz FROM calendars WHERE calendar_id = ?", (calendar_id,)).fetchone()
        return row["tz"] if row else None

    def set_timezone(self, calendar_id: str, tz: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO calendars(calendar_id, tz) VALUES (?, ?) "
                       "ON CONFLICT(calendar_id) DO UPDATE SET tz = excluded.tz", (calendar_id, tz))

    # -- interviews --------------------------------------------------------
    def interview(self, interview_id: str) -> InterviewRecord | None:
        row = self.db.execute(f"SELECT {_INTERVIEW_COLS} FROM interviews WHERE id = ?", (interview_id,)).fetchone()
        return _interview_row(row) if row else None

    def _rows_where_in(self, select: str, column: str, values: Iterable[str]) -> Iterator[sqlite3.Row]:
        """``select ... WHERE column IN (values)``, one query per 500 values (SQLite's
        bound-parameter limit), so a first sync's thousands of ids are fine."""
        wanted = list(dict.fromkeys(values))
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            yield from self.db.execute(f"{select} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)

    def interviews_by_id(self, ids: Iterable[str]) -> dict[str, InterviewRecord]:
        """The known interviews among ``ids`` (settled or not)."""
        return {row["id"]: _interview_row(row)
                for row in self._rows_where_in(f"SELECT {_INTERVIEW_COLS} FROM interviews", "id", ids)}

    def active_interviews(self) -> list[InterviewRecord]:
        """Interviews that are not settled (uses the partial index)."""
        rows = self.db.execute(f"SELECT {_INTERVIEW_COLS} FROM interviews WHERE settled = 0 ORDER BY start, id")
        return [_interview_row(r) for r in rows]

    def live_interviews_since(self, start: datetime) -> list[InterviewRecord]:
        """Live interviews (settled or not) that start at ``start`` or later: the recent rounds an
        application is made of.  Bounded by time, not by history."""
        day = (start - timedelta(days=1)).date().isoformat()  # ISO strings with offsets: a day's margin
        rows = self.db.execute(f"SELECT {_INTERVIEW_COLS} FROM interviews WHERE start >= ? AND status = 'live' "
                               "ORDER BY start, id", (day,))
        return [r for r in map(_interview_row, rows) if r.event.start >= start]

    def all_interviews(self) -> list[InterviewRecord]:
        """Every interview ever seen, oldest first (for ``status`` and ``outcome`` only)."""
        rows = self.db.execute(f"SELECT {_INTERVIEW_COLS} FROM interviews ORDER BY start, id")
        return [_interview_row(r) for r in rows]

    def put_interviews(self, records: Sequence[InterviewRecord]) -> None:
        """Insert or replace interview records, all in one transaction."""
        if not records:
            return
        with self.transaction() as db:
            for r in records:
                db.execute(
                    f"INSERT OR REPLACE INTO interviews({_INTERVIEW_COLS}, etag, start, \"end\") "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.id, r.calendar_id, event_to_json(r.event), r.first_seen.isoformat(),
                     r.outcome.value if r.outcome else None, r.outcome_at.isoformat() if r.outcome_at else None,
                     r.decision.isoformat() if r.decision else None, "live" if r.live else "gone",
                     r.gone_reason, int(r.settled), r.event.etag, r.event.start.isoformat(),
                     r.event.end.isoformat()),
                )

    def record_outcome(self, interview_id: str, *, outcome: Outcome | None, decision: date | None,
                       at: datetime) -> InterviewRecord:
        """Record an outcome and/or a decision date; the interview becomes active again."""
        rec = self.interview(interview_id)
        if rec is None:
            raise KeyError(interview_id)
        if outcome is not None:
            rec = replace(rec, outcome=outcome, outcome_at=at)
        if decision is not None:
            rec = replace(rec, decision=decision)
        rec = replace(rec, settled=False)
        self.put_interviews([rec])
        return rec

    def settle(self, interview_ids: Iterable[str]) -> None:
        ids = list(interview_ids)
        if not ids:
            return
        with self.transaction() as db:
            db.executemany("UPDATE interviews SET settled = 1 WHERE id = ?", [(i,) for i in ids])

    # -- ledger ------------------------------------------------------------
    def ledger_for(self, interview_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        """Ledger rows of the given interviews, by key (uses the interview_id index)."""
        return {row["key"]: _ledger_row(row)
                for row in self._rows_where_in(f"SELECT {_LEDGER_COLS} FROM ledger", "interview_id", interview_ids)}

    def entry(self, key: str) -> LedgerEntry | None:
        row = self.db.execute(f"SELECT {_LEDGER_COLS} FROM ledger WHERE key = ?", (key,)).fetchone()
        return _ledger_row(row) if row else None

    def put_entry(self, entry: LedgerEntry, *, intent: FollowUp | None = None) -> None:
        """Write one ledger row and commit.

        With ``intent`` (status PLANNED) the follow-up about to be written is
        stored beside it, so a crash can be resolved later with ``find``.  Any
        other status clears the key's intent in the same transaction.
        """
        updated = (entry.updated_at or datetime.now().astimezone()).isoformat()
        f = entry.failure
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO ledger({_LEDGER_COLS}) VALUES ({', '.join('?' * 16)})",
                (entry.key, entry.interview_id, entry.step, entry.kind.value, entry.recipient, entry.status.value,
                 entry.at.isoformat(), entry.backend_id, entry.version, entry.content_hash, updated, entry.title,
                 f.action if f else "", f.attempts if f else 0, f.error if f else "",
                 f.next_attempt.isoformat() if f and f.next_attempt else None),
            )
            if intent is not None:
                db.execute("INSERT OR REPLACE INTO intents(key, created_at, followup_json) VALUES (?, ?, ?)",
                           (entry.key, updated, followup_to_json(intent)))
            elif entry.status != Status.PLANNED:
                db.execute("DELETE FROM intents WHERE key = ?", (entry.key,))

    def failing(self, *, set_aside_only: bool = False) -> list[LedgerEntry]:
        """Rows whose action is failing (uses the partial index), oldest interview first;
        with ``set_aside_only``, those set aside as *needs attention*."""
        where = "attempts > 0" + (" AND next_attempt IS NULL" if set_aside_only else "")
        rows = self.db.execute(f"SELECT {_LEDGER_COLS} FROM ledger WHERE {where} ORDER BY at, key")
        return [_ledger_row(r) for r in rows]

    def count_set_aside(self) -> int:
        """How many rows are set aside as *needs attention* (one indexed count)."""
        return int(self.db.execute("SELECT COUNT(*) FROM ledger WHERE attempts > 0 AND next_attempt IS NULL")
                   .fetchone()[0])

    def retry_now(self, at: datetime, interview_ids: Iterable[str] | None = None) -> list[LedgerEntry]:
        """Make the failing rows (of these interviews, or all) due again at ``at``, set-aside ones
        included: the next pass tries each once more (and one that fails again is set aside at
        once).  Returns the rows made due."""
        wanted = None if interview_ids is None else set(interview_ids)
        due = [e for e in self.failing() if wanted is None or e.interview_id in wanted]
        with self.transaction() as db:
            db.executemany("UPDATE ledger SET next_attempt = ? WHERE key = ?", [(at.isoformat(), e.key) for e in due])
        return due

    def intent(self, key: str) -> FollowUp | None:
        row = self.db.execute("SELECT followup_json FROM intents WHERE key = ?", (key,)).fetchone()
        return followup_from_json(row["followup_json"]) if row else None

    def pending_intents(self) -> list[str]:
        return [r["key"] for r in self.db.execute("SELECT key FROM intents ORDER BY created_at, key")]

    # -- what the last pass planned (read by ``status``) -----------------------------
    def set_plans(self, plans: Sequence[Planned], upcoming: Sequence[Upcoming]) -> None:
        """Replace what is stored of these interviews' plans, in one transaction."""
        if not plans:
            return
        ids = [(p.interview_id,) for p in plans]
        with self.transaction() as db:
            db.executemany("DELETE FROM upcoming WHERE interview_id = ?", ids)
            db.executemany(
                "INSERT OR REPLACE INTO plans(interview_id, company, application, round, rounds, planned_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(p.interview_id, p.company, p.application, p.round, p.rounds, p.planned_at.isoformat())
                 for p in plans])
            db.executemany(
                "INSERT OR REPLACE INTO upcoming(key, interview_id, step, kind, recipient, title, at, due) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(u.key, u.interview_id, u.step, u.kind.value, u.recipient, u.title, u.at.isoformat(),
                  u.due.isoformat()) for u in upcoming])

    def plans_for(self, interview_ids: Iterable[str]) -> dict[str, Planned]:
        return {row["interview_id"]: Planned(row["interview_id"], row["company"], row["application"], row["round"],
                                             row["rounds"], datetime.fromisoformat(row["planned_at"]))
                for row in self._rows_where_in("SELECT * FROM plans", "interview_id", interview_ids)}

    def upcoming_for(self, interview_ids: Iterable[str]) -> dict[str, list[Upcoming]]:
        out: dict[str, list[Upcoming]] = {}
        for row in self._rows_where_in("SELECT * FROM upcoming", "interview_id", interview_ids):
            out.setdefault(row["interview_id"], []).append(Upcoming(
                row["key"], row["interview_id"], row["step"], Kind(row["kind"]), row["recipient"], row["title"],
                datetime.fromisoformat(row["at"]), datetime.fromisoformat(row["due"])))
        return out

    def counts(self) -> dict[str, int]:
        """Row counts per table (for tests and ``doctor``)."""
        return {t: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                for t in ("calendars", "interviews", "ledger", "intents")}
