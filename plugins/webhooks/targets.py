"""Where webhooks may be sent: only to globally routable addresses.

An admin registers a URL and kefu's workers POST to it. Without a check, a
URL such as ``http://127.0.0.1:6379/`` or ``http://100.100.100.200/`` (a cloud
metadata service) would make the workers talk to services that only trust
the inside (server-side request forgery); the delivery log would even show
their answers. So a target whose host is, or resolves to, any address that is
not globally routable is refused: loopback, private, CGNAT (``100.64/10``),
link-local, site-local, multicast, reserved, documentation, benchmarking,
IETF protocol assignments, the unspecified address. An IPv6 address that
carries an IPv4 one (IPv4-mapped, 6to4, Teredo) is judged by that too. It is
refused when the endpoint is registered or changed (422 naming ``url``) and
again at each delivery. Setting ``WEBHOOK_ALLOW_PRIVATE`` turns the refusal
off, for receivers on the same machine or network (development, the tests'
loopback receiver).

At delivery ``pin`` resolves the host once and checks every address it
got; ``deliver`` connects to one of those very addresses and never looks the
name up again, so a name re-pointed between the check and the connection
(DNS rebinding) cannot reach inside. The URL's host name still goes in the
Host header and, for https, in the TLS server name and the certificate
check. Proxies from the environment (``http_proxy``) are not used: a proxy
would look the name up itself. The redirect ban in ``deliver`` keeps a
public receiver from bouncing a delivery inside.

What stays: "globally routable" is the address registries' view. A public
address that this network routes to something of its own (a firewalled
service on public address space, a NAT hairpin) looks public here; an
egress firewall is what stops that.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .settings import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
AddrInfo = tuple  # one ``socket.getaddrinfo`` entry: (family, type, proto, canonname, sockaddr)

# Not globally reachable (IANA special-purpose registries), yet ``is_global``
# passes them on some Pythons: 192.0.0.0/24 before the CVE-2024-4032 fix
# (3.11.10, 3.12.4); deprecated site-local fec0::/10 on all of them.
_ALSO_NOT_GLOBAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("fec0::/10"))


class TargetRefused(ValueError):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


class Unresolved(TargetRefused):
    """The URL's host does not resolve (here, now)."""


def _routable(ip: Address) -> bool:
    # is_global alone lets multicast (224.0.1.0/24, ff0e::/16) and reserved
    # IPv6 space through.
    return (ip.is_global and not ip.is_multicast and not ip.is_reserved
            and not any(ip in net for net in _ALSO_NOT_GLOBAL))


def _why_not(address: str) -> str | None:
    """``None`` if webhooks may go to ``address``; else how to name it in a refusal."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if ip.version == 6 and ip.ipv4_mapped is not None:
        # The packets go to the IPv4 address: judged by it alone.
        return None if _routable(ip.ipv4_mapped) else f"{address} (carrying {ip.ipv4_mapped})"
    # 6to4 and Teredo relay to the IPv4 address they carry: judged by both.
    carried = [ip.sixtofour, *(ip.teredo or ())] if ip.version == 6 else []
    inside = [a for a in carried if a is not None and not _routable(a)]
    if inside:
        return f"{address} (carrying {inside[0]})"
    return None if _routable(ip) else address


def allowed_private() -> bool:
    """Whether ``WEBHOOK_ALLOW_PRIVATE`` lets webhooks reach addresses that are not globally routable."""
    return bool(settings()["WEBHOOK_ALLOW_PRIVATE"])


def pin(url: str) -> list[AddrInfo]:
    """Resolve ``url``'s host once; the addresses to connect to, each checked.

    Returns the ``socket.getaddrinfo`` entries (TCP, resolver order, no
    duplicates): connect to these, not to the name, so that what was checked
    is what is reached. Raises ``TargetRefused`` (saying why) for a URL
    that is not http(s), has no host or a bad port, or when any address is not globally routable (unless
    ``WEBHOOK_ALLOW_PRIVATE``), and its subclass ``Unresolved`` when the host
    does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https"):  # another scheme's handler would look the name up itself
        raise TargetRefused("the URL is not http:// or https://")
    if not host:
        raise TargetRefused("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the URL's port is not a number from 1 to 65535") from None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # gaierror is an OSError; a name IDNA cannot encode a UnicodeError
        raise Unresolved(f"the host {host} does not resolve ({exc})") from None
    infos = list({info[4]: info for info in found}.values())
    if not infos:
        raise Unresolved(f"the host {host} does not resolve (no address)")
    if not allowed_private():
        for info in infos:
            why = _why_not(info[4][0])
            if why:
                raise TargetRefused(f"the host {host} is {why}, not a globally routable address "
                                    "(set WEBHOOK_ALLOW_PRIVATE to allow it)")
    return infos


def check(url: str, unresolved_ok: bool = False) -> None:
    """Raise ``TargetRefused`` (saying why) unless ``url`` may receive webhooks.

    A host that does not resolve is refused too, unless ``unresolved_ok``
    (registration: the name may only resolve where the workers run; the
    delivery checks again). Does nothing when ``WEBHOOK_ALLOW_PRIVATE`` is on.
    """
    if allowed_private():
        return
    try:
        pin(url)
    except Unresolved:
        if not unresolved_ok:
            raise
