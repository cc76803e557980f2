"""``run --once`` through the CLI: one line per action, "nothing to do", and exit 4 on a safety stop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine_helpers import World, interview
from followupd.runtime import engine
from followupd.cli.app import main
from followupd.store.state import default_path


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    w = World(db=default_path())
    monkeypatch.setattr(engine, "open_engine", lambda cfg, clock=None: w.engine)
    return w


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[me]\nname = "Jordan Rivera"\nemail = "me@example.com"\n', encoding="utf-8")
    return path


def test_run_once_prints_actions_then_nothing_to_do(world: World, config: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    world.cal.put_event(interview())
    assert main(["--config", str(config), "run", "--once", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and all(line.startswith("would create reminder") for line in out)
    world.crash()
    assert main(["--config", str(config), "run", "--once"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("created reminder 'Follow-up starts in the room") and " at 2026-11-24 08:30" in out[0]
    world.crash()
    assert main(["--config", str(config), "run", "--once"]) == 0
    assert capsys.readouterr().out == "nothing to do\n"


def test_safety_stop_exits_4_and_changes_nothing(world: World, config: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(4):
        world.cal.put_event(interview(f"iv{i}", title=f"Interview: Firm{i}", start=world.clock.now + timedelta(days=1, hours=2 * i)))
    assert main(["--config", str(config), "run", "--once"]) == 0
    world.crash()
    for i in range(4):
        world.cal.put_event(interview(f"iv{i}", title="Lunch", start=world.clock.now + timedelta(days=1, hours=2 * i)))
    capsys.readouterr()
    assert main(["--config", str(config), "run", "--once"]) == 4
    err = capsys.readouterr().err
    assert "safety stop" in err and "withdraw 24" in err and "Traceback" not in err
    assert len(world.reminders()) == 24


def test_run_once_prints_each_action_once_on_stdout_and_nothing_on_stderr(tmp_path, capfd) -> None:
    """`run --once` on the Quick start sample: the lines go to stdout as they are
    written, and are not repeated on stderr as log lines."""
    import shutil
    from pathlib import Path

    from followupd.cli.app import main

    import subprocess
    import sys

    config = Path(__file__).resolve().parent.parent / "config"
    work = tmp_path / "config"
    shutil.copytree(config, work)
    subprocess.run([sys.executable, str(work / "make_sample.py")], check=True, capture_output=True)
    assert main(["--config", str(work / "followupd.local.toml"), "run", "--once"]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert any(line.startswith("wrote draft ") for line in lines)
    assert any(line.startswith("created reminder ") for line in lines)
    assert err == ""
    assert main(["--config", str(work / "followupd.local.toml"), "run", "--once"]) == 0
    assert capfd.readouterr().out.strip() == "nothing to do"


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path) -> None:
    """`followupd run --once | head -1`: the printing stops, the pass does not,
    and nothing about a broken pipe reaches the person."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import subprocess
    import sys

    config = Path(__file__).resolve().parent.parent / "config"
    work = tmp_path / "config"
    shutil.copytree(config, work)
    subprocess.run([sys.executable, str(work / "make_sample.py")], check=True, capture_output=True)
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    base = [sys.executable, "-m", "followupd", "--config", str(work / "followupd.local.toml")]
    for args in (["run", "--once"], ["status"]):
        proc = subprocess.Popen(base + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line, like `| head -0`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, err
        assert "Traceback" not in err and "Broken pipe" not in err and "Logging error" not in err
    done = subprocess.run(base + ["run", "--once"], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip() == "nothing to do"  # the interrupted pass still wrote everything


def test_run_once_exits_0_with_the_warning_when_an_item_is_set_aside_and_status_lists_it(
        world: World, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from followupd.core import attempts
    from followupd.errors import FollowupdError

    world.cal.put_event(interview(start=world.clock.now - timedelta(hours=3)))
    world.drafts.fail_always("create", FollowupdError("Gmail answered 400 invalidArgument"), "iv1")
    assert main(["--config", str(config), "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "could not write draft" in out and "attempt 1 of 5" in out
    for delay in attempts.RETRY_DELAYS:
        world.clock.advance(delay)
        world.crash()
        assert main(["--config", str(config), "run", "--once"]) == 0
    captured = capsys.readouterr()
    assert "needs attention: could not write draft" in captured.err and "followupd retry" in captured.err
    assert "need attention" in captured.err and "unexpected" not in captured.err + captured.out
    world.crash()
    assert main(["--config", str(config), "status"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("!! 1 follow-up needs attention") or text.startswith("!! ")
    assert "invalidArgument" in text and "NEEDS ATTENTION" in text
    assert main(["--config", str(config), "status", "--json"]) == 0
    failures = [f["failure"] for iv in json.loads(capsys.readouterr().out) for f in iv["follow_ups"] if f["failure"]]
    assert failures and all(f["needs_attention"] and f["attempts"] == 5 for f in failures)
    world.drafts.clear_faults()
    assert main(["--config", str(config), "retry", "Acme"]) == 0
    assert "will be tried on the next pass" in capsys.readouterr().out
    from datetime import datetime, timezone

    world.clock.now = datetime.now(timezone.utc) + timedelta(seconds=1)  # the command's clock is the real one
    world.crash()
    assert main(["--config", str(config), "run", "--once"]) == 0
    assert "wrote draft 'Great speaking with you about Acme'" in capsys.readouterr().out
    world.crash()
    assert not world.engine.state.failing()
