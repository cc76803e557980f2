"""Templates as the core receives them: already read, compiled in a sandbox on first use.

``followupd.config.templates`` reads the files; ``render`` renders from these.
jinja2 is imported on first compile, so a command that renders nothing
(``status`` with nothing due, ``explain``) never pays for it.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from followupd.errors import ConfigError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class TemplateSource:
    """One template's text, and where it came from (shown in error messages)."""

    text: str
    shown: str  # "followupd/templates/thank-you.j2", or the person's file as "~/tpl/ty.j2"


@dataclass(frozen=True)
class Templates:
    """Every template a plan renders from, by logical name (``thank-you.j2``,
    ``reminder-thank-you.j2``), already read.  Compiled once, on first use."""

    sources: tuple[tuple[str, TemplateSource], ...] = ()
    # makes a jinja2 BytecodeCache (the config layer points one at followupd's cache folder), so a
    # command renders without compiling the templates again; None: compile in memory
    bytecode_cache: Callable[[], Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, sources: Mapping[str, TemplateSource], bytecode_cache: Callable[[], Any] | None = None) -> Templates:
        return cls(tuple(sorted(sources.items())), bytecode_cache)

    def __bool__(self) -> bool:
        return bool(self.sources)

    @cached_property
    def _by_name(self) -> dict[str, TemplateSource]:
        return dict(self.sources)

    @cached_property
    def _env(self) -> SandboxedEnvironment:
        return sandbox(self._by_name, self.bytecode_cache() if self.bytecode_cache else None)

    def get(self, name: str) -> tuple[Template, TemplateSource]:
        from jinja2 import TemplateError

        source = self._by_name.get(name)
        if source is None:
            raise ConfigError(f"template {name} was not loaded (followupd.config.templates loads them)")
        try:
            return self._env.get_template(name), source
        except TemplateError as exc:
            raise template_error(source, exc) from None


def sandbox(sources: Mapping[str, TemplateSource], bytecode_cache: Any = None) -> SandboxedEnvironment:
    """The one sandboxed environment every template renders in, serving ``sources`` by name."""
    from jinja2 import FunctionLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    def load(name: str) -> tuple[str, str, object] | None:
        source = sources.get(name)
        return None if source is None else (source.text, source.shown, lambda: True)

    return SandboxedEnvironment(loader=FunctionLoader(load), undefined=StrictUndefined,  # type: ignore[arg-type]
                                autoescape=False, keep_trailing_newline=True, trim_blocks=True,
                                lstrip_blocks=True, cache_size=64, bytecode_cache=bytecode_cache)


def check_source(source: TemplateSource) -> str | None:
    """``None`` if the template compiles, else the problem (``line N: ...``)."""
    from jinja2 import TemplateError

    try:
        sandbox({"t": source}).get_template("t")
    except TemplateError as exc:
        return _describe(source.shown, exc)
    return None


def _template_line(exc: BaseException, filename: str) -> int | None:
    """The template line an exception was raised at (Jinja rewrites the traceback)."""
    line = getattr(exc, "lineno", None)
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(filename: str, exc: BaseException) -> str:
    """``line N: what went wrong`` (or just what went wrong, when no line is known)."""
    line = _template_line(exc, filename)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"line {line}: template error: {message}" if line else f"template error: {message}"


def template_error(source: TemplateSource, exc: BaseException) -> ConfigError:
    return ConfigError(f"{source.shown}: {_describe(source.shown, exc)}")
