"""An outside integrator's plugin, written from docs/plugins.md alone with
nothing of kefu but ``service.hookimpl`` and ``service.sdk``, installed with
pip and found through its entry point (docs/plugins/examples/acme_vip, the
tutorial's ``kefu-acme-vip``):

1. a VIP customer's ticket opens as urgent, with a note (``opening_ticket``);
2. resolving without a public reply is refused, in the API and the console
   alike (``guard_ticket_change``);
3. every workflow step is audited in the plugin's own table (``ticket_transitioned``);
4. the audit trail is a panel on the ticket page (``ticket_panels``);

and with an exception injected in each of those hooks, the ticket is still
saved, the pages still render and the error shows in the ticket's history or
on the admin plugins page.
"""
from __future__ import annotations

import ast
import html
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from flask_migrate import downgrade
from webpages import csrf_of

from service import migrations
from service.extensions import db

SOURCE = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "examples" / "acme_vip"
MODULE = "kefu_acme_vip"


@pytest.fixture(scope="module")
def acme_site(tmp_path_factory):
    """kefu-acme-vip built and installed with pip into a directory of its own,
    on sys.path for this module's tests (and its table out of kefu's metadata after)."""
    base = tmp_path_factory.mktemp("acme")
    source = base / "src"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = base / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--no-index", "--disable-pip-version-check", "--target", str(target), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / MODULE / "migrations" / "acme_vip_0001_audit.py").exists()  # shipped in the package
    sys.path.insert(0, str(target))
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        # Its model stays imported for the rest of the run; its table must not
        # count as kefu's (the schema tests compare kefu's metadata).
        table = db.metadata.tables.get("acme_vip_audit")
        if table is not None:
            db.metadata.remove(table)


@pytest.fixture
def settings():
    return {}


@pytest.fixture
def app(acme_site, app_config, settings, build_app):
    with build_app({**app_config, **settings}) as app:
        migrations.upgrade()  # the plugin's own branch: its audit table
        try:
            yield app
        finally:
            # On PostgreSQL the test database outlives the test: take the
            # plugin's branch away again, as an operator uninstalling it would.
            db.session.rollback()
            downgrade(revision="acme_vip@base")


def test_the_plugin_uses_nothing_of_kefu_but_service_and_the_sdk(acme_site):
    for path in (acme_site / MODULE).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("service"):
                assert node.module in ("service", "service.sdk"), f"{path.name} imports {node.module}"
                if node.module == "service":
                    assert {a.name for a in node.names} <= {"hookimpl", "sdk"}
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("service.") and a.name != "service.sdk" for a in node.names)


def _make_vip(client, supervisor, customer_id):
    """A supervisor's tier override (the builtin tier_sla plugin): the customer is VIP."""
    response = client.put(f"/api/v1/customers/{customer_id}/tier", headers=supervisor,
                          json={"tier": "vip", "reason": "key account"})
    assert response.status_code == 200, response.json


def _customer(client, agent, **fields):
    response = client.post("/api/v1/customers", headers=agent,
                           json={"name": "Li Na", "kind": "company", "email": "li.na@example.test", **fields})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _open(client, agent, customer_id, **fields):
    response = client.post("/api/v1/tickets", headers=agent, json={
        "customer_id": customer_id, "subject": "Air conditioner leaks", "description": "Water on the floor.",
        "channel": "phone", **fields})
    assert response.status_code == 201, response.json
    return response.json


def _history(client, agent, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=agent).json


def _due_after(ticket):
    created = datetime.fromisoformat(ticket["created_at"])
    return (datetime.fromisoformat(ticket["sla"]["first_response_due"]) - created,
            datetime.fromisoformat(ticket["sla"]["resolution_due"]) - created)


def test_a_vip_ticket_opens_as_urgent_with_urgent_sla_targets(app, client, agent, supervisor):
    vip = _customer(client, agent)
    _make_vip(client, supervisor, vip)
    raised = _open(client, agent, vip)
    assert raised["priority"] == "urgent" and raised["tags"] == ["vip"] and raised["customer_tier"] == "vip"
    # Its SLA targets are those of an urgent ticket from the start: the same
    # as a ticket filed urgent by hand for the same customer.
    by_hand = _open(client, agent, vip, priority="urgent")
    assert _due_after(raised) == _due_after(by_hand)
    normal = _open(client, agent, _customer(client, agent, email="zhao@example.test"))
    assert normal["priority"] == "normal" and _due_after(normal) != _due_after(raised)

    history = _history(client, agent, raised["number"])
    assert history[0]["action"] == "created" and history[0]["details"]["priority"] == "urgent"
    sla = next(e for e in history if e["action"] == "sla_applied")
    assert sla["details"]["first_response_due"] == raised["sla"]["first_response_due"]
    changed = next(e for e in history if e["action"] == "opening_changes")
    assert changed["actor"]["name"] == "acme_vip" and changed["details"]["changes"]["priority"] == ["normal", "urgent"]
    notes = client.get(f"/api/v1/tickets/{raised['number']}/messages", headers=agent).json
    assert [(n["internal"], n["author_name"]) for n in notes] == [(True, "acme_vip")]
    assert "opened as urgent by the acme VIP rule" in notes[0]["body"]


def test_resolve_without_a_public_reply_is_refused_in_the_api_and_the_console(app, client, agent, act,
                                                                            staff_login, file_ticket):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    refused = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                          json={"action": "resolve", "version": version, "resolution": "Fixed."})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "no_public_reply" and refused.json["error"]["plugin"] == "acme_vip"

    staff_login("agent")
    page = client.get(f"/console/tickets/{number}")
    shown = client.post(f"/console/tickets/{number}/transition", follow_redirects=True, data={
        "action": "resolve", "version": str(version), "resolution": "Fixed.", "csrf_token": csrf_of(page.text)})
    assert "Reply to the customer before resolving" in html.unescape(shown.text)
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "in_progress"
    refusals = [e for e in _history(client, agent, number) if e["action"] == "change_refused"]
    assert [(e["actor"]["name"], e["details"]["code"]) for e in refusals] == [("acme_vip", "no_public_reply")] * 2

    client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "A technician comes today."})
    assert act(agent, number, "resolve", resolution="Fixed.")["status"] == "resolved"


def test_every_step_is_audited_and_shown_in_a_panel(app, client, agent, act, staff_login, file_ticket):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    panels = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).json["panels"]
    [audit] = [p for p in panels if p["plugin"] == "acme_vip"]
    assert audit["title"] == "Audit trail" and audit["failed"] is False
    assert audit["rows"][0] == {"label": "Steps audited", "value": 2, "kind": "text", "url": None, "items": [],
                                "tone": None}
    assert [r["label"] for r in audit["rows"][1:]] == ["New → Confirmed", "Confirmed → In progress"]
    staff_login("agent")
    page = client.get(f"/console/tickets/{number}")
    assert page.status_code == 200 and "Audit trail" in page.text and "Confirmed → In progress" in page.text


@pytest.mark.parametrize("settings", [{"ACME_VIP_BROKEN": ["opening_ticket", "guard_ticket_change",
                                                          "ticket_transitioned", "ticket_panels"]}])
def test_a_broken_plugin_costs_no_ticket_and_no_page(app, client, agent, supervisor, act, staff_login,
                                                     file_ticket):
    vip = _customer(client, agent)
    _make_vip(client, supervisor, vip)
    ticket = _open(client, agent, vip)  # the opener raised: the ticket is saved as filed
    number = ticket["number"]
    assert ticket["status"] == "new" and ticket["priority"] == "normal"
    act(agent, number, "confirm", department="after_sales")  # the guard and the audit raised
    act(agent, number, "start")
    assert act(agent, number, "resolve", resolution="Fixed.")["status"] == "resolved"  # a raising guard objects to nothing

    errors = [(e["actor"]["name"], e["details"]["hook"]) for e in _history(client, agent, number)
              if e["action"] == "plugin_error"]
    assert ("acme_vip", "opening_ticket") in errors
    assert ("acme_vip", "guard_ticket_change") in errors and ("acme_vip", "ticket_transitioned") in errors
    shown = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent)
    assert shown.status_code == 200
    assert [p["failed"] for p in shown.json["panels"] if p["plugin"] == "acme_vip"] == [True]

    staff_login("admin")
    assert "Plugin acme_vip could not show this." in client.get(f"/console/tickets/{number}").text
    admin_page = client.get("/console/admin/plugins").text
    counted = dict(re.findall(r"<tr><td>acme_vip</td><td><code>(\w+)</code></td><td>(\d+)</td>", admin_page))
    assert set(counted) >= {"opening_ticket", "guard_ticket_change", "ticket_transitioned", "ticket_panels"}
