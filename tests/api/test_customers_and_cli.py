"""Customers through the API (CRUD, search, pages, their tickets) and the
command line: ``kefu customers import FILE`` and ``kefu staff create``."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.cli import ScriptInfo

from service.cli import main
from service.extensions import db


@pytest.fixture
def cli(app):
    """``cli(*args)`` runs a ``kefu`` command against the test app; returns click's Result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], obj=ScriptInfo(create_app=lambda: app))


def customers_in_db() -> dict[str, dict]:
    db.session.rollback()
    return {r.external_ref: dict(r._mapping)
            for r in db.session.execute(sa.text("SELECT * FROM customers WHERE external_ref IS NOT NULL"))}


def create(client, headers, **body):
    response = client.post("/api/v1/customers", headers=headers, json=body)
    assert response.status_code == 201, response.json
    return response.json


# --- the API --------------------------------------------------------------------------------

def test_customer_crud(client, agent, supervisor):
    acme = create(client, agent, name="Acme Ltd", kind="company", email="buyer@acme.test",
                  phone="+86 21 5555 0000", language="zh_CN", external_ref="ACME-1")
    assert {k: acme[k] for k in ("name", "kind", "email", "phone", "language", "external_ref")} == {
        "name": "Acme Ltd", "kind": "company", "email": "buyer@acme.test", "phone": "+86 21 5555 0000",
        "language": "zh_CN", "external_ref": "ACME-1"}
    assert isinstance(acme["id"], int) and acme["created_at"] and "tier" in acme
    minimal = create(client, agent, name="Walk-in")
    assert (minimal["kind"], minimal["language"], minimal["email"]) == ("person", "en", None)

    duplicate = client.post("/api/v1/customers", headers=agent, json={"name": "Other", "external_ref": "ACME-1"})
    assert duplicate.status_code == 409 and "external_ref" in duplicate.json["error"]["fields"]
    for body, field in (({"name": ""}, "name"), ({"name": "X", "kind": "alien"}, "kind"),
                        ({"name": "X", "email": "nope"}, "email"), ({"name": "X", "phone": "call me"}, "phone"),
                        ({"name": "X", "language": "fr"}, "language"), ({"name": "X", "vip": True}, "vip"),
                        ({"kind": "person"}, "name")):
        response = client.post("/api/v1/customers", headers=agent, json=body)
        assert response.status_code == 422 and field in response.json["error"]["fields"], (body, response.json)

    got = client.get(f"/api/v1/customers/{acme['id']}", headers=agent)
    assert got.status_code == 200 and got.json == acme

    patched = client.patch(f"/api/v1/customers/{acme['id']}", headers=agent,
                           json={"name": "Acme Holdings", "email": None})
    assert patched.status_code == 200
    assert (patched.json["name"], patched.json["email"], patched.json["external_ref"]) == (
        "Acme Holdings", None, "ACME-1")
    # Its own reference again is fine; another customer's is a clash.
    assert client.patch(f"/api/v1/customers/{acme['id']}", headers=agent,
                        json={"external_ref": "ACME-1"}).status_code == 200
    clash = client.patch(f"/api/v1/customers/{minimal['id']}", headers=agent, json={"external_ref": "ACME-1"})
    assert clash.status_code == 409 and "external_ref" in clash.json["error"]["fields"]
    assert client.patch(f"/api/v1/customers/{acme['id']}", headers=agent, json={"name": None}).status_code == 422
    assert client.get(f"/api/v1/customers/{minimal['id']}", headers=agent).json["external_ref"] is None
    assert client.patch("/api/v1/customers/999", headers=agent, json={"name": "Ghost"}).status_code == 404

    # Deleting needs a supervisor; a customer without tickets goes (204), then is gone.
    assert client.delete(f"/api/v1/customers/{minimal['id']}", headers=agent).status_code == 403
    deleted = client.delete(f"/api/v1/customers/{minimal['id']}", headers=supervisor)
    assert deleted.status_code == 204 and deleted.data == b""
    assert client.get(f"/api/v1/customers/{minimal['id']}", headers=agent).status_code == 404
    assert client.delete(f"/api/v1/customers/{minimal['id']}", headers=supervisor).status_code == 404


def test_a_customer_with_tickets_cannot_be_deleted(client, agent, supervisor):
    customer = create(client, agent, name="Has Tickets", email="has@example.test")
    opened = client.post("/api/v1/tickets", headers=agent,
                         json={"customer_id": customer["id"], "subject": "Leaking tap", "description": "Drips."})
    assert opened.status_code == 201, opened.json
    refused = client.delete(f"/api/v1/customers/{customer['id']}", headers=supervisor)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "conflict"
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=agent).status_code == 200


def test_customer_list_search_and_pages(client, agent):
    made = [create(client, agent, name=f"Customer {i:02d}", email=f"c{i}@example.test", external_ref=f"REF-{i:02d}")
            for i in range(7)]
    create(client, agent, name="100% Organic Farm", external_ref="FARM_01")
    create(client, agent, name="Zhang San", phone="+86 139 1234 5678")

    def search(q, limit=25):
        response = client.get("/api/v1/customers", headers=agent, query_string={"q": q, "limit": limit})
        assert response.status_code == 200, response.json
        return [c["name"] for c in response.json["items"]]

    assert search("customer 03") == ["Customer 03"]
    assert search("C5@EXAMPLE") == ["Customer 05"]                        # e-mail, any case
    assert search("ref-06") == ["Customer 06"]                            # reference, any case
    assert search("1234") == ["Zhang San"]                                # phone
    assert search("%") == ["100% Organic Farm"]                           # "%" is literal
    assert search("m_0") == ["100% Organic Farm"]                         # "_" is literal: FARM_01 only
    assert search("nobody") == []

    names, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", headers=agent, query_string=query).json
        names += [c["name"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert names == ["Zhang San", "100% Organic Farm"] + [c["name"] for c in reversed(made)]
    bad = client.get("/api/v1/customers", headers=agent, query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json["error"]["fields"]


def test_a_customers_tickets(client, agent, file_ticket, act):
    mine = [file_ticket(email="li@example.test", subject=f"Mine {i}")["number"] for i in range(3)]
    theirs = file_ticket(email="other@example.test")["number"]
    act(agent, mine[1], "confirm", department="sales")
    customer_id = client.get(f"/api/v1/tickets/{mine[0]}", headers=agent).json["customer"]["id"]

    response = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=agent)
    assert response.status_code == 200
    assert [t["number"] for t in response.json["items"]] == list(reversed(mine))
    assert theirs not in [t["number"] for t in response.json["items"]]
    # The same representation as the ticket list, allowed actions included.
    assert response.json == client.get("/api/v1/tickets", headers=agent,
                                       query_string={"customer": customer_id}).json
    assert response.json["items"][1]["allowed_actions"] == ["start"]

    confirmed = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=agent,
                           query_string={"status": "confirmed"}).json
    assert [t["number"] for t in confirmed["items"]] == [mine[1]]
    first = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=agent, query_string={"limit": 2}).json
    rest = client.get(f"/api/v1/customers/{customer_id}/tickets", headers=agent,
                      query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    assert [t["number"] for t in first["items"] + rest["items"]] == list(reversed(mine))
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/customers/999/tickets", headers=agent).status_code == 404


# --- kefu customers import ---------------------------------------------------------------------

HEADER = "external_ref,name,kind,email,phone,language\n"


def test_import_keeps_good_rows_and_reports_each_bad_row_by_line(cli, client, agent, tmp_path):
    existing = create(client, agent, name="Old Name", external_ref="C-100", email="old@example.test")
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        HEADER
        + "C-001,Li Wei,person,li.wei@example.test,+86 138 0000 0001,zh_CN\n"   # 2 good
        + "C-002,,person,,,\n"                                                  # 3 no name
        + "C-003,Acme Ltd,company,buyer@acme.test,,en\n"                        # 4 good
        + "C-004,Bad Kind,alien,,,\n"                                           # 5 bad kind
        + ",No Ref,person,,,\n"                                                 # 6 no reference
        + "C-005,Bad Mail,person,not-an-address,,\n"                            # 7 bad e-mail
        + "C-001,Li Wei again,person,,,\n"                                      # 8 repeats line 2
        + "C-100,New Name,person,new@example.test,,\n"                          # 9 updates existing
        + "C-006,Klingon,person,,,tlh\n"                                        # 10 language
        + f"C-007,{'x' * 201},person,,,\n"                                      # 11 too long
        + "C-008,Too Many,person,,,en,surplus\n"                                # 12 extra field
        + "C-009,Bad Phone,person,,call me,\n"                                  # 13 phone
        + '"C-010","Quoted, Name",company,,,\n',                                # 14 good
        encoding="utf-8")

    result = cli("customers", "import", csv_file)
    assert result.exit_code == 1, result.output  # some rows were rejected
    assert "Traceback" not in result.output
    reported = {int(line.split(":")[0].split()[1]): line for line in result.output.splitlines()
                if line.startswith("line ")}
    assert sorted(reported) == [3, 5, 6, 7, 8, 10, 11, 12, 13]
    for line, words in {3: "name", 5: "alien", 6: "external_ref", 7: "not-an-address", 8: "repeats",
                        10: "tlh", 11: "longer", 12: "has 7 fields", 13: "call me"}.items():
        assert words in reported[line], (line, reported[line])
    assert result.output.splitlines()[-1] == "3 created, 1 updated, 9 rejected"

    stored = customers_in_db()
    assert sorted(stored) == ["C-001", "C-003", "C-010", "C-100"]
    assert stored["C-001"]["name"] == "Li Wei" and stored["C-001"]["language"] == "zh_CN"
    assert stored["C-001"]["email"] == "li.wei@example.test"
    assert stored["C-003"]["kind"] == "company" and stored["C-010"]["name"] == "Quoted, Name"
    assert stored["C-100"]["id"] == existing["id"]
    assert (stored["C-100"]["name"], stored["C-100"]["email"]) == ("New Name", "new@example.test")
    # Every data row is accounted for: imported, updated or reported.
    assert 3 + 1 + len(reported) == 13


def test_import_of_only_good_rows_exits_zero(cli, tmp_path):
    csv_file = tmp_path / "good.csv"
    csv_file.write_bytes(("\ufeff" + HEADER + "G-1,Good One,person,one@example.test,,\n"
                          "G-2,Good Two,company,,+86 10 1234 5678,en\n").encode("utf-8"))  # with a BOM, as Excel saves
    result = cli("customers", "import", csv_file)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 created, 0 updated, 0 rejected"
    assert sorted(customers_in_db()) == ["G-1", "G-2"]
    again = cli("customers", "import", csv_file)
    assert again.exit_code == 0 and again.output.splitlines()[-1] == "0 created, 2 updated, 0 rejected"


def test_import_refuses_a_file_it_cannot_read(cli, tmp_path):
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("ref,name\nX-1,Someone\n", encoding="utf-8")
    result = cli("customers", "import", wrong_header)
    assert result.exit_code == 1 and "line 1: header lacks column(s)" in result.output
    assert "external_ref" in result.output

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "L-1,José,person,,,\n").encode("latin-1"))
    result = cli("customers", "import", latin1)
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

    missing = cli("customers", "import", tmp_path / "missing.csv")
    assert missing.exit_code == 2 and "no such file" in missing.output.lower()
    assert customers_in_db() == {}


# --- kefu staff create -----------------------------------------------------------------------

def test_staff_create_prints_a_working_token_last(cli, client, departments):
    result = cli("staff", "create", "--email", "Zhou@Kefu.test", "--name", "Zhou Min", "--role", "supervisor",
                 "--department", "quality")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    token = lines[-1]
    assert token.startswith("kefu_") and " " not in token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert (me.json["email"], me.json["role"], me.json["department"]) == ("zhou@kefu.test", "supervisor", "quality")
    # The role is real: a supervisor may list staff, not plugins.
    assert client.get("/api/v1/staff", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/plugins", headers={"Authorization": f"Bearer {token}"}).status_code == 403


@pytest.mark.parametrize("args, message", [
    (["--department", "nowhere"], "unknown department 'nowhere'"),
    (["--role", "boss"], "Invalid value for '--role'"),
    (["--email", "not-an-email"], "not an e-mail address"),
], ids=["unknown-department", "unknown-role", "bad-email"])
def test_staff_create_errors_are_clear_and_create_nothing(cli, departments, args, message):
    base = {"--email": "wu@kefu.test", "--name": "Wu", "--role": "agent"}
    base.update(dict(zip(args[::2], args[1::2])))
    result = cli("staff", "create", *[x for pair in base.items() for x in pair])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    db.session.rollback()
    assert db.session.execute(sa.text("SELECT count(*) FROM staff")).scalar() == 0
    assert db.session.execute(sa.text("SELECT count(*) FROM api_tokens")).scalar() == 0


def test_staff_create_twice_is_a_clear_conflict(cli, departments):
    first = cli("staff", "create", "--email", "he@kefu.test", "--name", "He", "--role", "agent")
    assert first.exit_code == 0, first.output
    second = cli("staff", "create", "--email", "HE@kefu.test", "--name", "He Again", "--role", "admin")
    assert second.exit_code == 1 and "already has an account" in second.output
    assert "Traceback" not in second.output
