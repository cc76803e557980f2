"""The daemon's decisions, driven in-process with a scripted fake engine.

The subprocess tests (test_daemon_process.py) run the real ``followupd run``;
these pin down each failure path quickly and deterministically.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_helpers import FakeEngine, FakeReport, NotifyListener, config_with
from followupd.runtime.backoff import Backoff
from followupd.core.settings import Config
from followupd.runtime.daemon import AUTH_STATUS, Daemon
from followupd.errors import AuthError, ConfigError, KeyringUnusable, SafetyStop, TransientError
from followupd.runtime.notify import Notifier


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    lst = NotifyListener()
    yield lst
    lst.close()


class Harness:
    """A Daemon wired to fake engines and a recording notify socket."""

    def __init__(self, tmp: Path, listener: NotifyListener, engines: list[FakeEngine | BaseException],
                 interval: float = 60, auth_retry: float = 3600) -> None:
        self.engines = engines
        self.opened: list[FakeEngine] = []
        self.loaded: list[Config | BaseException] = []
        self.listener = listener
        self.daemon = Daemon(
            config_with(tmp), tmp / "config.toml", interval=interval, dry_run=False,
            notifier=Notifier(listener.path, watchdog=None), open_engine=self._open,
            load_config=self._load, auth_retry=auth_retry,
            backoff=Backoff(interval, rng=random.Random(7)),
        )

    def _open(self, cfg: Config) -> FakeEngine:
        item = self.engines.pop(0) if self.engines else FakeEngine()
        if isinstance(item, BaseException):
            raise item
        self.opened.append(item)
        return item

    def _load(self, path: Path) -> Config:
        item = self.loaded.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def test_first_pass_sends_ready_then_the_summary(tmp_path: Path, listener: NotifyListener) -> None:
    h = Harness(tmp_path, listener, [FakeEngine([FakeReport(summary="watching 1 calendar · 3 interviews")])])
    assert h.daemon.run_one_pass() == 60
    listener.wait_status("3 interviews")
    first = listener.messages()[0]
    assert first.fields == {"READY": "1", "STATUS": "first pass running"}
    assert listener.statuses()[-1] == "watching 1 calendar · 3 interviews"


def test_config_error_on_the_first_pass_propagates(tmp_path: Path, listener: NotifyListener) -> None:
    h = Harness(tmp_path, listener, [ConfigError("[ics] source: no such file")])
    with pytest.raises(ConfigError):
        h.daemon.run_one_pass()


def test_later_config_error_keeps_running(tmp_path: Path, listener: NotifyListener) -> None:
    h = Harness(tmp_path, listener, [FakeEngine([FakeReport(), ConfigError("source vanished")])])
    h.daemon.run_one_pass()
    delay = h.daemon.run_one_pass()
    assert 60 <= delay <= 120
    listener.wait_status("configuration problem: source vanished")


def test_transient_errors_back_off_with_jitter_and_reset(tmp_path: Path, listener: NotifyListener) -> None:
    script: list[FakeReport | BaseException] = [TransientError("HTTP 503")] * 8 + [FakeReport()]
    h = Harness(tmp_path, listener, [FakeEngine(script)])
    delays = [h.daemon.run_one_pass() for _ in range(8)]
    for n, d in enumerate(delays, start=1):
        assert 60 <= d <= min(900, 60 * 2**n), (n, d)
    assert max(delays) > 120  # it does grow
    assert h.daemon.run_one_pass() == 60  # success resets
    assert h.daemon.backoff.failures == 0
    assert len(h.opened) == 1  # a transient failure keeps the engine
    assert listener.wait_status("HTTP 503").fields["STATUS"].startswith("retrying in")


def test_auth_error_drops_the_engine_and_recovers_with_a_new_one(
        tmp_path: Path, listener: NotifyListener) -> None:
    first = FakeEngine([AuthError("the grant was revoked (invalid_grant)")])
    h = Harness(tmp_path, listener, [first, AuthError("still no credentials"), FakeEngine()], auth_retry=5)
    assert h.daemon.run_one_pass() == 5
    assert first.closed
    listener.wait_status(AUTH_STATUS)
    assert h.daemon.run_one_pass() == 5  # opening fails: credentials still missing
    assert h.daemon.run_one_pass() == 60  # a grant was stored meanwhile: a fresh engine works
    assert len(h.opened) == 2
    listener.wait_status("watching")


def test_a_locked_keyring_is_retried_with_backoff_not_hourly(
        tmp_path: Path, listener: NotifyListener) -> None:
    """A keyring locked until the person logs in is not an expired grant: the
    status names the keyring, and it is retried soon rather than in an hour."""
    locked = KeyringUnusable("the keyring is locked (reading credentials): unlock it and try again.")
    h = Harness(tmp_path, listener, [locked, FakeEngine()], auth_retry=3600)
    delay = h.daemon.run_one_pass()
    assert 60 <= delay < 3600
    assert listener.wait_status("keyring cannot be used").fields["STATUS"].startswith("keyring cannot be used")
    assert h.daemon.run_one_pass() == 60
    listener.wait_status("watching")


def test_safety_stop_is_reported_and_rechecked_every_interval(
        tmp_path: Path, listener: NotifyListener, caplog: pytest.LogCaptureFixture) -> None:
    stop = SafetyStop("the pass would withdraw 23 follow-ups (more than 20)")
    h = Harness(tmp_path, listener, [FakeEngine([stop, stop, FakeReport()])])
    with caplog.at_level(logging.DEBUG, logger="followupd"):
        assert h.daemon.run_one_pass() == 60
        assert h.daemon.run_one_pass() == 60
        h.daemon.run_one_pass()
    listener.wait_status("safety stop: the pass would withdraw 23 follow-ups")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the same stop is not logged again every minute
    assert any(r.getMessage() == "working again" for r in caplog.records)


def test_unexpected_error_is_logged_with_traceback_and_retried(
        tmp_path: Path, listener: NotifyListener, caplog: pytest.LogCaptureFixture) -> None:
    broken = FakeEngine([KeyError("boom")])
    h = Harness(tmp_path, listener, [broken, FakeEngine()])
    with caplog.at_level(logging.ERROR, logger="followupd"):
        delay = h.daemon.run_one_pass()
    assert 60 <= delay <= 120
    error = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert error.exc_info is not None
    assert broken.closed  # rebuilt: a bug may have left it in a bad state
    assert h.daemon.run_one_pass() == 60
    assert len(h.opened) == 2


def test_reload_refuses_a_bad_config_and_keeps_the_engine(
        tmp_path: Path, listener: NotifyListener, caplog: pytest.LogCaptureFixture) -> None:
    engine = FakeEngine()
    h = Harness(tmp_path, listener, [engine])
    h.daemon.run_one_pass()
    old_cfg = h.daemon.cfg
    h.loaded.append(ConfigError("config.toml: invalid", ["config.toml: [plan] lookback_days: must be a number"]))
    with caplog.at_level(logging.ERROR, logger="followupd"):
        h.daemon.reload()
    assert h.daemon.cfg is old_cfg and not engine.closed
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "reload refused" in lines[0] and "lookback_days" in lines[0]


def test_reload_refuses_a_config_whose_backends_cannot_open(tmp_path: Path, listener: NotifyListener) -> None:
    engine = FakeEngine()
    h = Harness(tmp_path, listener, [engine, ConfigError("[ics] source: no such file")])
    h.daemon.run_one_pass()
    h.loaded.append(Config(path=tmp_path / "new.toml"))
    h.daemon.reload()
    assert h.daemon.cfg.path == tmp_path / "config.toml" and not engine.closed


def test_reload_with_a_good_config_swaps_the_engine(tmp_path: Path, listener: NotifyListener) -> None:
    old, new = FakeEngine(), FakeEngine()
    h = Harness(tmp_path, listener, [old, new])
    h.daemon.run_one_pass()
    new_cfg = Config(path=tmp_path / "new.toml")
    h.loaded.append(new_cfg)
    h.daemon.reload()
    assert h.daemon.cfg is new_cfg and old.closed
    h.daemon.run_one_pass()
    assert new.passes == 1 and old.passes == 1


def test_backoff_window_is_capped_and_never_below_the_interval() -> None:
    b = Backoff(60, rng=random.Random(1))
    for _ in range(50):
        assert 60 <= b.next_delay() <= 900
    assert b.window() == (60, 900)
    assert Backoff(3600).window() == (3600, 3600)  # an interval above the cap stays the floor


def test_the_loop_serves_sigterm_during_a_pass(tmp_path: Path, listener: NotifyListener) -> None:
    """SIGTERM mid-pass: the engine is asked to stop, the pass returns, run() returns 0."""

    def slow_pass(engine: FakeEngine) -> None:
        if engine.passes == 2:
            os.kill(os.getpid(), signal.SIGTERM)
            deadline = time.monotonic() + 5
            while not engine.stop_requested and time.monotonic() < deadline:
                time.sleep(0.01)  # the "write in flight"

    engine = FakeEngine(on_pass=slow_pass)
    h = Harness(tmp_path, listener, [engine], interval=1)
    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    assert h.daemon.run() == 0
    assert engine.stop_requested and engine.passes == 2
    assert time.monotonic() - started < 4
    assert signal.getsignal(signal.SIGTERM) == before  # handlers restored
    listener.wait_for(lambda d: "STOPPING" in d.fields)


def test_the_loop_reloads_on_sighup_and_stops_on_sigint(tmp_path: Path, listener: NotifyListener) -> None:
    h = Harness(tmp_path, listener, [FakeEngine(), FakeEngine()], interval=1)
    h.loaded.append(Config(path=tmp_path / "reloaded.toml"))

    def poke() -> None:
        listener.wait_status("watching")
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 5
        while len(h.opened) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=poke)
    t.start()
    assert h.daemon.run() == 0
    t.join()
    assert h.daemon.cfg.path == tmp_path / "reloaded.toml"
    assert len(h.opened) == 2 and h.opened[0].closed


def test_a_refused_reload_shows_in_status(tmp_path: Path, listener: NotifyListener) -> None:
    h = Harness(tmp_path, listener, [FakeEngine()])
    h.daemon.run_one_pass()
    h.loaded.append(ConfigError("config.toml: [plan] lookback_days: must be a number"))
    h.daemon.reload()
    listener.wait_status("reload refused")
    assert "lookback_days" in listener.statuses()[-1]


def test_a_reload_warns_when_the_unit_keeps_a_new_folder_read_only(
        tmp_path: Path, listener: NotifyListener, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, listener, [FakeEngine(), FakeEngine()])
    h.daemon.unit_check = lambda cfg: [tmp_path / "Mail2" / "Drafts"]
    h.daemon.run_one_pass()
    h.loaded.append(Config(path=tmp_path / "new.toml"))
    with caplog.at_level(logging.WARNING, logger="followupd"):
        h.daemon.reload()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Mail2/Drafts" in line and "followupd service install" in line


def test_the_first_failed_notification_is_a_warning_then_quiet(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier(str(tmp_path / "no-such-socket"), watchdog=None)
    with caplog.at_level(logging.DEBUG, logger="followupd"):
        notifier.ready("first pass running")
        notifier.status("watching 1 calendar")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "READY" in warnings[0] and "NOTIFY_SOCKET" in warnings[0]
    notifier.close()
