"""Inline SVG charts: axis, German labels, accessible name, bars inside the chart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from lxml import etree

from careersite import charts
from careersite.config import load_config
from careersite.salary import Level, Salary

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> etree._Element:
    return etree.fromstring(str(markup).encode())


def percent(value: str) -> float:
    assert value.endswith("%"), value
    return float(value[:-1])


@pytest.mark.parametrize(("span", "step"), [(400, 100), (1000, 200), (1200, 250), (2400, 500), (45, 10),
                                             (90_000, 20_000)])
def test_nice_step_divides_span_into_at_most_five_intervals(span, step):
    assert charts.nice_step(span) == step


@pytest.mark.parametrize(("low", "high"), [(2850, 3750), (3000, 3000), (2800, 3800), (14, 19), (30_000, 95_000)])
def test_axis_covers_values_with_room_at_both_ends(low, high):
    start, end, step = charts.axis_bounds(Decimal(low), Decimal(high))
    assert start < low or start == 0
    assert end > high
    assert (end - start) % step == 0 and (start % step) == 0
    assert (end - start) / step <= 7


def test_chart_has_accessible_name_description_and_german_labels():
    rows = [charts.Row("Bochum", Decimal(2850), Decimal(3750)),
            charts.Row("Münster", Decimal(2900), Decimal(13800))]
    svg = parse(charts.salary_chart("c1", "Gehälter", "Beschreibung", rows, "EUR", "de_DE",
                                    median=("Median", Decimal(3300))))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-t c1-d"
    assert svg.find(f"{SVG}title").get("id") == "c1-t" and svg.find(f"{SVG}title").text == "Gehälter"
    assert svg.find(f"{SVG}desc").get("id") == "c1-d"
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "2.850–3.750\u00a0€" in texts
    assert "2.900–13.800\u00a0€" in texts
    assert "Median 3.300\u00a0€" in texts
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})*", t) for t in texts), "tick labels use German grouping"
    assert not list(svg.iter(f"{SVG}script"))


def test_bars_stay_inside_the_chart():
    rows = [charts.Row("A", Decimal(2850), Decimal(3750),
                       (("Einstieg", Decimal(2850), Decimal(3200)), ("Erfahren", Decimal(3350), Decimal(3750)))),
            charts.Row("B", Decimal(2000), Decimal(5000))]
    svg = parse(charts.salary_chart("c", "t", "d", rows, "EUR", "de_DE"))
    rects = list(svg.iter(f"{SVG}rect"))
    assert rects
    for rect in rects:
        x = percent(rect.get("x"))
        width = rect.get("width")
        right = x + (percent(width) if width.endswith("%") else 0)
        assert 0 <= x <= 100 and right <= 100.0001, (rect.get("class"), x, width)
    assert len([r for r in rects if r.get("class") == "bar"]) == 3  # two levels on A, one plain bar for B
    assert len([r for r in rects if r.get("class") == "whisker"]) == 3  # A's range: line and two end caps


def test_long_labels_are_shortened_in_the_chart_only():
    name = "Anlagenmechaniker für Sanitär-, Heizungs- und Klimatechnik"
    svg = parse(charts.salary_chart("c", "t", "d", [charts.Row(name, Decimal(1), Decimal(2))], "EUR", "de_DE"))
    label = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "label").text
    assert label.endswith("…") and len(label) <= charts.LABEL_LIMIT


def test_empty_chart_is_empty():
    assert str(charts.salary_chart("c", "t", "d", [], "EUR", "de_DE")) == ""
    assert str(charts.comparison_chart("c", "t", [], load_config(None))) == ""


def test_text_from_content_is_escaped():
    svg = charts.salary_chart("c", "<b>", "&", [charts.Row("<script>", Decimal(1), Decimal(2))], "EUR", "de_DE")
    assert "<script>" not in str(svg) and "&lt;script&gt;" in str(svg)
    parse(svg)


@pytest.mark.parametrize(("period", "words"), [("month", "brutto im Monat"), ("year", "brutto im Jahr"),
                                               ("hour", "brutto pro Stunde")])
def test_description_names_the_period(period, words):
    config = load_config(None)
    salary = Salary("EUR", period, Decimal(20), Decimal(30), (Level("Einstieg", Decimal(20), Decimal(25)),))
    svg = parse(charts.comparison_chart("c", "t", [("Bochum", salary), ("Essen", salary)], config,
                                        median=Decimal(25)))
    desc = svg.find(f"{SVG}desc").text
    assert words in desc
    assert "Gehaltsstufen" in desc and "Median aller Städte (25\u00a0€)" in desc
