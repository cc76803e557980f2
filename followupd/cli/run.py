"""``followupd run``: ``--once`` makes one pass here; otherwise the daemon loop runs."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from followupd.cli.context import Context
from followupd.core.attempts import needing_attention
from followupd.runtime.daemon import Daemon, config_loader, engine_factory
from followupd.runtime import engine as engines
from followupd.runtime.notify import Notifier


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    """``followupd run [--once] [--dry-run] [--interval SECONDS]``."""
    if args.once:
        return run_once(ctx, dry_run=args.dry_run)
    cfg = ctx.config()  # a bad config at startup: ConfigError, exit 2
    daemon = Daemon(cfg, ctx.config_path, interval=args.interval, dry_run=args.dry_run,
                    notifier=Notifier.from_env(), open_engine=engine_factory,
                    load_config=config_loader)
    return daemon.run()


class _StdoutLines(logging.StreamHandler):  # type: ignore[type-arg]
    """The action lines on stdout; a reader that went away (``| head``) ends the
    printing, never the pass: the writes go on and are committed."""

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            self.setStream(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the handler
            return
        super().handleError(record)


def run_once(ctx: Context, dry_run: bool) -> int:
    """``run --once``: one pass, one line per action on stdout (or "nothing to do").

    The lines are printed as each action is applied (the apply logger is routed
    to stdout, without timestamps), so when a pass fails half-way what it did
    write is still on the screen; they are not repeated on stderr.  In dry-run
    nothing is applied and the planned actions are printed at the end.
    ``--quiet`` prints nothing but warnings and errors.
    """
    engine = engines.open_engine(ctx.config())
    actions_log = logging.getLogger("followupd.apply")
    handler = _StdoutLines(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: record.levelno == logging.INFO)
    warnings = logging.StreamHandler(sys.stderr)  # an item set aside (SPEC §4.10) is said on stderr
    warnings.setFormatter(logging.Formatter("followupd: %(message)s"))
    warnings.setLevel(logging.WARNING)
    routed = not ctx.quiet and not ctx.verbose
    if not ctx.quiet:
        actions_log.addHandler(handler)
        actions_log.propagate = ctx.verbose  # stderr gets them too only with --verbose
    if routed:
        actions_log.addHandler(warnings)
    try:
        report = engine.run_pass(dry_run=dry_run)
    finally:
        engine.close()
        actions_log.removeHandler(handler)
        actions_log.removeHandler(warnings)
        actions_log.propagate = True
    if report.attention:
        print(f"followupd: {needing_attention(report.attention)} (set aside after failing "
              "again and again): see `followupd status`, fix the cause, then run `followupd retry`",
              file=sys.stderr)
    if ctx.quiet:
        return 0
    if dry_run:
        for line in report.actions:
            print(line)
    if not report.actions:
        print("nothing to do")
    return 0


