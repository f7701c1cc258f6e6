"""tier_sla's tier settings: defaults here, overridden by kefu's settings.

Every key can be set like any kefu setting (``config/*.py``, the
``KEFU_SETTINGS`` file, ``KEFU_<KEY>`` environment variables as JSON, a test's
overrides): ``KEFU_TIER_METHOD=abc`` switches to ABC. ``tier_settings()``
validates them; a bad value raises ``ValueError`` naming the key, and the
plugin calls it when the app is built, so a misconfiguration stops kefu at
start instead of failing the nightly job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app

DEFAULTS = {
    # Which classification is in force: a key of TIER_SHARES.
    "TIER_METHOD": "pyramid",
    # Each method's tiers, top first, with the percentage of all customers in
    # each (at most two decimals, summing to 100). The last tier is the lowest:
    # it also takes every customer without positive spend.
    "TIER_SHARES": {
        "pyramid": [["vip", 1], ["major", 4], ["ordinary", 15], ["small", 80]],
        "abc": [["A", 5], ["B", 15], ["C", 80]],
    },
    # The period: the last N days up to and including today (UTC).
    "TIER_PERIOD_DAYS": 365,
    # "spend" sums amounts; "margin" sums margins (a transaction without one counts 0).
    "TIER_MEASURE": "spend",
    # Amounts are summed in minor units of this currency only: kefu does not
    # convert, so transactions in another currency are refused on import.
    "TIER_CURRENCY": "CNY",
    # PostgreSQL only: work_mem for the recompute's transaction. Its sorts and
    # hashes over every customer spill to disk at the server's default 4MB,
    # several times slower; None keeps the server's setting.
    "TIER_RECOMPUTE_WORK_MEM": "64MB",
}

MEASURES = ("spend", "margin")
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")  # fits CustomerTier.computed_tier


@dataclass(frozen=True)
class TierSettings:
    """The validated tier settings. ``bands``: ``[(tier, cumulative share in
    hundredths of a percent)]`` top first, the last one 10000."""

    method: str
    tiers: tuple[str, ...]
    bands: tuple[tuple[str, int], ...]
    period_days: int
    measure: str
    currency: str
    work_mem: str | None = None

    @property
    def lowest(self) -> str:
        """The lowest tier: customers without positive spend land here."""
        return self.tiers[-1]

    def period(self, today: date) -> tuple[date, date]:
        """``(first, last)`` day counted when computing on ``today`` (both inclusive)."""
        return today - timedelta(days=self.period_days - 1), today


def _get(config, key):
    return config.get(key, DEFAULTS[key])


def _hundredths(value, key: str, name: str) -> int:
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{key}: the share of tier {name!r} is not a number: {value!r}") from None
    if isinstance(value, bool) or not share.is_finite() or share <= 0 or share != share.quantize(Decimal("0.01")):
        raise ValueError(f"{key}: the share of tier {name!r} must be a positive percentage "
                         f"with at most two decimals, not {value!r}")
    return int(share * 100)


def parse_shares(method: str, shares, key: str = "TIER_SHARES") -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """Validate one method's ``[[tier, percent], ...]``; return ``(tiers, bands)``.

    Raises ``ValueError`` when a name is not 1-20 letters, digits, ``_`` or
    ``-``, repeats, a share is not a positive percentage with at most two
    decimals, or the shares do not sum to exactly 100.
    """
    if not isinstance(shares, (list, tuple)) or not shares:
        raise ValueError(f"{key}[{method!r}] must be a list of [tier, percent] pairs")
    tiers, bands, total = [], [], 0
    for pair in shares:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"{key}[{method!r}]: {pair!r} is not a [tier, percent] pair")
        name = pair[0]
        if not _NAME.fullmatch(name):
            raise ValueError(f"{key}[{method!r}]: tier name {name!r} must be 1-20 of A-Z a-z 0-9 _ -")
        if name in tiers:
            raise ValueError(f"{key}[{method!r}]: tier {name!r} is named twice")
        total += _hundredths(pair[1], key, name)
        tiers.append(name)
        bands.append((name, total))
    if total != 10000:
        raise ValueError(f"{key}[{method!r}]: the shares sum to {Decimal(total) / 100}%, not 100%")
    return tuple(tiers), tuple(bands)


def tier_settings(config=None) -> TierSettings:
    """The tier settings from ``config`` (default: the current app's), with
    ``DEFAULTS`` for missing keys; ``TIER_SHARES`` from the config is merged
    over the default methods. Raises ``ValueError`` naming a bad key."""
    config = current_app.config if config is None else config
    shares = {**DEFAULTS["TIER_SHARES"], **(_get(config, "TIER_SHARES") or {})}
    method = _get(config, "TIER_METHOD")
    if method not in shares:
        raise ValueError(f"TIER_METHOD {method!r} is not one of {', '.join(sorted(shares))} (TIER_SHARES)")
    tiers, bands = parse_shares(method, shares[method])
    days = _get(config, "TIER_PERIOD_DAYS")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36600:
        raise ValueError(f"TIER_PERIOD_DAYS must be a whole number of days from 1 to 36600, not {days!r}")
    measure = _get(config, "TIER_MEASURE")
    if measure not in MEASURES:
        raise ValueError(f"TIER_MEASURE must be one of {', '.join(MEASURES)}, not {measure!r}")
    currency = _get(config, "TIER_CURRENCY")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"TIER_CURRENCY must be a 3-letter ISO code such as CNY, not {currency!r}")
    work_mem = _get(config, "TIER_RECOMPUTE_WORK_MEM")
    if work_mem is not None and not (isinstance(work_mem, str) and re.fullmatch(r"[1-9][0-9]{0,6}(kB|MB|GB)", work_mem)):
        raise ValueError(f"TIER_RECOMPUTE_WORK_MEM must be a size such as 64MB (kB, MB or GB) or None, not {work_mem!r}")
    return TierSettings(method=method, tiers=tiers, bands=bands, period_days=days, measure=measure,
                        currency=currency, work_mem=work_mem)
