"""The health API: a customer's health for staff (signals with value,
threshold, points and explanation in the request's language; history), the
recompute for admins, 401/403/404 as the other endpoints; the CLI; the
settings and signals file checked at start, naming the bad field; the
customer.health_changed event."""
from __future__ import annotations

import json

import pytest
import time_machine
from flask.cli import ScriptInfo

from healthparts import NOW, customer, recompute, sales, ticket
from plugins.relationship_health.settings import SHIPPED_SIGNALS
from service.cli import main
from service.hooks.manager import PluginStartupError


@pytest.fixture
def at_now():
    """The clock at healthparts.NOW (the rows are dated from it), standing still."""
    with time_machine.travel(NOW, tick=False):
        yield


def test_staff_read_a_customers_health_with_signals_and_history(client, agent, admin, at_now):
    person = customer()
    sales(person, [100 + 30 * i for i in range(6)])  # quiet for 100 days, a monthly buyer: 3.33
    before = client.get(f"/api/v1/customers/{person}/health", headers=agent)
    assert before.status_code == 200
    assert (before.json["score"], before.json["level"], before.json["history"]) == (None, None, [])
    assert client.post("/api/v1/health/recompute", headers=agent).status_code == 403
    done = client.post("/api/v1/health/recompute", headers=admin)
    assert done.status_code == 200 and done.json["customers"] >= 1 and done.json["changed"] == 1

    body = client.get(f"/api/v1/customers/{person}/health", headers=agent).json
    assert (body["score"], body["level"], body["level_label"]) == (50, "at_risk", "At risk")
    recency = next(s for s in body["signals"] if s["name"] == "recency")
    assert {k: recency[k] for k in ("value", "comparison", "threshold", "points", "max_points", "window_days")} == {
        "value": 3.33, "comparison": ">=", "threshold": 2.5, "points": 30, "max_points": 30, "window_days": None}
    assert recency["label"] == "Silence since the last purchase" and "3.33" in recency["explanation"]
    returns = next(s for s in body["signals"] if s["name"] == "returns")
    assert (returns["points"], returns["window_days"]) == (0, 90) and "%" in returns["explanation"]
    assert "%%" not in returns["explanation"]
    assert [s["name"] for s in body["signals"]] == ["recency", "revenue_trend", "returns", "complaints",
                                                    "satisfaction", "contact_changes", "sla_overdue"]
    [change] = body["history"]
    assert (change["from_level"], change["to_level"], change["score"]) == (None, "at_risk", 50)
    assert {s["name"]: s["points"] for s in change["signals"]} == {"recency": 30, "revenue_trend": 20}

    zh = client.get(f"/api/v1/customers/{person}/health", headers={**agent, "Accept-Language": "zh-CN"}).json
    zh_recency = next(s for s in zh["signals"] if s["name"] == "recency")
    assert zh["level_label"] != "At risk" and zh_recency["label"] != recency["label"]
    assert zh_recency["explanation"] != recency["explanation"] and "3.33" in zh_recency["explanation"]


def test_unknown_customer_is_404_and_no_token_is_401(client, agent):
    assert client.get("/api/v1/customers/999999/health", headers=agent).status_code == 404
    assert client.get("/api/v1/customers/1/health").status_code == 401
    assert client.post("/api/v1/health/recompute").status_code == 401
    assert client.get("/api/v1/customers/99999999999/health", headers=agent).status_code == 404


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/customers/{customer_id}/health"]
    assert "post" in paths["/api/v1/health/recompute"]


def test_each_change_of_level_is_published_for_webhooks(kefu_plugins, app):
    from service import hookimpl

    class Listener:
        seen = []

        @hookimpl
        def event_published(self, event, ticket, data, occurred_at):
            if event == "customer.health_changed":
                self.seen.append((ticket, data))

    kefu_plugins.register(Listener(), name="listener")
    person = customer()
    ticket(person, 1)
    ticket(person, 2)
    ticket(person, 3, kind="service_request", resolution_due_days=-1)
    recompute()
    recompute()  # nothing changed: nothing published
    assert Listener.seen == [(None, {"customer_id": person, "from": None, "to": "watch", "score": 35,
                                     "signals": {"complaints": 20, "sla_overdue": 15}})]


def test_webhooks_deliver_an_event_about_no_ticket(app):
    from plugins.webhooks.events import ticket_summary

    assert ticket_summary(None) is None


def test_cli_recompute_with_a_progress_bar_and_show(app, at_now):
    person = customer()
    ticket(person, 1)
    ticket(person, 2)
    runner = app.test_cli_runner()

    def cli(*args):
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    result = cli("health", "recompute")
    assert result.exit_code == 0, result.output
    assert "changed level" in result.output and "recomputing" in result.stderr
    from service.extensions import db
    from service.models import Customer

    ref = db.session.get(Customer, person).external_ref
    shown = cli("health", "show", ref)
    assert shown.exit_code == 0 and "healthy, score 20" in shown.output and "complaints: 2" in shown.output
    assert cli("health", "show", "nobody").exit_code == 1


def _start_failure(build_app, config):
    with pytest.raises(PluginStartupError) as caught, build_app(config):
        pass
    return str(caught.value)


def _signals_file(tmp_path, change):
    data = json.loads(SHIPPED_SIGNALS.read_text(encoding="utf-8"))
    change(data["signals"])
    path = tmp_path / "signals.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("change, words", [
    (lambda s: s[0].update(points=101), "signals[0] (recency).points: must be a whole number from 0 to 100"),
    (lambda s: s[1].update(comparison="<"), "signals[1] (revenue_trend).comparison: must be >= or >"),
    (lambda s: s[2].update(measure="refunds"), "signals[2] (returns).measure: must be one of"),
    (lambda s: s[3].update(threshold="two"), "signals[3] (complaints).threshold: must be a number"),
    (lambda s: s[0].update(window_days=30), "signals[0] (recency).window_days: the recency measure takes no window"),
    (lambda s: s[4].update(label="nope"), "signals[4] (satisfaction).label: must be one of"),
    (lambda s: s[5].update(extra=1), "signals[5] (contact_changes).extra: unknown field"),
    (lambda s: s.append(dict(s[0])), "signals[7].name: 'recency' is named twice"),
])
def test_a_bad_signals_file_stops_kefu_naming_the_field(build_app, app_config, tmp_path, change, words):
    message = _start_failure(build_app, {**app_config, "HEALTH_SIGNALS": _signals_file(tmp_path, change)})
    assert "plugin relationship_health failed in register_settings" in message and "HEALTH_SIGNALS" in message
    assert words in message


@pytest.mark.parametrize("key, value, words", [
    ("HEALTH_LEVELS", {"watch": 60, "at_risk": 50}, "need 0 < watch < at_risk"),
    ("HEALTH_LEVELS", {"watch": 10}, "must be {"),
    ("HEALTH_WINDOW_DAYS", 3, "must be whole days from 7 to 3650"),
    ("HEALTH_CHUNK", 10, "must be from 100 to 1000000"),
    ("HEALTH_RECOMPUTE_INTERVAL", 5, "must be seconds from 300"),
    ("HEALTH_SIGNALS", "/no/such/file.json", "cannot be read"),
])
def test_bad_settings_stop_kefu_naming_the_key(build_app, app_config, key, value, words):
    message = _start_failure(build_app, {**app_config, key: value})
    assert key in message and words in message


def test_the_periodic_job_is_declared_with_the_setting(build_app, app_config):
    from service.jobs.registry import registry

    with build_app({**app_config, "HEALTH_RECOMPUTE_INTERVAL": 3600}) as app:
        spec = registry(app)["relationship_health.recompute"]
        assert spec.interval == 3600 and spec.func.endswith("recompute:recompute_job")
