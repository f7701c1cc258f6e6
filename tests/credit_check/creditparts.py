"""Figures shared by the credit_check tests (importable: conftest modules are not)."""

# Every indicator at its best: 100 points with the shipped scorecard.
BEST = dict(years_in_business=12, relationship_years=6, management_rating=5, legal_disputes=0, reputation_rating=5,
            on_time_payment_rate=100, avg_days_overdue=0, max_days_overdue=0, bad_debts=0,
            contract_fulfilment_rate=100, current_ratio=2.2, quick_ratio=1.1, debt_ratio=38, purchase_growth=25,
            orders_per_quarter=14, receivables_turnover=11, inventory_turnover=9, net_margin=12,
            return_on_equity=18, gross_margin=32)
