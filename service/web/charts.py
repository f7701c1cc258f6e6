"""Charts as server-side SVG, from chart specs that are plain data.

A spec (what the ``dashboard_charts`` hook returns, and what the core's own
charts are)::

    {"key": str, "title": str, "kind": "bar" | "line" | "pareto",
     "labels": [str, ...], "series": [{"name": str, "values": [number or None, ...]}],
     "unit": str or None}

``pareto`` takes one series, sorts it largest first and draws the running
share as a line over the bars. Every text goes through ``markupsafe``
escaping; the SVG carries no script and no style attribute (colours come from
classes in ``kefu.css``), so it passes the page's Content-Security-Policy.
"""
from __future__ import annotations

import math

from flask_babel import gettext
from markupsafe import Markup, escape

W, H = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 96
KINDS = ("bar", "line", "pareto")


def normalise(spec: dict) -> dict | None:
    """A checked copy of ``spec`` (labels as text, values as floats or None), or
    None when it cannot be drawn (unknown kind, lengths that do not match)."""
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        return None
    labels = [str(x) for x in spec.get("labels") or []]
    series = []
    for s in spec.get("series") or []:
        values = [None if v is None else float(v) for v in (s.get("values") or [])]
        if len(values) != len(labels):
            return None
        series.append({"name": str(s.get("name") or ""), "values": values})
    if not series:
        return None
    out = {"key": str(spec.get("key") or ""), "title": str(spec.get("title") or ""), "kind": spec["kind"],
           "labels": labels, "series": series, "unit": spec.get("unit") and str(spec["unit"])}
    if out["kind"] == "pareto":
        pairs = sorted(zip(labels, series[0]["values"]), key=lambda p: -(p[1] or 0))
        out["labels"] = [p[0] for p in pairs]
        values = [p[1] or 0 for p in pairs]
        total, running, shares = sum(values), 0.0, []
        for v in values:
            running += v
            shares.append(round(100 * running / total, 1) if total else 0.0)
        out["series"] = [{"name": series[0]["name"], "values": values},
                         {"name": gettext("Running share"), "values": shares}]
        out["unit"] = None
    return out


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value``: grid lines at round numbers."""
    if value <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(step * scale for step in (1, 2, 2.5, 4, 5, 10) if step * scale >= value - 1e-9)


def format_value(v: float | None) -> str:
    """A chart value as shown: whole numbers without decimals, others with one."""
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _text(x, y, content, cls="", anchor="middle", rotate=False):
    transform = f' transform="rotate(-30 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}"{transform}>'
            f"{escape(content)}</text>")


def render_svg(spec: dict) -> Markup:
    """The SVG of a normalised spec (see ``normalise``)."""
    labels, series, kind = spec["labels"], spec["series"], spec["kind"]
    bars = series[:1] if kind == "pareto" else (series if kind == "bar" else [])
    lines = series[1:] if kind == "pareto" else (series if kind == "line" else [])
    n = max(len(labels), 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    bar_max = nice_top(max([v for s in bars for v in s["values"] if v is not None] + [0]))
    line_max = 100.0 if kind == "pareto" else nice_top(max([v for s in lines for v in s["values"] if v is not None] + [0]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart" '
             f'aria-label="{escape(spec["title"])}">']
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" class="axis"/>')
    top_value = bar_max if bars else line_max
    for i in range(5):  # four grid lines, labelled with the left scale
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" class="grid"/>')
        parts.append(_text(LEFT - 4, y + 4, format_value(top_value * i / 4), "scale", "end"))
        if kind == "pareto":
            parts.append(_text(LEFT + plot_w + 4, y + 4, f"{25 * i}%", "scale", "start"))
    slot = plot_w / n
    for si, s in enumerate(bars):
        width = slot * 0.7 / len(bars)
        for i, v in enumerate(s["values"]):
            if v is None:
                continue
            h = plot_h * v / bar_max
            x = LEFT + slot * i + slot * 0.15 + width * si
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'class="s{si}"><title>{escape(labels[i])}: {escape(format_value(v))}</title></rect>')
    for si, s in enumerate(lines):
        cls = f"s{si + len(bars)}"
        points = [(LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * v / line_max)
                  for i, v in enumerate(s["values"]) if v is not None]
        if points:
            parts.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" '
                         f'class="line {cls}"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="{cls}"/>' for x, y in points]
    for i, text in enumerate(labels):
        parts.append(_text(LEFT + slot * (i + 0.5), TOP + plot_h + 14, text[:24], "label", "end", rotate=True))
    parts.append("</svg>")
    return Markup("".join(parts))
