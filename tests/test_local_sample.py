"""The Quick start sample calendar works on any date, and the Quick start itself runs."""

from __future__ import annotations

import email
import importlib.util
import os
import re
import shutil
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import icalendar
import pytest

from followupd.cli import app as cli
from followupd.backends.ics import IcsSource
from followupd.core.settings import Config, IcsConfig, MeConfig
from followupd.core.model import CalendarEvent

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "sample-interviews.ics"
LOCAL_CONFIG = ROOT / "config" / "followupd.local.toml"
LOOKBACK = timedelta(days=14)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "config" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _me_email() -> str:
    with LOCAL_CONFIG.open("rb") as fh:
        return str(tomllib.load(fh)["me"]["email"])


def _events(now: datetime) -> list[CalendarEvent]:
    cfg = Config(ics=IcsConfig(source=str(SAMPLE)), me=MeConfig(email=_me_email()))
    return list(IcsSource(cfg, clock=lambda: now).sync("ics", None, now - LOOKBACK).events)


def test_the_committed_sample_is_what_the_generator_writes() -> None:
    assert _generator().build() == SAMPLE.read_bytes()


def test_me_in_the_sample_is_me_in_the_local_config() -> None:
    assert _generator().ME[1] == _me_email() == "jordan.rivera@example.com"


def test_only_reserved_example_domains() -> None:
    addresses = re.findall(rb"mailto:([^\s;:]+)", SAMPLE.read_bytes().replace(b"\r\n ", b""), re.IGNORECASE)
    assert addresses
    assert {a.decode().rsplit("@", 1)[1] for a in addresses} <= {"example.com", "example.org", "example.net"}


# Dates spread over years, both DST changes, weekends, a leap day and year ends.
DATES = [datetime(2025, 1, 21, 9, tzinfo=timezone.utc) + timedelta(days=n * 37, hours=n * 5) for n in range(45)]
DATES += [datetime(2028, 2, 29, 23, 59, tzinfo=timezone.utc), datetime(2031, 12, 31, 12, tzinfo=timezone.utc)]


@pytest.mark.parametrize("now", DATES, ids=lambda d: d.strftime("%Y-%m-%dT%H"))
def test_the_sample_yields_interviews_on_any_date(now: datetime) -> None:
    events = _events(now)
    acme = [e for e in events if "Acme" in e.title]
    globex = [e for e in events if "Globex" in e.title]
    assert any(now - LOOKBACK <= e.end <= now for e in acme), "an Acme interview ended within the lookback"
    assert any(e.start > now for e in acme), "an Acme interview lies ahead"
    assert any(now < e.start <= now + timedelta(days=28) for e in globex), "a Globex phone screen lies ahead"
    titles = {e.title for e in events}
    assert {"Final round interview at Initech", "Mock interview with career coach",
            "Dentist appointment"} <= titles


def test_the_acme_interview_has_everything_the_plan_uses() -> None:
    (acme, *_) = [e for e in _events(datetime(2026, 11, 22, tzinfo=timezone.utc)) if "Acme" in e.title]
    me = acme.me()
    assert me is not None and me.response == "accepted"
    assert acme.organizer is not None and acme.organizer.email == "priya.shah@example.com"
    rooms = [a for a in acme.attendees if a.resource]
    people = [a for a in acme.attendees if not a.resource and not a.is_self]
    assert len(rooms) == 1 and {a.email for a in people} >= {"sam.park@example.com", "alex.chen@example.com"}
    assert any("(Engineering Manager)" in a.name for a in people)
    declined = [e for e in _events(datetime(2026, 11, 22, tzinfo=timezone.utc)) if "Initech" in e.title][0]
    assert declined.me() is not None and declined.me().response == "declined"  # type: ignore[union-attr]


def test_the_sample_imports_as_plain_icalendar() -> None:
    cal = icalendar.Calendar.from_ical(SAMPLE.read_bytes())
    assert str(cal["X-WR-TIMEZONE"]) == "America/New_York" and cal.walk("VTIMEZONE")
    assert "works on any date" in str(cal["X-WR-CALDESC"]).replace("\n", " ")
    assert max(len(line) for line in SAMPLE.read_bytes().split(b"\r\n")) <= 75  # folded as RFC 5545 asks


def test_quick_start_run_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's first block: ``followupd --config config/followupd.local.toml run --once``."""
    config_dir = tmp_path / "clone" / "config"
    config_dir.mkdir(parents=True)
    shutil.copy(LOCAL_CONFIG, config_dir)
    shutil.copy(SAMPLE, config_dir)
    assert cli.main(["--config", str(config_dir / LOCAL_CONFIG.name), "run", "--once"]) == 0
    out = tmp_path / "clone" / "out"
    reminders = icalendar.Calendar.from_ical((out / "followups.ics").read_bytes()).walk("VEVENT")
    assert reminders and all(r.walk("VALARM") for r in reminders)
    drafts = [email.message_from_bytes((out / "Drafts" / "cur" / n).read_bytes())
              for n in os.listdir(out / "Drafts" / "cur")]
    recipients = {m["To"] for m in drafts}
    assert any("sam.park@example.com" in r for r in recipients)
    assert not any("blue-room" in r or "jordan.rivera" in r for r in recipients)
    assert all(m["X-Followupd-Key"] for m in drafts)
    # a second pass finds nothing new to do
    assert cli.main(["--config", str(config_dir / LOCAL_CONFIG.name), "run", "--once"]) == 0
    assert len(os.listdir(out / "Drafts" / "cur")) == len(drafts)

