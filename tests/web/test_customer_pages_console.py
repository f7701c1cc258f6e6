"""The console's customer pages: the list (search, plugin filters, sorts,
credit only for those allowed), the profile (sections per role, notes,
contact edit), and merging two records (use case, pages and API: nothing
lost, history written, 409/404/403)."""
from __future__ import annotations

import re

import customerparts as parts
import pytest
from sqlalchemy import select
from webpages import csrf_of

from service.domain.actors import Actor
from service.extensions import db
from service.models import Customer, TicketEvent
from service.usecases.merging import merge_customers


def _names(html: str) -> list[str]:
    """The customers' names in the list, in order."""
    body = html.split('id="customer-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-customer="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', body)


@pytest.fixture
def people(file_ticket):
    """Four customers with known tiers, values, classes, grades and tickets."""
    li = parts.customer("Li Lei", email="li@example.test", phone="+86 138 0000 0001", ref="C-1")
    han = parts.customer("Han Meimei", email="han@example.test", ref="C-2")
    wang = parts.customer("Wang Fang", email="wang@example.test", phone="+86 139 0000 0003", ref="C-3")
    zhou = parts.customer("Zhou Jie", phone="+86 137 0000 0004", ref="C-4")
    parts.tier(li, "vip", 900_000, 1)
    parts.tier(han, "major", 500_000, 2)
    parts.tier(wang, "small", 1_000, 4)
    parts.tier(zhou, "small", 20_000, 3, override="major")
    parts.rating(li, "AAA")
    parts.rating(wang, "B")
    # Han: two good answers -> loyal; Wang: open tickets, a bad last answer -> complaining.
    for subject in ("Noisy dryer", "Late installer"):
        parts.survey(han, parts.ticket_for(file_ticket, han, subject), 5)
    for subject in ("Broken door", "Missing part", "Wrong colour"):
        parts.ticket_for(file_ticket, wang, subject)
    parts.survey(wang, parts.ticket_for(file_ticket, wang, "Still broken"), 1, solved=False)
    parts.ticket_for(file_ticket, li, "Question about invoice", kind="inquiry")
    return {"li": li, "han": han, "wang": wang, "zhou": zhou}


def test_the_list_searches_filters_and_sorts_exactly(client, staff_login, people):
    staff_login("supervisor")
    page = client.get("/console/customers")
    assert page.status_code == 200
    assert _names(page.text) == ["Zhou Jie", "Wang Fang", "Han Meimei", "Li Lei"]  # newest first
    for query, expected in (("han@", ["Han Meimei"]), ("0000 0004", ["Zhou Jie"]), ("c-1", ["Li Lei"]),
                            ("FANG", ["Wang Fang"]), ("nobody", [])):
        assert _names(client.get("/console/customers", query_string={"q": query}).text) == expected, query
    by = {"tier_sla.tier": "major"}
    # The override counts: Zhou is computed small, pinned major.
    assert _names(client.get("/console/customers", query_string=by).text) == ["Zhou Jie", "Han Meimei"]
    assert _names(client.get("/console/customers", query_string={"satisfaction_survey.class": "loyal"}).text) == [
        "Han Meimei"]
    assert _names(client.get("/console/customers", query_string={"satisfaction_survey.class": "complaining"}).text) \
        == ["Wang Fang"]
    assert _names(client.get("/console/customers", query_string={"credit_check.grade": "AAA"}).text) == ["Li Lei"]
    assert _names(client.get("/console/customers", query_string={"sort": "tier_sla.value"}).text) == [
        "Li Lei", "Han Meimei", "Zhou Jie", "Wang Fang"]
    assert _names(client.get("/console/customers", query_string={"sort": "open"}).text)[:3] == [
        "Wang Fang", "Han Meimei", "Li Lei"]
    assert _names(client.get("/console/customers", query_string={"sort": "last_contact"}).text) == [
        "Li Lei", "Wang Fang", "Han Meimei", "Zhou Jie"]
    # Labels, not codes: the tier and class in the cells, the grade filter's choices.
    text = client.get("/console/customers", query_string={"q": "han"}).text
    assert ">Major<" in text and ">Loyal<" in text and ">5,000.00<" in text
    # An unknown filter value or sort is ignored, not an error.
    odd = client.get("/console/customers", query_string={"tier_sla.tier": "gold", "sort": "drop table"})
    assert odd.status_code == 200 and len(_names(odd.text)) == 4


def test_pages_of_the_list(client, staff_login, people):
    staff_login("agent")
    from service.reads import customers as reads

    for n in range(30):
        parts.customer(f"Extra {n:02d}", email=f"extra{n}@example.test")
    first = client.get("/console/customers").text
    assert len(_names(first)) == reads.PAGE_SIZE and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/console/customers?page=2").text
    assert len(_names(second)) == 34 - reads.PAGE_SIZE and 'rel="next"' not in second
    assert not set(_names(first)) & set(_names(second))


def test_credit_is_hidden_and_its_filter_ignored_for_agents(client, staff_login, people):
    staff_login("agent")
    page = client.get("/console/customers")
    assert "Credit grade" not in page.text and 'name="credit_check.grade"' not in page.text
    assert "AAA" not in page.text
    # The grade in the address changes nothing for an agent.
    assert len(_names(client.get("/console/customers", query_string={"credit_check.grade": "AAA"}).text)) == 4
    profile = client.get(f"/console/customers/{people['li'].id}").text
    assert 'data-panel="credit"' not in profile and "AAA" not in profile
    assert 'data-panel="tier"' in profile and 'data-panel="satisfaction"' in profile
    assert 'data-panel="transactions"' in profile


@pytest.mark.parametrize("role", ["supervisor", "finance", "admin"])
def test_credit_shows_for_the_roles_allowed(client, staff_login, people, role):
    staff_login(role)
    profile = client.get(f"/console/customers/{people['li'].id}").text
    section = profile.split('data-panel="credit"', 1)[1].split("</section>", 1)[0]
    assert "AAA" in section and "2026Q4" in section
    assert 'name="credit_check.grade"' in client.get("/console/customers").text


def test_the_profile_shows_contacts_tickets_trend_and_plugin_sections(client, staff_login, people, file_ticket):
    staff_login("agent")
    wang = people["wang"]
    parts.transaction(wang, "INV-1", 12_345)
    profile = client.get(f"/console/customers/{wang.id}")
    assert profile.status_code == 200
    text = profile.text
    assert "wang@example.test" in text and "+86 139 0000 0003" in text and ">English<" in text
    tickets = text.split('id="customer-tickets"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r">(\w[^<]*)</a></td><td>", tickets) == [
        n for n in re.findall(r'href="/console/tickets/([^"]+)"', tickets)]
    assert [s for s in re.findall(r"</a></td><td>([^<]+)</td>", tickets)] == [
        "Still broken", "Wrong colour", "Missing part", "Broken door"]  # newest first
    assert 'id="ticket-total">4<' in text
    assert "Complaints in the last" in text and "rising" in text
    tier = text.split('data-panel="tier"', 1)[1].split("</section>", 1)[0]
    assert "Small" in tier and "CN¥10.00" in tier and "<dt>Rank by value</dt><dd>4</dd>" in tier
    transactions = text.split('data-panel="transactions"', 1)[1].split("</section>", 1)[0]
    assert "CN¥123.45" in transactions
    satisfaction = text.split('data-panel="satisfaction"', 1)[1].split("</section>", 1)[0]
    assert "Complaining" in satisfaction and "Rating: 1/5" in satisfaction
    # The ticket page's customer panel links here.
    number = re.search(r'href="/console/tickets/([^"]+)"', tickets).group(1)
    assert f'href="/console/customers/{wang.id}"' in client.get(f"/console/tickets/{number}").text


def test_the_profile_in_chinese(client, staff_login, people):
    staff_login("supervisor", language="zh_CN")
    text = client.get(f"/console/customers/{people['han'].id}").text
    assert "忠诚" in text or "Loyal" not in text
    assert "联系方式" in text and "工单" in text


def test_notes_are_added_with_author_and_time_and_an_empty_one_is_refused(client, staff_login, people):
    me = staff_login("agent")
    url = f"/console/customers/{people['li'].id}"
    token = csrf_of(client.get(url).text)
    assert client.post(url + "/notes", data={"csrf_token": token, "body": "  "}).status_code == 302
    page = client.get(url).text
    assert "Note: This field is required." in page and "No notes yet." in page
    client.post(url + "/notes", data={"csrf_token": token, "body": "Prefers calls after 6 pm"})
    client.post(url + "/notes", data={"csrf_token": token, "body": "<b>VIP</b> since 2019"})
    notes = client.get(url).text.split('id="notes"', 1)[1].split("</ul>", 1)[0]
    assert notes.index("&lt;b&gt;VIP&lt;/b&gt; since 2019") < notes.index("Prefers calls after 6 pm")  # newest first
    assert notes.count(me.name) == 2 and notes.count("<time") == 2
    # Without the form's token nothing is written.
    assert client.post(url + "/notes", data={"body": "forged"}).status_code == 400
    assert parts.counts(people["li"].id)["notes"] == 2


def test_finance_reads_profiles_but_does_not_write_notes(client, staff_login, people):
    staff_login("finance")
    url = f"/console/customers/{people['li'].id}"
    token = csrf_of(client.get(url).text)
    assert client.post(url + "/notes", data={"csrf_token": token, "body": "x"}).status_code == 403


def test_contact_edit_with_bad_input_names_each_field_and_saves_nothing(client, staff_login, people):
    staff_login("agent")
    li = people["li"]
    url = f"/console/customers/{li.id}"
    token = csrf_of(client.get(url).text)
    bad = client.post(url + "/contacts", data={"csrf_token": token, "name": "", "email": "not-an-address",
                                               "phone": "call me", "language": "fr"})
    assert bad.status_code == 422
    for field, message in (("name", "This field is required."), ("email", "Not a valid e-mail address."),
                           ("phone", "Not a valid phone number."), ("language", "Not one of the choices.")):
        assert re.search(rf'id="{field}-error">{re.escape(message)}<', bad.text), field
    assert 'value="not-an-address"' in bad.text  # what was typed stays to correct
    db.session.expire_all()
    assert (li.name, li.email, li.phone, li.language) == ("Li Lei", "li@example.test", "+86 138 0000 0001", "en")
    good = client.post(url + "/contacts", data={"csrf_token": token, "name": "Li Lei (Beijing)",
                                                "email": "lilei@example.test", "phone": "", "language": "zh_CN"})
    assert good.status_code == 302
    db.session.expire_all()
    assert (li.name, li.email, li.phone, li.language) == ("Li Lei (Beijing)", "lilei@example.test", None, "zh_CN")


def _full_record(file_ticket, person, tag):
    """Tickets, surveys, transactions, ratings, figures and a note on ``person``."""
    first = parts.ticket_for(file_ticket, person, f"{tag} first")
    parts.ticket_for(file_ticket, person, f"{tag} second")
    parts.survey(person, first, 4)
    parts.transaction(person, "INV-SHARED", 10_000)
    parts.transaction(person, f"INV-{tag}", 5_000)
    parts.rating(person, "A", quarter="2026Q3")
    parts.figures(person, "2026Q3", {f"{tag}_only": 1.0, "shared": 2.0})
    db.session.add(parts.CustomerNote(customer_id=person.id, body=f"{tag} note"))
    db.session.commit()


def test_merging_moves_everything_and_loses_nothing(app, file_ticket, make_staff, people):
    kept, dup = people["han"], parts.customer("Han M.", phone="+86 136 0000 0009")
    _full_record(file_ticket, kept, "kept")
    _full_record(file_ticket, dup, "dup")
    before = {k: parts.counts(kept.id)[k] + parts.counts(dup.id)[k] for k in parts.counts(kept.id)}
    figures_quarters = {parts.counts(kept.id)["figures"], parts.counts(dup.id)["figures"]}
    boss, _ = make_staff("supervisor")
    _kept, moved = merge_customers(kept.id, dup.id, Actor.staff(boss))
    after = parts.counts(kept.id)
    for kind in ("tickets", "surveys", "transactions", "ratings", "notes"):
        assert after[kind] == before[kind], kind
    assert after["figures"] == max(figures_quarters)  # the same quarter: merged into one row
    assert parts.counts(dup.id) == {k: 0 for k in after}
    by_key = {item["key"]: item["count"] for item in moved}
    assert by_key["tickets"] == 2 and by_key["surveys"] == 1 and by_key["transactions"] == 2
    assert by_key["credit_ratings"] == 1 and by_key["notes"] == 1
    db.session.expire_all()
    assert db.session.get(Customer, dup.id).merged_into_id == kept.id
    # The figures of the shared quarter: the kept record's own values, the duplicate's extra ones.
    from plugins.credit_check.models import CreditFigures

    data = db.session.scalar(select(CreditFigures.data).where(CreditFigures.customer_id == kept.id))
    assert data == {"kept_only": 1.0, "dup_only": 1.0, "shared": 2.0}
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.action == "customer_merged")).all()
    assert len(events) == 2 and {e.details["from_customer"] for e in events} == {dup.id}
    assert all(e.actor_name == boss.name for e in events)


def test_merge_api_answers_and_refuses(client, make_staff, file_ticket, people):
    _, agent = make_staff("agent")
    _, boss = make_staff("supervisor")
    kept, dup = people["li"], people["zhou"]
    parts.ticket_for(file_ticket, dup, "From the phone")
    url = f"/api/v1/customers/{kept.id}/merge"
    assert client.post(url, headers=agent, json={"from_customer_id": dup.id}).status_code == 403
    assert client.post(url, headers=boss, json={"from_customer_id": kept.id}).status_code == 409
    assert client.post(url, headers=boss, json={"from_customer_id": 999999}).status_code == 404
    assert client.post("/api/v1/customers/999999/merge", headers=boss, json={"from_customer_id": dup.id}
                       ).status_code == 404
    assert client.post(url, headers=boss, json={"from_customer_id": "x"}).status_code == 422
    done = client.post(url, headers=boss, json={"from_customer_id": dup.id})
    assert done.status_code == 200, done.json
    assert done.json["customer"]["id"] == kept.id
    assert {m["key"]: m["count"] for m in done.json["moved"]}["tickets"] == 1
    again = client.post(url, headers=boss, json={"from_customer_id": dup.id})
    assert again.status_code == 409 and again.json["error"]["code"] == "customer_merged"
    into_merged = client.post(f"/api/v1/customers/{dup.id}/merge", headers=boss,
                              json={"from_customer_id": people["wang"].id})
    assert into_merged.status_code == 409
    assert client.get(f"/api/v1/customers/{dup.id}", headers=boss).json["merged_into_id"] == kept.id
    # The list leaves the merged record out, as the console's list does; searching too.
    listed = [c["id"] for c in client.get("/api/v1/customers?limit=100", headers=boss).json["items"]]
    assert kept.id in listed and dup.id not in listed
    found = [c["id"] for c in client.get("/api/v1/customers", query_string={"q": dup.name}, headers=boss).json["items"]]
    assert dup.id not in found
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/customers/{customer_id}/merge"]["post"]
    assert {"200", "404", "409"} <= set(operation["responses"])


def test_merging_through_the_pages(client, staff_login, file_ticket, people):
    kept, dup = people["wang"], parts.customer("Wang F.", phone="+86 135 0000 0005")
    parts.ticket_for(file_ticket, dup, "Called about the door")
    staff_login("agent")
    assert client.get(f"/console/customers/{kept.id}/merge").status_code == 403
    as_agent = client.get(f"/console/customers/{kept.id}").text
    assert "merge-link" not in as_agent
    client.post("/console/logout", data={"csrf_token": csrf_of(as_agent)})
    staff_login("supervisor")
    profile = client.get(f"/console/customers/{kept.id}").text
    assert f'href="/console/customers/{kept.id}/merge"' in profile
    found = client.get(f"/console/customers/{kept.id}/merge", query_string={"q": "0000 0005"}).text
    assert f'data-customer="{dup.id}"' in found and f'data-customer="{kept.id}"' not in found
    confirm = client.get(f"/console/customers/{kept.id}/merge", query_string={"from_customer_id": dup.id}).text
    moves = dict(re.findall(r'<tr data-moved="(\w+)"><td>[^<]+</td><td>(\d+)</td>', confirm))
    assert moves["tickets"] == "1" and moves["surveys"] == "0" and moves["notes"] == "0"
    assert parts.counts(dup.id)["tickets"] == 1  # the confirmation moved nothing
    itself = client.get(f"/console/customers/{kept.id}/merge", query_string={"from_customer_id": kept.id}).text
    assert "cannot be merged into itself" in itself and "merge-confirm-button" not in itself
    token = csrf_of(confirm)
    done = client.post(f"/console/customers/{kept.id}/merge", data={"csrf_token": token,
                                                                    "from_customer_id": dup.id})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/customers/{kept.id}")
    page = client.get(f"/console/customers/{kept.id}").text
    assert "was merged into this record" in page and "Called about the door" in page
    assert 'id="merged-records"' in page and "Wang F." in page
    # The old record's address leads to the kept one; the list leaves it out.
    old = client.get(f"/console/customers/{dup.id}")
    assert old.status_code == 302 and old.headers["Location"].endswith(f"/console/customers/{kept.id}")
    assert "Wang F." not in _names(client.get("/console/customers").text)
    number = re.search(r'href="/console/tickets/([^"]+)">[^<]+</a></td><td>Called about the door', page).group(1)
    assert "Customer records merged" in client.get(f"/console/tickets/{number}").text


def test_unknown_customer_is_a_404_page(client, staff_login):
    staff_login("agent")
    assert client.get("/console/customers/999999").status_code == 404
