"""The console's queues and search (issue 16 items 3 and 7): sortable columns,
multi-value filters, a count and pages, saved views (personal and shared),
the global search, no due date on closed tickets, bulk actions where one
ticket is refused and the others go through."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from webpages import csrf_of

from service import hookimpl
from service.extensions import db
from service.models import SavedView, Ticket
from service.models.base import utcnow
from service.web.saved_views import saved_views_for


def numbers(html: str) -> list[str]:
    """The ticket numbers of the table's rows, in order."""
    table = html[html.index("<table"):html.index("</table>")]
    return re.findall(r'<tr class="[^"]*" data-number="([A-Z]+-\d+)"', table)


def stored(number, column):
    with db.engine.connect() as conn:
        return conn.execute(sa.select(column).where(Ticket.number == number)).scalar_one()


def _set(number, **values):
    db.session.execute(sa.update(Ticket).where(Ticket.id == int(number.split("-")[1])).values(**values))
    db.session.commit()


@pytest.fixture
def five(file_ticket, client, agent):
    """Five tickets: priorities low, urgent, normal, high, urgent; the second one confirmed."""
    made = []
    for n, priority in enumerate(("low", "urgent", "normal", "high", "urgent")):
        number = file_ticket(subject=f"Ticket {n}")["number"]
        if priority != "normal":
            assert client.patch(f"/api/v1/tickets/{number}", headers=agent,
                                json={"priority": priority, "version": 1}).status_code == 200
        made.append(number)
    version = client.get(f"/api/v1/tickets/{made[1]}", headers=agent).json["version"]
    assert client.post(f"/api/v1/tickets/{made[1]}/transitions", headers=agent,
                       json={"action": "confirm", "version": version, "department": "logistics"}).status_code == 200
    return made


def test_columns_sort_by_severity_workflow_order_and_time_with_aria_sort(client, staff_login, five):
    staff_login("agent")
    page = client.get("/console/queue/all?sort=priority&dir=desc").text
    shown = numbers(page)
    assert shown[:2] == [five[4], five[1]] and shown[2:] == [five[3], five[2], five[0]]  # not alphabetical
    assert re.search(r'<th scope="col" class="sortable" aria-sort="descending"><a href="[^"]*sort=priority', page)
    # The header links the other way round.
    link = unescape(re.search(r'<a href="([^"]+)" id="sort-priority"', page).group(1))
    assert "dir=asc" in link and numbers(client.get(link).text)[0] == five[0]
    by_status = numbers(client.get("/console/queue/all?sort=status&dir=desc").text)
    assert by_status[0] == five[1]  # confirmed comes after new in the workflow
    assert numbers(client.get("/console/queue/all?sort=created&dir=asc").text) == five
    assert numbers(client.get("/console/").text) == []  # nothing is mine
    # A message is activity: the customer's reply puts the ticket first.
    _set(five[0], updated_at=utcnow() + timedelta(minutes=5))
    assert numbers(client.get("/console/queue/all?sort=activity&dir=desc").text)[0] == five[0]
    # Due: soonest first; the one without a due time last.
    _set(five[2], first_response_due=utcnow() - timedelta(minutes=5))
    _set(five[3], first_response_due=None, resolution_due=None)
    due = numbers(client.get("/console/queue/all?sort=due&dir=asc").text)
    assert due[0] == five[2] and due[-1] == five[3]
    assert client.get("/console/queue/all?sort=nope&dir=sideways").status_code == 200


def test_filters_take_several_values_and_chips_remove_one(client, staff_login, five):
    staff_login("agent")
    page = client.get("/console/queue/all?priority=high&priority=urgent").text
    assert sorted(numbers(page)) == sorted([five[1], five[3], five[4]])
    assert 'name="priority" value="high" id="f-priority-3" checked' in page
    chips = page[page.index('id="filter-chips"'):]
    remove = unescape(re.search(r'<li class="chip">Priority: High <a href="([^"]+)"', chips).group(1))
    assert "priority=urgent" in remove and "priority=high" not in remove
    assert sorted(numbers(client.get(remove).text)) == sorted([five[1], five[4]])
    # Filters combine: urgent and confirmed.
    assert numbers(client.get("/console/queue/all?priority=urgent&status=confirmed&status=in_progress").text) == [
        five[1]]
    assert numbers(client.get("/console/queue/all?department=logistics&department=after_sales").text) == [five[1]]
    assert len(numbers(client.get("/console/queue/all?assignee=none&channel=web&channel=email").text)) == 5
    assert numbers(client.get("/console/queue/all?department=nope").text) == []  # unknown: nothing, no 500


@pytest.mark.parametrize("overrides", [{"CONSOLE_PAGE_SIZE": 2}])
def test_a_count_and_real_pages(client, staff_login, five):
    staff_login("agent")
    first = client.get("/console/queue/all").text
    assert re.search(r'id="rows-summary" role="status">1-2 of 5<', first)
    assert numbers(first) == [five[4], five[3]]
    assert re.findall(r'aria-label="Page (\d)"', first) == ["2", "3"]
    last = client.get("/console/queue/all?page=3").text
    assert re.search(r">5-5 of 5<", last) and numbers(last) == [five[0]]
    assert 'rel="next"' not in last and 'rel="prev"' in last
    bigger = client.get("/console/queue/all?size=25").text
    assert re.search(r">1-5 of 5<", bigger) and len(numbers(bigger)) == 5


def test_closed_tickets_show_no_due_date_and_rows_show_the_sla_state(client, staff_login, file_ticket, agent, act):
    staff_login("agent")
    closed, late, soon = (file_ticket(subject=s)["number"] for s in ("Closed one", "Late one", "Soon one"))
    act(agent, closed, "confirm", department="logistics")
    act(agent, closed, "start")
    act(agent, closed, "resolve", resolution="Delivered.")
    act(agent, closed, "close")
    _set(late, first_response_due=utcnow() - timedelta(hours=2))
    _set(soon, first_response_due=utcnow() + timedelta(minutes=30))
    page = client.get("/console/queue/all").text
    rows = {number: css for css, number in re.findall(r'<tr class="([^"]*)" data-number="([A-Z]+-\d+)"', page)}
    assert rows[late] == "overdue sla-row-breached" and rows[soon] == "sla-row-at_risk"
    closed_row = page[page.index(f'data-number="{closed}"'):]
    closed_row = closed_row[:closed_row.index("</tr>")]
    assert 'class="due"></td>' in closed_row and "data-sla" not in closed_row
    late_row = page[page.index(f'data-number="{late}"'):]
    assert 'data-sla="breached"' in late_row[:late_row.index("</tr>")]
    assert "white-space:nowrap" in client.get("/static/queue.css").text


def test_saved_views_personal_and_shared(app, client, staff_login, five):
    def save(page, name, shared=False, query="priority=urgent&sort=created&dir=asc&page=3"):
        data = {"csrf_token": csrf_of(page), "name": name, "queue": "all", "query": query,
                "back": "/console/queue/all"}
        if shared:
            data["shared"] = "1"
        return client.post("/console/views", data=data)

    def sign_out():
        client.post("/console/logout", data={"csrf_token": csrf_of(client.get("/console/").text)})

    author = staff_login("agent")
    page = client.get("/console/queue/all").text
    saved = save(page, "  My urgent  ")
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        "/console/queue/all?priority=urgent&sort=created&dir=asc")  # without the page
    assert numbers(client.get(saved.headers["Location"]).text) == [five[1], five[4]]
    refused = save(page, "Shared by an agent", shared=True)
    assert "Your role may not do this." in client.get(refused.headers["Location"]).text
    assert save(page, "   ").status_code == 302
    assert db.session.scalars(sa.select(SavedView.name)).all() == ["My urgent"]
    mine = db.session.scalars(sa.select(SavedView)).one()
    sign_out()

    boss = staff_login("supervisor")
    page = client.get("/console/queue/all").text
    assert "My urgent" not in page  # another's personal view
    save(page, "Team urgent", shared=True)
    shared = db.session.scalars(sa.select(SavedView).where(SavedView.shared.is_(True))).one()
    # Someone else's personal view cannot be changed by a supervisor either.
    client.post(f"/console/views/{mine.id}/delete", data={"csrf_token": csrf_of(page)})
    assert db.session.get(SavedView, mine.id) is not None
    sign_out()

    staff_login("agent")  # another agent sees the shared view, but may not change it
    page = client.get("/console/queue/all").text
    assert "Team urgent" in page and "My urgent" not in page
    assert f'id="delete-view-{shared.id}"' not in page
    client.post(f"/console/views/{shared.id}/rename", data={"csrf_token": csrf_of(page), "name": "Mine now"})
    client.post(f"/console/views/{shared.id}/delete", data={"csrf_token": csrf_of(page)})
    db.session.expire_all()
    assert db.session.get(SavedView, shared.id).name == "Team urgent"
    sign_out()

    staff_login("supervisor")  # another supervisor may rename the shared one
    page = client.get("/console/queue/all").text
    client.post(f"/console/views/{shared.id}/rename", data={"csrf_token": csrf_of(page), "name": "Urgent (team)"})
    db.session.expire_all()
    assert db.session.get(SavedView, shared.id).name == "Urgent (team)"
    sign_out()

    staff_login_again = author  # the author sees both, theirs first, for the sidebar too
    with app.test_request_context():
        listed = saved_views_for(staff_login_again)
    assert listed == [
        {"name": "My urgent", "url": "/console/queue/all?priority=urgent&sort=created&dir=asc", "shared": False},
        {"name": "Urgent (team)", "url": "/console/queue/all?priority=urgent&sort=created&dir=asc",
         "shared": True}]
    assert boss.id != author.id
    # Without the CSRF token nothing is saved.
    assert client.post("/console/views", data={"name": "x", "queue": "all"}).status_code in (400, 302)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 2


def test_the_search_finds_by_every_field_and_jumps_to_an_exact_number(client, staff_login, file_ticket, agent):
    staff_login("agent")
    one = file_ticket(name="Zhou Xingchi", email="zhou@example.test", phone="+86 138 0000 1111",
                      subject="Broken fridge door", description="The hinge snapped off.")["number"]
    other = file_ticket(subject="Late delivery")["number"]
    client.post(f"/api/v1/tickets/{other}/messages", headers=agent, json={"body": "Courier says Tuesday."})
    for q in ("fridge", "HINGE", "xingchi", "zhou@example", "138 0000", "13800001111", "138-0000-1111", str(int(one.split("-")[1]))):
        page = client.get("/console/search", query_string={"q": q})
        assert page.status_code == 200 and numbers(page.text) == [one], q
    assert numbers(client.get("/console/search?q=tuesday").text) == [other]
    assert "Nothing found" in client.get("/console/search?q=%25_").text  # wildcards are literal
    jump = client.get(f"/console/search?q={one.lower()}")
    assert jump.status_code == 302 and jump.headers["Location"].endswith(f"/console/tickets/{one}")
    assert client.get("/console/search?q=KF-999999").status_code == 200  # no such ticket: a result page
    assert client.get("/console/search").status_code == 200


def test_the_search_says_how_many_it_found(app, client, staff_login, file_ticket):
    staff_login("agent")
    app.config["CONSOLE_PAGE_SIZE"] = 2
    for n in range(5):
        file_ticket(subject=f"Noisy compressor {n}")
    file_ticket(subject="Quiet one")
    status = lambda html: re.search(r'id="search-count" role="status">([^<]*)<', html).group(1)
    assert status(client.get("/console/search?q=compressor").text) == "Results 1-2 of 5 for “compressor”"
    assert status(client.get("/console/search?q=compressor&page=3").text) == "Results 5-5 of 5 for “compressor”"
    assert status(client.get("/console/search?q=quiet").text) == "One result for “quiet”"
    # Past the cap the count stops and says so.
    app.config["SEARCH_COUNT_CAP"] = 3
    assert status(client.get("/console/search?q=compressor").text) == "Results 1-2 of more than 3 for “compressor”"


class FrozenTicket:
    """Vetoes any change to one ticket (an audit hold), in the page's language."""

    def __init__(self, number):
        self.number = number

    @hookimpl
    def guard_ticket_change(self, ticket, change, actor):
        if ticket.number == self.number:
            from flask_babel import get_locale
            chinese = str(get_locale() or "").startswith("zh")
            return {"code": "audit_hold", "message": "该工单因审计冻结。" if chinese else "Frozen for the audit."}
        return None


def test_bulk_assign_goes_on_past_a_refused_ticket(kefu_plugins, client, staff_login, file_ticket, agent):
    me = staff_login("agent")
    made = [file_ticket(subject=f"Bulk {n}")["number"] for n in range(4)]
    kefu_plugins.register(FrozenTicket(made[1]), name="audit_hold")
    page = client.get("/console/queue/all").text
    assert f'value="{made[0]}:1"' in page and 'id="bulk-form"' in page
    # Someone changes the third one after the page was shown: its version is stale.
    client.patch(f"/api/v1/tickets/{made[2]}", headers=agent, json={"priority": "high", "version": 1})
    result = client.post("/console/bulk", data={
        "csrf_token": csrf_of(page), "action": "assign_me", "back": "/console/queue/all",
        "tickets": [f"{n}:1" for n in made]})
    assert result.status_code == 200
    html = result.text
    assert "2 changed, 2 refused." in html
    done = html[html.index('id="bulk-done"'):]
    assert re.findall(r">([A-Z]+-\d+)</a>", done[:done.index("</ul>")]) == [made[0], made[3]]
    refused = dict(re.findall(r'<li data-number="([A-Z]+-\d+)">.*?<span class="reason">([^<]+)</span>', html))
    assert refused == {made[1]: "Frozen for the audit.",
                       made[2]: "Changed by someone else since the queue was shown; left as it is."}
    assert [stored(n, Ticket.assignee_id) for n in made] == [me.id, None, None, me.id]


def test_bulk_steps_are_checked_per_ticket(client, staff_login, file_ticket, agent, act):
    staff_login("agent")
    fresh, started = file_ticket()["number"], file_ticket()["number"]
    act(agent, started, "confirm", department="logistics")
    page = client.get("/console/queue/all").text
    # Only the steps legal for every row work without a script; the others are offered disabled.
    assert re.search(r'<option value="confirm" data-step="1" disabled>', page)
    assert re.search(r'<option value="cancel"', page) is None  # supervisors' step
    versions = {n: stored(n, Ticket.version) for n in (fresh, started)}
    result = client.post("/console/bulk", data={
        "csrf_token": csrf_of(page), "action": "confirm", "department": "after_sales",
        "tickets": [f"{n}:{v}" for n, v in versions.items()]}).text
    assert "1 changed, 1 refused." in result
    assert "That step is not possible now: the ticket is Confirmed." in result
    assert stored(fresh, Ticket.status) == "confirmed"
    # A step without its required field, or no ticket at all: 422, nothing changes.
    act(agent, started, "start")
    missing = client.post("/console/bulk", data={"csrf_token": csrf_of(page), "action": "resolve",
                                                 "tickets": [f"{started}:{stored(started, Ticket.version)}"]})
    assert missing.status_code == 200 and "Please fill in the required fields. (Resolution)" in missing.text
    none = client.post("/console/bulk", data={"csrf_token": csrf_of(page), "action": "assign_me"})
    assert none.status_code == 422 and 'id="bulk-error"' in none.text
    assert client.post("/console/bulk", data={"csrf_token": csrf_of(page), "action": "explode",
                                              "tickets": [f"{fresh}:2"]}).status_code == 422
