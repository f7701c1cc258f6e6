"""The ``webhooks.deliver`` job: one signed POST of one delivery, logged.

Runs in a worker (``service.jobs.registry.run_outbox``), never in a request. Every
attempt is a ``WebhookAttempt`` row (status code or error, duration). A 2xx
answer marks the delivery ``delivered``; anything else raises
``DeliveryFailed`` so that RQ retries it with backoff (``JOB_RETRIES``,
``JOB_RETRY_INTERVALS``), and the last failed try marks it ``failed``
(an admin can redeliver it). ``service.jobs.registry.effect_once`` makes a job that
runs twice send once.
"""
from __future__ import annotations

import errno
import functools
import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from http.client import HTTPException

from service import sdk

from . import targets
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .settings import settings
from .signing import sign

USER_AGENT = "kefu-webhooks/1"
SNIPPET = 300  # characters of a failed answer's body kept in the log


class DeliveryFailed(RuntimeError):
    """The endpoint did not answer 2xx (or could not be reached); RQ retries."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET without the body (or carry a
    # signed body to a host nobody registered): a 3xx counts as a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _connect(addresses: list[targets.AddrInfo], timeout: float) -> socket.socket:
    """A TCP connection to the first of ``addresses`` (from ``targets.pin``) that answers."""
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        try:  # headers and body go out in separate writes: no Nagle delay between them (as http.client does)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            if exc.errno != errno.ENOPROTOOPT:
                sock.close()
                raise
        return sock
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    # Connects to the checked addresses, never to the name (a second lookup
    # could answer differently: DNS rebinding); the Host header stays the URL's.
    def __init__(self, *args, addresses: list[targets.AddrInfo], **kwargs):
        super().__init__(*args, **kwargs)
        self._addresses = addresses

    def connect(self):
        self.sock = _connect(self._addresses, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    # As above; the TLS server name and the certificate check use the URL's
    # host name, so the pinned address must prove it is that host.
    def __init__(self, *args, addresses: list[targets.AddrInfo], **kwargs):
        super().__init__(*args, **kwargs)
        self._addresses = addresses

    def connect(self):
        self.sock = self._context.wrap_socket(_connect(self._addresses, self.timeout), server_hostname=self.host)


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[targets.AddrInfo]):
        super().__init__()
        self._addresses = addresses

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPConnection, addresses=self._addresses), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[targets.AddrInfo]):
        super().__init__()  # no context: http.client makes the default one (system CAs, host name checked)
        self._addresses = addresses

    def https_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPSConnection, addresses=self._addresses), req)


def _opener(addresses: list[targets.AddrInfo]) -> urllib.request.OpenerDirector:
    # No proxies from the environment: a proxy would look the name up again.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects,
                                       _PinnedHTTPHandler(addresses), _PinnedHTTPSHandler(addresses))


def body_of(payload: dict) -> bytes:
    """The exact bytes sent (and signed) for ``payload``: compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _post(url: str, body: bytes, headers: dict, timeout: float,
          addresses: list[targets.AddrInfo]) -> tuple[int | None, str | None]:
    """POST once to ``url``, connecting to ``addresses`` (``targets.pin(url)``);
    ``(status code, error)``, error None for a 2xx answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener(addresses).open(request, timeout=timeout) as response:
            response.read(SNIPPET)  # let the receiver finish; the body is not ours to keep
            status = response.status
        return status, None if 200 <= status < 300 else f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        try:
            snippet = exc.read(SNIPPET).decode("utf-8", "replace").strip()
        except (OSError, HTTPException, ValueError, AttributeError):
            snippet = ""
        finally:
            exc.close()
        return exc.code, f"HTTP {exc.code}" + (f": {snippet}" if snippet else "")
    except urllib.error.URLError as exc:  # could not connect: the reason is the socket's error
        reason = exc.reason
        return None, f"{type(reason).__name__ if isinstance(reason, BaseException) else 'URLError'}: {reason}"
    except (OSError, HTTPException, ValueError) as exc:  # timeouts, resets, a malformed URL
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _is_last_try() -> bool:
    # RQ counts the retries left on the job; run outside RQ (a CLI, a test
    # calling the job) there is no retry to wait for.
    from rq import get_current_job

    job = get_current_job()
    return job is None or not (job.retries_left and job.retries_left > 0)


def deliver(delivery_id: int, round_key: str = "0") -> str:
    """Send delivery ``delivery_id`` to its endpoint, once; returns what happened.

    ``round_key`` tells an admin's redelivery (a fresh value) from the first
    send, so that each is sent once however often its job runs. A
    delivery already delivered, gone (endpoint deleted) or whose endpoint is
    disabled is not sent (the last is marked ``failed``: redeliver it once the
    endpoint is enabled). Raises ``DeliveryFailed`` after logging a failed
    attempt, so that RQ retries.
    """
    session = sdk.db.session
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "gone"
    if delivery.status == "delivered":
        return "already delivered"
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        with sdk.UnitOfWork() as uow:
            delivery.status, delivery.last_error = "failed", "endpoint disabled"
            uow.commit()
        return "endpoint disabled"
    body = body_of(delivery.payload)
    timeout = float(settings()["WEBHOOK_TIMEOUT_SECONDS"])
    with sdk.effect_once(f"webhook:{delivery_id}:{round_key}") as go:
        if not go:
            return "already delivered"
        # Signed at send time: the timestamp is how fresh this attempt is,
        # and a rotated secret applies to retries too.
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-Kefu-Event": delivery.event, "X-Kefu-Delivery": delivery.event_id,
            "X-Kefu-Timestamp": str(timestamp), "X-Kefu-Signature": sign(endpoint.secret, timestamp, body),
        }
        started = time.monotonic()
        try:
            # Again, resolved now (the name may point elsewhere since it was
            # registered), and the connection goes to exactly what was checked.
            addresses = targets.pin(endpoint.url)
        except targets.TargetRefused as exc:
            status, error = None, f"refused: {exc}"
        else:
            status, error = _post(endpoint.url, body, headers, timeout, addresses)
        duration_ms = int((time.monotonic() - started) * 1000)
        # Committed before raising: the worker rolls back whatever a failed
        # job left, and the log must keep this attempt.
        with sdk.UnitOfWork() as uow:
            now = sdk.utcnow()
            session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=status,
                                       error=error[:2000] if error else None, duration_ms=duration_ms))
            delivery.attempts = (delivery.attempts or 0) + 1
            delivery.last_status_code, delivery.last_error = status, error[:2000] if error else None
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", now
            elif _is_last_try():
                delivery.status = "failed"
            uow.commit()
        if error is not None:
            raise DeliveryFailed(f"webhook delivery {delivery_id} to endpoint {endpoint.id}: {error}")
    return "delivered"
