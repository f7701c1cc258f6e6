"""``register_ticket_codes``: a plugin adds a ticket kind and a channel of
its own; the staff API, the console filter and ``sdk.open_ticket`` take
them, the customers' forms do not, and labels come from ``code_label``."""
from __future__ import annotations

import pytest

from service import create_app, hookimpl, sdk
from service.hooks.manager import PluginStartupError


class Callback:
    """A plugin whose team calls customers back: kind ``callback``, channel ``dialer``."""

    @hookimpl
    def register_ticket_codes(self):
        return {"kinds": ["callback"], "channels": ["dialer"]}

    @hookimpl
    def code_label(self, group, code):
        from flask_babel import gettext as _

        return {("kind", "callback"): _("Callback"), ("channel", "dialer"): "Dialer"}.get((group, code))


def test_hook_register_ticket_codes(app, kefu_plugins, client, agent, departments):
    body = {"contact": {"name": "Li Lei", "email": "li@example.test"}, "kind": "callback", "channel": "dialer",
            "subject": "Call back", "description": "Asked for a call."}
    # Before the plugin: the core's lists only, 422 naming the field.
    refused = client.post("/api/v1/tickets", headers=agent, json=body)
    assert refused.status_code == 422 and "kind" in refused.json["error"]["fields"]
    assert "callback" not in sdk.ticket_kinds()

    kefu_plugins.register(Callback(), name="callback")
    # The core's first, then the plugins' (the builtin relationship_health adds care/outbound).
    assert sdk.ticket_kinds()[:len(sdk.KINDS)] == sdk.KINDS and "callback" in sdk.ticket_kinds()
    assert sdk.ticket_channels()[:len(sdk.CHANNELS)] == sdk.CHANNELS and "dialer" in sdk.ticket_channels()
    made = client.post("/api/v1/tickets", headers=agent, json=body)
    assert made.status_code == 201, made.json
    assert made.json["kind"] == "callback" and made.json["channel"] == "dialer"
    listed = client.get("/api/v1/tickets", headers=agent, query_string={"kind": "callback"})
    assert listed.status_code == 200 and [t["number"] for t in listed.json["items"]] == [made.json["number"]]
    # The customers' own form keeps the core's kinds.
    public = client.post("/api/v1/public/tickets", json={"name": "Li", "email": "li@example.test",
                                                           "kind": "callback", "subject": "x", "description": "y"})
    assert public.status_code == 422 and "kind" in public.json["error"]["fields"]
    # sdk.open_ticket: in force, or 422 naming the field.
    ticket, _ = sdk.open_ticket({"customer_id": made.json["customer"]["id"], "kind": "callback",
                                 "subject": "Again", "description": "Second call."}, sdk.plugin_actor("callback"),
                                channel="dialer")
    assert (ticket.kind, ticket.channel) == ("callback", "dialer")
    with pytest.raises(sdk.ValidationFailed) as bad:
        sdk.open_ticket({"customer_id": ticket.customer_id, "kind": "visit", "subject": "x", "description": "y"},
                        sdk.plugin_actor("callback"), channel="dialer")
    assert "kind" in bad.value.fields
    with pytest.raises(sdk.ValidationFailed) as bad:
        sdk.open_ticket({"customer_id": ticket.customer_id, "subject": "x", "description": "y"},
                        sdk.plugin_actor("callback"), channel="telex")
    assert "channel" in bad.value.fields
    # Labels through code_label, as for any code of a plugin.
    from service.web.i18n import label

    with app.test_request_context():
        assert label("kind", "callback") == "Callback" and label("channel", "dialer") == "Dialer"

    # Unregistered: gone again.
    kefu_plugins.restore()
    assert "callback" not in sdk.ticket_kinds() and "dialer" not in sdk.ticket_channels()


@pytest.mark.parametrize("answer, named", [
    ({"kinds": ["complaint"]}, "one of the core's"),
    ({"kinds": ["Care Call"]}, "snake_case"),
    ({"channels": ["outbound_call"]}, "at most 10"),
    ({"kinds": "care"}, "must be a list"),
    ({"colours": ["red"]}, "register_ticket_codes must answer"),
])
def test_a_bad_ticket_code_stops_kefu_naming_the_plugin(app_config, answer, named):
    class Bad:
        @hookimpl
        def register_ticket_codes(self):
            return answer

    with pytest.raises(PluginStartupError) as failed:
        create_app(app_config, plugins=[("acme", Bad())])
    assert "plugin acme failed in register_ticket_codes" in str(failed.value) and named in str(failed.value)


def test_two_plugins_may_not_declare_the_same_code(app_config):
    class One:
        @hookimpl
        def register_ticket_codes(self):
            return {"kinds": ["care"]}

    with pytest.raises(PluginStartupError, match="declared by plugin"):
        create_app(app_config, plugins=[("one", One()), ("two", One())])
