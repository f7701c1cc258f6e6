"""``kefu credit import FILE`` and ``kefu credit rate``; the demo's credit part;
``kefu staff create --role finance``."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from plugins.credit_check.figures import figures_of
from plugins.credit_check.models import CreditRating
from plugins.credit_check.rating import current_quarter, current_rating
from service.cli import main
from service.extensions import db
from service.models import Customer

from creditparts import BEST


@pytest.fixture
def cli(app):
    from flask.cli import ScriptInfo

    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def _csv(tmp_path, rows, header=None):
    header = header or ["customer_ref", "quarter", *BEST]
    path = tmp_path / "figures.csv"
    path.write_text("\n".join([",".join(header)] + [",".join(str(c) for c in r) for r in rows]) + "\n",
                    encoding="utf-8")
    return str(path)


def test_import_reports_bad_rows_by_line_and_keeps_the_good(cli, tmp_path, make_customer):
    a, b = make_customer("K-1"), make_customer("K-2")
    good = ["K-1", "2026Q3", *BEST.values()]
    partial = ["K-2", "2026Q3", *([""] * 19), 25]          # only gross_margin
    rows = [good,
            ["K-9", "2026Q3", *BEST.values()],             # line 3: unknown customer
            ["K-2", "2026Q5", *BEST.values()],             # line 4: bad quarter
            ["K-2", "2026Q3", "ten", *list(BEST.values())[1:]],  # line 5: not a number
            partial,                                       # line 6: good
            ["K-2", "2026Q3", *([""] * 20)]]               # line 7: nothing in it
    result = cli("credit", "import", _csv(tmp_path, rows))
    assert result.exit_code == 1, result.output
    assert "line 3: no customer with external_ref 'K-9'" in result.output
    assert "line 4: '2026Q5' is not a quarter such as 2026Q4" in result.output
    assert "line 5: years_in_business: 'ten' must be a number" in result.output
    assert "line 7: no figures in the row" in result.output
    assert "2 row(s) imported, 4 rejected" in result.output
    assert "importing" in result.output  # the tqdm bar (stderr is mixed in by the runner)
    assert figures_of(a, "2026Q3").data == {k: float(v) for k, v in BEST.items()}
    assert figures_of(b, "2026Q3").data == {"gross_margin": 25.0}


def test_import_writes_good_rows_in_batches(cli, tmp_path, make_customer, monkeypatch):
    from plugins.credit_check import figures

    written = []
    write = figures._write
    monkeypatch.setattr(figures, "BATCH", 2)
    monkeypatch.setattr(figures, "_write", lambda batch: written.append(len(batch)) or write(batch))
    ids = [make_customer(f"K-{n}") for n in range(1, 6)]
    rows = [[f"K-{n}", "2026Q3", *BEST.values()] for n in range(1, 6)]
    rows.insert(2, ["K-9", "2026Q3", *BEST.values()])  # a bad row between batches
    result = cli("credit", "import", _csv(tmp_path, rows))
    assert result.exit_code == 1 and "5 row(s) imported, 1 rejected" in result.output
    assert written == [2, 2, 1]
    db.session.rollback()  # what is stored, not what the session holds
    assert all(figures_of(i, "2026Q3").data == {k: float(v) for k, v in BEST.items()} for i in ids)


def test_import_refuses_unknown_columns(cli, tmp_path, make_customer):
    result = cli("credit", "import", _csv(tmp_path, [["K-1", "2026Q3", 1]],
                                          header=["customer_ref", "quarter", "luck"]))
    assert result.exit_code == 1 and "line 1: unknown column(s) luck" in result.output


def test_rate_one_customer_and_everyone_due(cli, make_customer):
    from plugins.credit_check import quarters
    from plugins.credit_check.figures import set_figures

    a = make_customer("K-1")
    make_customer("K-2")
    set_figures(a, quarters.previous(current_quarter()), dict(BEST, on_time_payment_rate=90))
    one = cli("credit", "rate", "--customer", "K-1")
    assert one.exit_code == 0, one.output
    assert f"K-1 {current_quarter()} (from {quarters.previous(current_quarter())}): AAA 97.00 [scorecard]" in one.output
    everyone = cli("credit", "rate")
    assert everyone.exit_code == 0 and f"{current_quarter()}: 0 rated, 1 unrated" in everyone.output
    assert cli("credit", "rate").output.strip().endswith("0 rated, 0 unrated")
    past = cli("credit", "rate", "--customer", "K-1", "--quarter", "2020Q1")
    assert "unrated" in past.output and "no figures for 2019Q4" in past.output
    by_id = cli("credit", "rate", "--customer", str(a))
    assert by_id.exit_code == 0 and "AAA 97.00" in by_id.output
    assert cli("credit", "rate", "--customer", "NOPE").exit_code != 0
    assert cli("credit", "rate", "--customer", "99999").exit_code != 0
    bad = cli("credit", "rate", "--quarter", "2020Q9")
    assert bad.exit_code != 0 and "not a quarter" in bad.output


def test_staff_create_finance(cli, client, departments):
    created = cli("staff", "create", "--email", "qian@kefu.test", "--name", "Qian", "--role", "finance",
                  "--department", "finance")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["role"] == "finance"
    assert cli("staff", "create", "--email", "x@kefu.test", "--name", "X", "--role", "cashier").exit_code != 0


def test_demo_gives_every_grade_and_one_unrated_customer(cli):
    result = cli("demo", "--small")
    assert result.exit_code == 0, result.output
    assert "finance@kefu.demo" in result.output and "kefu_demo_finance_token" in result.output
    assert "credit_check: figures for" in result.output
    grades = {}
    for ref, customer_id in db.session.execute(select(Customer.external_ref, Customer.id)):
        rating = current_rating(customer_id)
        grades[ref] = rating.grade if rating.status == "rated" else "unrated"
    assert grades == {"C-0001": "AAA", "C-0002": "AA", "C-0003": "A", "C-0004": "B", "C-0005": "C",
                      "C-0006": "AAA", "C-0007": "AA", "C-0008": "unrated"}
    assert db.session.scalars(select(CreditRating.reason).where(CreditRating.grade.is_(None))).one().startswith(
        "no figures for")
    # The demo complaints show each kind of gate; the finance login decides the finance one.
    from service.models import Ticket

    gated = {(t.remedy_decision, t.remedy_approver) for t in db.session.scalars(
        select(Ticket).where(Ticket.remedy_decision.is_not(None)))}
    assert gated == {("approved", None), ("needs_approval", "supervisor"), ("needs_approval", "finance")}
