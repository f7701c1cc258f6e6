"""Webhooks reach only globally routable addresses unless WEBHOOK_ALLOW_PRIVATE
is on (server-side request forgery): anything else is refused when registered
or changed (422 naming url) and again before each delivery (test_pinning)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from plugins.webhooks import targets

OFF = [{"WEBHOOK_ALLOW_PRIVATE": False}]

INSIDE = ["http://127.0.0.1:6379/", "http://localhost:8080/hook", "http://10.1.2.3/hook", "http://192.168.0.10/",
          "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data", "http://[::1]:9000/",
          "http://[fe80::1]/", "http://0.0.0.0:5000/", "http://224.0.0.1/"]


@pytest.mark.parametrize("overrides", OFF)
@pytest.mark.parametrize("url", INSIDE)
def test_inside_addresses_are_refused_at_registration(client, admin, url):
    response = client.post("/api/v1/admin/webhooks", headers=admin, json={"url": url, "events": ["ticket.created"]})
    assert response.status_code == 422, response.json
    [reason] = response.json["error"]["fields"]["url"]
    assert reason.startswith("refused: the host") and "WEBHOOK_ALLOW_PRIVATE" in reason

# Not private in the old sense, yet not on the public internet either: the
# cloud metadata address in CGNAT space, 6to4 of 127.0.0.1, site-local,
# IPv4-mapped 10.0.0.1 (spelt in hex: the URL field already refuses the dotted
# spelling), this host, multicast, IETF protocol assignments, benchmarking.
# (url, the address the refusal names)
NOT_GLOBAL = [("http://100.100.100.200/latest/meta-data/", "100.100.100.200"),
              ("http://100.64.0.1/", "100.64.0.1"),
              ("http://[2002:7f00:1::1]/", "2002:7f00:1::1 (carrying 127.0.0.1)"),
              ("http://[fec0::1]:8080/", "fec0::1"),
              ("http://[::ffff:a00:1]/", "::ffff:10.0.0.1 (carrying 10.0.0.1)"),
              ("http://0.0.0.0/", "0.0.0.0"), ("http://224.0.0.1/", "224.0.0.1"),
              ("http://192.0.0.8/", "192.0.0.8"), ("http://198.18.0.1/", "198.18.0.1")]


@pytest.mark.parametrize("overrides", OFF)
@pytest.mark.parametrize("url, address", NOT_GLOBAL)
def test_addresses_that_are_not_globally_routable_are_refused_at_registration(client, admin, url, address):
    response = client.post("/api/v1/admin/webhooks", headers=admin, json={"url": url, "events": ["ticket.created"]})
    assert response.status_code == 422, response.json
    [reason] = response.json["error"]["fields"]["url"]
    expected = f"refused: the host {urlsplit(url).hostname} is {address}, not a globally routable address"
    assert reason.startswith(expected), reason
    assert "WEBHOOK_ALLOW_PRIVATE" in reason


@pytest.mark.parametrize("overrides", OFF)
def test_the_dotted_ipv4_mapped_spelling_is_refused_too(client, admin):
    response = client.post("/api/v1/admin/webhooks", headers=admin,
                           json={"url": "http://[::ffff:10.0.0.1]/", "events": ["ticket.created"]})
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == ["url"]


@pytest.mark.parametrize("overrides", OFF)
def test_public_and_not_yet_resolvable_hosts_are_accepted_and_a_change_inside_is_refused(client, admin):
    # A public address literal (nothing is sent to it here), and a name that
    # may only resolve where the workers run: the delivery checks it again.
    for url in ("https://93.184.216.34/hooks", "http://93.184.215.14/hooks",
                "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", "https://hooks.example.test/kefu"):
        created = client.post("/api/v1/admin/webhooks", headers=admin, json={"url": url, "events": ["ticket.created"]})
        assert created.status_code == 201, created.json
    endpoint_id = created.json["id"]
    moved = client.patch(f"/api/v1/admin/webhooks/{endpoint_id}", headers=admin, json={"url": "http://10.0.0.7/"})
    assert moved.status_code == 422 and "url" in moved.json["error"]["fields"]
    assert client.get(f"/api/v1/admin/webhooks/{endpoint_id}", headers=admin).json["url"] == \
        "https://hooks.example.test/kefu"


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_a_delivery_inside_is_refused_when_the_setting_is_off_by_then(app, jobs, receiver, register, log,
                                                                       file_ticket):
    # Registered while allowed (the receiver is on 127.0.0.1), then the
    # setting goes off: the worker checks again and sends nothing.
    endpoint = register(receiver.url)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and entry["attempts"][0]["status_code"] is None
    assert entry["attempts"][0]["error"].startswith("refused: the host 127.0.0.1 is 127.0.0.1")
    assert receiver.requests == []


@pytest.mark.parametrize("overrides", OFF)
def test_the_check_itself(app):
    # (The API's URL field already refuses an IPv4-mapped IPv6 literal; the check does too.)
    with pytest.raises(targets.TargetRefused, match="127.0.0.1"):
        targets.check("http://[::ffff:127.0.0.1]:8080/")
    with pytest.raises(targets.TargetRefused, match="does not resolve"):
        targets.check("https://hooks.example.test/kefu")
    targets.check("https://hooks.example.test/kefu", unresolved_ok=True)  # registration lets it pass
    with pytest.raises(targets.TargetRefused, match="no host"):
        targets.check("http:///nohost")
    # Beyond the API's examples: IPv4-compatible and NAT64 forms of 127.0.0.1,
    # Teredo, IPv6 multicast (some of it "global"), globally scoped IPv4
    # multicast, reserved 240/4, documentation ranges, a decimal 127.0.0.1.
    for host in ("[::7f00:1]", "[64:ff9b::7f00:1]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[ff0e::1]",
                 "224.0.1.1", "240.0.0.1", "192.0.2.1", "[2001:db8::1]", "2130706433"):
        with pytest.raises(targets.TargetRefused, match="not a globally routable address"):
            targets.check(f"http://{host}/")
    targets.check("http://93.184.215.14/")  # checked only: nothing is sent
    with pytest.raises(targets.TargetRefused, match="port"):
        targets.check("http://93.184.215.14:99999/", unresolved_ok=True)
    with pytest.raises(targets.TargetRefused, match="not http"):  # another scheme's handler would not be pinned
        targets.pin("ftp://93.184.215.14/")


def test_with_the_setting_on_inside_addresses_are_allowed(app, client, admin):
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is True  # the tests' base setting
    response = client.post("/api/v1/admin/webhooks", headers=admin,
                           json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created"]})
    assert response.status_code == 201
