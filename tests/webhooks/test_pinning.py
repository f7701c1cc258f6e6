"""At delivery the endpoint's host is resolved once, every address checked, and
the connection made to that very address (DNS rebinding cannot slip a second,
different answer in between), with the URL's host name kept in the Host
header and, for https, in the TLS server name and the certificate check.

Names are made up (``*.kefu.test``) and answered by patching
``socket.getaddrinfo``, the operating system's resolver: there is no DNS
server to re-point here. Every TCP connection the code opens is seen through
Python's ``socket.connect`` audit event; only loopback ones go ahead, so no
test ever reaches outside this machine.
"""
from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from plugins.webhooks.models import WebhookEndpoint
from service.extensions import db
from test_targets import NOT_GLOBAL

OFF = {"WEBHOOK_ALLOW_PRIVATE": False, "JOB_RETRIES": 0}
PUBLIC = "93.184.215.14"  # a public address: checked and connected to by the code, blocked by the tests

_seen: list | None = None  # the armed test's connections, None between tests


def _watch(event, args):
    if event != "socket.connect" or _seen is None or not isinstance(args[1], tuple):
        return
    host, port = args[1][:2]
    _seen.append((host, port))
    try:
        loopback = ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:  # a name: connecting by name would mean a second lookup
        loopback = False
    if not loopback:
        # Raised before the connect call happens; an OSError, as a refused connection would be.
        raise ConnectionRefusedError(f"the test blocked a connection to {host}:{port}")


# An audit hook cannot be removed: it stays for the run and does nothing unless a test arms it.
sys.addaudithook(_watch)


@pytest.fixture(autouse=True)
def connects():
    """Every TCP connection opened during the test, as (address, port); only
    loopback ones are let through."""
    global _seen
    _seen = []
    try:
        yield _seen
    finally:
        _seen = None


@pytest.fixture
def resolver(monkeypatch):
    """``resolver.answers[name] = [[address, ...], ...]`` (one list per lookup,
    the last one repeated; an empty one: no such name) makes the OS resolver
    answer those for ``name``;
    ``resolver.lookups[name]`` counts the lookups. Other names resolve as usual."""
    real = socket.getaddrinfo

    class Resolver:
        answers: dict[str, list[list[str]]] = {}
        lookups: dict[str, int] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in Resolver.answers:
            return real(host, port, family, type, proto, flags)
        Resolver.lookups[host] = Resolver.lookups.get(host, 0) + 1
        rounds = Resolver.answers[host]
        addresses = rounds[min(Resolver.lookups[host], len(rounds)) - 1]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [info for address in addresses
                for info in real(address, port, family, type or socket.SOCK_STREAM, proto, socket.AI_NUMERICHOST)]

    Resolver.answers, Resolver.lookups = {}, {}
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return Resolver


def _point(endpoint_id: int, url: str) -> None:
    # Straight into the database, as an older kefu or a hand edit would: no check on the way.
    db.session.execute(sa.update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(url=url))
    db.session.commit()


# (The dotted IPv4-mapped spelling the URL field refuses at registration can still be in the table.)
BEHIND = NOT_GLOBAL + [("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 (carrying 10.0.0.1)")]


@pytest.mark.parametrize("overrides", [OFF])
@pytest.mark.parametrize("url, address", BEHIND)
def test_an_endpoint_changed_behind_the_check_is_refused_before_delivery(app, jobs, register, log, file_ticket,
                                                                          connects, url, address):
    endpoint = register(f"http://{PUBLIC}/hooks")  # accepted: a public address
    _point(endpoint["id"], url)
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed"
    [attempt] = entry["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith(f"refused: the host {urlsplit(url).hostname} is {address}, not a globally "
                                       "routable address"), attempt["error"]
    assert connects == []


@pytest.mark.parametrize("overrides", [OFF])
def test_a_name_resolving_inside_at_delivery_is_refused(app, jobs, receiver, register, log, file_ticket, resolver,
                                                         connects):
    # Registered while the name did not resolve (accepted: it may only resolve
    # where the workers run); at delivery it answers this machine, among others.
    port = receiver.server.server_address[1]
    endpoint = register(f"http://hooks.kefu.test:{port}/hooks/kefu")
    resolver.answers["hooks.kefu.test"] = [[PUBLIC, "127.0.0.1"]]
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed"
    assert entry["attempts"][0]["error"].startswith("refused: the host hooks.kefu.test is 127.0.0.1, not a globally")
    assert connects == [] and receiver.requests == []


@pytest.mark.parametrize("overrides", [OFF])
def test_a_name_rebound_between_the_check_and_the_connection_never_reaches_inside(app, jobs, receiver, register, log,
                                                                                   file_ticket, resolver, connects):
    # DNS rebinding: the first answer is public, every later one this machine.
    # Only one lookup is made, so the connection goes to the public address
    # that was checked (the test blocks it), never to the receiver.
    port = receiver.server.server_address[1]
    endpoint = register(f"http://rebind.kefu.test:{port}/hooks/kefu")
    resolver.answers["rebind.kefu.test"] = [[PUBLIC], ["127.0.0.1"]]
    file_ticket()
    jobs.drain()
    assert receiver.requests == []
    assert connects == [(PUBLIC, port)]
    assert resolver.lookups["rebind.kefu.test"] == 1
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and "the test blocked a connection to " + PUBLIC in entry["attempts"][0]["error"]


def test_with_private_allowed_the_connection_goes_to_the_address_resolved_once(app, jobs, receiver, register, log,
                                                                              file_ticket, resolver, connects):
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is True  # the tests' base setting: nothing refused, still pinned
    port = receiver.server.server_address[1]
    resolver.answers["receiver.kefu.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    endpoint = register(f"http://receiver.kefu.test:{port}/hooks/kefu")
    file_ticket()
    jobs.drain()
    [request] = receiver.requests
    assert request["headers"]["host"] == f"receiver.kefu.test:{port}" and request["path"] == "/hooks/kefu"
    assert connects == [("127.0.0.1", port)]
    assert resolver.lookups["receiver.kefu.test"] == 1
    assert log(endpoint["id"])[0]["status"] == "delivered"


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_an_unresolvable_name_is_logged_and_nothing_is_sent(app, jobs, register, log, file_ticket, resolver, connects):
    endpoint = register("http://nowhere.kefu.test/hooks")
    resolver.answers["nowhere.kefu.test"] = [[]]  # no address at all
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed"
    assert entry["attempts"][0]["error"].startswith("refused: the host nowhere.kefu.test does not resolve")
    assert connects == []


def _self_signed(tmp_path, name: str):
    """A certificate for ``name`` (and its key), signed by itself, made by the openssl tool."""
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_receiver(receiver, tmp_path, monkeypatch):
    """``tls_receiver(name)``: the receiver speaking https with a certificate
    for ``name`` that kefu trusts (``SSL_CERT_FILE``); returns the server
    names (SNI) clients asked for."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool makes the test certificate")

    def serve(name: str) -> list[str]:
        cert, key = _self_signed(tmp_path, name)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by each new default TLS context
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        asked: list[str] = []
        context.sni_callback = lambda sslsocket, server_name, ctx: asked.append(server_name)
        # Same listening socket, now handing out TLS connections.
        receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
        return asked

    return serve


def test_https_keeps_the_host_name_for_sni_and_the_certificate(app, jobs, receiver, tls_receiver, register, log,
                                                               file_ticket, resolver, connects):
    asked = tls_receiver("receiver.kefu.test")
    port = receiver.server.server_address[1]
    resolver.answers["receiver.kefu.test"] = [["127.0.0.1"]]
    endpoint = register(f"https://receiver.kefu.test:{port}/hooks/kefu")
    file_ticket()
    jobs.drain()
    assert log(endpoint["id"])[0]["status"] == "delivered"
    [request] = receiver.requests
    assert request["headers"]["host"] == f"receiver.kefu.test:{port}"
    assert asked == ["receiver.kefu.test"] and connects == [("127.0.0.1", port)]


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_https_refuses_a_certificate_for_another_name(app, jobs, receiver, tls_receiver, register, log, file_ticket,
                                                     resolver):
    # The pinned address answers, but its certificate is not for the URL's host.
    tls_receiver("other.kefu.test")
    port = receiver.server.server_address[1]
    resolver.answers["receiver.kefu.test"] = [["127.0.0.1"]]
    endpoint = register(f"https://receiver.kefu.test:{port}/hooks/kefu")
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and "CERTIFICATE_VERIFY_FAILED" in entry["attempts"][0]["error"]
    assert receiver.requests == []
