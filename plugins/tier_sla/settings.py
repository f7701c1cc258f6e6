"""tier_sla's tier settings, declared (``register_settings``) with their
defaults and checked when kefu starts (a bad value stops kefu, naming the key).

Every key can be set like any kefu setting (the ``KEFU_SETTINGS`` file,
``KEFU_<KEY>`` environment variables as JSON, a test's overrides):
``KEFU_TIER_METHOD=abc`` switches to ABC. The schema (``TierSettingsSchema``)
loads them into a ``TierSettings``; the plugin reads it with
``tier_settings()`` (``sdk.plugin_settings("tier_sla")``), so a
misconfiguration stops kefu at start instead of failing the nightly job.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields

from service import sdk

PLUGIN = "tier_sla"

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
PERIOD_MAX = 36600
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")  # fits CustomerTier.computed_tier
_CURRENCY = re.compile(r"[A-Z]{3}")
_WORK_MEM = re.compile(r"[1-9][0-9]{0,6}(kB|MB|GB)")  # inlined in SET LOCAL: nothing else may pass


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


# --------------------------------------------------------------------------- the schema

_PERIOD_ERROR = f"TIER_PERIOD_DAYS must be a whole number of days from 1 to {PERIOD_MAX}"
_CURRENCY_ERROR = "TIER_CURRENCY must be a 3-letter ISO code such as CNY"
_WORK_MEM_ERROR = "TIER_RECOMPUTE_WORK_MEM must be a size such as 64MB (kB, MB or GB) or None"


def _matches(pattern: re.Pattern, error: str):
    def check(value) -> None:
        if not pattern.fullmatch(value):  # fullmatch: "$" would let a trailing newline through
            raise ma.ValidationError(f"{error}, not {value!r}")

    return check


class TierSettingsSchema(ma.Schema):
    """tier_sla's settings; ``load`` gives a ``TierSettings`` (``post_load``)."""

    # Which classification is in force: a key of TIER_SHARES.
    TIER_METHOD = fields.String(load_default=DEFAULTS["TIER_METHOD"],
                                error_messages={"invalid": "TIER_METHOD must be the name of a method of TIER_SHARES"})
    # Each method's tiers, top first, with the percentage of all customers in
    # each (at most two decimals, summing to 100); merged over the default
    # methods (pyramid, abc). The last tier is the lowest: it also takes
    # every customer without positive spend.
    TIER_SHARES = fields.Dict(keys=fields.String(), allow_none=True,
                              load_default=lambda: copy.deepcopy(DEFAULTS["TIER_SHARES"]),
                              error_messages={"invalid": "TIER_SHARES must be an object of method -> "
                                                         "[[tier, percent], ...]"})
    # The period: the last N days up to and including today (UTC).
    TIER_PERIOD_DAYS = fields.Integer(
        strict=True, load_default=DEFAULTS["TIER_PERIOD_DAYS"],
        validate=ma.validate.Range(min=1, max=PERIOD_MAX, error=_PERIOD_ERROR + ", not {input!r}"),
        error_messages={"invalid": _PERIOD_ERROR + ", not {input!r}", "null": _PERIOD_ERROR + ", not None"})
    # "spend" sums amounts; "margin" sums margins (a transaction without one counts 0).
    TIER_MEASURE = fields.String(
        load_default=DEFAULTS["TIER_MEASURE"],
        validate=ma.validate.OneOf(MEASURES, error=f"TIER_MEASURE must be one of {', '.join(MEASURES)}, "
                                                   "not {input!r}"),
        error_messages={"invalid": f"TIER_MEASURE must be one of {', '.join(MEASURES)}"})
    # Amounts are summed in minor units of this currency only: kefu does not
    # convert, so transactions in another currency are refused on import.
    TIER_CURRENCY = fields.String(load_default=DEFAULTS["TIER_CURRENCY"],
                                  validate=_matches(_CURRENCY, _CURRENCY_ERROR),
                                  error_messages={"invalid": _CURRENCY_ERROR})
    # PostgreSQL only: work_mem for the recompute's transaction (its sorts and
    # hashes over every customer spill to disk at the server's default 4MB);
    # None keeps the server's setting.
    TIER_RECOMPUTE_WORK_MEM = fields.String(load_default=DEFAULTS["TIER_RECOMPUTE_WORK_MEM"], allow_none=True,
                                            validate=_matches(_WORK_MEM, _WORK_MEM_ERROR),
                                            error_messages={"invalid": _WORK_MEM_ERROR})

    @ma.post_load
    def _settings(self, data, **kwargs) -> TierSettings:
        shares = {**DEFAULTS["TIER_SHARES"], **(data["TIER_SHARES"] or {})}
        method = data["TIER_METHOD"]
        if method not in shares:
            raise ma.ValidationError(f"TIER_METHOD {method!r} is not one of {', '.join(sorted(shares))} "
                                     "(TIER_SHARES)", "TIER_METHOD")
        try:
            tiers, bands = parse_shares(method, shares[method])
        except ValueError as exc:
            raise ma.ValidationError(str(exc), "TIER_SHARES") from None
        return TierSettings(method=method, tiers=tiers, bands=bands, period_days=data["TIER_PERIOD_DAYS"],
                            measure=data["TIER_MEASURE"], currency=data["TIER_CURRENCY"],
                            work_mem=data["TIER_RECOMPUTE_WORK_MEM"])


def _why(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for key, v in messages.items())
    return " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)


def load(config) -> TierSettings:
    """The tier settings from a mapping of settings (e.g. an app's config),
    through the schema, with the defaults for missing keys. Raises
    ``ValueError`` naming each bad key."""
    raw = {key: config[key] for key in TierSettingsSchema().fields if key in config}
    try:
        return TierSettingsSchema().load(raw)
    except ma.ValidationError as exc:
        raise ValueError(_why(exc.messages)) from None


def tier_settings(config=None) -> TierSettings:
    """The tier settings in force (``sdk.plugin_settings``: the app's, as the
    schema loaded them), or those of ``config`` when given (``load``)."""
    return sdk.plugin_settings(PLUGIN) if config is None else load(config)
