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


def _sample(tmp_path: Path, now: datetime) -> Path:
    path = tmp_path / f"sample-{now:%Y%m%dT%H%M}.ics"
    path.write_bytes(_generator().build(now))
    return path


def _events(tmp_path: Path, now: datetime) -> list[CalendarEvent]:
    cfg = Config(ics=IcsConfig(source=str(_sample(tmp_path, now))), me=MeConfig(email=_me_email()))
    return list(IcsSource(cfg, clock=lambda: now).sync("ics", None, now - LOOKBACK).events)


def test_the_local_config_reads_the_generated_sample() -> None:
    with LOCAL_CONFIG.open("rb") as fh:
        source = tomllib.load(fh)["ics"]["source"]
    assert (LOCAL_CONFIG.parent / source).resolve() == _generator().OUT.resolve()


def test_me_in_the_sample_is_me_in_the_local_config() -> None:
    assert _generator().ME[1] == _me_email() == "jordan.rivera@example.com"


def test_only_reserved_example_domains(tmp_path: Path) -> None:
    data = _sample(tmp_path, datetime(2026, 12, 1, 15, tzinfo=timezone.utc)).read_bytes()
    addresses = re.findall(rb"mailto:([^\s;:]+)", data.replace(b"\r\n ", b""), re.IGNORECASE)
    assert addresses
    assert {a.decode().rsplit("@", 1)[1] for a in addresses} <= {"example.com", "example.org", "example.net",
                                                                   "scheduling.example.org"}


# Dates spread over years, both DST changes, weekends, a leap day and year ends.
DATES = [datetime(2025, 1, 21, 9, tzinfo=timezone.utc) + timedelta(days=n * 37, hours=n * 5) for n in range(45)]
DATES += [datetime(2028, 2, 29, 23, 59, tzinfo=timezone.utc), datetime(2031, 12, 31, 12, tzinfo=timezone.utc)]


@pytest.mark.parametrize("now", DATES, ids=lambda d: d.strftime("%Y-%m-%dT%H"))
def test_the_sample_has_two_acme_rounds_around_any_date(tmp_path: Path, now: datetime) -> None:
    events = _events(tmp_path, now)
    acme = sorted((e for e in events if "Acme" in e.title), key=lambda e: e.start)
    globex = [e for e in events if "Globex" in e.title]
    assert len(acme) == 2
    assert now - timedelta(hours=2) <= acme[0].end <= now, "round 1 ended within the last two hours"
    assert acme[1].start > now + timedelta(days=5), "round 2 lies ahead"
    assert all(e.recurring_event_id is None for e in events), "single events, as real invitations are"
    assert any(now < e.start <= now + timedelta(days=28) for e in globex), "a Globex phone screen lies ahead"
    titles = {e.title for e in events}
    assert {"Final round interview at Initech", "Mock interview with career coach",
            "Dentist appointment"} <= titles


def test_the_acme_onsite_has_everything_the_plan_uses(tmp_path: Path) -> None:
    events = _events(tmp_path, datetime(2026, 11, 22, 15, tzinfo=timezone.utc))
    acme = next(e for e in events if "onsite" in e.title)
    me = acme.me()
    assert me is not None and me.response == "accepted"
    assert acme.organizer is not None and acme.organizer.email == "priya.shah@example.com"
    rooms = [a for a in acme.attendees if a.resource]
    people = [a for a in acme.attendees if not a.resource and not a.is_self]
    assert len(rooms) == 1 and {a.email for a in people} >= {"sam.park@example.com", "alex.chen@example.com"}
    assert any("(Engineering Manager)" in a.name for a in people)
    declined = next(e for e in events if "Initech" in e.title)
    assert declined.me() is not None and declined.me().response == "declined"  # type: ignore[union-attr]


def test_the_sample_imports_as_plain_icalendar(tmp_path: Path) -> None:
    data = _sample(tmp_path, datetime(2026, 12, 1, 15, tzinfo=timezone.utc)).read_bytes()
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["X-WR-TIMEZONE"]) == "America/New_York" and cal.walk("VTIMEZONE")
    assert max(len(line) for line in data.split(b"\r\n")) <= 75  # folded as RFC 5545 asks


def test_quick_start_run_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's first block: make the sample, then ``run --once`` on it."""
    config_dir = tmp_path / "clone" / "config"
    config_dir.mkdir(parents=True)
    shutil.copy(LOCAL_CONFIG, config_dir)
    out = tmp_path / "clone" / "out"
    _generator().main(["--out", str(out / "sample-interviews.ics")])
    assert cli.main(["--config", str(config_dir / LOCAL_CONFIG.name), "run", "--once"]) == 0
    printed = capsys.readouterr().out
    reminders = icalendar.Calendar.from_ical((out / "followups.ics").read_bytes()).walk("VEVENT")
    assert reminders and all(r.walk("VALARM") for r in reminders)
    drafts = [email.message_from_bytes((out / "Drafts" / "cur" / n).read_bytes())
              for n in os.listdir(out / "Drafts" / "cur")]
    recipients = sorted(m["To"] for m in drafts)
    # round 1 of the Acme application ended an hour ago: a thank-you to Priya, one heads-up to Dana
    assert recipients == ["Dana Lee <dana.lee@example.org>", "Priya Shah <priya.shah@example.com>"]
    thanks = next(m for m in drafts if "priya" in m["To"])
    body = thanks.get_payload(decode=True).decode()
    assert body.startswith("Hi Priya,") and "Senior Backend Engineer" in body and "Jordan" not in m_subject(thanks)
    # round 2: its reminders, its own check-in; the references are not told twice
    assert "No word yet" in printed and printed.count("heads-up") == 1 + printed.count("skipped reminder 'Give")
    assert "no-reply@" not in printed
    # a second pass finds nothing new to do
    assert cli.main(["--config", str(config_dir / LOCAL_CONFIG.name), "run", "--once"]) == 0
    assert len(os.listdir(out / "Drafts" / "cur")) == len(drafts)


def m_subject(msg: email.message.Message) -> str:
    return str(msg["Subject"])
