"""Signing deliveries, and the receivers' check of a signature (``verify``).

The contract is in docs/webhooks.md: ``X-Kefu-Signature`` is ``sha256=``
and the hex HMAC-SHA256, keyed by the endpoint's secret, of the timestamp,
a dot and the raw body.
"""
from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Kefu-Signature`` value for ``body`` sent at ``timestamp``:
    ``sha256=`` and the hex HMAC-SHA256, keyed by ``secret``, of
    ``f"{timestamp}.".encode() + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(secret: str, timestamp, body, signature, tolerance: int = 300, now: float | None = None) -> bool:
    """A receiver's check of one delivery; True only when it is authentic and fresh.

    ``timestamp`` and ``signature`` are the ``X-Kefu-Timestamp`` and
    ``X-Kefu-Signature`` headers, ``body`` the raw request body (bytes; a str
    is taken as UTF-8). False when the signature does not match, or the
    timestamp is not a whole number of seconds or lies more than
    ``tolerance`` seconds from ``now`` (default: the current time) in either
    direction, which bounds replays; within it, receivers drop repeats by
    ``X-Kefu-Delivery``. Never raises for malformed input.
    """
    try:
        sent = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, (bytes, bytearray)) or not isinstance(signature, str) or not isinstance(secret, str):
        return False
    expected = sign(secret, sent, bytes(body)).encode()
    # Constant-time: a timing difference would leak the signature byte by
    # byte. Bytes, because compare_digest raises for non-ASCII text.
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
