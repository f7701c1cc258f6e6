"""The supervisor dashboard (core and plugin charts as SVG) and the admin pages."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webpages import csrf_of
from service import hookimpl
from service.jobs import registry as job_api
from service.extensions import db
from service.models import Category, Staff
from service.usecases.uow import UnitOfWork
from service.web.charts import normalise, render_svg


def test_charts_escape_labels_and_leave_out_specs_they_cannot_draw():
    spec = normalise({"key": "k", "title": "<T>", "kind": "bar", "labels": ["<script>x</script>", "b"],
                      "series": [{"name": "n", "values": [3, None]}]})
    svg = str(render_svg(spec))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 1  # None draws nothing
    assert normalise({"kind": "pie", "labels": [], "series": []}) is None
    assert normalise({"kind": "bar", "labels": ["a"], "series": [{"name": "n", "values": [1, 2]}]}) is None
    pareto = normalise({"kind": "pareto", "labels": ["a", "b", "c"], "series": [{"name": "n", "values": [1, 6, 3]}]})
    assert pareto["labels"] == ["b", "c", "a"]
    assert pareto["series"][1]["values"] == [60.0, 90.0, 100.0]


def test_the_dashboard_shows_core_plugin_and_tier_sla_charts(kefu_plugins, client, staff_login, file_ticket):
    class Returns:
        @hookimpl
        def dashboard_charts(self, staff):
            return [{"key": "returns", "title": "Returns <weekly>", "kind": "line", "labels": ["W1", "W2"],
                     "series": [{"name": "returns", "values": [4, 7]}], "unit": None},
                    {"key": "broken", "title": "Broken", "kind": "donut", "labels": [], "series": []}]

    kefu_plugins.register(Returns(), name="returns")
    file_ticket()
    file_ticket()
    staff_login("supervisor")
    page = client.get("/console/dashboard").text
    keys = re.findall(r'<figure class="chart-card" id="chart-(\w+)"', page)
    assert keys[:4] == ["complaints_by_category", "tickets_by_week", "tickets_by_status", "tickets_by_department"]
    assert {"sla_first_response", "sla_resolution", "tiers_by_revenue", "csat_trend", "returns"} <= set(keys)
    assert "broken" not in keys
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == len(keys)
    # The chart that cannot be drawn is a placeholder in its place, naming the plugin.
    assert '<figure class="chart-card failed" id="chart-returns-failed">' in page
    assert "Plugin returns could not show this." in page
    assert "Returns &lt;weekly&gt;" in page
    # The data table under the Pareto chart: both complaints in "Other", 100 % running share.
    pareto = page[page.index('id="chart-complaints_by_category"'):page.index('id="chart-tickets_by_week"')]
    assert re.search(r'<th scope="row"><a href="[^"]+">Other</a></th><td>2</td><td>0</td><td>100 %</td>', pareto)


def test_the_dashboard_speaks_chinese(client, staff_login):
    staff_login("supervisor", language="zh_CN")
    page = client.get("/console/dashboard").text
    assert "按类别的投诉（帕累托图）" in page and "每周首次响应按时率" in page and "本期" in page


def test_admins_create_staff_and_categories(client, staff_login):
    staff_login("admin")
    token = csrf_of(client.get("/console/admin/staff").text)
    bad = client.post("/console/admin/staff", data={"csrf_token": token, "name": "New", "email": "nope",
                                                     "role": "agent", "password": "short"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text and 'id="password-error"' in bad.text
    made = client.post("/console/admin/staff", data={"csrf_token": token, "name": "New Agent",
                                                      "email": "new@kefu.test", "role": "agent",
                                                      "department": "logistics", "password": "long-enough-pw"})
    assert made.status_code == 200 and re.search(r'id="new-token">kefu_', made.text)
    created = db.session.scalar(select(Staff).where(Staff.email == "new@kefu.test"))
    assert created.department.code == "logistics" and created.password_hash
    again = client.post("/console/admin/staff", data={"csrf_token": token, "name": "X", "email": "new@kefu.test",
                                                       "role": "agent"})
    assert again.status_code == 422

    response = client.post("/console/admin/categories", data={"csrf_token": token, "code": "noisy_fan",
                                                               "name": "Noisy fan", "name_zh": "风扇噪音"})
    assert response.status_code == 302
    assert db.session.scalar(select(Category).where(Category.code == "noisy_fan")).name_zh == "风扇噪音"
    assert client.post("/console/admin/categories", data={"csrf_token": token, "code": "Bad Code!",
                                                          "name": "x"}).status_code == 422
    assert "noisy_fan" in client.get("/console/admin/categories").text
    # The new category is on the public form at once.
    assert 'value="noisy_fan"' in client.get("/").text
    assert "logistics" in client.get("/console/admin/departments").text
    plugins = client.get("/console/admin/plugins").text
    assert "tier_sla" in plugins and "DISABLED_PLUGINS" in plugins


CALLS = []


def failing_job(**kwargs):
    """A job that always fails (for the failed-jobs page)."""
    CALLS.append(kwargs)
    raise ConnectionError("the far side is down")


class FailingJobs:
    @hookimpl
    def register_jobs(self, app):
        return [{"name": "test.failing", "func": f"{__name__}:failing_job", "queue": "default"}]


@pytest.mark.parametrize("overrides", [{"JOB_RETRIES": 0}])
def test_admins_see_failed_jobs_and_retry_them(kefu_plugins, jobs, client, staff_login):
    kefu_plugins.register(FailingJobs(), name="failing_jobs")  # the job registry is rebuilt with its jobs
    CALLS.clear()
    with UnitOfWork() as uow:
        job_api.enqueue("test.failing", tag="x")
        uow.commit()
    jobs.drain(periodic=False)
    assert len(CALLS) == 1
    staff_login("admin")
    page = client.get("/console/admin/jobs").text
    assert "ConnectionError: the far side is down" in page
    job_id = re.search(r'action="/console/admin/jobs/([^/]+)/retry"', page).group(1)
    response = client.post(f"/console/admin/jobs/{job_id}/retry", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert f"Job {job_id} is queued again." in client.get("/console/admin/jobs").text
    jobs.drain(periodic=False)
    assert len(CALLS) == 2  # it ran again (and failed again)
    missing = client.post("/console/admin/jobs/nope/retry", data={"csrf_token": csrf_of(page)},
                          follow_redirects=True)
    assert "Not found." in missing.text


def test_admins_change_roles_departments_and_deactivate_accounts(client, staff_login, make_staff):
    me = staff_login("admin")
    other, headers = make_staff("agent")
    page = client.get("/console/admin/staff").text
    token = csrf_of(page)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client.post(f"/console/admin/staff/{other.id}", data={"csrf_token": token, "role": "supervisor",
                                                         "department": "finance", "active": "1"})
    db.session.refresh(other)
    assert (other.role, other.department.code, other.active) == ("supervisor", "finance", True)
    client.post(f"/console/admin/staff/{other.id}", data={"csrf_token": token, "role": "supervisor",
                                                         "department": "", "active": "0"})
    db.session.refresh(other)
    assert other.active is False and other.department is None
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # the token stops at once
    # An admin cannot lock themselves out.
    refused = client.post(f"/console/admin/staff/{me.id}", data={"csrf_token": token, "role": "agent",
                                                                 "active": "1"}, follow_redirects=True)
    assert "You cannot demote or deactivate yourself; ask another admin." in refused.text
    db.session.refresh(me)
    assert me.role == "admin"
    # No such person: their edit page is not found.
    assert client.post("/console/admin/staff/999999", data={"csrf_token": token, "role": "agent"}).status_code == 404
