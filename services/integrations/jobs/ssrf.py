"""Where webhooks may go. In production an endpoint must be `https`, carry no credentials
or fragment, and its host must resolve to public addresses only: checked when it is
registered and again before every delivery (DNS can change between the two), and the
delivery connects to the very address that was checked (`pin`), so a name that answers a
public address to the check and a private one to the connection (DNS rebinding) gains
nothing. Development and test deliver to this machine only (http or https to 127.0.0.1,
::1 or localhost).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Pinned", "UnsafeUrl", "check_url", "check_url_shape", "is_public", "pin", "resolve"]

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why (shown to the caller)."""


def is_public(address: str) -> bool:
    """Whether an address is on the public internet; an IPv4-mapped or -translated IPv6
    form is judged by the IPv4 address it carries (::ffff:127.0.0.1 is loopback)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public(str(embedded))
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: the IPv4 is the last 32 bits
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
        or not ip.is_global
    )


def check_url_shape(url: str, *, production: bool) -> str:
    """The URL's host, if its form is acceptable; else `UnsafeUrl`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"The URL is not valid: {exc}.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("The URL must be an absolute https URL.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL may not carry credentials (user:password@).")
    if parts.fragment or url.endswith("#"):
        raise UnsafeUrl("The URL may not have a fragment (#...).")
    if port == 0:
        raise UnsafeUrl("The URL's port is not valid.")
    host = parts.hostname.lower()
    if production and parts.scheme != "https":
        raise UnsafeUrl("The URL must use https.")
    if not production and not _loopback(host):
        # A development or test stack delivers to this machine only: its events (test data,
        # or fuzzed endpoints) never leave it, and no DNS answer can send them elsewhere.
        raise UnsafeUrl(
            "Outside production only receivers on this machine (127.0.0.1, ::1, localhost) "
            "are allowed."
        )
    return host


def _loopback(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (a name with one private address among public
    ones is refused: the client may pick any of them)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Pinned:
    """Where one delivery goes: `url` to connect to and, when it names the checked address
    instead of the host, the `host` for the Host header and the TLS server name (so the
    certificate is still verified for the name the endpoint was registered with)."""

    url: str
    host: str | None = None


async def pin(url: str, *, production: bool) -> Pinned:
    """Check the URL now (`check_url`) and name the checked address to connect to."""
    addresses = await check_url(url, production=production)
    if not addresses:
        return Pinned(url)
    parts = urlsplit(url)
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    return Pinned(parts._replace(netloc=netloc).geturl(), host=parts.netloc)


async def check_url(url: str, *, production: bool) -> list[str]:
    """`UnsafeUrl` unless the URL may receive webhooks now; the public addresses its host
    resolves to in production (none outside: only this machine is allowed there)."""
    host = check_url_shape(url, production=production)
    if not production:
        return []
    parts = urlsplit(url)
    try:
        addresses = await resolve(host, parts.port or 443)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"The host {host!r} does not resolve.") from None
    if not addresses:
        raise UnsafeUrl(f"The host {host!r} does not resolve.")
    for address in addresses:
        try:
            public = is_public(address)
        except ValueError:
            public = False
        if not public:
            raise UnsafeUrl(
                f"The host {host!r} resolves to {address}, which is not a public address "
                "(loopback, private, link-local, metadata, multicast and reserved addresses "
                "are refused)."
            )
    return addresses
