"""The webhooks admin API: who may use it, what it accepts, what it answers."""
from __future__ import annotations

import pytest

BASE = "/api/v1/admin/webhooks"


def test_only_admins_manage_webhooks(client, agent, supervisor, admin, register):
    endpoint = register("https://crm.example.test/kefu")
    for headers in (agent, supervisor):
        assert client.get(BASE, headers=headers).status_code == 403
        created = client.post(BASE, headers=headers, json={"url": "https://x.example.test", "events": ["a.b"]})
        assert created.status_code == 403 and created.json["error"]["code"] == "forbidden"
        assert client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=headers).status_code == 403
        assert client.post(f"{BASE}/{endpoint['id']}/rotate-secret", headers=headers).status_code == 403
        assert client.delete(f"{BASE}/{endpoint['id']}", headers=headers).status_code == 403
    assert client.get(BASE).status_code == 401
    assert client.get(BASE, headers=admin).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://files.example.test/x", "events": ["ticket.created"]}, "url"),
    ({"url": "not a url", "events": ["ticket.created"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["ticket.created"]}, "url"),
    ({"events": ["ticket.created"]}, "url"),
    ({"url": "https://crm.example.test/" + "x" * 2000, "events": ["ticket.created"]}, "url"),
    ({"url": "https://crm.example.test/kefu"}, "events"),
    ({"url": "https://crm.example.test/kefu", "events": []}, "events"),
    ({"url": "https://crm.example.test/kefu", "events": "ticket.created"}, "events"),
    ({"url": "https://crm.example.test/kefu", "events": ["ticket.created", "Ticket.Created"]}, "events.1"),
    ({"url": "https://crm.example.test/kefu", "events": ["ticket"]}, "events.0"),
    ({"url": "https://crm.example.test/kefu", "events": ["ticket.created\n"]}, "events.0"),
    ({"url": "https://crm.example.test/kefu", "events": ["ticket.created"], "secret": "mine"}, "secret"),
    ({"url": "https://crm.example.test/kefu", "events": ["ticket.created"], "description": "x" * 201},
     "description"),
])
def test_bad_input_is_a_422_naming_the_field(client, admin, body, field):
    response = client.post(BASE, headers=admin, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json


def test_create_list_read_edit_rotate_delete(client, admin):
    created = client.post(BASE, headers=admin, json={
        "url": "http://127.0.0.1:9/kefu", "events": ["ticket.created", "sla.breached", "ticket.created"],
        "description": "warehouse"})
    assert created.status_code == 201, created.json
    endpoint = created.json
    assert endpoint["events"] == ["ticket.created", "sla.breached"] and endpoint["active"] is True
    secret = endpoint["secret"]

    # The secret is shown once: never in lists or reads.
    listed = client.get(BASE, headers=admin).json
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    one = client.get(f"{BASE}/{endpoint['id']}", headers=admin)
    assert one.status_code == 200 and "secret" not in one.json and one.json["description"] == "warehouse"

    patched = client.patch(f"{BASE}/{endpoint['id']}", headers=admin,
                           json={"events": ["message.added"], "active": False, "description": None})
    assert patched.status_code == 200, patched.json
    assert (patched.json["events"], patched.json["active"], patched.json["description"]) == (
        ["message.added"], False, None)
    empty = client.patch(f"{BASE}/{endpoint['id']}", headers=admin, json={})
    assert empty.status_code == 422 and "_schema" in empty.json["error"]["fields"]
    bad = client.patch(f"{BASE}/{endpoint['id']}", headers=admin, json={"url": "mailto:x@example.test"})
    assert bad.status_code == 422 and "url" in bad.json["error"]["fields"]

    rotated = client.post(f"{BASE}/{endpoint['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200 and rotated.json["secret"] not in (secret, None)

    assert client.delete(f"{BASE}/{endpoint['id']}", headers=admin).status_code == 204
    for response in (client.get(f"{BASE}/{endpoint['id']}", headers=admin),
                     client.patch(f"{BASE}/{endpoint['id']}", headers=admin, json={"active": True}),
                     client.delete(f"{BASE}/{endpoint['id']}", headers=admin),
                     client.post(f"{BASE}/{endpoint['id']}/rotate-secret", headers=admin),
                     client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=admin),
                     client.post(f"{BASE}/deliveries/12345/redeliver", headers=admin)):
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_the_delivery_log_is_paged_newest_first(client, admin, register, log, file_ticket):
    endpoint = register("http://127.0.0.1:9/kefu")
    numbers = [file_ticket()["number"] for _ in range(3)]
    first = client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=admin, query_string={"limit": 2}).json
    assert [d["payload"]["ticket"]["number"] for d in first["items"]] == numbers[:0:-1]
    assert all(d["status"] == "pending" and d["attempts"] == [] for d in first["items"])
    rest = client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=admin,
                      query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    assert [d["payload"]["ticket"]["number"] for d in rest["items"]] == numbers[:1]
    assert rest["next_cursor"] is None
    assert log(endpoint["id"], status="failed") == []

    for query, field in (({"cursor": "nonsense"}, "cursor"), ({"limit": 0}, "limit"),
                         ({"status": "lost"}, "status")):
        response = client.get(f"{BASE}/{endpoint['id']}/deliveries", headers=admin, query_string=query)
        assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_only_failed_deliveries_are_redelivered(client, admin, register, log, file_ticket):
    endpoint = register("http://127.0.0.1:9/kefu")
    file_ticket()
    [entry] = log(endpoint["id"])
    response = client.post(f"{BASE}/deliveries/{entry['id']}/redeliver", headers=admin)
    assert response.status_code == 409 and "status" in response.json["error"]["fields"]


def test_the_admin_api_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert {"/api/v1/admin/webhooks", "/api/v1/admin/webhooks/{endpoint_id}",
            "/api/v1/admin/webhooks/{endpoint_id}/rotate-secret",
            "/api/v1/admin/webhooks/{endpoint_id}/deliveries",
            "/api/v1/admin/webhooks/deliveries/{delivery_id}/redeliver"} <= set(paths)
    listed = paths["/api/v1/admin/webhooks"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["items"]["$ref"].endswith("/EndpointOut")
    assert "secret" not in spec["components"]["schemas"]["EndpointOut"]["properties"]
    assert "secret" in spec["components"]["schemas"]["EndpointWithSecret"]["properties"]
