"""Who is who on an invitation: me, rooms, groups, role accounts, bots and tools (SPEC §3
"Who gets a draft").  A draft goes only to a person who took part; everything else is
named here with the reason, for ``explain`` and ``preview``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from followupd.core.message import check_address
from followupd.core.model import Attendee, Response
from followupd.core.settings import Config

# Domains that never name an employer: free mail, scheduling tools and applicant-tracking
# systems, video calls, calendar systems.  Matched on the registrable domain (PSL).
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me",
    "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com",
    "fastmail.com", "fastmail.fm", "hey.com", "qq.com", "163.com", "tutanota.com", "tuta.io",
    "mailbox.org", "posteo.de", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "comcast.net",
})
TOOL_DOMAINS = frozenset({
    # scheduling and applicant tracking
    "calendly.com", "greenhouse.io", "lever.co", "ashbyhq.com", "goodtime.io", "workday.com",
    "myworkday.com", "myworkdayjobs.com", "icims.com", "smartrecruiters.com", "jobvite.com",
    "workable.com", "recruitee.com", "teamtailor.com", "bamboohr.com", "breezy.hr", "jazzhr.com",
    "successfactors.com", "taleo.net", "gem.com", "paradox.ai", "modernloop.io", "prelude.co",
    "rippling.com", "personio.de", "personio.com", "hirebridge.com", "hireez.com", "crosschq.com",
    "doodle.com", "youcanbook.me", "savvycal.com", "cal.com", "hubspot.com", "chilipiper.com",
    "acuityscheduling.com", "zcal.co", "reclaim.ai", "clockwise.com", "x.ai", "linkedin.com",
    "hired.com", "indeed.com", "glassdoor.com", "wellfound.com", "angel.co", "otta.com",
    # video calls
    "zoom.us", "zoom.com", "zoomgov.com", "webex.com", "gotomeeting.com", "goto.com", "bluejeans.com",
    "whereby.com", "teams.microsoft.com", "meet.google.com", "skype.com", "hirevue.com",
    "coderpad.io", "codility.com", "hackerrank.com", "codesignal.com", "karat.com", "karat.io",
    # calendar systems
    "calendar.google.com", "googleusercontent.com", "outlook.office365.com", "office365.com",
    "icloud-calendar.com", "calendar.yahoo.com",
})
_ROLE_TOKENS = frozenset({
    "noreply", "no", "reply", "donotreply", "do", "not", "dont", "notification", "notifications", "notify",
    "alerts", "alert", "scheduling", "schedule", "scheduler", "calendar", "calendars", "invite", "invites",
    "invitations", "meetings", "meeting", "events", "talent", "recruiting", "recruitment", "recruiter",
    "recruiters", "careers", "career", "jobs", "job", "hr", "hiring", "people", "peopleops", "ta",
    "acquisition", "team", "teams", "info", "hello", "contact", "admin", "support", "office", "mailer",
    "daemon", "postmaster", "bounce", "bounces", "automated", "robot", "bot", "system", "apply",
    "applications", "candidates", "candidate", "interviews", "interview", "coordination", "ops", "all",
    "staff", "everyone", "leads", "group", "list", "eng", "engineering", "us", "uk", "emea", "na", "global",
})


def bare(email: str) -> str:
    """``Me+Jobs@Example.com`` → ``me@example.com``: the address without case or plus tag."""
    local, _, domain = email.strip().lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if domain else local


def domain_of(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]


@lru_cache(maxsize=1)
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    # Without the punycoded copy of every rule: building it is most of the load time, and an
    # address's domain arrives as text, not as punycode.
    return PublicSuffixList(accept_encoded_idn=False)


@lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """``mail.acme.co.uk`` → ``acme.co.uk`` (the Public Suffix List, shipped offline).

    A two-label domain (``acme.com``) is its own registrable domain whatever its suffix, so the
    list is loaded only for longer ones: a command that meets only those never pays for it.
    """
    domain = domain.strip(".").lower()
    if not domain:
        return ""
    if domain.count(".") < 2:
        return domain
    found = _psl().privatesuffix(domain)  # type: ignore[attr-defined]
    return str(found) if found else domain


_RESERVED = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost|local)$")


def is_tool_domain(domain: str) -> bool:
    """Free mail, a scheduling tool, a video call, a calendar system or a reserved example
    domain (RFC 2606): never an employer."""
    domain = domain.lower()
    if _RESERVED.search(domain):
        return True
    return any(d in TOOL_DOMAINS or d in FREE_MAIL for d in _suffixes(domain))


def is_free_mail(domain: str) -> bool:
    return any(d in FREE_MAIL for d in _suffixes(domain.lower()))


def _suffixes(domain: str) -> list[str]:
    """``hire.lever.co`` → ``hire.lever.co``, ``lever.co``, ``co``: every domain it lies in."""
    labels = domain.strip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def employer_domain(email: str, cfg: Config) -> str:
    """The registrable domain if it can name an employer (not mine, not free mail, not a tool)."""
    domain = domain_of(email)
    if not domain or is_tool_domain(domain):
        return ""
    mine = {registrable(domain_of(a)) for a in my_addresses(cfg)}
    reg = registrable(domain)
    return "" if reg in mine else reg


def company_from_domain(reg: str) -> str:
    """``acme-robotics.co.uk`` → ``Acme Robotics``: the label before the public suffix."""
    label = reg.split(".")[0] if reg else ""
    return " ".join(w.capitalize() for w in re.split(r"[-_]+", label) if w)


def my_addresses(cfg: Config) -> frozenset[str]:
    return frozenset(bare(a) for a in (cfg.me.email, *cfg.me.aliases) if a)


def is_me(a: Attendee, cfg: Config) -> bool:
    return a.is_self or bare(a.email) in my_addresses(cfg)


def is_role_account(email: str) -> bool:
    """``no-reply@``, ``notifications@``, ``talent-acquisition@``, ``eng-leads@``: not a person."""
    local = email.strip().lower().split("@", 1)[0].split("+", 1)[0]
    tokens = [t for t in re.split(r"[._\-]+", local) if t]
    if not tokens:
        return True
    if re.match(r"(no|do|dont)[-_.]?(not[-_.]?)?reply", local):
        return True
    if not any(t in _ROLE_TOKENS for t in tokens):
        return False  # no role word: a person (and no need to look the domain up)
    # "wonka-interviews@wonka.com", "acme-careers@acme.com": the company's name plus role words
    label = registrable(domain_of(email)).split(".")[0]
    return all(t in _ROLE_TOKENS or t.isdigit() or t == label for t in tokens)


def usable(email: str) -> bool:
    try:
        check_address(email)
    except ValueError:
        return False
    return True


def not_a_recipient(a: Attendee, cfg: Config) -> str:
    """Why ``a`` gets no draft ("" when they do)."""
    email = a.email.strip().lower()
    if not usable(email):
        return "not exactly one e-mail address"
    if is_me(a, cfg):
        return "you"
    if a.resource or domain_of(email).endswith("resource.calendar.google.com"):
        return "a room or resource"
    if a.group or domain_of(email).endswith("group.calendar.google.com"):
        return "a group"
    if a.response == Response.DECLINED:
        return "declined"
    domain = domain_of(email)
    if not _RESERVED.search(domain) and not is_free_mail(domain) and is_tool_domain(domain):
        return "a scheduling tool"
    if is_role_account(email):
        return "a role account or bot"
    return ""
