"""The benchmark harness still works, at tiny sizes.  Nothing here asserts a time:
only request counts, which are what SPEC §6 promises regardless of the machine."""

from __future__ import annotations

import pytest

from benchmarks import first_sync, idle, scaling
from benchmarks.harness import Row, print_table
from emulator import Emulator


def test_scaling_idle_passes_cost_one_request_whatever_the_history() -> None:
    with Emulator() as emu:
        idle.seed_idle_calendar(emu, 40)
        for history in (5, 60):
            cpu, requests = scaling.idle_pass_cpu(emu, history, passes=3)
            assert requests == 1.0
            assert cpu > 0


def test_first_sync_requests_and_the_bare_client_agree_on_the_events() -> None:
    m = first_sync.measure(events=120, interviews=3, runs=1)
    assert m.requests == 1  # one page; the calendar's time zone comes from the listing
    assert m.oauth == 1
    assert len(m.ours) == len(m.bare) == 1
    assert m.actions > 0  # the dry run planned follow-ups for the interviews


@pytest.mark.slow
def test_idle_daemon_and_window_poller_each_make_one_request_per_pass() -> None:
    rows = idle.run(events=40, passes=3)
    assert rows[0].ok is True, rows[0]


def test_table_has_a_verdict_per_row() -> None:
    lines: list[str] = []
    print_table([Row("a", "1", "<= 2", "0.5x", True), Row("b", "3", "<= 2", "1.5x", False), Row("c", "x", "-")],
                lines.append)
    assert [line.rsplit("|", 2)[1].strip() for line in lines[2:]] == ["PASS", "MISS", "info"]


def test_command_latency_benchmark_measures_each_command() -> None:
    from benchmarks import commands

    times = commands.measure(runs=1)
    assert set(times) == {"python", "status", "explain Globex", "preview Globex"}
    assert all(t > 0 for t in times.values())


def test_the_growth_benchmark_runs_and_prints_its_figure() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "benchmarks.growth", "--passes", "120", "--events", "20"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "RSS growth over 120 idle passes" in done.stdout and "transient failures" in done.stdout
