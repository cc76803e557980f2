"""``followupd init``: write a commented starter configuration."""

from __future__ import annotations

import argparse

from followupd import paths
from followupd.cli.context import Context
from followupd.errors import ConfigError
from followupd.paths import display_path


def starter_text(backend: str) -> str:
    """The commented starter configuration for ``backend`` ("ics", "google" or "caldav")."""
    from importlib.resources import files

    from jinja2 import Environment, StrictUndefined

    source = (files("followupd") / "templates" / "config.toml.j2").read_text(encoding="utf-8")
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.from_string(source).render(backend=backend)


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """``followupd init``: write a commented starter config (0600, in a 0700 folder)."""
    target = ctx.config_path
    shown = display_path(target)
    backend = getattr(args, "backend", "ics") or "ics"
    if target.exists() and not getattr(args, "force", False):
        raise ConfigError(f"{shown}: a configuration already exists; edit it, or run "
                          "`followupd init --force` to replace it with a fresh starter.")
    paths.private_dir(target.parent)
    paths.atomic_write(target, starter_text(backend).encode("utf-8"))
    print(f"Wrote a starter configuration to {shown}.")
    print("Next:")
    print("  1. Edit [me] (your name, e-mail and phone: they sign every draft) and add your [[references]].")
    if backend == "google":
        print("  2. Set [google] account, then run `followupd auth login` to authorize followupd.")
    elif backend == "caldav":
        print("  2. Set [caldav] and [imap] (see the README for your provider), then store the app passwords:")
        print("     `followupd auth login --caldav` and `followupd auth login --imap`.")
    else:
        print("  2. Point [ics] source at your calendar (an .ics file or its secret iCal address).")
    print("  3. Check it with `followupd run --once --dry-run`.")
    return 0
