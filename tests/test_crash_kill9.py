"""kill -9 at random moments of ``run --once`` on the local default (ICS + Maildir).

Writes are slowed with ``FOLLOWUPD_TEST_SLOW_WRITES`` (read by ``tests/followupd_under_test.py``) so
the SIGKILLs land between intents, backend writes and ledger commits.  After
~20 kills and a final clean run, the output must hold every follow-up exactly
once: no duplicate UIDs in the ICS output, no duplicate ``X-Followupd-Key`` in
the Maildir, and nothing lost compared with an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest

from followupd.core.model import DRAFT_KEY_HEADER

from followupd_under_test import SLOW_WRITES, command

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
KILLS = 20


def _interviews(path: Path) -> None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//followupd tests//")
    cal.add("version", "2.0")
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for i, start in enumerate([now - timedelta(days=1), now - timedelta(days=2), now + timedelta(days=1),
                               now + timedelta(days=2, hours=3)]):
        ev = icalendar.Event()
        ev.add("uid", f"interview-{i}@example.com")
        ev.add("summary", f"Interview: Company{i} — Engineer")
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(hours=1))
        ev.add("dtstamp", now)
        org = icalendar.vCalAddress(f"mailto:lead{i}@company{i}.com")
        org.params["cn"] = f"Lead {i}"
        ev.add("organizer", org)
        for who in (f"lead{i}@company{i}.com", f"peer{i}@company{i}.com", "me@example.com"):
            att = icalendar.vCalAddress(f"mailto:{who}")
            att.params["partstat"] = "ACCEPTED"
            att.params["cn"] = who.split("@")[0].capitalize()
            ev.add("attendee", att)
        cal.add_component(ev)
    path.write_bytes(cal.to_ical())


def _setup(base: Path, source: Path) -> tuple[Path, dict[str, str]]:
    base.mkdir()
    cfg = base / "config.toml"
    cfg.write_text(
        '[me]\nname = "Jordan Rivera"\nemail = "me@example.com"\n'
        '[calendar]\nbackend = "ics"\n[mail]\nbackend = "maildir"\n'
        f'[ics]\nsource = "{source}"\noutput = "{base / "followups.ics"}"\n'
        f'[maildir]\npath = "{base / "Drafts"}"\n'
        '[[references]]\nname = "Dana Lee"\nemail = "dana@example.org"\n', encoding="utf-8")
    env = dict(os.environ, HOME=str(base), XDG_STATE_HOME=str(base / "state"),
               XDG_CONFIG_HOME=str(base / "config"), PYTHONPATH=str(ROOT))
    return cfg, env


def _run(cfg: Path, env: dict[str, str], kill_after: float | None = None) -> int | None:
    cmd = command("--config", str(cfg), "--quiet", "run", "--once")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        return proc.returncode
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return None


def _uids(base: Path) -> Counter[str]:
    path = base / "followups.ics"
    if not path.exists():
        return Counter()
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return Counter(str(ev["uid"]) for ev in cal.walk("VEVENT"))


def _keys(base: Path) -> Counter[str]:
    keys: Counter[str] = Counter()
    for sub in ("cur", "new"):
        d = base / "Drafts" / sub
        for f in d.iterdir() if d.exists() else ():
            with f.open("rb") as fh:
                for line in fh:
                    if line.lower().startswith(DRAFT_KEY_HEADER.lower().encode() + b":"):
                        keys[line.split(b":", 1)[1].strip().decode()] += 1
                        break
    return keys


def test_kill9_never_duplicates_never_loses(tmp_path: Path) -> None:
    source = tmp_path / "interviews.ics"
    _interviews(source)
    ref_cfg, ref_env = _setup(tmp_path / "reference", source)
    _run(ref_cfg, ref_env)
    expected_uids, expected_keys = _uids(tmp_path / "reference"), _keys(tmp_path / "reference")
    assert expected_uids and expected_keys

    cfg, env = _setup(tmp_path / "killed", source)
    env[SLOW_WRITES] = "0.05"
    rng = random.Random(20261124)
    progress = []
    for _ in range(KILLS):
        _run(cfg, env, kill_after=rng.uniform(0.2, 2.0))
        uids, keys = _uids(tmp_path / "killed"), _keys(tmp_path / "killed")
        assert all(n == 1 for n in uids.values()), uids
        assert all(n == 1 for n in keys.values()), keys
        progress.append(len(uids) + len(keys))
    total = len(expected_uids) + len(expected_keys)
    assert any(0 < n < total for n in progress), f"no kill landed mid-pass: {progress}"
    _run(cfg, env)
    assert _uids(tmp_path / "killed") == expected_uids
    assert _keys(tmp_path / "killed") == expected_keys
