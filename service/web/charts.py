"""Charts as server-side SVG, from chart specs that are plain data.

A spec (what the ``dashboard_charts`` hook returns, and what the core's own
charts are)::

    {"key": str, "title": str, "kind": "bar" | "line" | "pareto",
     "labels": [str, ...], "series": [{"name": str, "values": [number or None, ...]}],
     "unit": str or None, "links": [str or None, ...],
     "label_title": str or None, "value_title": str or None}

Why hand-written SVG and not a charting library: the page stays
script-free (the Content-Security-Policy forbids inline script and style,
and a script library would need a build and a fallback), each bar can be a
plain link, and the few shapes the dashboard needs fit in this module.

How it stays readable:

* ``bar`` and ``pareto`` are drawn as **horizontal** bars, each label on its
  own line(s) above its bars across the whole width, wrapped at spaces (or
  between Chinese characters) and never cut; ``pareto`` sorts the first
  series largest first and writes each label's running share beside it.
* ``line`` draws each series as a polyline (joining the points that have a value),
  the period before dashed, x labels thinned out so they never overlap.
* The drawing is ``W`` user units wide and every text is ``FONT`` units
  (``kefu.css``): the cards are at least about 330 px wide (a 390 px phone),
  so text is at least 12 px on screen.
* Both axes are titled (``label_title``, ``value_title`` and the unit).

Every text goes through ``markupsafe`` escaping; the SVG carries no script
and no style attribute (colours come from classes in ``kefu.css``). Links
are kept only when they are paths on this site.
"""
from __future__ import annotations

import math
import unicodedata

from markupsafe import Markup, escape

from service.translate import gettext

W = 400
FONT = 15  # user units; kefu.css sets the same size on svg.chart text
LINE = 19  # a text line's height
KINDS = ("bar", "line", "pareto")


def same_site(url) -> str | None:
    """``url`` when it is a path on this site (``/...``, not ``//host``), else None."""
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None


def normalise(spec: dict) -> dict | None:
    """A checked copy of ``spec`` (labels as text, values as floats or None,
    links kept only on this site), or None when it cannot be drawn (unknown
    kind, lengths that do not match). Each series gets its ``unit``; a
    pareto gets its running share (percent) as the last series."""
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        return None
    labels = [str(x) for x in spec.get("labels") or []]
    unit = spec.get("unit") and str(spec["unit"])
    series = []
    for s in spec.get("series") or []:
        values = [None if v is None else float(v) for v in (s.get("values") or [])]
        if len(values) != len(labels):
            return None
        series.append({"name": str(s.get("name") or ""), "values": values, "unit": unit})
    if not series:
        return None
    links = list(spec.get("links") or [])
    links = [same_site(u) for u in links] if len(links) == len(labels) else [None] * len(labels)
    out = {"key": str(spec.get("key") or ""), "title": str(spec.get("title") or ""), "kind": spec["kind"],
           "labels": labels, "series": series, "unit": unit, "links": links,
           "label_title": str(spec.get("label_title") or ""), "value_title": str(spec.get("value_title") or "")}
    if out["kind"] == "pareto":
        order = sorted(range(len(labels)), key=lambda i: -(series[0]["values"][i] or 0))
        out["labels"] = [labels[i] for i in order]
        out["links"] = [links[i] for i in order]
        out["series"] = [{**s, "values": [s["values"][i] for i in order]} for s in series]
        values = [v or 0 for v in out["series"][0]["values"]]
        total, running, shares = sum(values), 0.0, []
        for v in values:
            running += v
            shares.append(round(100 * running / total, 1) if total else 0.0)
        out["series"].append({"name": gettext("Running share"), "values": shares, "unit": "%", "share": True})
    return out


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 4, 5 x 10^k at or above ``value``: grid lines at round numbers."""
    if value <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(step * scale for step in (1, 2, 2.5, 4, 5, 10) if step * scale >= value - 1e-9)


def format_value(v: float | None) -> str:
    """A chart value as shown: whole numbers without decimals, others with one."""
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _with_unit(v, unit) -> str:
    text = format_value(v)
    return f"{text} {unit}" if text and unit else text or "-"


def text_width(text: str) -> float:
    """The width of ``text`` at ``FONT`` in user units, estimated: wide
    (Chinese) characters one em, others a little over half an em."""
    return sum(FONT if unicodedata.east_asian_width(c) in "WF" else FONT * 0.58 for c in text)


def wrap(text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (estimated), broken at
    spaces, or anywhere between wide characters; a word longer than a line is
    broken too. Every character is kept: joined, the lines give ``text``
    back (spaces at breaks aside)."""
    lines, line = [], ""
    for token in _tokens(text):
        candidate = line + token
        if line and text_width(candidate.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = candidate
        while text_width(line.rstrip()) > width and len(line.rstrip()) > 1:  # one token wider than a line
            cut = len(line)
            while cut > 1 and text_width(line[:cut]) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:].lstrip()
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    # Words with their trailing space; each wide character alone.
    out, word = [], ""
    for c in text:
        if unicodedata.east_asian_width(c) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(c)
        else:
            word += c
            if c == " ":
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return out


def _text(x, y, content, cls="", anchor="start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(content)}</text>'


def _link(url, name, inner) -> str:
    # The full name as a tooltip too (and whole in the SVG, however the label wraps).
    if not url:
        return f"<g><title>{escape(name)}</title>{inner}</g>"
    return f'<a href="{escape(url)}" aria-label="{escape(name)}"><title>{escape(name)}</title>{inner}</a>'


def _point_name(spec, i) -> str:
    # What a bar or point stands for, read aloud: "Label: 12 (Previous period: 8)".
    parts = [f"{s['name']} {_with_unit(s['values'][i], s['unit'])}" for s in spec["series"]]
    return f"{spec['labels'][i]}: " + ", ".join(parts)


def render_svg(spec: dict) -> Markup:
    """The SVG of a normalised spec (see ``normalise``)."""
    body, height = (_line_chart if spec["kind"] == "line" else _bar_chart)(spec)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height:.0f}" role="group" '
                  f'class="chart chart-{spec["kind"]}" aria-label="{escape(spec["title"])}">'
                  + "".join(body) + "</svg>")


def _value_axis_title(spec) -> str:
    title, unit = spec["value_title"], spec["unit"]
    if title and unit and unit not in title:
        return f"{title} ({unit})"
    return title or unit or ""


def _bar_chart(spec) -> tuple[list[str], float]:
    """Horizontal bars: per label its wrapped text, then one bar per series."""
    bars = [s for s in spec["series"] if not s.get("share")]
    share = next((s for s in spec["series"] if s.get("share")), None)
    left, right = 6.0, W - 58.0  # room on the right for the value after the longest bar
    plot_w = right - left
    top_value = nice_top(max([v for s in bars for v in s["values"] if v is not None] + [0]))
    parts, y = [], 0.0
    if spec["label_title"]:
        parts.append(_text(left, y + FONT, spec["label_title"], "axis-title"))
        y += LINE + 4
    bar_h, gap = 14.0, 3.0
    for i, label in enumerate(spec["labels"]):
        # A pareto's running share is written at the right of the label's
        # first line (on the value axis it would read as a count).
        share_text = f"{share['name']} {format_value(share['values'][i])} %" if share is not None else ""
        room = W - 2 * left - (text_width(share_text) + 12 if share_text else 0)
        lines = wrap(label, room)
        inner = [_text(left, y + FONT + LINE * k, line, "label") for k, line in enumerate(lines)]
        if share_text:
            inner.append(_text(W - left, y + FONT, share_text, "share", "end"))
        y += LINE * len(lines) + 2
        for si, s in enumerate(bars):
            v = s["values"][i]
            width = 0 if v is None else plot_w * v / top_value
            if v is not None:  # no value, no bar (only the dash after it)
                inner.append(f'<rect x="{left:.1f}" y="{y:.1f}" width="{max(width, 0.5 if v else 0):.1f}" '
                             f'height="{bar_h:.0f}" class="s{si}"/>')
            inner.append(_text(left + width + 4, y + bar_h - 2, _with_unit(v, s["unit"]), "value"))
            y += bar_h + gap
        parts.append(_link(spec["links"][i], _point_name(spec, i), "".join(inner)))
        y += 8
    # The value axis: a line, three ticks, its title.
    parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="axis"/>')
    for k in range(3):
        x = left + plot_w * k / 2
        parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 4:.1f}" class="axis"/>')
        parts.append(_text(x, y + 4 + FONT, format_value(top_value * k / 2), "scale",
                           "start" if k == 0 else ("end" if k == 2 else "middle")))
    y += 4 + LINE
    title = _value_axis_title(spec)
    for line in wrap(title, W - 12) if title else []:
        parts.append(_text(W / 2, y + FONT, line, "axis-title", "middle"))
        y += LINE
    return parts, y + 6


def _line_chart(spec) -> tuple[list[str], float]:
    """Lines over time: one polyline per series (over its non-None points), dots on
    the points; the first series' dots link to what they count."""
    labels, series = spec["labels"], spec["series"]
    n = max(len(labels), 1)
    top_value = nice_top(max([v for s in series for v in s["values"] if v is not None] + [0]))
    scale_w = max(text_width(format_value(top_value * k / 4)) for k in range(5))
    left, right, top = 8 + scale_w + 6, W - 10.0, 0.0
    parts, y = [], 0.0
    title = _value_axis_title(spec)
    for line in wrap(title, W - 12) if title else []:
        parts.append(_text(4, y + FONT, line, "axis-title"))
        y += LINE
    top = y + 10
    plot_h, plot_w = 170.0, right - left
    slot = plot_w / n
    for k in range(5):  # grid lines at quarters of a round top value
        gy = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left:.1f}" y1="{gy:.1f}" x2="{right:.1f}" y2="{gy:.1f}" class="grid"/>')
        parts.append(_text(left - 6, gy + 5, format_value(top_value * k / 4), "scale", "end"))
    parts.append(f'<line x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{right:.1f}" y2="{top + plot_h:.1f}" class="axis"/>')
    parts.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{top + plot_h:.1f}" class="axis"/>')

    def point(i, v):
        return left + slot * (i + 0.5), top + plot_h - plot_h * v / top_value

    for si in reversed(range(len(series))):  # the first series drawn last: on top
        s = series[si]
        cls = f"s{si}" + (" previous" if si else "")
        # Weeks without a figure (None) are skipped, not drawn as zero: the
        # line joins the weeks that have one.
        line = [point(i, v) for i, v in enumerate(s["values"]) if v is not None]
        if len(line) > 1:
            parts.append(f'<polyline points="{" ".join(f"{x:.1f},{py:.1f}" for x, py in line)}" class="line {cls}"/>')
        for i, v in enumerate(s["values"]):
            if v is None:
                continue
            x, py = point(i, v)
            dot = f'<circle cx="{x:.1f}" cy="{py:.1f}" r="{4 if si == 0 else 3}" class="{cls}"/>'
            parts.append(_link(spec["links"][i], _point_name(spec, i), dot) if si == 0 else dot)
    if not any(v is not None for s in series for v in s["values"]):
        parts.append(_text(left + plot_w / 2, top + plot_h / 2, gettext("No figures in this period."), "empty",
                           "middle"))
    # x labels: as many as fit side by side without overlapping, always the last.
    widest = max([text_width(t) for t in labels] + [1]) + 10
    every = max(1, math.ceil(widest / slot))
    shown = [i for i in range(len(labels)) if (len(labels) - 1 - i) % every == 0]
    for i in shown:
        x = left + slot * (i + 0.5)
        anchor = "end" if x + text_width(labels[i]) / 2 > W else ("start" if x - text_width(labels[i]) / 2 < 0
                                                                   else "middle")
        parts.append(_text(x, top + plot_h + 4 + FONT, labels[i], "scale", anchor))
    y = top + plot_h + 4 + LINE
    for line in wrap(spec["label_title"], W - 12) if spec["label_title"] else []:
        parts.append(_text(W / 2, y + FONT, line, "axis-title", "middle"))
        y += LINE
    return parts, y + 8
