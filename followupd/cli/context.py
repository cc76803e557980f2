"""What every command receives besides its own arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from followupd.core.settings import Config


@dataclass
class Context:
    """What every command receives besides its own arguments."""

    config_path: Path
    verbose: bool = False
    quiet: bool = False
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        """The loaded configuration, templates read (loaded once; raises ConfigError)."""
        if self._config is None:
            from followupd.config.loader import load

            self._config = load(self.config_path)
        elif not self._config.templates:  # handed in already built: read its templates
            from followupd.config.templates import with_templates

            self._config = with_templates(self._config)
        return self._config
