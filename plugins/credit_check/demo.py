"""credit_check's part of the demo: last quarter's figures for C-0001 ...
C-0007 chosen so that every grade appears, none for C-0008 (unrated: "no
figures"), the ratings for this quarter, and three complaints with a remedy
gated by them (approved automatically, waiting for a supervisor, waiting
for finance), so ``make run`` shows the credit panel and the approval step.

Written through the plugin's use cases (each its own unit of work) and
``sdk.open_ticket``, as the first agent would open them on the phone.

The full demo (``load_customers``, before the tickets) also gives every
company and a quarter of the persons figures of one of the grade profiles
above (a few move between quarters), and rates everyone at the start of
each quarter of the period (``demo.at``), so the complaints of the half
year are gated by the rating in force when they were opened; the three
complaints above come after the history, at the real time."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from service import sdk

from . import quarters
from .figures import set_figures
from .rating import current_quarter, rate_due

BEST = dict(years_in_business=12, relationship_years=6, management_rating=5, legal_disputes=0, reputation_rating=5,
            on_time_payment_rate=100, avg_days_overdue=0, max_days_overdue=0, bad_debts=0,
            contract_fulfilment_rate=100, current_ratio=2.2, quick_ratio=1.1, debt_ratio=38, purchase_growth=25,
            orders_per_quarter=14, receivables_turnover=11, inventory_turnover=9, net_margin=12,
            return_on_equity=18, gross_margin=32)

# external_ref -> figures (the grade they give with the shipped scorecard)
FIGURES = {
    "C-0001": dict(BEST, on_time_payment_rate=97, debt_ratio=45, purchase_growth=12),  # 97.00 AAA
    "C-0002": dict(BEST, on_time_payment_rate=92, avg_days_overdue=8, max_days_overdue=20, purchase_growth=5,
                   management_rating=4, net_margin=6),  # 89.00 AA
    "C-0003": dict(BEST, years_in_business=4, relationship_years=2, on_time_payment_rate=88, avg_days_overdue=12,
                   max_days_overdue=35, current_ratio=1.5, quick_ratio=0.8, debt_ratio=60, purchase_growth=0,
                   orders_per_quarter=8),  # 75.40 A
    "C-0004": dict(BEST, years_in_business=3, relationship_years=1, management_rating=3, reputation_rating=3,
                   on_time_payment_rate=85, avg_days_overdue=15, max_days_overdue=30, contract_fulfilment_rate=95,
                   current_ratio=1.3, quick_ratio=0.7, debt_ratio=65, purchase_growth=-5, orders_per_quarter=4,
                   net_margin=4),  # 63.45 B
    "C-0005": dict(BEST, years_in_business=2, relationship_years=1, management_rating=2, legal_disputes=2,
                   reputation_rating=2, on_time_payment_rate=65, avg_days_overdue=45, max_days_overdue=95,
                   bad_debts=2, contract_fulfilment_rate=85, current_ratio=0.9, quick_ratio=0.4, debt_ratio=85,
                   purchase_growth=-25, orders_per_quarter=2, receivables_turnover=3, inventory_turnover=3,
                   net_margin=-2, return_on_equity=-5, gross_margin=8),  # 10.83 C
    "C-0006": dict(BEST, on_time_payment_rate=95, avg_days_overdue=5, max_days_overdue=10, purchase_growth=10,
                   debt_ratio=50),  # 92.50 AAA
    "C-0007": dict(BEST, years_in_business=6, relationship_years=3, on_time_payment_rate=85, avg_days_overdue=10,
                   max_days_overdue=25, current_ratio=1.4, debt_ratio=55, purchase_growth=2,
                   orders_per_quarter=7),  # 80.40 AA
}

# external_ref, subject, description, remedy
COMPLAINTS = [
    ("C-0001", "屏幕坏点，要求退款", "新到的显示器有三个坏点。", {"text": "退款", "amount_minor": 150_000, "currency": "CNY"}),
    ("C-0004", "Compressor failed twice", "Second failure in a month.",
     {"text": "replacement unit", "amount_minor": 420_000, "currency": "CNY"}),
    ("C-0005", "上门维修后仍漏水", "要求先上门维修后付款。", {"text": "先维修后付款", "amount_minor": 80_000, "currency": "CNY"}),
]


def load() -> list[str]:
    """Insert the figures, rate everyone for this quarter, open the three complaints."""
    quarter = current_quarter()
    figures_quarter = quarters.previous(quarter)
    ids = dict(sdk.db.session.execute(select(sdk.Customer.external_ref, sdk.Customer.id)).all())
    for ref, values in FIGURES.items():
        if ref in ids:
            set_figures(ids[ref], figures_quarter, values)
    counts = rate_due(quarter, rated_by="demo")
    return [f"credit_check: figures for {figures_quarter}, {counts['rated']} customers rated and "
            f"{counts['unrated']} unrated for {quarter}, {open_complaints(ids)} complaints with a remedy "
            f"gated by credit"]


def open_complaints(ids: dict) -> int:
    """Open ``COMPLAINTS`` (for the customers of ``ids``, external_ref -> id)
    as the first agent; returns how many."""
    agent = sdk.db.session.scalar(select(sdk.Staff).where(sdk.Staff.role == "agent").order_by(sdk.Staff.id))
    opened = 0
    if agent is not None:
        for ref, subject, description, remedy in COMPLAINTS:
            if ref in ids:
                sdk.open_ticket({"customer_id": ids[ref], "subject": subject, "description": description,
                                 "category": "product_quality", "remedy": remedy}, sdk.Actor.staff(agent), "phone")
                opened += 1
    return opened


# The grade profiles the full demo draws from, with how common each is.
PROFILES = {"AAA": ("C-0001", 15), "AA": ("C-0002", 25), "A": ("C-0003", 30), "B": ("C-0004", 20), "C": ("C-0005", 10)}


def _quarters(demo: sdk.DemoPeriod) -> list[str]:
    """The quarters the period touches, oldest first."""
    out, quarter, first = [], quarters.of(demo.end.date()), quarters.of(demo.start.date())
    while True:
        out.insert(0, quarter)
        if quarter == first:
            return out
        quarter = quarters.previous(quarter)


def _quarter_start(quarter: str) -> datetime:
    """01:00 UTC on the quarter's first day (when the quarterly rating job runs)."""
    return datetime(int(quarter[:4]), 3 * (int(quarter[5]) - 1) + 1, 1, 1, tzinfo=timezone.utc)


def load_customers(demo: sdk.DemoPeriod) -> list[str]:
    """Figures for the named customers (``FIGURES``), every company and a
    quarter of the persons, for the quarter before each quarter of the
    period, and everyone rated at each quarter's start."""
    rng = demo.random("credit_check")
    rows = sdk.db.session.execute(select(sdk.Customer.external_ref, sdk.Customer.id, sdk.Customer.kind)
                                  .order_by(sdk.Customer.id)).all()
    profile = {}
    for ref, customer_id, kind in rows:
        if ref in FIGURES:
            profile[customer_id] = FIGURES[ref]
        elif ref != "C-0008" and (kind == "company" or rng.random() < 0.25):
            grade = rng.choices(list(PROFILES), weights=[w for _, w in PROFILES.values()])[0]
            profile[customer_id] = FIGURES[PROFILES[grade][0]]
    rated = unrated = 0
    periods = _quarters(demo)
    for quarter in periods:
        with demo.at(max(demo.start, _quarter_start(quarter))):
            for customer_id, values in profile.items():
                if rng.random() < 0.1:
                    values = FIGURES[rng.choice([ref for ref, _ in PROFILES.values()])]  # a better or worse quarter
                set_figures(customer_id, quarters.previous(quarter), values)
            counts = rate_due(quarter, rated_by="demo")
            rated, unrated = rated + counts["rated"], unrated + counts["unrated"]
    return [f"credit_check: figures and ratings for {', '.join(periods)} ({rated} rated, {unrated} unrated)"]


def load_history(demo: sdk.DemoPeriod) -> list[str]:
    """The three complaints with a gated remedy, at the real time."""
    ids = dict(sdk.db.session.execute(select(sdk.Customer.external_ref, sdk.Customer.id)).all())
    return [f"credit_check: {open_complaints(ids)} complaints with a remedy gated by credit"]
