"""Inline SVG salary charts, rendered at build time: no JavaScript, no chart library.

Each chart has a <title> and <desc> for screen readers, German number labels, and the
page shows a table with the same figures next to it (the accessible alternative).
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from markupsafe import Markup

from .salary import format_number, format_range

_W = 640  # viewBox width; the SVG scales to its container
_LABEL = 150  # left label column
_RIGHT = 130  # right value column
_ROW = 30


def _scale(hi: Decimal) -> float:
    return float(hi) * 1.04 or 1.0


def _x(value: Decimal, top: float) -> float:
    return round(_LABEL + (_W - _LABEL - _RIGHT) * float(value) / top, 1)


def _svg(ident: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (f'<svg class="chart" viewBox="0 0 {_W} {height}" width="100%" role="img" '
            f'aria-labelledby="{ident}_t {ident}_d" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}_t">{escape(title)}</title><desc id="{ident}_d">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _axis(top: float, height: int, currency_unit: str, locale: str) -> list[str]:
    out = []
    step = _nice_step(top)
    value = 0
    while value <= top:
        x = _x(Decimal(value), top)
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="4" y2="{height - 18}"/>'
                   f'<text class="tick" x="{x}" y="{height - 4}" text-anchor="middle">'
                   f'{format_number(Decimal(value), locale)}</text>')
        value += step
    return out


def _nice_step(top: float) -> int:
    for step in (100, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000, 250000):
        if top / step <= 5:
            return step
    return 500000


def _bar(y: float, label: str, lo: Decimal, hi: Decimal, levels, top: float, currency: str, locale: str,
         current: bool = False) -> str:
    x1, x2 = _x(lo, top), _x(hi, top)
    cls = "bar current" if current else "bar"
    parts = [f'<text class="label" x="{_LABEL - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>',
             f'<rect class="{cls}" x="{x1}" y="{y + 4}" width="{max(round(x2 - x1, 1), 2)}" height="16" rx="3"/>']
    for level in levels:
        lx1, lx2 = _x(level.min, top), _x(level.max, top)
        parts.append(f'<rect class="level" x="{lx1}" y="{y + 8}" width="{max(round(lx2 - lx1, 1), 2)}" height="8" rx="2"/>')
    parts.append(f'<text class="value" x="{_W - _RIGHT + 6}" y="{y + 15}">'
                 f'{escape(format_range(lo, hi, currency, locale))}</text>')
    return "".join(parts)


def levels_chart(article, config) -> Markup:
    """One bar for the range and one per level."""
    s = article.salary
    rows = [(config.words["salary_range"], s.min, s.max)] + [(lv.label, lv.min, lv.max) for lv in s.levels]
    top = _scale(s.max)
    height = len(rows) * _ROW + 26
    body = _axis(top, height, s.currency, config.locale)
    for n, (label, lo, hi) in enumerate(rows):
        body.append(_bar(n * _ROW, _truncate(label), lo, hi, (), top, s.currency, config.locale, current=n == 0))
    title = config.words["chart_title"].format(name=article.title)
    return _svg("chart_levels", title, config.words["chart_desc"], height, body)


def comparison_chart(term, rows: list[dict], config) -> Markup:
    """One bar per city (or profession) with its levels, on a shared scale (one currency and period)."""
    if not rows:
        return Markup("")
    group = rows[0]["salary"].group
    same = [r for r in rows if r["salary"].group == group]
    top = _scale(max(r["salary"].max for r in same))
    height = len(same) * _ROW + 26
    body = _axis(top, height, group[0], config.locale)
    for n, row in enumerate(same):
        s = row["salary"]
        label = row["city"] if term.kind == "profession" else row["role"]
        body.append(_bar(n * _ROW, _truncate(label), s.min, s.max, s.levels, top, s.currency, config.locale))
    title = config.words["chart_title"].format(name=term.name)
    return _svg(f"chart_{term.kind}", title, config.words["chart_desc"], height, body)


def _truncate(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
