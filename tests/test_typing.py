"""The package type-checks under ``mypy --strict`` (configuration in pyproject.toml).

Run as a test so that CI, which runs the README's test command, keeps it clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_package_is_clean_under_mypy_strict(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(tmp_path / "mypy-cache"), str(ROOT / "followupd")])
    assert status == 0, out + err
