"""tier_sla's part of the demo: spend history and tiers for the demo customers."""
import pytest
from sqlalchemy import func, select

from plugins.tier_sla.models import CustomerTier, Transaction
from service.demo import load_demo
from service.extensions import db
from service.models import Customer


# tier_sla's part of the demo alone: relationship_health's gives C-0008 a
# lapsed buyer's history and pins them to the top tier.
@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["relationship_health"]}])
def test_demo_gives_customers_spend_history_and_tiers(app):
    with app.app_context():
        lines = load_demo()
        assert any(line.startswith("tier_sla:") for line in lines)
        refs_with_spend = set(db.session.scalars(
            select(Customer.external_ref).join(Transaction, Transaction.customer_id == Customer.id).distinct()))
        assert refs_with_spend == {f"C-000{i}" for i in range(1, 8)}
        tiers = {ref: (row.computed_tier, row.override_tier) for ref, row in db.session.execute(
            select(Customer.external_ref, CustomerTier).join(CustomerTier, CustomerTier.customer_id == Customer.id))}
        assert len(tiers) == db.session.scalar(select(func.count()).select_from(Customer))
        assert tiers["C-0001"] == ("ordinary", "vip")  # top spender by rank; the override shown as such
        assert tiers["C-0002"] == ("small", None)
        assert tiers["C-0008"] == ("small", None)     # no spend: lowest tier
