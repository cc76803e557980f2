"""The typed shape of the configuration (SPEC §5).  ``config.load`` builds these.

No code passes the configuration around as nested dicts: every consumer
receives one of these frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

from followupd.core.templates import Templates

DEFAULT_KEYWORDS = (
    "interview",
    "phone screen",
    "screening call",
    "onsite",
    "on-site",
    "technical screen",
    "hiring manager",
    "recruiter call",
    "final round",
)
DEFAULT_EXCLUDES = ("mock interview",)


class CalendarBackend(StrEnum):
    GOOGLE = "google"
    ICS = "ics"
    CALDAV = "caldav"


class MailBackend(StrEnum):
    GMAIL = "gmail"
    MAILDIR = "maildir"
    IMAP = "imap"


@dataclass(frozen=True)
class MeConfig:
    name: str = ""
    email: str = ""
    phone: str = ""
    aliases: tuple[str, ...] = ()  # other addresses that are also me
    tone: str = "warm"  # warm ("Hi Emily,") | formal ("Dear Dr. Nguyen,")


@dataclass(frozen=True)
class CalendarConfig:
    backend: CalendarBackend = CalendarBackend.ICS
    watch: tuple[str, ...] = ("primary",)
    write_to: str = "primary"


@dataclass(frozen=True)
class MailConfig:
    backend: MailBackend = MailBackend.MAILDIR


@dataclass(frozen=True)
class GoogleConfig:
    account: str = ""
    api_endpoint: str = ""  # "" = Google's own endpoints


@dataclass(frozen=True)
class IcsConfig:
    source: str = "~/interviews.ics"  # a path, or an http(s) URL
    output: Path = Path("~/followups.ics").expanduser()


@dataclass(frozen=True)
class MaildirConfig:
    path: Path = Path("~/Mail/Drafts").expanduser()


@dataclass(frozen=True)
class CalDavConfig:
    url: str = ""  # the server's root or principal URL (https)
    username: str = ""  # the app password is in the keyring, under this name
    cafile: Path | None = None  # a CA bundle to trust besides the system's (a self-hosted server)


@dataclass(frozen=True)
class ImapConfig:
    host: str = ""
    port: int = 993
    starttls: bool | None = None  # None: STARTTLS on port 143, TLS from the start on any other
    username: str = ""  # the app password is in the keyring, under this name
    drafts: str = ""  # "" = the mailbox with SPECIAL-USE \Drafts (RFC 6154)
    cafile: Path | None = None

    @property
    def uses_starttls(self) -> bool:
        return self.port == 143 if self.starttls is None else self.starttls


@dataclass(frozen=True)
class Reference:
    name: str
    email: str


@dataclass(frozen=True)
class StepConfig:
    enabled: bool = True
    # offsets: only the ones meaningful for the step are read by ``plan``
    minutes_before: int | None = None  # prepare (default 30)
    duration_minutes: int | None = None  # prepare (default 15)
    business_days: int | None = None  # handwritten-note 1, keep-applying 2, check-in 10
    time: str | None = None  # "HH:MM" local time for business-day steps
    template: Path | None = None  # replaces the draft template (Jinja2, sandboxed)
    reminder_template: Path | None = None  # replaces the reminder text template


@dataclass(frozen=True)
class DetectConfig:
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES


HolidayDates = Callable[[str, int], frozenset[date]]  # (country code, year) -> the public holidays


@lru_cache(maxsize=256)
def package_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year``, from the holidays package (slow: cached)."""
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


@dataclass(frozen=True)
class PlanConfig:
    lookback_days: int = 14
    holidays: str = ""  # country code for the ``holidays`` package; "" = none
    # where the public holidays of a country and year come from: the package itself, or the
    # config layer's on-disk cache of it (config/holidays.py), which spares each command its import
    holiday_dates: HolidayDates = field(default=package_holidays, compare=False, repr=False)
    steps: Mapping[str, StepConfig] = field(default_factory=dict)  # by step id; absent = the defaults

    def step(self, step_id: str) -> StepConfig:
        return self.steps.get(step_id, StepConfig())


@dataclass(frozen=True)
class SecurityConfig:
    allow_insecure_keyring: bool = False


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # the file it was loaded from
    me: MeConfig = MeConfig()
    calendar: CalendarConfig = CalendarConfig()
    mail: MailConfig = MailConfig()
    google: GoogleConfig = GoogleConfig()
    ics: IcsConfig = IcsConfig()
    maildir: MaildirConfig = MaildirConfig()
    caldav: CalDavConfig = CalDavConfig()
    imap: ImapConfig = ImapConfig()
    references: tuple[Reference, ...] = ()
    detect: DetectConfig = DetectConfig()
    plan: PlanConfig = PlanConfig()
    security: SecurityConfig = SecurityConfig()
    templates: Templates = Templates()  # filled by followupd.config.templates
