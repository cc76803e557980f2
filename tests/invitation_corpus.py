"""The invitation corpus (``tests/invitations/``): loading its files as the backends would.

Each invitation is one file, shaped like what a scheduling tool or a person
puts in a calendar: ``.ics`` (read by the ICS backend, as an invitation or a
calendar export arrives) or ``.json`` (a Google Calendar API event resource,
read by the Google backend's converter).  ``expected.toml`` says, for each,
what a careful person reads in it.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from followupd.backends.google_calendar import to_event
from followupd.backends.ics import IcsSource
from followupd.config.templates import with_templates
from followupd.core.model import CalendarEvent
from followupd.core.settings import Config, IcsConfig, MeConfig, Reference

HERE = Path(__file__).resolve().parent / "invitations"
NY = ZoneInfo("America/New_York")
SEEN = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # the corpus was seen days before its interviews
CFG = with_templates(Config(
    me=MeConfig(name="Zoë Okafor", email="zoe.okafor@gmail.com", phone="+1 555 0199", aliases=("zoe@okafor.dev",)),
    references=(Reference(name="Dana Lee", email="dana.lee@example.org"),)))


def expected() -> dict[str, dict[str, object]]:
    with (HERE / "expected.toml").open("rb") as fh:
        return tomllib.load(fh)


def names() -> list[str]:
    return sorted(p.stem for p in HERE.iterdir() if p.suffix in (".ics", ".json"))


def event(name: str) -> CalendarEvent:
    """The invitation (the first instance of a series)."""
    ics, js = HERE / f"{name}.ics", HERE / f"{name}.json"
    if js.exists():
        return to_event(json.loads(js.read_text(encoding="utf-8")), "primary", NY)
    cfg = Config(ics=IcsConfig(source=str(ics)), me=CFG.me)
    events = IcsSource(cfg, clock=lambda: SEEN).sync("ics", None, SEEN).events
    return min(events, key=lambda e: e.start)
