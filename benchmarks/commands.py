"""Benchmark 6: the commands a person types feel instant (SPEC §6).

``status``, ``explain`` and ``preview`` on the local default (the Quick start
sample, after one ``run --once``), each run as a fresh process, as the person
runs it; against a bare ``python -c pass``.  Measured: the median wall time of
several runs, after one warm-up run that fills the byte-code and the
followupd caches.  Target: at most 0.15 s each.

    python -m benchmarks.commands [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import ROOT, Row, print_table

TARGET = 0.15
REFERENCE_BARE = 0.017  # python -c pass where the 0.15 s target was set (issue #10)
TARGET_RATIO = TARGET / REFERENCE_BARE
COMMANDS = (("status",), ("explain", "Globex"), ("preview", "Globex"))


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(runs: int = 9) -> dict[str, float]:
    """Median seconds per command (and for ``python -c pass``, as "python")."""
    with tempfile.TemporaryDirectory(prefix="followupd-bench-") as tmp:
        home = Path(tmp)
        shutil.copytree(ROOT / "config", home / "config")
        env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                   XDG_STATE_HOME=str(home / "out" / "state"), XDG_CACHE_HOME=str(home / ".cache"))
        base = [sys.executable, "-m", "followupd", "--config", str(home / "config" / "followupd.local.toml")]
        subprocess.run([sys.executable, str(home / "config" / "make_sample.py")], env=env, cwd=home, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*base, "--quiet", "run", "--once"], env=env, cwd=home, check=True,
                       stdout=subprocess.DEVNULL)
        out = {"python": statistics.median(_timed([sys.executable, "-c", "pass"], env, home)
                                           for _ in range(runs))}
        for cmd in COMMANDS:
            _timed([*base, *cmd], env, home)  # warm-up: byte code, holiday and template caches
            out[" ".join(cmd)] = statistics.median(_timed([*base, *cmd], env, home) for _ in range(runs))
        return out


def run(runs: int = 9) -> list[Row]:
    times = measure(runs)
    bare = times.pop("python")
    rows = [Row("python -c pass (bare interpreter)", f"{bare:.3f} s", "", "1.00x", None)]
    for name, seconds in times.items():
        rows.append(Row(f"followupd {name} (local default)", f"{seconds:.3f} s",
                        f"<= {TARGET} s there: <= {TARGET_RATIO:.1f}x bare", f"{seconds / bare:.1f}x bare python",
                        seconds / bare <= TARGET_RATIO))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.commands", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    print_table(run(args.runs))


if __name__ == "__main__":
    main()
