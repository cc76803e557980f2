"""inspect.py: ``explain`` and ``preview`` find an event, say why, and write nothing."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core_helpers import CFG, event
from followupd import backends, paths
from followupd.cli import app as cli
from followupd.testing.memory import MemoryCalendar
from followupd.errors import ConfigError
from followupd.cli.explain import cmd_explain, cmd_preview, find_event

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> MemoryCalendar:
    cal = MemoryCalendar(tz="America/New_York")
    monkeypatch.setattr(backends, "build_source", lambda cfg: (cal, ("primary",)))
    cal.put_event(event())
    cal.put_event(event("Dentist", id="ev2"))
    cal.put_event(event("Mock interview with coach", id="ev3"))
    cal.put_event(event("Interview: Data Scientist at Globex", id="ev4",
                        start=datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)))
    cal.put_event(event("Standup #interview", id="ev5", description="decision: 2026-12-01\n#rejected"))
    cal.calls.clear()
    return cal


def ctx() -> cli.Context:
    return cli.Context(config_path=Path("/nonexistent"), _config=CFG)


def ns(query: str) -> argparse.Namespace:
    return argparse.Namespace(event=query)


def test_explain_prints_rule_and_reason(calendar: MemoryCalendar, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_explain(ns("senior engineer"), ctx(), clock=lambda: NOW) == 0
    out = capsys.readouterr().out
    assert "Interview: Senior Engineer at Acme" in out
    assert 'an interview: rule keyword: the title matches the keyword "interview"' in out
    assert cmd_explain(ns("ev3"), ctx(), clock=lambda: NOW) == 0
    assert 'not an interview: rule exclude-keyword' in capsys.readouterr().out
    cmd_explain(ns("dentist"), ctx(), clock=lambda: NOW)
    assert "rule no-match" in capsys.readouterr().out


def test_ambiguous_or_unknown_event_lists_candidates(calendar: MemoryCalendar) -> None:
    with pytest.raises(ConfigError) as info:
        cmd_explain(ns("interview"), ctx(), clock=lambda: NOW)
    assert "4 events match 'interview'" in str(info.value)
    assert len(info.value.problems) == 4 and any("ev4" in p for p in info.value.problems)
    with pytest.raises(ConfigError, match="no event matches 'zebra'"):
        cmd_explain(ns("zebra"), ctx(), clock=lambda: NOW)


def test_candidates_are_capped_at_ten() -> None:
    many = [event(f"Interview {i}", id=f"e{i}") for i in range(15)]
    with pytest.raises(ConfigError) as info:
        find_event("interview", many)
    assert len(info.value.problems) == 11 and "5 more" in info.value.problems[-1]


def test_recurring_instances_pick_the_next_one() -> None:
    base = event("Weekly interview loop")
    instances = [replace(base, id=f"r_{i}", recurring_event_id="r", start=base.start + timedelta(weeks=i),
                         end=base.end + timedelta(weeks=i)) for i in range(3)]
    assert find_event("loop", instances, base.end + timedelta(days=1)).id == "r_1"
    assert find_event("loop", instances, base.end + timedelta(weeks=5)).id == "r_2"
    assert find_event("r_0", instances, base.end).id == "r_0"


def test_preview_prints_facts_plan_and_drafts_writing_nothing(
        calendar: MemoryCalendar, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_preview(ns("senior"), ctx(), clock=lambda: NOW) == 0
    out = capsys.readouterr().out
    assert "company:      Acme" in out and "role:         Senior Engineer" in out
    assert "Sam Park (Engineering Manager) <sam.park@acme.com>" in out
    assert "Plan (times in America/New_York):" in out
    assert "Wed 2026-11-25 09:00  handwritten-note reminder  Mail handwritten thank-you cards" in out
    assert "gracious-close   — only when the outcome is recorded as rejected" in out
    assert out.count("--- draft (") == 4  # 2 thank-yous, 1 reference, 1 check-in
    assert "To: Sam Park <sam.park@acme.com>" in out and "Hi Sam," in out
    assert set(calendar.calls) <= {"sync", "timezone"}  # read only: nothing written
    assert not paths.state_dir().exists()


def test_preview_shows_outcome_and_its_effects(calendar: MemoryCalendar,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cmd_preview(ns("standup"), ctx(), clock=lambda: NOW)
    out = capsys.readouterr().out
    assert "outcome:      rejected" in out and "decision:     Tue 2026-12-01" in out
    assert "check-in         — cancelled by the outcome (rejected)" in out
    assert "--- draft (gracious-close)" in out


def test_preview_of_a_non_interview(calendar: MemoryCalendar, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_preview(ns("dentist"), ctx(), clock=lambda: NOW) == 0
    assert "not an interview (no-match" in capsys.readouterr().out


def test_preview_skipped_steps_say_why(calendar: MemoryCalendar, capsys: pytest.CaptureFixture[str]) -> None:
    cmd_preview(ns("senior"), ctx(), clock=lambda: datetime(2026, 11, 26, tzinfo=timezone.utc))
    out = capsys.readouterr().out
    assert "prepare          — skipped: already more than 1 hour past" in out


def test_explain_on_the_shipped_sample_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    import subprocess
    import sys

    shutil.copytree(ROOT / "config", tmp_path / "config")
    subprocess.run([sys.executable, str(tmp_path / "config" / "make_sample.py")], check=True, capture_output=True)
    sample = tmp_path / "config" / "followupd.local.toml"
    assert cli.main(["--config", str(sample), "explain", "mock interview"]) == 0
    assert "rule exclude-keyword" in capsys.readouterr().out
    assert cli.main(["--config", str(sample), "preview", "Globex"]) == 0
    assert "Subject:" in capsys.readouterr().out
