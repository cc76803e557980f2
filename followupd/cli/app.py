"""The command line (SPEC §5): a parser, a dispatch table and one error handler.

Each command lives in the module that owns its job; this module only parses
arguments, finds the configuration and maps the error hierarchy to exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from typing import Callable

from followupd import __version__, paths
from followupd.cli.context import Context
from followupd.errors import (
    EXIT_CONFIG,
    EXIT_UNEXPECTED,
    AuthError,
    ConfigError,
    FollowupdError,
    KeyringUnusable,
)

log = logging.getLogger("followupd")


# command name -> "module:function"; each function is ``(args, ctx) -> int``
COMMANDS: dict[str, str] = {
    "run": "followupd.cli.run:cmd_run",
    "status": "followupd.cli.status:cmd_status",
    "outcome": "followupd.cli.status:cmd_outcome",
    "retry": "followupd.cli.retry:cmd_retry",
    "preview": "followupd.cli.explain:cmd_preview",
    "explain": "followupd.cli.explain:cmd_explain",
    "auth": "followupd.cli.auth:cmd_auth",
    "doctor": "followupd.cli.doctor:cmd_doctor",
    "init": "followupd.cli.init:cmd_init",
    "service": "followupd.cli.service:cmd_service",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="followupd",
        description="Turns the interviews in your calendar into reminders and ready-to-send drafts.",
    )
    p.add_argument("--version", action="version", version=f"followupd {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (default: $FOLLOWUPD_CONFIG, "
                   "else $XDG_CONFIG_HOME/followupd/config.toml)")
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", help="more detail; tracebacks on errors")
    loud.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="the daemon; --once makes one pass")
    run.add_argument("--once", action="store_true", help="make one pass and exit")
    run.add_argument("--dry-run", action="store_true", help="say what would be written, write nothing")
    run.add_argument("--interval", type=_positive_int, default=60, metavar="SECONDS",
                     help="seconds between passes (default 60)")

    st = sub.add_parser("status", help="interviews, their follow-ups and each one's state")
    st.add_argument("--json", action="store_true", help="machine-readable output")

    pv = sub.add_parser("preview", help="the plan and rendered drafts for one event, writing nothing")
    pv.add_argument("event", metavar="EVENT", help="event id, or a unique part of its title")

    ex = sub.add_parser("explain", help="why an event is or is not an interview")
    ex.add_argument("event", metavar="EVENT", help="event id, or a unique part of its title")

    oc = sub.add_parser("outcome", help="record an interview's outcome or decision date")
    oc.add_argument("event", metavar="EVENT", help="event id, or a unique part of its title")
    oc.add_argument("outcome", nargs="?", choices=["offer", "rejected", "withdrawn"])
    oc.add_argument("--decision", metavar="YYYY-MM-DD", help="the date they expect to decide")
    oc.add_argument("--force", action="store_true",
                    help="record an outcome for an interview that has not happened yet")

    rt = sub.add_parser("retry", help="try the follow-ups that need attention again on the next pass")
    rt.add_argument("event", metavar="EVENT", nargs="?", help="only this interview's (id or part of its title)")

    au = sub.add_parser("auth", help="authorize followupd (Google) or store app passwords (CalDAV, IMAP)")
    ausub = au.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    login = ausub.add_parser("login", help="OAuth loopback flow in a browser; --caldav/--imap: an app password")
    which = login.add_mutually_exclusive_group()
    which.add_argument("--caldav", action="store_true", help="store the CalDAV app password ([caldav] username)")
    which.add_argument("--imap", action="store_true", help="store the IMAP app password ([imap] username)")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the app password from one line of standard input instead of asking")
    login.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    login.add_argument("--port", type=int, default=0, help="loopback port (default: any free port)")
    login.add_argument("--client-secrets", metavar="FILE", help="OAuth client JSON from Google Cloud Console")
    imp = ausub.add_parser("import", help="store an authorized-user JSON (headless setup)")
    imp.add_argument("file", metavar="FILE")
    for action, text in (("status", "account, scopes, keyring backend, token refresh; stored app passwords"),
                         ("logout", "revoke the grant and delete the stored credentials or app passwords")):
        sp = ausub.add_parser(action, help=text)
        sp.add_argument("--caldav", action="store_true", help="only the CalDAV app password")
        sp.add_argument("--imap", action="store_true", help="only the IMAP app password")

    sub.add_parser("doctor", help="check config, keyring, credentials and reachability")

    ini = sub.add_parser("init", help="write a commented starter config")
    ini.add_argument("--force", action="store_true", help="overwrite an existing config")
    ini.add_argument("--backend", choices=["ics", "google", "caldav"], default="ics",
                     help="starter for the local default (ics), Google, or CalDAV + IMAP")

    sv = sub.add_parser("service", help="the systemd user service")
    svsub = sv.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    svsub.add_parser("install", help="put the systemd user unit in place")
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _resolve(target: str) -> Callable[[argparse.Namespace, Context], int]:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0)
    from followupd.runtime.logsetup import configure

    configure(verbose=args.verbose, quiet=args.quiet)
    ctx = Context(config_path=paths.config_file(args.config), verbose=args.verbose, quiet=args.quiet)
    try:
        return _resolve(COMMANDS[args.command])(args, ctx)
    except ConfigError as exc:
        return _fail(ctx, exc, f"followupd: configuration error: {exc}")
    except KeyringUnusable as exc:  # exit 3 too, but the fix is the keyring, not a new login
        return _fail(ctx, exc, f"followupd: the keyring cannot be used: {exc}")
    except AuthError as exc:
        msg = str(exc)
        if "followupd auth login" not in msg:
            msg += "\nRun `followupd auth login` to authorize followupd."
        return _fail(ctx, exc, f"followupd: authorization needed: {msg}")
    except FollowupdError as exc:
        return _fail(ctx, exc, f"followupd: {exc}")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `followupd status | head`: the reader left; not an error of ours
        _silence_stdout()
        return 0
    except Exception as exc:  # the one place an unexpected error is turned into exit 1
        print(f"followupd: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if ctx.verbose:
            traceback.print_exc()
        else:
            print("Run again with --verbose for the details.", file=sys.stderr)
        return EXIT_UNEXPECTED


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(ctx: Context, exc: FollowupdError, message: str) -> int:
    print(message, file=sys.stderr)
    if ctx.verbose:
        traceback.print_exc()
    return exc.exit_code if exc.exit_code else EXIT_CONFIG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
