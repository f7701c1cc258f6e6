"""Quarters as ``YYYYQn`` strings (``2026Q4``): the rating period of credit_check."""
from __future__ import annotations

import re
from datetime import date

QUARTER = re.compile(r"^(19|2[0-9])[0-9]{2}Q[1-4]$")  # 1900Q1 ... 2999Q4


def check(value: str) -> str:
    """``value`` if it is a quarter such as ``2026Q4``, else ``ValueError``."""
    if not isinstance(value, str) or not QUARTER.fullmatch(value):
        raise ValueError(f"{value!r} is not a quarter such as 2026Q4")
    return value


def of(day: date) -> str:
    """The quarter ``day`` falls in: 2026-11-24 -> ``2026Q4``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous(quarter: str) -> str:
    """The quarter before: ``2026Q1`` -> ``2025Q4``."""
    year, n = int(check(quarter)[:4]), int(quarter[5])
    return f"{year - 1}Q4" if n == 1 else f"{year}Q{n - 1}"
