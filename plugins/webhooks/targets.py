"""Where webhooks may be sent: not to this machine or its private network.

An admin registers a URL and kefu's workers POST to it. Without a check, a
URL such as ``http://127.0.0.1:6379/`` or ``http://169.254.169.254/`` would
make the workers talk to services that only trust the inside (server-side
request forgery); the delivery log would even show their answers. So a
target whose host is, or resolves to, a loopback, private, link-local,
multicast, reserved or unspecified address is refused, when the endpoint is
registered or changed (422 naming ``url``) and again just before each
delivery (names can be re-pointed after registration). Setting
``WEBHOOK_ALLOW_PRIVATE`` turns the check off, for receivers on the same
machine or network (development, the tests' loopback receiver).

What stays: between the check and the connection a name could still be
re-pointed (DNS rebinding); the redirect ban in ``deliver`` keeps a public
receiver from bouncing a delivery inside.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .settings import settings


class TargetRefused(ValueError):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


def _inside(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def allowed_private() -> bool:
    """Whether ``WEBHOOK_ALLOW_PRIVATE`` lets webhooks reach inside addresses."""
    return bool(settings()["WEBHOOK_ALLOW_PRIVATE"])


def check(url: str, unresolved_ok: bool = False) -> None:
    """Raise ``TargetRefused`` (saying why) unless ``url`` may receive webhooks.

    A host that does not resolve is refused too, unless ``unresolved_ok``
    (registration: the name may only resolve where the workers run; the
    delivery checks again). Does nothing when ``WEBHOOK_ALLOW_PRIVATE`` is on.
    """
    if allowed_private():
        return
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
        except (OSError, ValueError) as exc:  # gaierror is an OSError; a bad port a ValueError
            if unresolved_ok:
                return
            raise TargetRefused(f"the host {host} does not resolve ({exc})") from None
    inside = [a for a in addresses if _inside(a)]
    if inside:
        raise TargetRefused(f"the host {host} is {inside[0]}, an address inside this machine or its network "
                            "(set WEBHOOK_ALLOW_PRIVATE to allow it)")
