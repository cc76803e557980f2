"""Public holidays from the holidays package, kept in followupd's cache folder.

The holidays package builds a country's holidays slowly, and naming the codes
it knows, or building any one country, imports every country's module (a
quarter of a second).  Every command that plans would pay for that, so the
answers are kept as small JSON files under ``$XDG_CACHE_HOME/followupd/holidays/<version>/``,
one per country and year, keyed by the package's version, so an upgrade of
holidays is picked up.  A cache that cannot be read or written is simply not
used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from followupd import paths
from followupd.core.settings import package_holidays

log = logging.getLogger("followupd.config")


@cache
def _folder() -> Path | None:
    version = _version()
    return paths.cache_dir() / "holidays" / version if version else None


def _version() -> str:
    """The holidays package's version, from the name of its ``.dist-info`` folder beside it: neither
    the package nor ``importlib.metadata`` is imported (either costs more than the cache saves)."""
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).parent.glob("holidays-*.dist-info"))
        if len(found) == 1:
            return found[0].name[len("holidays-"):-len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version("holidays")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency of followupd
        return ""


def _cached(name: str, compute: Callable[[], Iterable[str]]) -> list[str]:
    folder = _folder()
    path = folder / f"{name}.json" if folder else None
    if path is not None:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        except (OSError, ValueError):
            pass
    result = sorted(compute())
    if path is not None:
        try:
            paths.private_dir(path.parent)
            paths.atomic_write(path, json.dumps(result).encode("utf-8"))
        except OSError as exc:
            log.debug("holiday cache not written (%s): %s", path, exc)
    return result


@cache
def supported_countries() -> frozenset[str]:
    """The country codes the holidays package knows (alpha-2, alpha-3 and its aliases)."""
    return frozenset(_cached("countries", _package_countries))


def _package_countries() -> Iterable[str]:
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # pragma: no cover - a holidays release without the registry
        import holidays

        return (code.upper() for code in holidays.list_supported_countries())
    # each entry: (class name, alpha-2 code, alpha-3 code, other aliases: codes and class names)
    return (code for names in COUNTRIES.values() for code in names[1:] if code.isupper() and len(code) <= 3)


@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    """``core.settings.package_holidays``, through the cache."""
    days = _cached(f"{country}-{year}", lambda: (d.isoformat() for d in package_holidays(country, year)))
    return frozenset(date.fromisoformat(d) for d in days)
