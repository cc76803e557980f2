"""``followupd service install``: put the systemd user unit in place.

The unit ships as package data (``followupd/data/followupd.service``, a copy of
the canonical ``systemd/followupd.service``) so it is there when followupd is
installed from a wheel.  Installing fills in what only this machine knows:

* ``ExecStart=`` with the absolute path of the ``followupd`` being run (or
  ``python -m followupd`` when there is no script on ``$PATH``), and
  ``--config`` when the config is not at the place the service would look;
* ``ReadWritePaths=`` for the state directory and for the folders the config
  writes to (the ``[ics] output`` folder, the ``[maildir] path``): the unit's
  ``ProtectHome=read-only`` makes everything else in your home read-only.
  Those folders are created now, because the sandboxed service could not.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from followupd import paths
from followupd.core.settings import Config
from followupd.runtime.unitfile import UNIT_NAME, unit_dir, write_paths

if TYPE_CHECKING:
    from followupd.cli.context import Context

NEXT_STEPS = (
    ("systemctl --user enable --now followupd", "start it now and at every login"),
    ("loginctl enable-linger $USER", "keep it running while you are logged out"),
)


def cmd_service(args: argparse.Namespace, ctx: Context) -> int:
    """``followupd service install``."""
    if args.service_command != "install":  # argparse only offers "install" today
        raise ValueError(f"unknown service action {args.service_command!r}")
    cfg = ctx.config()  # the service would fail on a bad config: say so now (exit 2)
    plan = plan_install(cfg, ctx.config_path)
    for folder in plan.create:
        paths.private_dir(folder)
    change = install_unit(plan.text, plan.destination)
    print({"Installed": f"Installed {plan.destination}",
           "Updated": f"Replaced {plan.destination}: the unit there differed from this one",
           "Unchanged": f"{plan.destination} is already up to date"}[change])
    print(f"  runs: {plan.exec_line}")
    for note in plan.notes:
        print(f"  note: {note}")
    print("Next:")
    if change == "Updated":
        print("  systemctl --user daemon-reload && systemctl --user restart followupd")
    width = max(len(cmd) for cmd, _ in NEXT_STEPS)
    for cmd, why in NEXT_STEPS:
        print(f"  {cmd:<{width}}   # {why}")
    return 0


@dataclass(frozen=True)
class InstallPlan:
    text: str  # the unit, filled in
    destination: Path
    exec_line: str  # ExecStart= value, for the person to read
    create: tuple[Path, ...]  # folders that must exist before the sandboxed service starts
    notes: tuple[str, ...]


def plan_install(cfg: Config, config_path: Path) -> InstallPlan:
    """Everything ``service install`` will write, computed without touching the disk."""
    argv = [*executable_argv(), *config_args(config_path), "run"]
    exec_line = " ".join(systemd_quote(a) for a in argv)
    writable, notes = write_paths(cfg)
    env = pinned_environment()
    text = render_unit(unit_template(), exec_line, [str(p) for p in writable], env)
    return InstallPlan(text=text, destination=unit_dir() / UNIT_NAME, exec_line=exec_line,
                       create=tuple(writable), notes=tuple(notes))


def unit_template() -> str:
    """The unit as shipped in the package."""
    return (resources.files("followupd") / "data" / UNIT_NAME).read_text(encoding="utf-8")


def executable_argv() -> list[str]:
    """The command that runs *this* followupd: the ``followupd`` script beside the running
    interpreter (a venv's ``bin/``), else ``python -m followupd`` with this interpreter.
    Never the first ``followupd`` on $PATH, which may be a stale copy."""
    python = Path(sys.executable).absolute()  # not resolved: a venv's python is a symlink
    script = python.parent / "followupd"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "followupd"]


def config_args(config_path: Path) -> list[str]:
    """``--config PATH`` unless the service would find the config by itself.

    The service's environment is the user manager's, not this shell's: a
    ``$FOLLOWUPD_CONFIG`` or ``$XDG_CONFIG_HOME`` set here is not seen there,
    so anything but ``~/.config/followupd/config.toml`` is spelled out.
    """
    service_default = Path.home() / ".config" / paths.APP / "config.toml"
    path = config_path.expanduser().absolute()
    return [] if path == service_default else ["--config", str(path)]


def pinned_environment() -> dict[str, str]:
    """``$XDG_STATE_HOME`` for the service, when this shell's differs from the default.

    Otherwise the service would keep its state somewhere else than the CLI's
    ``status`` and ``outcome`` commands look.
    """
    value = os.environ.get("XDG_STATE_HOME", "")
    if value and Path(value).absolute() != Path.home() / ".local" / "state":
        return {"XDG_STATE_HOME": str(Path(value).absolute())}
    return {}


def systemd_quote(word: str, *, command: bool = True) -> str:
    """One word of a unit file's command line (or, ``command=False``, of a path list).

    ``%`` starts a specifier everywhere and ``$`` a variable in command lines,
    so they are doubled; whitespace, quotes and backslashes go inside C-style
    double quotes.
    """
    escaped = word.replace("%", "%%")
    if command:
        escaped = escaped.replace("$", "$$")
    if escaped and not any(c in escaped for c in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(template: str, exec_line: str, writable: list[str], env: dict[str, str]) -> str:
    """The template with its ``ExecStart=`` and ``ReadWritePaths=`` lines replaced.

    ``Environment=`` lines, if any, go just before ``ExecStart=``.  Every
    writable path gets a leading ``-`` (a missing folder must not stop the
    service from starting).
    """
    out: list[str] = []
    placed_paths = placed_exec = False
    for line in template.splitlines():
        if line.startswith("ExecStart="):
            out.extend(f"Environment={systemd_quote(f'{k}={v}', command=False)}"
                       for k, v in sorted(env.items()))
            out.append(f"ExecStart={exec_line}")
            placed_exec = True
        elif line.startswith("ReadWritePaths="):
            if not placed_paths:
                out.extend(f"ReadWritePaths={systemd_quote('-' + p, command=False)}" for p in writable)
                placed_paths = True
        else:
            out.append(line)
    if not (placed_exec and placed_paths):
        raise ValueError("the unit template lacks an ExecStart= or ReadWritePaths= line")
    return "\n".join(out) + "\n"


def install_unit(text: str, destination: Path) -> str:
    """Write the unit atomically; returns "Installed", "Updated" or "Unchanged"."""
    if destination.exists():
        if destination.read_text(encoding="utf-8") == text:
            return "Unchanged"
        change = "Updated"
    else:
        change = "Installed"
    destination.parent.mkdir(parents=True, exist_ok=True)
    # a unit holds no secrets, and the user manager must read it
    paths.atomic_write(destination, text.encode("utf-8"), mode=0o644)
    return change
