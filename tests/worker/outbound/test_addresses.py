"""The server-side request forgery guard."""

from __future__ import annotations

import ipaddress

import pytest

from worker.outbound.addresses import UnsafeAddress, address_refusal, check_url


@pytest.mark.parametrize(
    ("address", "allowed", "allowed_when_private_allowed"),
    [
        ("93.184.216.34", True, True),
        ("2606:4700:4700::1111", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.1.2.3", False, True),
        ("172.16.0.9", False, True),
        ("192.168.1.1", False, True),
        ("100.64.0.1", False, True),
        ("fc00::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        # Link-local and cloud metadata stay refused whatever the setting says.
        ("169.254.169.254", False, False),
        ("169.254.1.1", False, False),
        ("fe80::1", False, False),
        ("fd00:ec2::254", False, False),
        ("::ffff:169.254.169.254", False, False),
        ("0.0.0.0", False, False),
        ("224.0.0.1", False, False),
    ],
)
def test_address_refusal(address: str, allowed: bool, allowed_when_private_allowed: bool) -> None:
    parsed = ipaddress.ip_address(address)
    assert (address_refusal(parsed, allow_private=False) is None) is allowed
    assert (address_refusal(parsed, allow_private=True) is None) is allowed_when_private_allowed


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://93.184.216.34/", "http:// or https://"),
        ("http:///path", "no host"),
        ("http://127.0.0.1:8080/hook", "loopback or private"),
        ("http://[::1]/hook", "loopback or private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://localhost/hook", "loopback or private"),
        ("http://93.184.216.34:99999/", "port"),
    ],
)
def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(UnsafeAddress, match=reason):
        check_url(url, allow_private=False, must_resolve=False)


def test_a_public_literal_passes_and_an_unresolvable_name_only_at_save() -> None:
    check_url("https://93.184.216.34/hook", allow_private=False, must_resolve=True)
    check_url("https://no-such-host.invalid/hook", allow_private=False, must_resolve=False)
    with pytest.raises(UnsafeAddress, match="does not resolve"):
        check_url("https://no-such-host.invalid/hook", allow_private=False, must_resolve=True)
