def test_smoke(client, staff_login, file_on_form):
    number, path = file_on_form()
    r = client.get(path); assert r.status_code == 200, r.text
    staff_login("admin")
    for url in ["/console/", "/console/queue/at_risk", "/console/queue/all?q=wash", f"/console/tickets/{number}",
                "/console/dashboard", "/console/admin/", "/console/admin/staff", "/console/admin/categories",
                "/console/admin/departments", "/console/admin/plugins", "/console/admin/jobs", "/console/settings"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:3000])
