"""The server-side request forgery guard: which addresses a webhook may be sent to.

Checked when a webhook is saved and again before every send, since a DNS answer can change
between the two. Loopback and private ranges are refused unless the deployment allows them
(closed networks, the tests); link-local and cloud metadata addresses are refused always: on
a cloud host they hand out credentials.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# AWS's IPv6 metadata endpoint sits in a unique-local range, not a link-local one.
_METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254")})


class UnsafeAddress(ValueError):
    """A URL that must not be sent to; the message says why."""


def address_refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why ``address`` is refused, or None when a webhook may be sent there."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local or address in _METADATA:
        return f"{address} is a link-local or cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return f"{address} is not a unicast address"
    if not address.is_global and not allow_private:
        # Loopback, private, shared (100.64/10) and documentation ranges alike.
        return (
            f"{address} is a loopback or private address "
            "(LEADGATE_WEBHOOK_ALLOW_PRIVATE=true allows it)"
        )
    return None


def url_host(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; UnsafeAddress when it has none or another scheme."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeAddress("the URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress("the URL must start with http:// or https://")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeAddress("the URL's port is not a number between 0 and 65535") from None
    if not parts.hostname:
        raise UnsafeAddress("the URL names no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> IPAddress | None:
    """The host as an IP address when it is one, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now; empty when it does not resolve."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    # A scope suffix ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]


def check_url(url: str, allow_private: bool, must_resolve: bool) -> None:
    """UnsafeAddress when any address the URL's host resolves to is refused.

    Every address counts, not the first: a name with one public and one private answer would
    otherwise let the connection pick the private one. ``must_resolve`` refuses a host that
    does not resolve (at send time); when saving, a name that does not resolve yet is let be.
    """
    host, port = url_host(url)
    addresses = resolve(host, port)
    if not addresses and must_resolve:
        raise UnsafeAddress(f"the host {host} does not resolve")
    for address in addresses:
        reason = address_refusal(address, allow_private)
        if reason is not None:
            raise UnsafeAddress(reason)
