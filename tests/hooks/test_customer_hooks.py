"""The customer pages' hooks: ``customer_sections`` (profile sections, a
failed one a placeholder), ``customer_list_columns`` (list columns, filters
and sorts, per viewer) and ``merging_customers`` (a step: a plugin's rows
move with the merge, and one that raises undoes all of it)."""
from __future__ import annotations

from sqlalchemy import func, select
from webpages import csrf_of

from service import hookimpl
from service.extensions import db
from service.models import Customer, Ticket
from service.models.plugin import PluginFailure


def _customer(name, email):
    row = Customer(name=name, email=email)
    db.session.add(row)
    db.session.commit()
    return row


def test_hook_customer_sections(kefu_plugins, client, staff_login):
    class Orders:
        def __init__(self):
            self.calls = []

        @hookimpl
        def customer_sections(self, customer, staff):
            self.calls.append((customer.id, staff.role))
            sections = [{"key": "orders", "title": "Orders",
                         "rows": [{"label": "Orders this year", "value": 3},
                                  {"label": "Shop", "value": "<script>x</script>", "kind": "text"}]}]
            if staff.has_role("supervisor"):
                sections.append({"key": "margin", "title": "Margin", "data": {"margin": "12%"}})
            return sections

    class Broken:
        @hookimpl
        def customer_sections(self, customer):
            raise RuntimeError("orders service down")

    class Malformed:
        @hookimpl
        def customer_sections(self):
            return {"title": "no key"}

    orders = kefu_plugins.register(Orders(), name="orders")
    kefu_plugins.register(Broken(), name="broken")
    kefu_plugins.register(Malformed(), name="malformed")
    person = _customer("Li Lei", "li@example.test")
    staff_login("agent")
    page = client.get(f"/console/customers/{person.id}")
    assert page.status_code == 200
    assert orders.calls == [(person.id, "agent")]
    section = page.text.split('data-panel="orders"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Orders</h2>" in section and "<dt>Orders this year</dt><dd>3</dd>" in section
    assert "&lt;script&gt;x&lt;/script&gt;" in section  # plugin text is escaped
    assert 'data-panel="margin"' not in page.text  # the plugin answers by role
    assert "Plugin broken could not show this." in page.text
    assert "Plugin malformed could not show this." in page.text
    assert db.session.scalar(select(func.count()).select_from(PluginFailure)
                             .where(PluginFailure.hook == "customer_sections")) >= 1


def test_hook_customer_list_columns(kefu_plugins, client, staff_login):
    region = {}

    class Regions:
        @hookimpl
        def customer_list_columns(self, staff):
            expression = func.substr(Customer.email, 1, 1)  # stands in for the plugin's own table
            columns = [{"key": "acme.region", "label": "Region", "expression": expression,
                        "choices": [{"value": "a", "label": "Region A"}, {"value": "b", "label": "Region B"}]}]
            if staff.has_role("supervisor"):
                columns.append({"key": "acme.size", "label": "Size", "expression": func.length(Customer.name),
                                "sortable": True, "kind": "number"})
            region["asked"] = staff.role
            return columns

    class Broken:
        @hookimpl
        def customer_list_columns(self):
            raise RuntimeError("down")

    kefu_plugins.register(Regions(), name="acme")
    kefu_plugins.register(Broken(), name="broken")
    _customer("Ann", "a1@example.test")
    _customer("Bartholomew", "b1@example.test")
    _customer("Al", "a2@example.test")
    staff_login("agent")
    page = client.get("/console/customers")
    assert page.status_code == 200 and region["asked"] == "agent"
    assert '<label for="f-acme.region">Region</label>' in page.text and ">Region A<" in page.text
    main = page.text[page.text.index("<main"):page.text.index("</main>")]
    assert "Size" not in main  # the broken plugin's column is left out
    filtered = client.get("/console/customers", query_string={"acme.region": "a"}).text
    assert "Ann" in filtered and "Al<" in filtered and "Bartholomew" not in filtered
    # Sorting on a column given only to supervisors is the default order for an agent.
    assert client.get("/console/customers", query_string={"sort": "acme.size"}).text.index("Al<") < \
        client.get("/console/customers", query_string={"sort": "acme.size"}).text.index("Ann<")
    client.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    staff_login("supervisor")
    by_size = client.get("/console/customers", query_string={"sort": "acme.size"}).text
    assert by_size.index("Bartholomew") < by_size.index("Ann<") < by_size.index("Al<")
    assert ">11.00<" in by_size


def test_hook_merging_customers(kefu_plugins, app, make_staff, file_ticket, client):
    from service.domain.actors import Actor
    from service.domain.errors import Conflict
    from service.usecases.merging import merge_customers, preview_merge

    class Orders:
        def __init__(self):
            self.seen = []

        @hookimpl
        def merging_customers(self, kept, merged, actor):
            self.seen.append((kept.id, merged.id, actor.role))
            return {"key": "orders", "label": "Orders", "count": 2}

    orders = kefu_plugins.register(Orders(), name="orders")
    boss, _ = make_staff("supervisor")
    kept = _customer("Li Lei", "li@example.test")
    dup = _customer("Li L.", "lilei@example.test")
    file_ticket(email="lilei@example.test", name="Li L.")
    assert [m for m in preview_merge(kept.id, dup.id, Actor.staff(boss)) if m["key"] == "orders"] == [
        {"key": "orders", "label": "Orders", "count": 2, "plugin": "orders"}]
    db.session.expire_all()
    assert db.session.get(Customer, dup.id).merged_into_id is None  # the preview wrote nothing

    class Broken:
        @hookimpl
        def merging_customers(self, kept, merged):
            db.session.execute(Customer.__table__.update().where(Customer.id == kept.id).values(name="half"))
            raise RuntimeError("orders service down")

    kefu_plugins.register(Broken(), name="broken")
    try:
        merge_customers(kept.id, dup.id, Actor.staff(boss))
    except Conflict as exc:
        assert exc.code == "plugin_failed" and exc.extra["plugin"] == "broken"
    else:
        raise AssertionError("a failing step must stop the merge")
    db.session.expire_all()
    # Nothing half done: the ticket, the name and the duplicate are as they were.
    assert db.session.get(Customer, kept.id).name == "Li Lei"
    assert db.session.get(Customer, dup.id).merged_into_id is None
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.customer_id == dup.id)) == 1
    kefu_plugins.unregister("broken")
    _kept, moved = merge_customers(kept.id, dup.id, Actor.staff(boss))
    assert {"key": "orders", "label": "Orders", "count": 2, "plugin": "orders"} in moved
    assert orders.seen[-1] == (kept.id, dup.id, "supervisor")
