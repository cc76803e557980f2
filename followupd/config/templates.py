"""Reads the templates a plan renders from: the shipped defaults, and the person's own.

The core renders from ``core.render.Templates`` and never touches the disk;
this module fills them in.  ``[plan.steps.<id>] template`` replaces a step's
draft template, ``reminder_template`` its reminder template.  The files are
read when the configuration is loaded (and again on SIGHUP), so a broken one
is a configuration error, reported before anything is written.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from followupd import paths

from followupd.core import steps
from followupd.core.templates import Templates, TemplateSource, check_source
from followupd.core.settings import Config, PlanConfig
from followupd.errors import ConfigError
from followupd.paths import display_path

SHIPPED = "followupd/templates"


def shipped(name: str) -> TemplateSource:
    """A default template from the package."""
    resource = files("followupd") / "templates" / name
    try:
        return TemplateSource(resource.read_text(encoding="utf-8"), f"{SHIPPED}/{name}")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{SHIPPED}/{name}: the default template cannot be read ({exc}); "
                          "reinstall followupd, or name a template of your own in [plan.steps.<id>]") from None


def _read(path: Path) -> tuple[str | None, str]:
    """(the text, "") or (None, why it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8"), ""
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read the template: {exc}"


def read_file(path: Path) -> TemplateSource:
    """The person's template at ``path``; ConfigError if it cannot be read."""
    text, why = _read(path)
    if text is None:
        raise ConfigError(f"{display_path(path)}: {why}")
    return TemplateSource(text, display_path(path))


def check_file(path: Path) -> str | None:
    """``None`` if the template at ``path`` reads and compiles, else the problem (``line N: ...``);
    the caller names the file."""
    text, why = _read(path)
    return why if text is None else check_source(TemplateSource(text, display_path(path)))


def load(plan: PlanConfig) -> Templates:
    """Every template the registry's steps render, the person's files in place of the defaults."""
    sources: dict[str, TemplateSource] = {}
    for spec in steps.STEPS:
        sc = plan.step(spec.id)
        custom = {spec.draft_template: sc.template, spec.reminder_template: sc.reminder_template}
        for name in spec.templates:
            path = custom.get(name)
            sources[name] = read_file(path) if path is not None else shipped(name)
    return Templates.of(sources, _bytecode_cache)


def _bytecode_cache() -> Any:
    """jinja2's file bytecode cache in followupd's cache folder (its files are keyed by the
    template's source, so an edited template is compiled afresh), or None if it cannot be made."""
    from jinja2 import FileSystemBytecodeCache

    folder = paths.cache_dir() / "templates"
    try:
        paths.private_dir(folder)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


def with_templates(cfg: Config) -> Config:
    """``cfg`` with its templates read, unless they already are."""
    return cfg if cfg.templates else replace(cfg, templates=load(cfg.plan))
