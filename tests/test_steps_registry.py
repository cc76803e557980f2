"""The step registry is the one place a step is declared: adding one entry (and its templates)
is all it takes for config validation, the plan, preview and status to know it."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core_helpers import NY, event
from followupd.cli.explain import schedule_lines
from followupd.cli.status import step_lines
from followupd.config.loader import load
from followupd.core import steps
from followupd.core.detect import to_interview
from followupd.core.model import Kind
from followupd.core.plan import plan
from followupd.core.steps import Recipients, Step, Timing
from followupd.core.tracking import InterviewRecord
from followupd.errors import ConfigError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SALARY = Step("salary-research", "look up the salary range before they call", Timing.BUSINESS_DAYS,
              business_days=3, time="18:00")
NOTE = Step("portfolio-link", "send each interviewer the portfolio link", Timing.AT_END,
            drafts=Recipients.INTERVIEWERS)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "STEPS", steps.STEPS + (SALARY, NOTE))


def _config(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "salary.j2").write_text("Title: Research the salary range for {{ company }}\n\n"
                                        "Look at two or three sources.\n", encoding="utf-8")
    (tmp_path / "portfolio.j2").write_text("Subject: My portfolio, as promised\n\nHi {{ recipient.first_name }},\n"
                                           "here it is.\n\n{{ signature }}\n", encoding="utf-8")
    (tmp_path / "portfolio-reminder.j2").write_text("Title: Send the portfolio link\n\nDrafts are ready.\n",
                                                    encoding="utf-8")
    path = tmp_path / "config.toml"
    if "[plan.steps.portfolio-link]" not in extra:
        extra += ('[plan.steps.portfolio-link]\ntemplate = "portfolio.j2"\n'
                  'reminder_template = "portfolio-reminder.j2"\n')
    path.write_text('[me]\nname = "Jordan Rivera"\nemail = "jordan@example.com"\n' + extra, encoding="utf-8")
    return path


def test_a_new_step_is_validated_planned_previewed_and_listed(registry: None, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    path = _config(tmp_path, '[plan.steps.salary-research]\nbusiness_days = 4\ntime = "17:30"\n'
                             'reminder_template = "salary.j2"\n'
                             '[plan.steps.portfolio-link]\ntemplate = "portfolio.j2"\n'
                             'reminder_template = "portfolio-reminder.j2"\n')
    with caplog.at_level(logging.WARNING, logger="followupd.config"):
        cfg = load(path)
    assert not caplog.records  # every key it set is one the registry declares for the step
    iv = to_interview(event(), cfg)
    planned = plan(iv, cfg, NY, NOW)
    salary = [f for f in planned if f.step == "salary-research"]
    assert len(salary) == 1 and salary[0].kind is Kind.REMINDER
    # Tue 24 Nov + 4 business days (Thanksgiving is no holiday without [plan] holidays) = Mon 30 Nov
    assert salary[0].at == datetime(2026, 11, 30, 17, 30, tzinfo=NY)
    assert salary[0].title == "Research the salary range for Acme"
    drafts = [f for f in planned if f.step == "portfolio-link" and f.kind is Kind.DRAFT]
    assert {f.recipient for f in drafts} == {"sam.park@acme.com", "lee@acme.com"}
    assert all(f.write_from == iv.event.end for f in drafts)

    preview = "\n".join(schedule_lines(iv, planned, cfg, NY, NOW))
    assert "salary-research" in preview and "portfolio-link" in preview
    rec = InterviewRecord(event=iv.event, first_seen=NOW)
    listed = step_lines(rec, {}, cfg, "America/New_York", NOW)
    assert {"salary-research", "portfolio-link"} <= {s.step for s in listed}


def test_a_new_step_rejects_keys_it_does_not_declare(registry: None, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    path = _config(tmp_path, '[plan.steps.salary-research]\nminutes_before = 5\ntemplate = "salary.j2"\n'
                             'reminder_template = "salary.j2"\n')
    with caplog.at_level(logging.WARNING, logger="followupd.config"):
        load(path)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "[plan.steps.salary-research] minutes_before: unknown key" in warned
    assert "[plan.steps.salary-research] template: unknown key" in warned  # it writes no drafts


def test_a_step_the_registry_does_not_know_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[plan.steps.salary-research\]: unknown step id"):
        load(_config(tmp_path, "[plan.steps.salary-research]\nenabled = false\n"))


def test_a_step_without_its_templates_is_a_config_error(registry: None, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[me]\nname = "Jordan Rivera"\nemail = "jordan@example.com"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="reminder-salary-research.j2: the default template cannot be read"):
        load(path)


def test_the_registry_declares_every_shipped_template() -> None:
    shipped = {p.name for p in (Path(steps.__file__).parent.parent / "templates").glob("*.j2")}
    assert set(steps.all_templates()) == shipped - {"config.toml.j2"}
