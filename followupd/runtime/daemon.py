"""``followupd run``: the set-and-forget loop (SPEC §5 "The daemon").

The loop is single-threaded on purpose.  Passes, signal handling and the
systemd watchdog all happen on the main thread, so a pass that hangs stops the
watchdog pings and systemd restarts the service; a side thread would keep
pinging a dead daemon.

Signals only set flags (and ask the engine to stop after its write in flight);
the loop acts on them between passes.  A self-pipe registered with
``signal.set_wakeup_fd`` wakes the loop's sleep at once, so SIGTERM is served in
milliseconds even between passes.
"""

from __future__ import annotations

import logging
import os
import select
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Protocol

import schedule

from followupd.runtime.backoff import Backoff
from followupd.core.settings import Config
from followupd.errors import AuthError, ConfigError, KeyringUnusable, SafetyStop, TransientError
from followupd.runtime.notify import Notifier, one_line

log = logging.getLogger("followupd.daemon")

DEFAULT_AUTH_RETRY = 3600.0  # hourly, while authorization is needed (SPEC §5)
SLICE = 1.0  # longest nap of the main loop, in seconds
MIN_DELAY = 1.0  # the shortest wait before a pass brought forward to a follow-up's moment
AUTH_STATUS = "authorization needed: run followupd auth login"


class PassReportLike(Protocol):
    """The part of ``engine.PassReport`` the daemon reads."""

    @property
    def actions(self) -> list[str]: ...

    @property
    def summary(self) -> str: ...

    @property
    def next_due(self) -> tuple[datetime, str] | None: ...


class EngineLike(Protocol):
    """The part of ``engine.Engine`` the daemon drives."""

    def run_pass(self, dry_run: bool = False) -> PassReportLike: ...

    def request_stop(self) -> None: ...


EngineFactory = Callable[[Config], EngineLike]
ConfigLoader = Callable[[Path], Config]


def engine_factory(cfg: Config) -> EngineLike:
    from followupd.runtime.engine import open_engine

    return open_engine(cfg)


def config_loader(path: Path) -> Config:
    from followupd.config.loader import load

    return load(path)


UnitCheck = Callable[[Config], "list[Path] | None"]


def installed_unit_check(cfg: Config) -> list[Path] | None:
    """The folders ``cfg`` writes that the installed unit keeps read-only (None: no unit)."""
    from followupd.runtime.unitfile import stale_write_paths  # only on SIGHUP

    return stale_write_paths(cfg)


def _fmt_delay(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{round(seconds / 60)}m"
    return f"{round(seconds / 3600)}h"


class _Waker:
    """A self-pipe that signals write to (``signal.set_wakeup_fd``), so a nap ends at once."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        for fd in (self.read_fd, self.write_fd):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)

    def nap(self, seconds: float) -> None:
        if seconds > 0:
            ready, _, _ = select.select([self.read_fd], [], [], seconds)
            if ready:
                self.drain()

    def drain(self) -> None:
        try:
            while os.read(self.read_fd, 512):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class Daemon:
    """The loop: a pass every ``interval`` seconds, signals, backoff, sd_notify."""

    def __init__(self, cfg: Config, config_path: Path, *, interval: float, dry_run: bool,
                 notifier: Notifier, open_engine: EngineFactory, load_config: ConfigLoader,
                 auth_retry: float | None = None, backoff: Backoff | None = None,
                 unit_check: UnitCheck | None = None) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.interval = interval
        self.dry_run = dry_run
        self.notifier = notifier
        self.auth_retry = DEFAULT_AUTH_RETRY if auth_retry is None else auth_retry
        self.backoff = backoff or Backoff(interval)
        self.engine_factory = open_engine
        self.config_loader = load_config
        self.unit_check = unit_check or installed_unit_check
        self._engine: EngineLike | None = None
        self._stop = False
        self._reload = False
        self._first = True
        self._ready = False
        self._problem = ""  # the error state last logged, so a repeated one is not logged every pass
        self._next_delay: float | None = None
        self._scheduler = schedule.Scheduler()
        self._job = self._scheduler.every(int(interval)).seconds.do(self._job_pass)

    # ----- signals -------------------------------------------------------------------------
    def request_stop(self) -> None:
        """SIGTERM/SIGINT: let the write in flight finish and commit, then leave the loop."""
        self._stop = True
        if self._engine is not None:
            self._engine.request_stop()

    def request_reload(self) -> None:
        """SIGHUP: reload the configuration between passes."""
        self._reload = True

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.request_reload()
        else:
            self.request_stop()

    # ----- the loop ------------------------------------------------------------------------
    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code (0).

        A ConfigError from the first pass (an unusable configured location)
        propagates: at startup it is exit 2, later it is logged and retried.
        """
        waker = _Waker()
        previous = {s: signal.signal(s, self._on_signal)
                    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        previous_fd = signal.set_wakeup_fd(waker.write_fd, warn_on_full_buffer=False)
        try:
            log.info("followupd running: a pass every %ss%s", self.interval,
                     " (dry run: nothing is written)" if self.dry_run else "")
            self._scheduler.run_all()  # the first pass runs at once
            self._reschedule()
            while not self._stop:
                if self._reload:
                    self._reload = False
                    self.reload()
                self._scheduler.run_pending()
                self._reschedule()
                self.notifier.ping()
                waker.nap(self._nap())
            log.info("stopping")
            self.notifier.stopping("stopping")
            return 0
        finally:
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            waker.close()
            self._drop_engine()
            self.notifier.close()

    def _nap(self) -> float:
        """Sleep no longer than a slice, the next pass, or the next watchdog ping."""
        if self._stop or self._reload:
            return 0.0
        candidates = [SLICE]
        idle = self._scheduler.idle_seconds
        if idle is not None:
            candidates.append(idle)
        due = self.notifier.watchdog_due()
        if due is not None:
            candidates.append(due)
        return max(0.0, min(candidates))

    def _job_pass(self) -> None:
        self._next_delay = self.run_one_pass()

    def _reschedule(self) -> None:
        """Apply a pass's own idea of when the next one is due (backoff, auth retry)."""
        delay, self._next_delay = self._next_delay, None
        if delay is not None and delay != self.interval:
            self._job.next_run = datetime.now() + timedelta(seconds=delay)

    def _run_soon(self) -> None:
        self._job.next_run = datetime.now()

    # ----- one pass ------------------------------------------------------------------------
    def run_one_pass(self) -> float:
        """One pass, with every failure turned into a state; returns seconds to the next one."""
        first, self._first = self._first, False
        try:
            if self._engine is None:
                self._engine = self.engine_factory(self.cfg)
            if self._stop:
                return self.interval
            if not self._ready:
                self._set_status("first pass running")
            report = self._engine.run_pass(dry_run=self.dry_run)
        except ConfigError as exc:
            if first:
                raise
            return self._config_failed(exc)
        except AuthError as exc:
            return self._auth_failed(exc)
        except SafetyStop as exc:
            return self._safety_stop(exc)
        except TransientError as exc:
            return self._transient(exc)
        except Exception:  # a bug must not take the service down: log it, back off, rebuild
            delay = self.backoff.next_delay()
            log.exception("unexpected error in a pass; retrying in %s", _fmt_delay(delay))
            self._problem = "unexpected"
            self._drop_engine()
            self._set_status(f"unexpected error; retrying in {_fmt_delay(delay)} (see the log)")
            return delay
        return self._succeeded(report)

    def _succeeded(self, report: PassReportLike) -> float:
        self.backoff.reset()
        if self._problem:
            log.info("working again")
            self._problem = ""
        summary = report.summary or "running"
        self._set_status(f"dry run · {summary}" if self.dry_run else summary)
        log.debug("pass done: %d action(s); %s", len(report.actions), summary)
        return self._delay_after(report)

    def _delay_after(self, report: PassReportLike) -> float:
        """The interval, or less when a follow-up falls due sooner: the thank-you drafts of an
        interview ending mid-interval are then ready at its end, not up to an interval later."""
        if report.next_due is None:
            return float(self.interval)
        wait = (report.next_due[0] - datetime.now(timezone.utc)).total_seconds()
        return min(float(self.interval), max(wait, MIN_DELAY))

    def _auth_failed(self, exc: AuthError) -> float:
        # The engine holds the refused credentials: build a new one next time, so a
        # grant stored meanwhile (`auth login` / `auth import`) is picked up.
        self._drop_engine()
        if isinstance(exc, KeyringUnusable):
            # typically locked until the person logs in: retried like a transient failure
            delay = self.backoff.next_delay()
            self._note_problem(logging.ERROR, f"the keyring cannot be used, writing nothing: {exc} — "
                               f"retrying in {_fmt_delay(delay)}")
            self._set_status(f"keyring cannot be used (locked?): see followupd doctor; "
                             f"retrying in {_fmt_delay(delay)}")
            return delay
        self._note_problem(logging.ERROR, f"authorization needed, writing nothing: {exc} — retrying "
                           f"in {_fmt_delay(self.auth_retry)}, or at once on "
                           "`systemctl --user reload followupd`")
        self._set_status(AUTH_STATUS)
        return self.auth_retry

    def _safety_stop(self, exc: SafetyStop) -> float:
        reason = str(exc)
        if reason.lower().startswith("safety stop"):
            reason = reason[len("safety stop"):].lstrip(" :")
        self._note_problem(logging.WARNING, f"safety stop, nothing written: {reason}")
        self._set_status(f"safety stop: {reason}")
        return float(self.interval)  # re-checked every pass; it lifts by itself

    def _transient(self, exc: TransientError) -> float:
        delay = self.backoff.next_delay()
        self._problem = "transient"
        log.warning("temporary failure, retrying in %s: %s", _fmt_delay(delay), one_line(str(exc)))
        self._set_status(f"retrying in {_fmt_delay(delay)}: {exc}")
        return delay

    def _config_failed(self, exc: ConfigError) -> float:
        delay = self.backoff.next_delay()
        self._note_problem(logging.ERROR, f"configuration problem, writing nothing: {exc}")
        self._set_status(f"configuration problem: {exc}")
        return delay

    def _note_problem(self, level: int, message: str) -> None:
        """Log an error state when it starts or changes; a repeat goes to DEBUG."""
        line = one_line(message)
        log.log(level if line != self._problem else logging.DEBUG, "%s", line)
        self._problem = line

    def _set_status(self, text: str) -> None:
        """``STATUS=``; the first one also carries ``READY=1`` (state loaded, first pass started)."""
        if self._ready:
            self.notifier.status(text)
        else:
            self.notifier.ready(text)
            self._ready = True

    # ----- reload --------------------------------------------------------------------------
    def reload(self) -> None:
        """Load the configuration again; a bad one is refused and the running one kept."""
        try:
            cfg = self.config_loader(self.config_path)
            engine: EngineLike | None = self.engine_factory(cfg)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", one_line(str(exc)))
            self._set_status(f"reload refused, running the previous configuration: {one_line(str(exc))}")
            return
        except AuthError:
            engine = None  # the new config is good; the next pass reports the missing grant
        except Exception as exc:  # noqa: BLE001 - the next pass retries opening and reports it
            log.warning("configuration reloaded, but opening it failed (retrying): %s",
                        one_line(str(exc)))
            engine = None
        self._drop_engine()
        self.cfg, self._engine = cfg, engine
        if self._stop and engine is not None:
            engine.request_stop()
        log.info("configuration reloaded from %s", self.config_path)
        self._check_unit(cfg)
        self._run_soon()

    def _check_unit(self, cfg: Config) -> None:
        """Warn when the installed unit does not let the service write where the new config does."""
        try:
            stale = self.unit_check(cfg)
        except Exception:  # noqa: BLE001 - a check that could not run must not refuse the reload
            log.debug("checking the unit's ReadWritePaths failed", exc_info=True)
            return
        if stale:
            log.warning("the configuration now writes to %s, which the installed systemd unit keeps read-only: "
                        "run `followupd service install` again, then `systemctl --user daemon-reload && "
                        "systemctl --user restart followupd`", ", ".join(map(str, stale)))

    def _drop_engine(self) -> None:
        engine, self._engine = self._engine, None
        close: Any = getattr(engine, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must not hide the error being handled
                log.debug("closing the engine failed", exc_info=True)
