"""state.db: privacy, WAL, migrations, round trips, active-only loading."""

from __future__ import annotations

import sqlite3
import stat
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from followupd import paths
from followupd.store import migrations
from followupd.core.model import Outcome, Status
from followupd.core.tracking import InterviewRecord
from followupd.store.codecs import event_from_json, event_to_json
from followupd.store.state import State, default_path
from reconcile_helpers import T0, draft, entry, event, reminder


def test_file_is_private_and_in_wal_mode() -> None:
    with State() as st:
        assert st.path == paths.state_dir() / "state.db" == default_path()
        assert stat.S_IMODE(st.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(st.path.parent.stat().st_mode) == 0o700
        assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert migrations.version(st.db) == migrations.LATEST


def test_v1_database_is_upgraded_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(db, target=1)
    assert migrations.version(db) == 1
    db.execute("INSERT INTO calendars VALUES ('primary', 'tok', 'Europe/Paris')")
    db.execute("INSERT INTO ledger(key, interview_id, step, kind, recipient, backend_id, version, content_hash,"
               " status, at, updated_at) VALUES ('k', 'iv1', 'prepare', 'reminder', '', 'b', 'v', 'h', 'written',"
               " ?, ?)", (T0.isoformat(), T0.isoformat()))
    db.close()
    with State(path) as st:
        assert migrations.version(st.db) == migrations.LATEST == 4
        assert st.sync_token("primary") == "tok" and st.timezone("primary") == "Europe/Paris"
        e = st.entry("k")
        assert e is not None and e.status == Status.WRITTEN and e.version == "v" and e.title == ""
        assert st.plans_for(["iv1"]) == {} and st.upcoming_for(["iv1"]) == {}  # v3: no plan kept yet
        assert e.failure is None and st.failing() == []  # v4: no failure recorded


def test_a_failure_record_round_trips_and_a_retry_makes_it_due(tmp_path: Path) -> None:
    from followupd.core.model import Failure, Kind, LedgerEntry

    with State(tmp_path / "state.db") as st:
        held = LedgerEntry("k1", "iv1", "prepare", Kind.REMINDER, "", Status.WRITTEN, T0,
                           failure=Failure("update", 5, "HTTP 400 badRequest", None))
        waiting = LedgerEntry("k2", "iv2", "prepare", Kind.REMINDER, "", Status.PLANNED, T0,
                              failure=Failure("write", 1, "boom", T0))
        st.put_entry(held)
        st.put_entry(waiting)
        assert st.entry("k1").failure == held.failure and st.entry("k2").failure == waiting.failure
        assert [e.key for e in st.failing(set_aside_only=True)] == ["k1"] and st.count_set_aside() == 1
        later = T0 + __import__("datetime").timedelta(hours=1)
        assert [e.key for e in st.retry_now(later, ["iv1"])] == ["k1"]
        assert st.entry("k1").failure == Failure("update", 5, "HTTP 400 badRequest", later)  # due, not set aside
        assert st.count_set_aside() == 0 and st.entry("k2").failure == waiting.failure


def test_a_pass_keeps_its_plan_for_status_and_rewrites_only_what_changed(tmp_path: Path) -> None:
    from engine_helpers import World, interview

    w = World(db=tmp_path / "state.db")
    w.cal.put_event(interview("iv1", title="Interview: Acme"))
    w.run()
    with State(tmp_path / "state.db") as st:
        planned = st.plans_for(["iv1"])["iv1"]
        due = st.upcoming_for(["iv1"])["iv1"]
    assert planned.company == "Acme" and (planned.round, planned.rounds) == (1, 1)
    assert {u.step for u in due} >= {"thank-you", "references", "check-in"} and all(u.kind == "draft" for u in due)
    w.clock.advance(__import__("datetime").timedelta(minutes=5))
    w.run()  # nothing changed: the stored plan is not rewritten
    with State(tmp_path / "state.db") as st:
        assert st.plans_for(["iv1"])["iv1"].planned_at == planned.planned_at


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(Exception, match="newer than this followupd"):
        State(path)


def test_event_json_round_trip() -> None:
    ev = event(description="decision: 2026-12-01", private={"a": "b"}, recurring_event_id="r")
    assert event_from_json(event_to_json(ev)) == ev


def test_interviews_ledger_and_intents_round_trip() -> None:
    with State() as st:
        rec = InterviewRecord(event=event(), first_seen=T0, outcome=Outcome.REJECTED, outcome_at=T0,
                              decision=date(2026, 12, 1))
        st.put_interviews([rec])
        assert st.interview("iv1") == rec
        f = draft()
        planned = replace(entry(f, Status.PLANNED), version="", backend_id="")
        st.put_entry(planned, intent=f)
        assert st.entry(f.key) == planned
        assert st.intent(f.key) == f and st.pending_intents() == [f.key]
        st.put_entry(entry(f))
        assert st.intent(f.key) is None and st.pending_intents() == []
        assert st.ledger_for(["iv1"]) == {f.key: entry(f)}


def test_only_active_interviews_and_their_rows_are_loaded() -> None:
    with State() as st:
        recs = [InterviewRecord(event=event(f"iv{i}", start=T0 + timedelta(days=i)), first_seen=T0)
                for i in range(6)]
        st.put_interviews(recs)
        for r in recs:
            st.put_entry(entry(reminder(r.id)))
        st.settle(["iv0", "iv1", "iv2"])
        assert [r.id for r in st.active_interviews()] == ["iv3", "iv4", "iv5"]
        assert len(st.ledger_for(r.id for r in st.active_interviews())) == 3
        plan = " ".join(str(r[3]) for r in st.db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM interviews WHERE settled = 0"))
        assert "interviews_active" in plan


def test_outcome_reactivates_a_settled_interview() -> None:
    with State() as st:
        st.put_interviews([InterviewRecord(event=event(), first_seen=T0, settled=True)])
        rec = st.record_outcome("iv1", outcome=Outcome.OFFER, decision=None, at=T0)
        assert rec.outcome == Outcome.OFFER and not rec.settled
        assert [r.id for r in st.active_interviews()] == ["iv1"]


def test_tokens_commit_together() -> None:
    with State() as st:
        st.set_timezone("primary", "UTC")
        st.set_sync_tokens({"primary": "t1", "work": "t2"})
        assert (st.sync_token("primary"), st.sync_token("work"), st.timezone("primary")) == ("t1", "t2", "UTC")
