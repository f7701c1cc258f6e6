"""Colour contrast at WCAG 2.2 AA, computed from kefu.css's design tokens.

The stylesheet names its colours as custom properties on ``:root``; this
test reads them, and checks each pair of text (or ring, or outline) and
background the pages put together: 4.5:1 for text, 3:1 for focus rings
and the outlines of controls (WCAG 1.4.3, 1.4.11, 2.4.13). The badges are
checked rule by rule: every status, priority and SLA state has a badge rule
whose own text and background pass.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.domain.workflow import STATUSES
from service.models import PRIORITIES
from service.web.i18n import LABELS

CSS = (Path(__file__).resolve().parents[2] / "service" / "static" / "kefu.css").read_text(encoding="utf-8")
TEXT, LARGE, UI = 4.5, 3.0, 3.0


def _tokens(css: str) -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\n\}", css, re.S).group(1)
    root = re.sub(r"/\*.*?\*/", "", root, flags=re.S)
    return {name: value.strip().lower() for name, value in re.findall(r"--([\w-]+)\s*:\s*([^;]+);", root)}


TOKENS = _tokens(CSS)


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = TOKENS.get(colour.removeprefix("var(--").removesuffix(")"), colour) if colour.startswith("var(") \
        else TOKENS.get(colour, colour)
    match = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", colour)
    assert match, f"not a hex colour: {colour}"
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return tuple(int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(colour: str) -> float:
    """WCAG relative luminance of a token name or #hex colour."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(one: str, other: str) -> float:
    """WCAG contrast ratio of two colours (token names or #hex)."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_ratio_is_wcag_s():
    assert round(ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(ratio("#ffffff", "#ffffff"), 2) == 1.0
    assert round(ratio("#ffb703", "#ffffff"), 2) == 1.75  # the amber focus ring this replaced


# (foreground, background, minimum, where the pages put them together)
PAIRS = [
    ("fg", "bg", TEXT, "body text on the page"),
    ("fg", "card", TEXT, "text on cards, tables, the header and sidebar"),
    ("muted", "bg", TEXT, "secondary text (meta, hints, footer) on the page"),
    ("muted", "card", TEXT, "secondary text on cards"),
    ("muted", "count-bg", TEXT, "the steps' text, tags"),
    ("muted", "th-bg", TEXT, "secondary text in table headers"),
    ("fg", "th-bg", TEXT, "table headers"),
    ("fg", "hover", TEXT, "a hovered sidebar link or table row"),
    ("fg", "count-bg", TEXT, "the sidebar's counts"),
    ("accent", "card", TEXT, "links and secondary buttons"),
    ("accent", "bg", TEXT, "links on the page"),
    ("accent", "hover", TEXT, "links in a hovered table row"),
    ("accent", "accent-soft", TEXT, "a hovered button, the open menu switch, the row j/k chose"),
    ("accent-strong", "accent-soft", TEXT, "the current sidebar link"),
    ("accent-fg", "accent", TEXT, "primary buttons, current tabs, plain badges"),
    ("accent-fg", "accent-strong", TEXT, "a hovered primary button"),
    ("bad", "card", TEXT, "errors and danger buttons"),
    ("accent-fg", "bad", TEXT, "a filled danger button"),
    ("bad", "flash-error-bg", TEXT, "an error message"),
    ("ok", "card", TEXT, "done marks"),
    ("ok", "flash-ok-bg", TEXT, "a success message"),
    ("flash-fg", "flash-bg", TEXT, "an information message, filter chips"),
    ("warn", "card", TEXT, "warnings"),
    ("fg", "note-bg", TEXT, "internal notes, secrets, the note reply box"),
    ("fg", "overdue-bg", TEXT, "an overdue queue row"),
    ("muted", "overdue-bg", TEXT, "secondary text in an overdue row"),
    ("accent", "overdue-bg", TEXT, "the ticket link of an overdue row"),
    ("fg", "at-risk-bg", TEXT, "an at-risk queue row"),
    ("accent", "at-risk-bg", TEXT, "the ticket link of an at-risk row"),
    ("step-done-fg", "step-done-bg", TEXT, "the tracking page's done steps"),
    ("focus", "card", UI, "the focus ring on cards, the header, the sidebar"),
    ("focus", "bg", UI, "the focus ring on the page"),
    ("focus", "accent-soft", UI, "the focus ring on the current sidebar link, the open menu"),
    ("focus", "hover", UI, "the focus ring on a hovered row"),
    ("focus", "overdue-bg", UI, "the focus ring in an overdue row"),
    ("line-strong", "card", UI, "the outline of text fields and selects"),
    ("accent", "card", UI, "the outline of secondary buttons"),
    ("warn", "card", UI, "the outline of the note reply box"),
]


@pytest.mark.parametrize("fg, bg, minimum, where", PAIRS, ids=[f"{p[0]} on {p[1]}" for p in PAIRS])
def test_declared_pairs_reach_aa(fg, bg, minimum, where):
    assert fg in TOKENS and bg in TOKENS, f"{fg}/{bg} are not tokens of kefu.css"
    found = ratio(fg, bg)
    assert found >= minimum, f"{where}: {fg} on {bg} is {found:.2f}:1, needs {minimum}:1"


BADGES = ([("status", s) for s in STATUSES] + [("priority", p) for p in PRIORITIES]
          + [("sla", s) for s in LABELS["sla"]])


@pytest.mark.parametrize("group, name", BADGES, ids=[f"{g}-{n}" for g, n in BADGES])
def test_every_badge_has_its_colours_at_aa(group, name):
    rule = re.search(r"\.badge\." + re.escape(f"{group}-{name}") + r"\s*\{([^}]*)\}", CSS)
    assert rule, f".badge.{group}-{name} has no rule in kefu.css"
    colours = dict(re.findall(r"(background|color)\s*:\s*(var\(--[\w-]+\)|#[0-9a-fA-F]{3,6})", rule.group(1)))
    assert set(colours) == {"background", "color"}, rule.group(1)
    found = ratio(colours["color"], colours["background"])
    assert found >= TEXT, f".badge.{group}-{name}: {found:.2f}:1"
    # A badge stands out from the card it sits on by its fill, or else by a border.
    if ratio(colours["background"], "card") < 1.05:
        bordered = [selectors for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS) if "border-color" in body]
        assert any(f".badge.{group}-{name}" in [s.strip() for s in sel.split(",")] for sel in bordered), \
            f".badge.{group}-{name} is as light as the card and has no border"


def test_the_focus_ring_uses_the_token_everywhere():
    # Every outline drawn for focus uses the checked token, none a colour of its own.
    rings = re.findall(r"focus[^{]*\{[^}]*outline\s*:\s*([^;}]+)", CSS)
    assert rings
    for ring in rings:
        assert ring.strip() == "none" or "var(--focus)" in ring, ring
