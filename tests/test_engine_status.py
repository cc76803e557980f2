"""``status`` and ``outcome`` through the CLI, over a state.db filled by a real pass."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine_helpers import World, interview
from followupd.cli.app import main
from followupd.core.model import Outcome, Status
from followupd.store.state import State, default_path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[me]\nname = "Jordan Rivera"\nemail = "me@example.com"\n', encoding="utf-8")
    return path


@pytest.fixture
def world() -> World:
    w = World(db=default_path())
    w.cal.put_event(interview("iv1", title="Interview: Acme"))
    w.cal.put_event(interview("iv2", title="Phone screen: Globex", start=w.clock.now + timedelta(days=2)))
    w.run()
    w.crash()  # release the db for the commands
    return w


def test_status_words_and_json(world: World, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "Interview: Acme" in out and "Phone screen: Globex" in out
    assert "written" in out and "due " in out  # reminders written, drafts still to come
    assert main(["--config", str(config), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    acme = next(d for d in data if d["id"] == "iv1")
    states = {f["state"] for f in acme["follow_ups"]}
    assert states == {"written", "due"}
    assert any(f["kind"] == "draft" and f["recipient"] == "sam@acme.com" for f in acme["follow_ups"])


def test_outcome_records_and_explains(world: World, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "outcome", "acme", "rejected"]) == 0
    out = capsys.readouterr().out
    assert "check-in cancelled" in out and "gracious-close draft will be written" in out
    with State() as st:
        rec = st.interview("iv1")
    assert rec is not None and rec.outcome == Outcome.REJECTED and rec.outcome_at is not None
    # the next pass withdraws the check-in reminder
    world.run()
    checkin = [e for e in world.ledger().values() if e.interview_id == "iv1" and e.step == "check-in"]
    assert [e.status for e in checkin] == [Status.WITHDRAWN]


def test_outcome_decision_date(world: World, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "outcome", "iv2", "--decision", "2026-12-01"]) == 0
    assert "recorded decision date 2026-12-01" in capsys.readouterr().out
    with State() as st:
        rec = st.interview("iv2")
    assert rec is not None and str(rec.decision) == "2026-12-01"


@pytest.mark.parametrize("argv, message", [
    (["outcome", "acme"], "needs an outcome"),
    (["outcome", "acme", "--decision", "next week"], "not a date"),
    (["outcome", "initech", "offer"], "no known interview matches"),
    (["outcome", ":", "offer"], "matches 2 interviews"),
])
def test_outcome_usage_errors_exit_2(world: World, config: Path, capsys: pytest.CaptureFixture[str],
                                     argv: list[str], message: str) -> None:
    assert main(["--config", str(config), *argv]) == 2
    assert message in capsys.readouterr().err


def test_status_before_any_pass(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "status"]) == 0
    assert "no interviews seen yet" in capsys.readouterr().out


def test_outcome_for_a_recurring_series_takes_the_latest_held_instance() -> None:
    """`followupd outcome Globex rejected` on a weekly series: the outcome is about an
    interview that happened, so the latest instance already started is chosen; a
    date picks another one; two different interviews stay ambiguous."""
    from datetime import datetime, timezone

    from followupd.errors import ConfigError
    from followupd.core.model import CalendarEvent
    from followupd.core.tracking import InterviewRecord
    from followupd.cli.status import find_interview

    def rec(eid: str, title: str, day: int, series: str | None) -> InterviewRecord:
        start = datetime(2026, 11, day, 15, tzinfo=timezone.utc)
        ev = CalendarEvent(id=eid, calendar_id="c", title=title, start=start, end=start + timedelta(hours=1),
                           recurring_event_id=series)
        return InterviewRecord(event=ev, first_seen=start)

    records = [rec("g_1", "Phone screen with Globex", 5, "g"), rec("g_2", "Phone screen with Globex", 12, "g"),
               rec("g_3", "Phone screen with Globex", 19, "g"), rec("a", "Interview at Acme", 12, None),
               rec("b", "Interview at Acme Labs", 13, None)]
    now = datetime(2026, 11, 14, tzinfo=timezone.utc)
    assert find_interview(records, "globex", now).id == "g_2"
    assert find_interview(records, "Globex 2026-11-19", now).id == "g_3"
    assert find_interview(records, "globex", datetime(2026, 11, 1, tzinfo=timezone.utc)).id == "g_1"
    with pytest.raises(ConfigError, match="matches 2 interviews"):
        find_interview(records, "Acme", now)
    assert find_interview(records, "Acme 2026-11-13", now).id == "b"


def test_outcome_sanity_decision_before_the_interview_and_force_for_one_ahead(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SPEC §2 "Sanity": both are exit 2 with the fix in the message; --force records it."""
    from datetime import datetime, timezone

    w = World(db=default_path())
    ahead = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=5)
    w.clock.now = ahead - timedelta(days=6)
    w.cal.put_event(interview("iv9", title="Interview: Hooli", start=ahead))
    w.run()
    w.crash()
    day_before = (ahead - timedelta(days=2)).date().isoformat()
    assert main(["--config", str(config), "outcome", "hooli", "--decision", day_before]) == 2
    assert "is before the interview" in capsys.readouterr().err
    assert main(["--config", str(config), "outcome", "hooli", "rejected"]) == 2
    err = capsys.readouterr().err
    assert "has not happened yet" in err and "--force" in err
    assert main(["--config", str(config), "outcome", "hooli", "rejected", "--force"]) == 0
    assert "withdrawn on the next pass" in capsys.readouterr().out
    with State() as st:
        rec = st.interview("iv9")
    assert rec is not None and rec.outcome == Outcome.REJECTED
