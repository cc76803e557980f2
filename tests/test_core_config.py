"""config.py: every problem reported at once, naming file and key; init writes a loadable starter."""

from __future__ import annotations

import argparse
import logging
import stat
from pathlib import Path

import pytest

from followupd.cli import app as cli
from followupd.cli.init import cmd_init
from followupd.config.loader import load
from followupd.errors import ConfigError

GOOD = """
[me]
name = "Jordan Rivera"
email = "jordan@example.com"
phone = "+1 555 0100"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.problems


def test_minimal_config_gets_the_defaults(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, GOOD))
    assert cfg.me.email == "jordan@example.com"
    assert cfg.calendar.backend == "ics" and cfg.mail.backend == "maildir"
    assert cfg.plan.lookback_days == 14 and cfg.plan.holidays == ""
    assert all(s.enabled for s in cfg.plan.steps.values())
    assert "interview" in cfg.detect.keywords and cfg.detect.exclude == ("mock interview",)


def test_missing_file_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"followupd init.*--config"):
        load(tmp_path / "nope.toml")


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[plan]\nlookback_days = = 3\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "config.toml: line 8, column 17" in str(info.value)


def test_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 2, column \d+: TOML syntax error"):
        load(write(tmp_path, 'a = 1\nb = ['))


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, """
[me]
name = "Jordan"
email = "not an address"

[calendar]
backend = "outlook"

[plan]
lookback_days = "two"
holidays = "XX"

[plan.steps.check-in]
time = "25:00"
business_days = -1

[plan.steps.follow-up-dance]
enabled = true
""")
    found = problems(path)
    text = "\n".join(found)
    assert len(found) == 7, text
    assert all(p.startswith(f"{path}: ") or p.startswith("~/") for p in found)
    assert '[plan] lookback_days: must be a whole number ≥ 0 and ≤ 3650, got "two"' in text
    assert "[me] email: must be one e-mail address" in text
    assert "[calendar] backend: must be one of google, ics" in text
    assert '[plan] holidays: "XX" is not a country code' in text
    assert '[plan.steps.check-in] time: must be a 24-hour time "HH:MM", got "25:00"' in text
    assert "[plan.steps.check-in] business_days: must be a whole number ≥ 0" in text
    assert "[plan.steps.follow-up-dance]: unknown step id" in text


def test_paths_under_home_are_shown_with_tilde(isolated_home: Path) -> None:
    path = write(isolated_home, "[me]\nname = 'J'\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "~/config.toml: [me] email: is required" in str(info.value)


def test_google_backends_require_an_account(tmp_path: Path) -> None:
    text = "\n".join(problems(write(tmp_path, GOOD + '[calendar]\nbackend = "google"\n[mail]\nbackend = "gmail"\n')))
    assert '[google] account: is required by [calendar] backend = "google" and [mail] backend = "gmail"' in text


def test_references_need_name_and_email(tmp_path: Path) -> None:
    found = problems(write(tmp_path, GOOD + '[[references]]\nname = "Dana"\n[[references]]\nemail = "x@y.org"\n'))
    assert any("[[references]] #1 email: is required" in p for p in found)
    assert any("[[references]] #2 name: is required" in p for p in found)


def test_unknown_keys_warn_and_do_not_fail(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="followupd.config")
    cfg = load(write(tmp_path, GOOD + 'colour = "blue"\n[plan]\nlookbak_days = 3\n[weather]\nx = 1\n'
                                      '[plan.steps.prepare]\nbusiness_days = 2\n'))
    assert cfg.plan.lookback_days == 14
    warned = caplog.text
    assert "[me] colour: unknown key" in warned
    assert "[plan] lookbak_days: unknown key" in warned
    assert "weather: unknown key" in warned
    assert "[plan.steps.prepare] business_days: unknown key" in warned


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, isolated_home: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "ty.j2").write_text("Subject: hi\n\nbody\n")
    cfg = load(write(tmp_path, GOOD + '[ics]\nsource = "cal.ics"\noutput = "../out/f.ics"\n'
                                      '[maildir]\npath = "~/Mail/D"\n'
                                      '[plan.steps.thank-you]\ntemplate = "tpl/ty.j2"\n'))
    assert cfg.ics.source == str(tmp_path / "cal.ics")
    assert cfg.ics.output == tmp_path.parent / "out" / "f.ics"
    assert cfg.maildir.path == isolated_home / "Mail" / "D"
    assert cfg.plan.step("thank-you").template == tmp_path / "tpl" / "ty.j2"


@pytest.mark.parametrize("url", ["https://calendar.example.com/secret/basic.ics",
                                 "webcal://calendar.example.com/secret/basic.ics"])
def test_url_source_is_kept(tmp_path: Path, url: str) -> None:
    assert load(write(tmp_path, GOOD + f'[ics]\nsource = "{url}"\n')).ics.source == url


def test_missing_and_broken_templates_are_problems(tmp_path: Path) -> None:
    write(tmp_path, "Subject: {{ role | no_such_filter }}\n\nbody\n", "broken.j2")
    found = problems(write(tmp_path, GOOD + '[plan.steps.thank-you]\ntemplate = "broken.j2"\n'
                                            '[plan.steps.check-in]\ntemplate = "missing.j2"\n'))
    text = "\n".join(found)
    assert "[plan.steps.thank-you] template: " in text and "broken.j2: line 1: template error" in text
    assert "[plan.steps.check-in] template: no such file: " in text


def test_detect_lists_replace_defaults(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, GOOD + '[detect]\nkeywords = ["chat"]\nexclude = []\n'))
    assert cfg.detect.keywords == ("chat",) and cfg.detect.exclude == ()
    assert "must be a list of non-empty strings" in problems(write(tmp_path, GOOD + "[detect]\nkeywords = 'x'\n"))[0]


def test_holidays_code_is_normalised(tmp_path: Path) -> None:
    assert load(write(tmp_path, GOOD + '[plan]\nholidays = "de"\n')).plan.holidays == "DE"


@pytest.mark.parametrize("backend", ["ics", "google"])
def test_init_writes_a_private_starter_that_loads(tmp_path: Path, backend: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cfgdir" / "config.toml"
    ctx = cli.Context(config_path=target)
    assert cmd_init(argparse.Namespace(backend=backend, force=False), ctx) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    cfg = load(target)
    assert cfg.calendar.backend == ("google" if backend == "google" else "ics")
    text = target.read_text()
    for key in ("name", "email", "phone", "backend", "watch", "write_to", "account", "api_endpoint", "source",
                "output", "path", "[[references]]", "lookback_days", "holidays", "business_days", "enabled",
                "template", "allow_insecure_keyring"):
        assert key in text, key
    out = capsys.readouterr().out
    assert str(target) in out or "config.toml" in out
    assert ("auth login" in out) == (backend == "google")


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = write(tmp_path, "# mine\n")
    ctx = cli.Context(config_path=target)
    with pytest.raises(ConfigError, match="already exists.*--force"):
        cmd_init(argparse.Namespace(backend="ics", force=False), ctx)
    assert target.read_text() == "# mine\n"
    assert cmd_init(argparse.Namespace(backend="ics", force=True), ctx) == 0
    assert "[me]" in target.read_text()


def test_init_through_the_cli_exits_2_when_file_exists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = write(tmp_path, GOOD)
    assert cli.main(["--config", str(target), "init"]) == 2
    assert "config.toml" in capsys.readouterr().err


def test_shipped_examples_load() -> None:
    root = Path(__file__).resolve().parent.parent / "config"
    local = load(root / "followupd.local.toml")
    assert local.ics.source == str(root.parent / "out" / "sample-interviews.ics")
    assert local.maildir.path == root.parent / "out" / "Drafts"
    assert local.references and local.me.email
    google = load(root / "followupd.google.toml")
    assert google.calendar.backend == "google" and google.google.account


def test_a_cafile_that_is_not_there_names_its_key(tmp_path: Path) -> None:
    from followupd.config.loader import load
    from followupd.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text('[me]\nname = "Jordan"\nemail = "jordan@example.org"\n[calendar]\nbackend = "caldav"\n'
                      '[caldav]\nurl = "https://dav.example.org/"\nusername = "jordan"\ncafile = "nope.pem"\n'
                      '[imap]\ncafile = "nope.pem"\n')
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert "[caldav] cafile" in str(caught.value) and "[imap] cafile" in str(caught.value)
    assert "no such file" in str(caught.value)
