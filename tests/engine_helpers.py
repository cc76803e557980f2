"""An engine over the memory backends, a real state.db and a movable clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from followupd.testing.memory import MemoryCalendar, MemoryDrafts
from followupd.config.templates import with_templates
from followupd.core.settings import Config, MeConfig, Reference
from followupd.runtime.engine import Engine, PassReport
from followupd.core.model import Attendee, CalendarEvent, Kind, LedgerEntry, Status
from followupd.backends.protocols import Backends
from followupd.store.state import State
from reconcile_helpers import T0

CFG = with_templates(Config(me=MeConfig(name="Jordan Rivera", email="me@example.com"),
                            references=(Reference(name="Dana Lee", email="dana@example.org"),)))


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    """The person's calendar and drafts, followupd's state, and the clock."""

    db: Path
    cfg: Config = CFG
    clock: Clock = field(default_factory=Clock)
    cal: MemoryCalendar = field(default_factory=lambda: MemoryCalendar(account="acct", write_to="primary"))
    drafts: MemoryDrafts = field(default_factory=MemoryDrafts)
    watch: tuple[str, ...] = ("primary",)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            backends = Backends(source=self.cal, events=self.cal, drafts=self.drafts,
                                watch=self.watch, write_to="primary", sink_observed_by_source=True)
            self._engine = Engine(self.cfg, backends, State(self.db), self.clock)
        return self._engine

    def run(self, dry_run: bool = False) -> PassReport:
        return self.engine.run_pass(dry_run=dry_run)

    def crash(self) -> None:
        """Drop the engine and its state connection, as a kill -9 would."""
        if self._engine is not None:
            self._engine.state.db.close()
        self._engine = None

    def ledger(self) -> dict[str, LedgerEntry]:
        st = self.engine.state
        return st.ledger_for(r.id for r in st.all_interviews())

    def reminders(self) -> list[CalendarEvent]:
        return [e for e in self.cal.events("primary") if e.written_by_followupd]

    def statuses(self) -> dict[str, Status]:
        return {k: e.status for k, e in self.ledger().items()}


def interview(event_id: str = "iv1", start: datetime = T0 + timedelta(days=1), title: str = "Interview: Acme",
              **kw: object) -> CalendarEvent:
    me = Attendee(email="me@example.com", is_self=True, response="accepted")
    sam = Attendee(email="sam@acme.com", name="Sam Park", organizer=True, response="accepted")
    kw.setdefault("attendees", (me, sam))
    kw.setdefault("organizer", sam)
    return CalendarEvent(id=event_id, calendar_id="primary", title=title, start=start,
                         end=start + timedelta(hours=1), **kw)  # type: ignore[arg-type]


def kinds(world: World, kind: Kind) -> list[LedgerEntry]:
    return [e for e in world.ledger().values() if e.kind == kind]


__all__ = ["CFG", "Clock", "World", "interview", "kinds", "replace"]
