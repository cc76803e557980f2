"""The one e-mail address validator: config, recipients and message building all ask it.

A configuration that accepts an address the message builder later refuses
makes every pass fail on the same draft (issue #12 (c)), so there is one
answer, from a maintained validator: email-validator, syntax only (no DNS:
followupd never touches the network to judge an address; SPEC §7 tests run
offline too).  Addresses are plain addr-specs: no quoted local parts, no
domain literals, no display names, nothing that could read as two mailboxes.
Internationalised domains are accepted (and written in their ASCII form);
non-ASCII local parts are not, because not every server takes SMTPUTF8.

Importing email-validator compiles its large regular expressions (about
30 ms, on every command), so an address of the common plain shape whose
acceptance by email-validator is certain (tested: ``tests/test_addresses.py``
checks the shortcut against the library on generated addresses) is answered
without it; every other address goes to the library.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Dot-atom local part, LDH labels, a letters-only top-level domain: the shape
# email-validator accepts as long as the lengths fit and the name is not special-use.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
# names email-validator refuses (its SPECIAL_USE_DOMAIN_NAMES): left to the library
_SPECIAL = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


class InvalidAddress(ValueError):
    """Not one usable e-mail address; the message says why, for the person."""


def _certainly_valid(text: str) -> str | None:
    """``text`` as email-validator would normalise it (domain in lower case), when it is
    certain to accept it; None when the library must judge."""
    found = _PLAIN.fullmatch(text)
    if found is None:
        return None
    local, domain = found.groups()
    if len(local) > 64 or len(text) > 254 or len(domain) > 253 or domain.rsplit(".", 1)[-1].lower() in _SPECIAL:
        return None
    if "--" in domain:  # "ab--" labels are reserved (xn-- is Punycode): the library's call
        return None
    return f"{local}@{domain.lower()}"


@lru_cache(maxsize=1024)
def check(email: str) -> str:
    """``email`` as one plain address (surrounding space removed, an IDN domain in ASCII),
    or InvalidAddress saying what is wrong."""
    text = email.strip()
    if not text:
        raise InvalidAddress("no e-mail address given")
    plain = _certainly_valid(text)
    if plain is not None:
        return plain
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False,
                                allow_quoted_local=False, allow_domain_literal=False,
                                allow_display_name=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return str(result.ascii_email)


def is_valid(email: str) -> bool:
    try:
        check(email)
    except InvalidAddress:
        return False
    return True


__all__ = ["InvalidAddress", "check", "is_valid"]
