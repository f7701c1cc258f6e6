"""Customer tiers (tier_sla): boundaries, ties, no spend, the period, the measure,
idempotent recompute with history, overrides and their expiry, the decider,
the nightly job and the settings. Real SQLite or PostgreSQL; rows are seeded
in bulk (SQL), not through the API, for speed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from plugins.tier_sla import tiers
from plugins.tier_sla.models import CustomerTier, TierChange, Transaction
from plugins.tier_sla.settings import TierSettings, parse_shares, tier_settings
from service import create_app
from service.extensions import db
from service.hooks.manager import PluginStartupError
from service.jobs.registry import registry
from service.models import Customer

TODAY = datetime.now(timezone.utc).date()


def add_customers(n: int) -> list[int]:
    """``n`` customers (refs C1..Cn, ids ascending); returns their ids."""
    db.session.execute(sa.insert(Customer), [{"name": f"Customer {i}", "external_ref": f"C{i}"}
                                            for i in range(1, n + 1)])
    db.session.commit()
    return list(db.session.scalars(sa.select(Customer.id).order_by(Customer.id)))


def add_spend(rows, currency="CNY") -> None:
    """``rows``: ``(customer_id, amount_minor)`` or ``(customer_id, amount_minor, days_ago, margin_minor)``."""
    values = []
    for n, row in enumerate(rows):
        customer_id, amount, days_ago, margin = (*row, 0, None)[:4] if len(row) == 2 else row
        values.append({"customer_id": customer_id, "occurred_on": TODAY - timedelta(days=days_ago),
                       "amount_minor": amount, "margin_minor": margin, "currency": currency,
                       "reference": f"T{n}-{customer_id}-{amount}-{days_ago}-{currency}"})
    db.session.execute(sa.insert(Transaction), values)
    db.session.commit()


def computed() -> dict[int, str]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(CustomerTier.customer_id, CustomerTier.computed_tier)).all())


def counts(tier_of: dict[int, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for tier in tier_of.values():
        out[tier] = out.get(tier, 0) + 1
    return out


def changes() -> list[tuple]:
    db.session.expire_all()
    return [(c.customer_id, c.from_tier, c.to_tier, c.reason)
            for c in db.session.scalars(sa.select(TierChange).order_by(TierChange.id))]


def test_tier_values_count_sales_only_a_return_never_raises_one(app):
    a, b = add_customers(2)
    add_spend([(a, 10_000), (a, -2_000), (b, 9_000)])  # a credit note is a sale: 80.00 against 90.00
    db.session.execute(sa.insert(Transaction), [
        {"customer_id": a, "occurred_on": TODAY, "amount_minor": amount, "currency": "CNY", "reference": ref,
         "type": kind} for ref, amount, kind in (("R1", 50_000, "return"), ("R2", -50_000, "cancellation"),
                                                  ("R3", 70_000, "exchange"))])
    db.session.commit()
    tiers.recompute()
    db.session.expire_all()
    assert db.session.get(CustomerTier, a).value_minor == 8_000
    assert (db.session.get(CustomerTier, b).rank, db.session.get(CustomerTier, a).rank) == (1, 2)


# --------------------------------------------------------------------------- boundaries

def test_pyramid_of_1000_distinct_spends_is_10_40_150_800(app):
    ids = add_customers(1000)
    add_spend([(cid, 100 * (i + 1)) for i, cid in enumerate(ids)])  # the newest spends most
    result = tiers.recompute()
    assert (result["customers"], result["changed"], result["method"]) == (1000, 1000, "pyramid")
    tier_of = computed()
    assert counts(tier_of) == {"vip": 10, "major": 40, "ordinary": 150, "small": 800}
    by_spend = sorted(ids, reverse=True)  # highest spend first
    assert {tier_of[c] for c in by_spend[:10]} == {"vip"}
    assert {tier_of[c] for c in by_spend[10:50]} == {"major"}
    assert {tier_of[c] for c in by_spend[50:200]} == {"ordinary"}
    assert {tier_of[c] for c in by_spend[200:]} == {"small"}
    top = db.session.get(CustomerTier, by_spend[0])
    assert (top.rank, top.value_minor) == (1, 100_000)
    assert db.session.get(CustomerTier, by_spend[-1]).rank == 1000


@pytest.mark.parametrize("overrides", [{"TIER_METHOD": "abc"}])
def test_abc_of_1000_distinct_spends_is_50_150_800(app):
    ids = add_customers(1000)
    add_spend([(cid, 7 * (1000 - i)) for i, cid in enumerate(ids)])  # the oldest spends most
    tiers.recompute()
    tier_of = computed()
    assert counts(tier_of) == {"A": 50, "B": 150, "C": 800}
    assert {tier_of[c] for c in ids[:50]} == {"A"} and {tier_of[c] for c in ids[50:200]} == {"B"}


def test_ties_rank_the_older_customer_first_and_the_boundary_falls_between_them(app):
    ids = add_customers(100)  # pyramid of 100: vip rank 1, major 2-5, ordinary 6-20, small 21-100
    spend = {cid: 10_000 - 10 * i for i, cid in enumerate(ids)}  # distinct, decreasing with age
    spend[ids[3]] = spend[ids[2]] = 20_000  # the two top spenders tie: ids[2] is older
    spend[ids[30]] = spend[ids[29]] = spend[ids[19]]  # rank 20 ties with the two below it
    add_spend(spend.items())
    for _ in range(2):  # deterministic: the same answer every run
        tiers.recompute()
        tier_of = computed()
        assert (tier_of[ids[2]], tier_of[ids[3]]) == ("vip", "major")
        assert db.session.get(CustomerTier, ids[2]).rank == 1 and db.session.get(CustomerTier, ids[3]).rank == 2
        assert (tier_of[ids[19]], tier_of[ids[29]], tier_of[ids[30]]) == ("ordinary", "small", "small")
        assert counts(tier_of) == {"vip": 1, "major": 4, "ordinary": 15, "small": 80}


def test_customers_without_positive_spend_are_in_the_lowest_tier(app):
    ids = add_customers(100)
    # Three spenders; one whose credit note cancels the sale; one net negative.
    add_spend([(ids[0], 500), (ids[1], 400), (ids[2], 300), (ids[3], 900), (ids[3], -900),
               (ids[4], 100), (ids[4], -250)])
    tiers.recompute()
    tier_of = computed()
    assert (tier_of[ids[0]], tier_of[ids[1]], tier_of[ids[2]]) == ("vip", "major", "major")
    # Ranks 4-20 fall in the ordinary band, but nobody there has spend.
    assert counts(tier_of) == {"vip": 1, "major": 2, "small": 97}
    assert db.session.get(CustomerTier, ids[4]).value_minor == -150
    assert db.session.get(CustomerTier, ids[4]).rank == 100  # net negative ranks last


@pytest.mark.parametrize("overrides", [{"TIER_PERIOD_DAYS": 30}])
def test_only_transactions_in_the_period_and_the_currency_count(app):
    ids = add_customers(100)
    add_spend([(ids[0], 100, 29, None), (ids[1], 5_000, 30, None), (ids[2], 6_000, -1, None),
               (ids[3], 50, 0, None)])  # 29 days ago and today count; 30 days ago and tomorrow do not
    add_spend([(ids[4], 9_000)], currency="USD")  # not TIER_CURRENCY: not summed
    result = tiers.recompute()
    assert result["period_from"] == TODAY - timedelta(days=29) and result["period_to"] == TODAY
    values = dict(db.session.execute(sa.select(CustomerTier.customer_id, CustomerTier.value_minor)).all())
    assert [values[c] for c in ids[:5]] == [100, 0, 0, 50, 0]
    assert computed()[ids[0]] == "vip" and computed()[ids[1]] == "small"


@pytest.mark.parametrize("overrides", [{"TIER_MEASURE": "margin"}])
def test_margin_measure_ranks_by_margin(app):
    ids = add_customers(100)
    add_spend([(ids[0], 100_000, 0, 1_000), (ids[1], 20_000, 0, 8_000), (ids[2], 5_000, 0, None)])
    tiers.recompute()
    tier_of = computed()
    assert (tier_of[ids[1]], tier_of[ids[0]], tier_of[ids[2]]) == ("vip", "major", "small")
    assert db.session.get(CustomerTier, ids[1]).value_minor == 8_000
    assert "recompute: margin 80.00 CNY, rank 1 of 100" in changes()[1][3]


# --------------------------------------------------------------------------- history, idempotence

def test_recompute_is_idempotent_and_records_only_changes(app):
    ids = add_customers(100)
    add_spend([(cid, 1_000 + i) for i, cid in enumerate(ids)])  # ids[-1] is vip
    first = tiers.recompute()
    assert first["changed"] == 100
    assert changes()[-1] == (ids[-1], None, "vip", f"recompute: spend 10.99 CNY, rank 1 of 100 "
                                                   f"(pyramid, {TODAY - timedelta(days=364)} to {TODAY})")
    assert tiers.recompute()["changed"] == 0  # nothing changed: nothing recorded
    before = len(changes())

    add_spend([(ids[0], 5_000)])  # the oldest jumps to the top: everyone else moves down one rank
    assert tiers.recompute()["changed"] == 4
    moved = {(c, f, t) for c, f, t, _ in changes()[before:]}
    # Ranks shift by one, so a customer at each boundary crosses it.
    assert moved == {(ids[0], "small", "vip"), (ids[-1], "vip", "major"), (ids[-5], "major", "ordinary"),
                     (ids[-20], "ordinary", "small")}
    assert tiers.recompute()["changed"] == 0


def test_override_wins_shows_as_override_and_expires_with_a_history_record(app, make_staff):
    supervisor, _ = make_staff("supervisor")
    ids = add_customers(100)
    add_spend([(cid, 1_000 + i) for i, cid in enumerate(ids)])
    tiers.recompute()
    target = ids[0]  # computed: small
    until = datetime.now(timezone.utc) + timedelta(days=30)
    shown = tiers.set_override(target, "vip", "  strategic account  ", until, supervisor)
    assert (shown["tier"], shown["source"], shown["computed_tier"]) == ("vip", "override", "small")
    assert shown["override"] == {"tier": "vip", "reason": "strategic account", "until": until,
                                 "by": supervisor.id, "active": True}
    assert tiers.effective_tier(target) == "vip"
    last = changes()[-1]
    assert last[:3] == (target, "small", "vip") and "strategic account" in last[3] and supervisor.name in last[3]

    before = len(changes())
    assert tiers.recompute()["changed"] == 0  # the override holds: no change
    assert len(changes()) == before and tiers.effective_tier(target) == "vip"

    # Time passes: the override's end is behind us. The decider stops using it at once ...
    db.session.execute(sa.update(CustomerTier).where(CustomerTier.customer_id == target)
                       .values(override_until=datetime.now(timezone.utc) - timedelta(minutes=1)))
    db.session.commit()
    assert tiers.effective_tier(target) == "small"
    assert tiers.detail(target)["source"] == "computed" and tiers.detail(target)["override"]["active"] is False
    # ... and the next recompute records it and clears it.
    result = tiers.recompute()
    assert (result["changed"], result["overrides_expired"]) == (1, 1)
    cid, from_tier, to_tier, reason = changes()[-1]
    assert (cid, from_tier, to_tier) == (target, "vip", "small") and reason.startswith("override expired; recompute")
    row = db.session.get(CustomerTier, target)
    assert (row.override_tier, row.override_reason, row.override_until, row.override_by) == (None, None, None, None)
    assert tiers.recompute()["changed"] == 0


def test_clearing_an_override_restores_the_computed_tier(app, make_staff):
    supervisor, _ = make_staff("supervisor")
    ids = add_customers(10)
    add_spend([(ids[0], 100)])
    tiers.recompute()
    tiers.set_override(ids[0], "small", "bad payer", None, supervisor)
    assert tiers.effective_tier(ids[0]) == "small"
    shown = tiers.clear_override(ids[0], supervisor)
    assert (shown["tier"], shown["source"], shown["override"]) == (tiers.detail(ids[0])["computed_tier"],
                                                                   "computed", None)
    assert changes()[-1][:3] == (ids[0], "small", shown["tier"])
    before = len(changes())
    tiers.clear_override(ids[0], supervisor)  # idempotent: nothing to remove, nothing recorded
    assert len(changes()) == before


def test_decider_before_any_recompute_and_for_new_customers(app):
    ids = add_customers(3)
    assert tiers.effective_tier(ids[0]) is None  # nothing computed: no opinion
    add_spend([(ids[0], 100)])
    tiers.recompute()
    late = Customer(name="Arrived after the recompute")
    db.session.add(late)
    db.session.commit()
    assert tiers.effective_tier(late.id) == "small"  # no spend known: the lowest tier
    assert tiers.effective_tier(2**31 - 1) is None and tiers.effective_tier(None) is None


def test_the_decider_reads_the_tier_with_the_customer_and_agrees_with_the_query(app, make_staff):
    # ``customer_columns`` puts the tier row in the core's customer read; the
    # decider must answer from it exactly what ``effective_tier`` answers by
    # query: computed, active override, expired override, no row.
    from service.reads.lookup import OPENING, customer_by_id

    supervisor, _ = make_staff("supervisor")
    ids = add_customers(4)
    assert tiers.tier_of(customer_by_id(ids[0], preload=OPENING)) is None  # before any recompute: no opinion
    db.session.rollback()
    add_spend([(cid, 100 * (i + 1)) for i, cid in enumerate(ids)])
    tiers.recompute()
    tiers.set_override(ids[1], "vip", "key account", None, supervisor)
    tiers.set_override(ids[2], "vip", "campaign", None, supervisor)
    db.session.execute(sa.update(CustomerTier).where(CustomerTier.customer_id == ids[2])
                       .values(override_until=datetime.now(timezone.utc) - timedelta(minutes=1)))
    late = Customer(name="Arrived after the recompute")
    db.session.add(late)
    db.session.commit()

    expected = {cid: tiers.effective_tier(cid) for cid in (*ids, late.id)}
    assert expected[ids[1]] == "vip" and expected[ids[2]] != "vip" and expected[late.id] == "small"
    db.session.rollback()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    for cid in expected:
        customer = customer_by_id(cid, preload=OPENING)
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert tiers.tier_of(customer) == expected[cid], cid
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        db.session.rollback()
    assert statements == []  # every answer came with the customer's row

    # Read another way (not by id), the decider still answers, by query.
    found = db.session.scalar(sa.select(Customer).where(Customer.id == ids[1]))
    assert tiers.tier_of(found) == "vip"


# --------------------------------------------------------------------------- job and settings

def test_the_nightly_recompute_job_is_declared_and_runs(app):
    spec = registry(app)["tier_sla.recompute"]
    assert (spec.interval, spec.queue, spec.func) == (86400, "default", "plugins.tier_sla.tiers:recompute_job")
    add_spend([(cid, 100) for cid in add_customers(5)])
    result = spec.callable()(**spec.kwargs)
    assert result["customers"] == 5 and result["period_to"] == TODAY.isoformat()


def test_settings_defaults_and_validation():
    s = tier_settings({})
    assert (s.method, s.tiers, s.period_days, s.measure, s.currency) == (
        "pyramid", ("vip", "major", "ordinary", "small"), 365, "spend", "CNY")
    assert s.bands == (("vip", 100), ("major", 500), ("ordinary", 2000), ("small", 10000))
    assert s.work_mem == "64MB" and tier_settings({"TIER_RECOMPUTE_WORK_MEM": None}).work_mem is None
    assert parse_shares("x", [["top", 0.5], ["rest", 99.5]])[1] == (("top", 50), ("rest", 10000))
    for config, words in (({"TIER_METHOD": "xyz"}, "TIER_METHOD"),
                          ({"TIER_SHARES": {"pyramid": [["a", 50], ["b", 40]]}}, "sum to 90"),
                          ({"TIER_SHARES": {"pyramid": [["a", 50], ["a", 50]]}}, "twice"),
                          ({"TIER_SHARES": {"pyramid": [["a", 0.001], ["b", 99.999]]}}, "two decimals"),
                          ({"TIER_SHARES": {"pyramid": [["a b", 50], ["c", 50]]}}, "tier name"),
                          ({"TIER_PERIOD_DAYS": 0}, "TIER_PERIOD_DAYS"), ({"TIER_MEASURE": "profit"}, "TIER_MEASURE"),
                          ({"TIER_PERIOD_DAYS": True}, "TIER_PERIOD_DAYS"), ({"TIER_PERIOD_DAYS": "30"}, "TIER_PERIOD_DAYS"),
                          ({"TIER_CURRENCY": "rmb"}, "TIER_CURRENCY"), ({"TIER_CURRENCY": "CNY\n"}, "TIER_CURRENCY"),
                          ({"TIER_RECOMPUTE_WORK_MEM": "64MB'; DROP TABLE x; --"}, "TIER_RECOMPUTE_WORK_MEM")):
        with pytest.raises(ValueError, match=words):
            tier_settings(config)


@pytest.mark.parametrize("overrides", [{"TIER_METHOD": "abc", "TIER_PERIOD_DAYS": 90, "TIER_RECOMPUTE_WORK_MEM": None}])
def test_settings_come_from_the_app_through_the_plugins_schema(app):
    from service import sdk
    from service.hooks.plugin_settings import described

    s = sdk.plugin_settings("tier_sla")
    assert isinstance(s, TierSettings) and tier_settings() is s  # loaded once, until a value changes
    assert (s.method, s.tiers, s.period_days, s.measure, s.currency, s.work_mem) == (
        "abc", ("A", "B", "C"), 90, "spend", "CNY", None)
    # ``kefu plugins --check`` lists each key with its value in force and its default.
    shown = {d["key"]: d for d in described(app, "tier_sla")}
    assert set(shown) == {"TIER_METHOD", "TIER_SHARES", "TIER_PERIOD_DAYS", "TIER_MEASURE", "TIER_CURRENCY",
                          "TIER_RECOMPUTE_WORK_MEM"}
    assert shown["TIER_METHOD"] == {"key": "TIER_METHOD", "value": "abc", "default": "pyramid", "set": True,
                                    "secret": False, "description": None}
    assert shown["TIER_CURRENCY"] == {"key": "TIER_CURRENCY", "value": "CNY", "default": "CNY", "set": False,
                                      "secret": False, "description": None}
    assert shown["TIER_SHARES"]["default"]["abc"] == [["A", 5], ["B", 15], ["C", 80]]
    app.config["TIER_METHOD"] = "pyramid"  # a changed value is loaded (and checked) again
    assert tier_settings().tiers == ("vip", "major", "ordinary", "small")


def test_a_bad_tier_setting_stops_the_app_at_start(app_config):
    # Loaded through the plugin's settings schema at start: kefu refuses to
    # start, naming the plugin, the key and what is wrong with it.
    with pytest.raises(PluginStartupError, match="plugin tier_sla failed in register_settings: .*"
                                                 "TIER_METHOD: TIER_METHOD 'xyz'"):
        create_app({**app_config, "TIER_METHOD": "xyz"})
    with pytest.raises(PluginStartupError, match="TIER_PERIOD_DAYS: TIER_PERIOD_DAYS must be a whole number"):
        create_app({**app_config, "TIER_PERIOD_DAYS": 0})


@pytest.mark.parametrize("overrides", [{"TIER_SHARES": {"gold": [["gold", 10], ["rest", 90]]},
                                        "TIER_METHOD": "gold"}])
def test_a_method_of_your_own(app):
    ids = add_customers(20)
    add_spend([(cid, 10 * (i + 1)) for i, cid in enumerate(ids)])
    tiers.recompute()
    assert counts(computed()) == {"gold": 2, "rest": 18}
