"""The SLA engine through the API and the sweep: targets by tier, pauses, the
escalation ladder firing once per step, catch-up after downtime."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from plugins.tier_sla.models import CustomerTier, TicketSla
from plugins.tier_sla.sla import clock_for
from plugins.tier_sla.sweep import sweep
from service import hookimpl
from service.extensions import db
from service.models import Department, Notification, OutboxJob, Ticket, TicketEvent
from service.models.base import utcnow

MINUTES = {"first_response": 10, "resolution": 40}
FAST = {p: dict(MINUTES) for p in ("urgent", "high", "normal", "low")}


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def sla_warning(self, ticket, target, due, step):
        self.calls.append(("warning", ticket.number, target, step))

    @hookimpl
    def sla_breached(self, ticket, target, due, step):
        self.calls.append(("breached", ticket.number, target, step))


@pytest.fixture
def recorder(kefu_plugins):
    rec = Recorder()
    kefu_plugins.register(rec, name="sla_recorder")
    return rec


@pytest.fixture
def fast_policy(client, admin):
    """Every ticket: first response in 10, resolution in 40 minutes, round the clock."""
    response = client.put("/api/v1/sla/policy", headers=admin, json={
        "data": {"targets": {"small": FAST}, "fallback_tier": "small", "default_calendar": "24x7",
                 "tier_calendars": {}}, "note": "test"})
    assert response.status_code == 201, response.json
    return response.json


def _staff_ticket(client, agent, customer_id, priority):
    response = client.post("/api/v1/tickets", headers=agent, json={
        "customer_id": customer_id, "subject": "Broken", "description": "It broke.", "priority": priority,
        "channel": "phone"})
    assert response.status_code == 201, response.json
    return response.json["number"]


def _ticket(number):
    db.session.rollback()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def _clock(number):
    """The ticket's clock, started now if the sweep has not adopted it yet."""
    row = clock_for(_ticket(number))
    db.session.commit()
    return row


LADDER = ("sla_warning", "sla_breach", "sla_takeover")


def _events(number, prefix=None):
    """The ticket's escalation events (or every event whose action starts with ``prefix``)."""
    ticket = _ticket(number)
    return [e.action for e in db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
        if (e.action.startswith(prefix) if prefix else e.action in LADDER)]


def test_a_top_tier_customer_gets_the_top_row_on_the_round_the_clock_calendar(app, client, agent, file_ticket):
    customer_id = _ticket(file_ticket()["number"]).customer_id
    db.session.add(CustomerTier(customer_id=customer_id, computed_tier="vip", value_minor=10**9, rank=1,
                                computed_at=utcnow()))
    db.session.commit()
    number = _staff_ticket(client, agent, customer_id, "urgent")
    ticket = _ticket(number)
    assert ticket.customer_tier == "vip"
    assert ticket.first_response_due - ticket.created_at == timedelta(minutes=30)
    assert ticket.resolution_due - ticket.created_at == timedelta(hours=4)
    sla = client.get(f"/api/v1/tickets/{number}/sla", headers=agent).json["sla"]
    assert sla["policy"]["tier"] == "vip" and sla["policy"]["calendar"] == "24x7"
    assert sla["targets"]["first_response"]["business_minutes"] == 30


def test_waiting_on_the_customer_stops_the_clock(app, client, agent, file_ticket, act, fast_policy):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    row = _clock(number)
    assert row.first_responded_at is not None and row.first_response_business_minutes < 10
    act(agent, number, "start")
    act(agent, number, "wait")
    ticket, row = _ticket(number), _clock(number)
    assert row.paused and ticket.resolution_due is None  # no deadline while the customer owes an answer
    # As if the ticket was opened 30 minutes ago and has waited for the last 20.
    row.started_at -= timedelta(minutes=30)
    row.pauses = [[(utcnow() - timedelta(minutes=20)).isoformat(), None, "waiting on the customer"]]
    db.session.commit()
    act(agent, number, "start")  # back to in_progress: the clock resumes
    ticket, row = _ticket(number), _clock(number)
    assert not row.paused and ticket.resolution_due is not None
    # 10 minutes used before the pause, 30 left from now: the 20 paused ones do not count.
    expected = row.started_at + timedelta(minutes=60)
    assert abs((ticket.resolution_due - expected).total_seconds()) < 5
    assert "sla_refreshed" in _events(number, "sla")


def test_the_ladder_fires_each_step_once_and_in_order(app, client, agent, make_staff, file_ticket, act,
                                                      fast_policy, recorder):
    supervisor, _ = make_staff("supervisor", "logistics")
    db.session.get(Department, db.session.scalar(select(Department.id).where(Department.code == "logistics"))
                   ).supervisor_id = supervisor.id
    db.session.commit()
    number = file_ticket()["number"]  # normal priority
    act(agent, number, "confirm", department="logistics")  # first response met
    start = _clock(number).started_at
    assert sweep(now=start + timedelta(minutes=29))["steps"] == 0
    assert sweep(now=start + timedelta(minutes=31))["steps"] == 1  # 75 % of 40 minutes
    assert sweep(now=start + timedelta(minutes=31))["steps"] == 0  # once
    assert _events(number) == ["sla_warning"]
    counts = sweep(now=start + timedelta(minutes=61))  # past 100 % and 150 %: breach, then take-over
    assert counts["steps"] == 2
    assert sweep(now=start + timedelta(days=3))["steps"] == 0
    assert _events(number) == ["sla_warning", "sla_breach", "sla_takeover"]
    row, ticket = _clock(number), _ticket(number)
    assert row.flagged and row.next_check is None
    assert ticket.assignee_id == supervisor.id and ticket.priority == "high"
    assert recorder.calls == [("warning", number, "resolution", "warning"),
                              ("breached", number, "resolution", "breach"),
                              ("breached", number, "resolution", "takeover")]
    # Each step is a notice to who answers for the ticket (unassigned: the
    # logistics supervisor) and the take-over an assignment; their mail goes
    # out in one batch job per change (mail.staff_notices).
    notices = db.session.scalars(select(Notification).where(Notification.ticket_id == ticket.id)
                                 .order_by(Notification.id)).all()
    assert [(n.kind, n.staff_id) for n in notices] == [
        ("sla_warning", supervisor.id), ("sla_breach", supervisor.id), ("sla_takeover", supervisor.id),
        ("assigned", supervisor.id)]
    batches = db.session.scalars(select(OutboxJob).where(OutboxJob.name == "mail.staff_notices")
                                 .order_by(OutboxJob.id)).all()
    assert [i for batch in batches for i in batch.kwargs["ids"]] == [n.id for n in notices]


def test_the_sla_hooks_are_the_plugins_own_notifications(kefu_plugins):
    from plugins.tier_sla import hookspecs
    from service.hooks import specs

    manager = kefu_plugins.manager
    for hook in ("sla_warning", "sla_breached"):
        assert manager.kind(hook) == "notification"
        assert getattr(manager.pm.hook, hook).spec.namespace is hookspecs  # declared by tier_sla ...
        assert not hasattr(specs, hook)  # ... not by the core


def test_the_sweep_publishes_its_events_and_records_a_failing_listener(kefu_plugins, client, agent, file_ticket, act,
                                                                        fast_policy):
    published = []

    class Listener:
        @hookimpl
        def event_published(self, event, ticket, data):
            if event.startswith("sla."):
                published.append((event, ticket.number, data))

        @hookimpl
        def sla_warning(self, ticket):
            raise RuntimeError("pager down")

    kefu_plugins.register(Listener(), name="sla_listener")
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")  # first response met
    start = _clock(number).started_at
    assert sweep(now=start + timedelta(minutes=31))["steps"] == 1
    due = (start + timedelta(minutes=40)).isoformat()
    assert published == [("sla.warning", number, {"target": "resolution", "due": due, "step": "warning"})]
    # The step stays taken, and the listener's failure is on the ticket's history.
    assert _events(number) == ["sla_warning"]
    ticket = _ticket(number)
    assert [e.details for e in db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "plugin_error"))] == [
        {"hook": "sla_warning", "error": "RuntimeError: pager down"}]
    assert sweep(now=start + timedelta(minutes=31))["steps"] == 0
    counts = sweep(now=start + timedelta(minutes=61))
    assert counts["steps"] == 2 and [p[0] for p in published] == ["sla.warning", "sla.breached", "sla.breached"]
    assert [p[2]["step"] for p in published[1:]] == ["breach", "takeover"]


def test_a_refused_take_over_changes_nothing_and_is_recorded(kefu_plugins, client, agent, make_staff, file_ticket, act,
                                                             fast_policy, recorder):
    supervisor, _ = make_staff("supervisor", "logistics")
    db.session.get(Department, db.session.scalar(select(Department.id).where(Department.code == "logistics"))
                   ).supervisor_id = supervisor.id
    db.session.commit()

    class Freeze:
        @hookimpl
        def guard_ticket_change(self, ticket, change, actor):
            if change.kind == "update" and actor.name == "tier_sla":
                return {"code": "frozen", "message": "no take-overs on this desk"}

    kefu_plugins.register(Freeze(), name="freeze")
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    start = _clock(number).started_at
    assert sweep(now=start + timedelta(minutes=61))["steps"] == 3
    ticket = _ticket(number)
    assert ticket.assignee_id is None and ticket.priority == "normal"
    assert _events(number) == ["sla_warning", "sla_breach", "sla_takeover"]
    assert _events(number, "change_refused") == ["change_refused"]
    assert recorder.calls[-1] == ("breached", number, "resolution", "takeover")


def test_a_sweep_after_downtime_catches_up_without_duplicates(app, client, agent, file_ticket, fast_policy,
                                                              recorder):
    numbers = [file_ticket(subject=f"Parcel {i}")["number"] for i in range(3)]
    assert db.session.scalars(select(TicketSla)).all() == []  # clocks start with the sweep
    later = utcnow() + timedelta(hours=5)  # every step of both targets is long past
    first = sweep(now=later)
    assert first == {"clocks": 3, "steps": 3 * 6, "adopted": 3}
    assert sweep(now=later + timedelta(hours=1)) == {"clocks": 0, "steps": 0, "adopted": 0}
    for number in numbers:
        assert _events(number) == ["sla_warning", "sla_breach", "sla_takeover"] * 2
    assert len(recorder.calls) == 18


def test_a_priority_change_retargets_the_clock(app, client, agent, file_ticket):
    number = _staff_ticket(client, agent, _ticket(file_ticket()["number"]).customer_id, "low")
    before = _ticket(number).resolution_due
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    response = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": version,
                                                                               "priority": "urgent"})
    assert response.status_code == 200
    ticket, row = _ticket(number), _clock(number)
    assert ticket.resolution_due < before and row.resolution_due == ticket.resolution_due


def test_policy_versions_and_validation(app, client, agent, admin, file_ticket, fast_policy):
    old = file_ticket()["number"]
    assert client.put("/api/v1/sla/policy", headers=agent, json={"data": {}}).status_code == 403
    bad = client.put("/api/v1/sla/policy", headers=admin,
                     json={"data": {"targets": {"small": {"urgent": {"first_response": 0}}}}})
    assert bad.status_code == 422 and "targets.small.urgent.first_response" in bad.json["error"]["fields"]
    bad = client.put("/api/v1/sla/policy", headers=admin, json={"data": {"default_calendar": "mars"}})
    assert bad.status_code == 422 and "default_calendar" in bad.json["error"]["fields"]
    slow = {p: {"first_response": 100, "resolution": 400} for p in ("urgent", "high", "normal", "low")}
    newer = client.put("/api/v1/sla/policy", headers=admin, json={"data": {
        "targets": {"small": slow}, "fallback_tier": "small", "default_calendar": "24x7", "tier_calendars": {}}})
    assert newer.status_code == 201 and newer.json["version"] == fast_policy["version"] + 1
    new = file_ticket()["number"]
    assert _clock(old).resolution_minutes == 40 and _clock(new).resolution_minutes == 400  # old keeps its version
    again = client.post(f"/api/v1/tickets/{old}/sla/reapply", headers=admin)
    assert again.status_code == 200 and again.json["sla"]["targets"]["resolution"]["business_minutes"] == 400


def test_compliance_report(app, client, agent, supervisor, file_ticket, act, fast_policy):
    met = file_ticket()["number"]
    act(agent, met, "confirm", department="logistics")
    missed = file_ticket()["number"]
    row = _clock(missed)
    row.started_at -= timedelta(hours=2)  # opened long ago and never confirmed
    db.session.commit()
    act(agent, missed, "confirm", department="logistics")
    assert client.get("/api/v1/reports/sla", headers=agent).status_code == 403
    report = client.get("/api/v1/reports/sla?by=tier", headers=supervisor).json
    # The old one also missed its 40-minute resolution (open, past due): 1 met of 3 counted.
    assert report == [{"group": None, "tickets": 2, "first_response_met": 1, "first_response_missed": 1,
                       "resolution_met": 0, "resolution_missed": 1, "compliance": 0.3333}]


def test_a_tier_change_retargets_open_tickets_but_not_closed_ones(app, client, agent, supervisor, admin, jobs,
                                                                  file_ticket, act):
    """An override (and a recompute) moves the customer's open tickets to the
    new tier's targets, through a job queued with the change."""
    customer_id = _ticket(file_ticket()["number"]).customer_id
    open_number = _staff_ticket(client, agent, customer_id, "urgent")
    done_number = _staff_ticket(client, agent, customer_id, "urgent")
    act(supervisor, done_number, "cancel", reason="duplicate")
    assert _ticket(open_number).customer_tier is None  # no tiers computed yet
    jobs.drain()  # the first tick runs the nightly recompute: tiers appear, the job moves the open ticket
    ticket = _ticket(open_number)
    assert ticket.customer_tier == "small"  # no spend: the lowest tier
    before = (ticket.first_response_due, ticket.resolution_due)
    cancelled_before = _ticket(done_number).resolution_due

    answer = client.put(f"/api/v1/customers/{customer_id}/tier", headers=supervisor,
                        json={"tier": "vip", "reason": "key account"})
    assert answer.status_code == 200, answer.json
    jobs.drain()
    ticket, row = _ticket(open_number), _clock(open_number)
    assert ticket.customer_tier == "vip" and row.tier == "vip" and row.calendar == "24x7"
    # The vip urgent row (30 minutes / 4 hours round the clock) from the same start.
    assert row.started_at == ticket.created_at
    assert ticket.first_response_due - row.started_at == timedelta(minutes=30)
    assert ticket.resolution_due - row.started_at == timedelta(hours=4)
    assert (ticket.first_response_due, ticket.resolution_due) != before
    assert row.resolution_due == ticket.resolution_due
    assert _ticket(done_number).customer_tier is None and _ticket(done_number).resolution_due == cancelled_before
    events = [e for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
              if e.action in ("tier_decided", "sla_refreshed")]
    assert [(e.action, e.details.get("from_tier"), e.details.get("tier")) for e in events] == [
        ("tier_decided", None, "small"), ("tier_decided", "small", "vip"), ("sla_refreshed", None, None)]
    version = ticket.version

    # The override is removed: the computed tier applies again, by the same job.
    assert client.delete(f"/api/v1/customers/{customer_id}/tier", headers=supervisor).status_code == 200
    jobs.drain()
    ticket = _ticket(open_number)
    assert ticket.customer_tier == "small" and (ticket.first_response_due, ticket.resolution_due) == before
    assert ticket.version == version  # SLA bookkeeping never refuses the client's next write

    # A recompute that changes nothing queues nothing.
    def retier_jobs():
        db.session.rollback()
        return [j.name for j in db.session.scalars(select(OutboxJob))].count("tier_sla.retier")

    queued = retier_jobs()
    assert client.post("/api/v1/tiers/recompute", headers=admin).status_code == 200
    assert retier_jobs() == queued


def test_a_customer_merge_tells_plugins_and_moves_the_tickets_to_the_kept_records_tier(
        app, client, agent, supervisor, jobs, file_ticket, kefu_plugins):
    """Tickets moved by a merge fire ticket_updated (changes: the customer) and
    take the kept record's tier, with its SLA targets."""
    class Updates:
        def __init__(self):
            self.seen = []

        @hookimpl
        def ticket_updated(self, ticket, changes):
            self.seen.append((ticket.number, changes, ticket.customer_id))

    updates = kefu_plugins.register(Updates(), name="updates")
    moved_number = file_ticket(email="dup@example.test", name="Wang Dup")["number"]
    kept_id = _ticket(file_ticket(email="kept@example.test", name="Wang Kept")["number"]).customer_id
    dup_id = _ticket(moved_number).customer_id
    open_number = _staff_ticket(client, agent, dup_id, "urgent")
    jobs.drain()  # tiers computed: both "small"
    assert client.put(f"/api/v1/customers/{kept_id}/tier", headers=supervisor,
                      json={"tier": "vip", "reason": "key account"}).status_code == 200
    jobs.drain()
    before = _ticket(open_number)
    assert before.customer_tier == "small"
    dues = (before.first_response_due, before.resolution_due)

    answer = client.post(f"/api/v1/customers/{kept_id}/merge", headers=supervisor, json={"from_customer_id": dup_id})
    assert answer.status_code == 200, answer.json
    told = {number: (changes, customer) for number, changes, customer in updates.seen}
    assert told[open_number] == ({"customer": [dup_id, kept_id]}, kept_id)
    assert told[moved_number] == ({"customer": [dup_id, kept_id]}, kept_id)
    jobs.drain()  # the retier job queued with the merge
    after, row = _ticket(open_number), _clock(open_number)
    assert after.customer_id == kept_id and after.customer_tier == "vip" and row.tier == "vip"
    assert (after.first_response_due, after.resolution_due) != dues
    assert after.first_response_due - row.started_at == timedelta(minutes=30)  # vip urgent


def test_a_sweeps_alerts_are_mailed_once_each_from_one_batch_job(app, client, agent, make_staff, file_ticket, act,
                                                                 fast_policy, jobs):
    from pathlib import Path

    from service.mail.outgoing.staff_notices import send_staff_notices

    assignee, _ = make_staff("agent")
    numbers = [file_ticket(subject=f"Parcel {i}")["number"] for i in range(3)]
    for number in numbers:
        act(agent, number, "confirm", department="logistics")
        ticket = _ticket(number)
        ticket.assignee_id = assignee.id  # straight to the row: no mail about the assignment itself
        db.session.commit()
    jobs.drain()
    mail_dir = Path(app.config["MAIL_LOG_DIR"])
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()
    start = max(_clock(n).started_at for n in numbers)
    assert sweep(now=start + timedelta(minutes=31))["steps"] == 3  # three resolution warnings
    [batch] = db.session.scalars(select(OutboxJob).where(OutboxJob.name == "mail.staff_notices")).all()
    assert len(batch.kwargs["ids"]) == 3
    jobs.drain()
    sent = sorted(set(mail_dir.glob("*.eml")) - before)
    bodies = [p.read_text() for p in sent]
    assert len(sent) == 3
    for number in numbers:
        [body] = [b for b in bodies if f"[{number}]" in b]
        assert "SLA warning" in body and assignee.email in body
    # The job run again (a retry after a crash) sends nothing more.
    with app.app_context():
        assert send_staff_notices(batch.kwargs["ids"]) == {"already sent": 3}
    assert len(set(mail_dir.glob("*.eml")) - before) == 3
