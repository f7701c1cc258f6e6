"""Webhook deliveries end to end: hooks write rows, jobs POST to a real receiver
on loopback, signed; retries, once-only sends, and what never leaves kefu."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from plugins.webhooks import verify
from plugins.webhooks.deliver import deliver
from plugins.webhooks.models import WebhookDelivery, WebhookEndpoint
from service import sdk
from service.jobs import run as kefu_run
from service.extensions import db
from service.models import OutboxJob, Ticket


def test_created_ticket_reaches_the_receiver_signed(app, client, jobs, receiver, register, log, deliveries,
                                                     file_ticket):
    endpoint = register(receiver.url, ["ticket.created"], description="CRM")
    assert len(endpoint["secret"]) >= 40
    filed = file_ticket(subject="Fridge arrived dented")
    # The request only wrote rows: nothing was sent yet.
    assert receiver.requests == []
    [pending] = deliveries(endpoint["id"])
    assert (pending.status, pending.attempts, pending.event) == ("pending", 0, "ticket.created")

    before = int(time.time())
    jobs.drain()
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/kefu"
    assert headers["content-type"] == "application/json"
    assert headers["x-kefu-event"] == "ticket.created"
    assert before <= int(headers["x-kefu-timestamp"]) <= time.time() + 1
    assert headers["x-kefu-signature"].startswith("sha256=")
    # The receiver's side: the secret from the create answer verifies the raw body.
    assert verify(endpoint["secret"], headers["x-kefu-timestamp"], body, headers["x-kefu-signature"])
    assert not verify("another-secret", headers["x-kefu-timestamp"], body, headers["x-kefu-signature"])
    assert not verify(endpoint["secret"], headers["x-kefu-timestamp"], body + b" ", headers["x-kefu-signature"])

    payload = json.loads(body)
    assert payload["event"] == "ticket.created" and payload["id"] == headers["x-kefu-delivery"]
    assert payload["occurred_at"].endswith("+00:00") and payload["data"] == {}
    ticket = payload["ticket"]
    assert ticket["number"] == filed["number"] and ticket["status"] == "new"
    assert ticket["subject"] == "Fridge arrived dented" and ticket["kind"] == "complaint"
    assert ticket["category"] == "other" and ticket["department"] is None and ticket["version"] == 1
    assert isinstance(ticket["customer_id"], int) and ticket["created_at"] and ticket["resolution_due"]
    # The customer's contact data never leaves kefu.
    assert b"wang@example.test" not in body and b"Wang Fang" not in body and b"Ordered two weeks" not in body

    [entry] = log(endpoint["id"])
    assert entry["status"] == "delivered" and entry["delivered_at"] and entry["event_id"] == payload["id"]
    assert entry["attempt_count"] == 1 and entry["last_status_code"] == 200
    assert [(a["status_code"], a["error"]) for a in entry["attempts"]] == [(200, None)]


def test_a_500_is_retried_with_backoff_and_then_delivered(app, jobs, receiver, register, log, file_ticket):
    endpoint = register(receiver.url)
    receiver.answers = [500]
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "pending" and entry["last_status_code"] == 500
    assert entry["attempts"][0]["error"] == "HTTP 500: receiver says no"

    time.sleep(1.1)  # JOB_RETRY_INTERVALS is [1] in the tests
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "delivered" and entry["attempt_count"] == 2
    assert [a["status_code"] for a in entry["attempts"]] == [500, 200]
    first, second = receiver.requests
    # The same event (the receiver's dedupe key), signed afresh for each attempt.
    assert first["headers"]["x-kefu-delivery"] == second["headers"]["x-kefu-delivery"]
    assert first["body"] == second["body"]
    assert verify(endpoint["secret"], second["headers"]["x-kefu-timestamp"], second["body"],
                  second["headers"]["x-kefu-signature"])


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 1}])
def test_a_delivery_fails_after_the_last_retry(app, jobs, receiver, register, log, file_ticket):
    endpoint = register(receiver.url)
    receiver.answers = [500, 502]
    file_ticket()
    jobs.drain()
    assert log(endpoint["id"])[0]["status"] == "pending"  # one retry left
    time.sleep(1.1)
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and entry["delivered_at"] is None
    assert [a["status_code"] for a in entry["attempts"]] == [500, 502] and entry["last_status_code"] == 502
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_redirects_are_not_followed(app, jobs, receiver, register, log, file_ticket):
    endpoint = register(receiver.url)
    receiver.answers = [307]
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and entry["attempts"][0]["status_code"] == 307
    assert len(receiver.requests) == 1


def test_a_delivery_job_that_runs_twice_sends_once(app, jobs, receiver, register, deliveries, file_ticket):
    endpoint = register(receiver.url)
    file_ticket()
    jobs.drain()
    assert len(receiver.requests) == 1
    [delivery] = deliveries(endpoint["id"])
    row = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.name == "webhooks.deliver"))

    # As if the worker died after sending but before marking anything done:
    # the outbox row and the delivery both still look unfinished.
    row.done_at = None
    delivery.status = "pending"
    db.session.commit()
    assert kefu_run.run_outbox(row.id) == "already delivered"
    with kefu_run.job_context():
        assert deliver(delivery_id=delivery.id) == "already delivered"
    assert len(receiver.requests) == 1


def test_internal_notes_are_never_published(app, client, agent, jobs, receiver, register, deliveries,
                                            file_ticket):
    endpoint = register(receiver.url, ["message.added"])
    number = file_ticket()["number"]
    note = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "Customer is a reseller, secret margin", "internal": True})
    assert note.status_code == 201
    assert deliveries(endpoint["id"]) == []

    reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "A technician comes."})
    assert reply.status_code == 201
    jobs.drain()
    [request] = receiver.requests
    payload = json.loads(request["body"])
    assert payload["event"] == "message.added"
    assert payload["data"]["message"]["id"] == reply.json["id"]
    assert payload["data"]["message"]["author_type"] == "staff"
    assert payload["data"]["message"]["body"] == "A technician comes."
    assert b"reseller" not in request["body"]


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_a_dead_endpoint_never_slows_the_request(app, jobs, dead_url, register, log, file_ticket):
    endpoint = register(dead_url)
    started = time.monotonic()
    file_ticket()
    assert time.monotonic() - started < 2
    [entry] = log(endpoint["id"])
    assert entry["status"] == "pending" and entry["attempts"] == []  # no HTTP in the request

    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed" and entry["last_status_code"] is None
    [attempt] = entry["attempts"]
    assert attempt["status_code"] is None and "refused" in attempt["error"].lower()


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0, "WEBHOOK_TIMEOUT_SECONDS": 0.3}])
def test_a_slow_endpoint_times_out_in_the_job_not_in_the_request(app, jobs, receiver, register, log,
                                                                 file_ticket):
    endpoint = register(receiver.url)
    receiver.delay = 1.5
    started = time.monotonic()
    file_ticket()
    assert time.monotonic() - started < 1.5
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed"
    assert entry["attempts"][0]["error"] == "TimeoutError: timed out"
    assert entry["attempts"][0]["duration_ms"] < 1400


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_a_failed_delivery_can_be_redelivered(app, client, admin, jobs, receiver, register, log, file_ticket):
    endpoint = register(receiver.url)
    receiver.answers = [503]
    file_ticket()
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "failed"

    response = client.post(f"/api/v1/admin/webhooks/deliveries/{entry['id']}/redeliver", headers=admin)
    assert response.status_code == 202, response.json
    assert response.json["status"] == "pending"
    again = client.post(f"/api/v1/admin/webhooks/deliveries/{entry['id']}/redeliver", headers=admin)
    assert again.status_code == 409 and "status" in again.json["error"]["fields"]
    jobs.drain()
    [entry] = log(endpoint["id"])
    assert entry["status"] == "delivered"
    assert [a["status_code"] for a in entry["attempts"]] == [503, 200]
    assert len(receiver.requests) == 2


def test_endpoints_get_only_the_events_they_subscribed_to(app, client, agent, act, jobs, receiver, register,
                                                          deliveries, file_ticket):
    created = register(receiver.url + "?created", ["ticket.created"])
    moved = register(receiver.url + "?moved", ["ticket.transitioned", "ticket.updated"])
    off = register(receiver.url + "?off", ["ticket.created", "ticket.transitioned"], active=False)
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")

    assert [d.event for d in deliveries(created["id"])] == ["ticket.created"]
    assert [d.event for d in deliveries(moved["id"])] == ["ticket.transitioned"]
    assert deliveries(off["id"]) == []
    jobs.drain()
    by_path = {r["path"].split("?")[1]: json.loads(r["body"]) for r in receiver.requests}
    assert sorted(by_path) == ["created", "moved"]
    assert by_path["moved"]["data"] == {"action": "confirm", "from": "new", "to": "confirmed"}
    assert by_path["moved"]["ticket"]["department"] == "logistics"


def test_updates_and_resolution_answers_are_published(app, client, agent, act, jobs, receiver, register,
                                                       file_ticket):
    register(receiver.url, ["ticket.updated", "resolution.answered"])
    filed = file_ticket()
    number = filed["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    assert client.patch(f"/api/v1/tickets/{number}", headers=agent,
                        json={"version": version, "priority": "high"}).status_code == 200
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="Replaced the door.")
    answer = client.post(f"/api/v1/public/tickets/{filed['token']}/resolution", json={"accepted": True})
    assert answer.status_code == 200
    jobs.drain()
    updated, answered = [json.loads(r["body"]) for r in receiver.requests]
    assert updated["event"] == "ticket.updated"
    assert updated["data"] == {"changes": {"priority": ["normal", "high"]}}
    assert answered["event"] == "resolution.answered" and answered["ticket"]["status"] == "closed"
    assert answered["data"] == {"accepted": True, "reason": None, "followup": None}


def test_plugins_publish_their_own_events(app, jobs, receiver, register, file_ticket):
    endpoint = register(receiver.url, ["sla.breached"])
    number = file_ticket()["number"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    with sdk.UnitOfWork() as uow:
        uow.publish("sla.breached", ticket, {"target": "first_response", "policy": "default:normal"})
        uow.publish("survey.answered", ticket, {})  # nobody subscribed
        assert db.session.scalars(sa.select(WebhookDelivery)).all() == []  # nothing before the commit
        uow.commit()
    assert [d.event for d in db.session.scalars(sa.select(WebhookDelivery))] == ["sla.breached"]
    jobs.drain()
    [request] = receiver.requests
    assert request["headers"]["x-kefu-event"] == "sla.breached"
    assert json.loads(request["body"])["data"] == {"target": "first_response", "policy": "default:normal"}
    assert verify(endpoint["secret"], request["headers"]["x-kefu-timestamp"], request["body"],
                  request["headers"]["x-kefu-signature"])

    with sdk.UnitOfWork() as uow:
        for bad in ("SLA.breached", "sla", "sla.breached\n", "a.b.c", "x" * 60 + ".y"):
            with pytest.raises(ValueError):
                uow.publish(bad, ticket, {})
        for event in ("sla.breached", "survey.answered"):  # with and without subscribers
            for data in ({"when": object()}, {"ratio": float("nan")}, ["not", "a", "dict"]):
                with pytest.raises(ValueError):
                    uow.publish(event, ticket, data)


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["webhooks"]}])
def test_a_disabled_plugin_delivers_nothing(kefu_plugins, client, admin, jobs, receiver, deliveries, file_ticket):
    info = kefu_plugins.info("webhooks")
    assert not info.enabled and info.hooks == []
    listed = client.get("/api/v1/admin/webhooks", headers=admin)
    assert listed.status_code == 404
    # An endpoint left in the database from when the plugin was on.
    db.session.add(WebhookEndpoint(url=receiver.url, events=["ticket.created"], secret="s" * 43, active=True))
    db.session.commit()
    number = file_ticket()["number"]
    # Another plugin may still publish: nobody listens, nothing is queued.
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    with sdk.UnitOfWork() as uow:
        uow.publish("ticket.created", ticket, {})
        uow.commit()
    jobs.drain()
    assert deliveries() == [] and receiver.requests == []


def test_without_endpoints_an_event_costs_no_query_once_cached(app_config, build_app):
    def statements_for_one_ticket(app):
        client = app.test_client()
        body = {"name": "Li Lei", "email": "li@example.test", "subject": "Late", "description": "Late."}
        assert client.post("/api/v1/public/tickets", json=body).status_code == 201  # warm caches
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.post("/api/v1/public/tickets", json=body).status_code == 201
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return seen

    with build_app(app_config) as on:
        with_plugin = statements_for_one_ticket(on)
    with build_app({**app_config, "DISABLED_PLUGINS": ["webhooks"]}) as off:
        without = statements_for_one_ticket(off)
    # The first ticket looked the endpoints up; the second finds them cached.
    assert [s for s in with_plugin if "webhook" in s] == []
    assert len(with_plugin) == len(without), (with_plugin, without)


def test_an_endpoint_counts_at_once_where_it_was_registered_and_after_the_cache_elsewhere(
        app, client, admin, file_ticket, receiver, jobs):
    file_ticket()  # caches "no endpoints" in this process
    created = client.post("/api/v1/admin/webhooks", headers=admin,
                          json={"url": receiver.url, "events": ["ticket.created"]})
    assert created.status_code == 201
    file_ticket()
    jobs.drain()
    assert len(receiver.requests) == 1
    # A change made elsewhere (here: straight in the database) shows after WEBHOOK_CACHE_SECONDS.
    endpoint = db.session.get(WebhookEndpoint, created.json["id"])
    endpoint.active = False
    db.session.commit()
    app.config["WEBHOOK_CACHE_SECONDS"] = 0
    app.extensions["kefu_webhook_subscribers"]["all"] = (0, [(endpoint.id, ("ticket.created",))])  # expired
    file_ticket()
    jobs.drain()
    assert len(receiver.requests) == 1


def test_verify_rejects_old_replayed_and_forged_deliveries():
    from plugins.webhooks import sign

    secret, body, sent = "s3cret", b'{"event":"ticket.created"}', 1_800_000_000
    signature = sign(secret, sent, body)
    assert verify(secret, str(sent), body, signature, now=sent + 10)
    assert verify(secret, sent, body.decode(), signature, now=sent - 10)  # clocks a little apart
    # A captured request replayed after the tolerance (5 minutes) fails.
    assert not verify(secret, sent, body, signature, now=sent + 301)
    assert verify(secret, sent, body, signature, now=sent + 301, tolerance=600)
    assert not verify(secret, sent, body, signature, now=sent - 301)  # from the future
    # A fresh timestamp pasted onto an old signature fails: the timestamp is signed.
    assert not verify(secret, sent + 300, body, signature, now=sent + 300)
    assert not verify(secret, sent, body, signature.replace("sha256=", ""), now=sent)
    for timestamp in ("", "soon", None, "1.5e9"):
        assert not verify(secret, timestamp, body, signature, now=sent)
    assert not verify(secret, sent, body, None, now=sent)
    assert not verify(secret, sent, body, "sha256=\u00e9\u4e2d", now=sent)  # non-ASCII never raises


def test_sla_warnings_and_breaches_from_the_sweep_are_published(app, client, admin, jobs, receiver, register,
                                                                 file_ticket):
    """tier_sla's sweep fires the core sla_warning/sla_breached hooks; webhooks
    turns each into a signed delivery, once per step however often it sweeps."""
    from datetime import timedelta

    from plugins.tier_sla.models import TicketSla
    from plugins.tier_sla.sweep import sweep

    fast = {p: {"first_response": 10, "resolution": 40} for p in ("urgent", "high", "normal", "low")}
    assert client.put("/api/v1/sla/policy", headers=admin, json={
        "data": {"targets": {"small": fast}, "fallback_tier": "small", "default_calendar": "24x7",
                 "tier_calendars": {}}}).status_code == 201
    endpoint = register(receiver.url, ["sla.warning", "sla.breached"])
    number = file_ticket()["number"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    # At 20 minutes the first response's whole ladder has fired (warning 7.5,
    # breach 10, take-over 15); the resolution's warning comes at 30.
    sweep(now=ticket.created_at + timedelta(minutes=20))
    started = db.session.get(TicketSla, ticket.id).started_at
    sweep(now=ticket.created_at + timedelta(minutes=21))  # nothing new
    jobs.drain()
    got = sorted((r["headers"]["x-kefu-event"], json.loads(r["body"])["data"]["target"],
                  json.loads(r["body"])["data"]["step"], json.loads(r["body"])["data"]["due"])
                 for r in receiver.requests)
    assert got == sorted([
        ("sla.warning", "first_response", "warning", (started + timedelta(minutes=10)).isoformat()),
        ("sla.breached", "first_response", "breach", (started + timedelta(minutes=10)).isoformat()),
        ("sla.breached", "first_response", "takeover", (started + timedelta(minutes=10)).isoformat()),
    ])
    for request in receiver.requests:
        assert json.loads(request["body"])["ticket"]["number"] == number
        assert verify(endpoint["secret"], request["headers"]["x-kefu-timestamp"], request["body"],
                      request["headers"]["x-kefu-signature"])
