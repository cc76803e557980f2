"""``status`` and ``outcome`` through the CLI, over a state.db filled by a real pass."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine_helpers import World, interview
from followupd.cli import main
from followupd.model import Outcome, Status
from followupd.state import State, default_path


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
