"""tier_sla's part of the demo: spend history and tiers for the demo customers."""
from datetime import date

from sqlalchemy import func, select

from plugins.tier_sla.models import CustomerTier, Transaction
from service.demo import load_demo
from service.extensions import db
from service.models import Customer


def test_demo_gives_customers_spend_history_and_tiers(app):
    with app.app_context():
        lines = load_demo()
        assert any(line.startswith("tier_sla:") for line in lines)
        refs_with_spend = set(db.session.scalars(
            select(Customer.external_ref).join(Transaction, Transaction.customer_id == Customer.id).distinct()))
        assert refs_with_spend == {f"C-000{i}" for i in range(1, 9)}
        tiers = {ref: (row.computed_tier, row.override_tier) for ref, row in db.session.execute(
            select(Customer.external_ref, CustomerTier).join(CustomerTier, CustomerTier.customer_id == Customer.id))}
        assert len(tiers) == db.session.scalar(select(func.count()).select_from(Customer))
        assert tiers["C-0001"] == ("ordinary", "vip")  # top spender by rank; the override shown as such
        assert tiers["C-0002"] == ("small", None)
        # The lapsed key account: big purchases that stopped four months ago, pinned to the top.
        assert tiers["C-0008"][1] == "vip"
        lapsed = db.session.scalar(select(func.max(Transaction.occurred_on)).join(
            Customer, Customer.id == Transaction.customer_id).where(Customer.external_ref == "C-0008"))
        assert (date.today() - lapsed).days >= 120
        # C-0006 returned two orders and had one cancelled: transactions that are not sales.
        kinds = db.session.execute(select(Transaction.type, func.count()).join(
            Customer, Customer.id == Transaction.customer_id).where(Customer.external_ref == "C-0006")
            .group_by(Transaction.type)).all()
        assert dict(kinds) == {"sale": 12, "return": 2, "cancellation": 1}
