"""Inline SVG salary charts, rendered at build time: no JavaScript, no chart library.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` for screen
readers, labels in the site's number format, and the page shows a table with the same
figures next to it (the accessible alternative). The SVG has no viewBox: horizontal
positions are percentages of its width and text keeps its CSS size, so the chart reflows
from 320 px phones to desktops without shrinking its labels.

Each row is a label line (name left, range right) above its bar. A row's bar spans
min–max; when the row has levels, the range is drawn as a thin whisker and the levels as
bars on it. An optional dashed line marks a median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from html import escape

from markupsafe import Markup

from .salary import format_money, format_number, format_range

ROW = 38  # px per row: label line + bar
_LABEL_Y = 14  # baseline of the label line within a row
_BAR_Y, _BAR_H = 20, 12
_TOP = 20  # room above the first row for the median label
_AXIS = 24  # room below the last row for the tick labels
_NEAR_START, _NEAR_END = Decimal("0.3"), Decimal("0.7")  # a median label this near an edge sits beside its line
LABEL_LIMIT = 26  # characters; longer names are shortened in the chart (the table has them in full)


@dataclass(frozen=True, slots=True)
class Row:
    """One bar: a label, a range and optional (label, min, max) levels drawn on it."""

    label: str
    low: Decimal
    high: Decimal
    levels: tuple[tuple[str, Decimal, Decimal], ...] = ()


def nice_step(span: float) -> Decimal:
    """A 1-2-2.5-5 step that divides ``span`` into at most five intervals."""
    magnitude = Decimal(1)
    while True:
        for factor in (1, 2, Decimal("2.5"), 5):
            step = magnitude * factor
            if span / float(step) <= 5:
                return step
        magnitude *= 10


@lru_cache(maxsize=4096)  # salaries recur (steps of 50 or 100): 13 µs less a chart
def axis_bounds(low: Decimal, high: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(start, end, step) of an axis covering low..high, with round ends.

    The axis starts below the lowest value rather than at 0: the bars show ranges
    (floating bars), and a 0 baseline would squeeze 2.800–4.400 into a sliver.
    """
    span = float(high - low) or float(high) * 0.2 or 1.0
    step = nice_step(span * 1.1)
    start = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    end = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    if start == low and start > 0:
        start -= step  # keep the lowest bar off the chart's edge
    if end == high:
        end += step
    return max(start, Decimal(0)), end, step


@lru_cache(maxsize=4096)  # the same amounts and axes recur on many pages (~20 calls per chart)
def _pct(value: Decimal, start: Decimal, end: Decimal) -> str:
    share = (value - start) / (end - start) * 100
    return f"{share.quantize(Decimal('0.01'))}%"


@lru_cache(maxsize=4096)
def _width(low: Decimal, high: Decimal, start: Decimal, end: Decimal) -> str:
    share = max((high - low) / (end - start) * 100, Decimal("0.6"))  # a single value stays visible
    return f"{share.quantize(Decimal('0.01'))}%"


@lru_cache(maxsize=1024)  # charts with the same axis and row count share it: ~10 µs less a chart
def _grid(start: Decimal, end: Decimal, step: Decimal, rows: int, locale: str) -> str:
    """The vertical grid lines and their tick labels under ``rows`` rows."""
    height = _TOP + rows * ROW + _AXIS
    plot_bottom = _TOP + rows * ROW
    out = []
    tick = start
    while tick <= end:
        x = _pct(tick, start, end)
        anchor = "start" if tick == start else "end" if tick + step > end else "middle"
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{_TOP}" y2="{plot_bottom}"/>'
                   f'<text class="tick" x="{x}" y="{height - 6}" text-anchor="{anchor}">'
                   f'{format_number(tick, locale)}</text>')
        tick += step
    return "".join(out)


def _shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def salary_chart(ident: str, title: str, desc: str, rows: Sequence[Row], currency: str, locale: str,
                 median: tuple[str, Decimal] | None = None) -> Markup:
    """An SVG with one row per ``Row`` on a shared axis; ``median`` = (label, value) adds a dashed line.

    ``ident`` must be unique on the page (it names the title and desc elements).
    """
    if not rows:
        return Markup("")
    low = min(r.low for r in rows)
    high = max(r.high for r in rows)
    if median:
        low, high = min(low, median[1]), max(high, median[1])
    start, end, step = axis_bounds(low, high)
    height = _TOP + len(rows) * ROW + _AXIS
    plot_bottom = _TOP + len(rows) * ROW
    out = [f'<svg class="chart" width="100%" height="{height}" role="img" '
           f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>']
    out.append(_grid(start, end, step, len(rows), locale))
    for n, row in enumerate(rows):
        y = _TOP + n * ROW
        out.append(f'<text class="label" x="0" y="{y + _LABEL_Y}">{escape(_shorten(row.label))}</text>'
                   f'<text class="value" x="100%" y="{y + _LABEL_Y}" text-anchor="end">'
                   f'{escape(format_range(row.low, row.high, currency, locale))}</text>')
        x, w = _pct(row.low, start, end), _width(row.low, row.high, start, end)
        if row.levels:
            mid = y + _BAR_Y + _BAR_H // 2
            out.append(f'<rect class="whisker" x="{x}" y="{mid - 1}" width="{w}" height="2"/>'
                       f'<rect class="whisker" x="{x}" y="{y + _BAR_Y}" width="2" height="{_BAR_H}"/>'
                       f'<rect class="whisker" x="{_pct(row.high, start, end)}" y="{y + _BAR_Y}" width="2" '
                       f'height="{_BAR_H}" transform="translate(-2 0)"/>')
            for _label, lo, hi in row.levels:
                out.append(f'<rect class="bar" x="{_pct(lo, start, end)}" y="{y + _BAR_Y + 2}" '
                           f'width="{_width(lo, hi, start, end)}" height="{_BAR_H - 4}" rx="2"/>')
        else:
            out.append(f'<rect class="bar" x="{x}" y="{y + _BAR_Y}" width="{w}" height="{_BAR_H}" rx="2"/>')
    if median:
        label, value = median
        x = _pct(value, start, end)
        share = (value - start) / (end - start)
        # keep the label inside the chart: beside the line near the edges, centred above it in between
        anchor, dx = ("start", 4) if share < _NEAR_START else ("end", -4) if share > _NEAR_END else ("middle", 0)
        out.append(f'<line class="median" x1="{x}" x2="{x}" y1="{_TOP - 2}" y2="{plot_bottom}"/>'
                   f'<text class="median-label" x="{x}" dx="{dx}" y="{_TOP - 6}" text-anchor="{anchor}">'
                   f'{escape(label)} {escape(format_money(value, currency, locale))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def describe(words, period: str, has_levels: bool, median: tuple[str, Decimal] | None,
             currency: str, locale: str) -> str:
    """The chart's <desc>: what the marks mean, in the site's words."""
    per = {"month": words["per_month"], "year": words["per_year"], "hour": words["per_hour"]}[period]
    parts = [words["chart_desc"].format(period=f"{words['gross']} {per}")]
    if has_levels:
        parts.append(words["chart_desc_levels"])
    if median:
        parts.append(words["chart_desc_median"].format(median=format_money(median[1], currency, locale)))
    return " ".join(parts)


def levels_chart(article, config, median: Decimal | None = None) -> Markup:
    """The article's small chart: its whole range and each level, with the profession's median if given."""
    s = article.salary
    words = config.words
    rows = [Row(words["salary_range"], s.min, s.max)] + [Row(lv.label, lv.min, lv.max) for lv in s.levels]
    mark = (words["median_all"], median) if median is not None else None
    desc = describe(words, s.period, False, mark, s.currency, config.locale)
    return salary_chart("chart-levels", words["chart_title"].format(name=article.title), desc, rows,
                        s.currency, config.locale, mark)


def comparison_chart(ident: str, title: str, entries: Sequence[tuple[str, object]], config,
                     median: Decimal | None = None) -> Markup:
    """One row per (label, Salary) of one currency and period, levels drawn on the range."""
    if not entries:
        return Markup("")
    words = config.words
    first = entries[0][1]
    rows = [Row(label, s.min, s.max, tuple((lv.label, lv.min, lv.max) for lv in s.levels)) for label, s in entries]
    mark = (words["median_all"], median) if median is not None else None
    desc = describe(words, first.period, any(r.levels for r in rows), mark, first.currency, config.locale)
    return salary_chart(ident, title, desc, rows, first.currency, config.locale, mark)
