"""The one address validator (issue #12 (c)): config, recipients and message building agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from followupd.config.loader import load
from followupd.core import addresses
from followupd.core.addresses import InvalidAddress, _certainly_valid
from followupd.core.message import check_address
from followupd.core.people import usable
from followupd.errors import ConfigError

ATEXT = "abcxyzABC019!#$%&'*+/=?^_`{|}~-."
_local = st.text(alphabet=ATEXT, min_size=1, max_size=70)
_label = st.text(alphabet="abcz09-", min_size=1, max_size=12)
_tld = st.sampled_from(["com", "org", "de", "museum", "local", "test", "arpa", "c0m", "co", "x", "onion"])
_addr = st.builds(lambda l, ls, t: f"{l}@{'.'.join(ls)}.{t}", _local, st.lists(_label, min_size=1, max_size=3), _tld)


@settings(max_examples=600, deadline=None)
@given(_addr)
def test_the_shortcut_only_accepts_what_email_validator_accepts_and_normalises_alike(text: str) -> None:
    plain = _certainly_valid(text)
    if plain is None:
        return
    result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    assert plain == result.ascii_email


@settings(max_examples=300, deadline=None)
@given(st.one_of(_addr, st.text(max_size=40)))
def test_check_agrees_with_email_validator_on_everything(text: str) -> None:
    try:
        expected: str | None = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False,
                                              allow_quoted_local=False, allow_domain_literal=False,
                                              allow_display_name=False).ascii_email
    except (EmailNotValidError, ValueError):
        expected = None
    try:
        got: str | None = addresses.check(text)
    except InvalidAddress:
        got = None
    assert got == expected


@pytest.mark.parametrize("bad", ["odd..dots@example.org", ".lead@example.org", "x@corp.local", "a@b",
                                 "Sam <sam@acme.com>", "a@b@c.com", '"a b"@example.com', "two@a.com, three@b.com"])
def test_what_one_refuses_all_refuse(bad: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidAddress):
        addresses.check(bad)
    with pytest.raises(ValueError):
        check_address(bad)
    assert not usable(bad)
    config = tmp_path / "config.toml"
    config.write_text(f'[me]\nname = "Jordan"\nemail = "jordan@example.org"\n\n'
                      f'[[references]]\nname = "Dana"\nemail = {bad!r}\n'.replace("'", '"') if '"' not in bad else
                      f'[me]\nname = "Jordan"\nemail = "jordan@example.org"\n\n[[references]]\nname = "Dana"\n'
                      f"email = '{bad}'\n")
    with pytest.raises(ConfigError, match=r"references"):
        load(config)


def test_what_config_accepts_a_draft_can_carry(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[me]\nname = "Jordan"\nemail = "Jordan@Example.ORG"\n\n'
                      '[[references]]\nname = "Dana"\nemail = "dana@bücher.de"\n')
    cfg = load(config)
    assert cfg.me.email == "Jordan@example.org"
    (ref,) = cfg.references
    assert ref.email == "dana@xn--bcher-kva.de" and check_address(ref.email) == ref.email
