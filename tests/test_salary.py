"""careersite.salary: reading salaries from front matter and one-line text, statistics, formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from careersite.salary import (
    Level,
    Salary,
    SalaryProblem,
    SalaryProblems,
    format_money,
    format_number,
    format_range,
    from_front_matter,
    parse_line,
    statistics,
)

NBSP = "\u00a0"


def read(value, raws=None, currency="EUR", period="month", locale="de_DE") -> Salary:
    return from_front_matter(value, raws or {}, currency, period, locale)


def problems(value, raws=None, **kw) -> list[tuple[tuple, str, str]]:
    with pytest.raises(SalaryProblems) as info:
        read(value, raws, **kw)
    return [(p.where, p.message, p.hint) for p in info.value.problems]


# --- mapping form ----------------------------------------------------------------------

def test_mapping_with_defaults():
    salary = read({"min": 3300, "max": 4600})
    assert salary == Salary("EUR", "month", Decimal(3300), Decimal(4600), ())
    assert salary.mid == Decimal(3950)
    assert salary.group == ("EUR", "month")


def test_mapping_with_everything():
    salary = read({"currency": "chf", "period": "year", "min": 45000, "max": 60000.5,
                   "levels": [{"label": " Einstieg ", "min": 45000, "max": 50000},
                              {"label": "Erfahren", "min": 50000, "max": 60000.5}]})
    assert salary.currency == "CHF" and salary.period == "year"
    assert salary.max == Decimal("60000.5")
    assert salary.levels == (Level("Einstieg", Decimal(45000), Decimal(50000)),
                             Level("Erfahren", Decimal(50000), Decimal("60000.5")))
    assert salary.levels[0].mid == Decimal(47500)


def test_whole_floats_become_integers():
    assert str(read({"min": 3000.0, "max": 4000}).min) == "3000"


@pytest.mark.parametrize("value, where, message", [
    ({"min": 4000, "max": 3000}, ("min",), "salary min (4000) is greater than max (3000)"),
    ({"min": -1, "max": 3000}, ("min",), "amount -1 must be greater than 0"),
    ({"min": 0, "max": 3000}, ("min",), "amount 0 must be greater than 0"),
    ({"min": "viel", "max": 3000}, ("min",), "amount 'viel' is not a number"),
    ({"min": True, "max": 3000}, ("min",), "amount True is not a number"),
    ({"min": 3000, "max": [1]}, ("max",), "amount [1] is not a number"),
    ({"min": float("nan"), "max": 3000}, ("min",), "amount nan must be greater than 0"),
    ({"max": 3000}, (), "'salary.min' is missing"),
    ({"min": 3000}, (), "'salary.max' is missing"),
    ({"min": None, "max": 3000}, ("min",), "'salary.min' is empty"),
    ({"min": 3000, "max": 4000, "period": "week"}, ("period",), "unknown period 'week'"),
    ({"min": 3000, "max": 4000, "currency": "XYZ"}, ("currency",), "unknown currency 'XYZ'"),
    ({"min": 3000, "max": 4000, "currency": 978}, ("currency",), "unknown currency 978"),
    ({"min": 3000, "max": 4000, "mn": 1}, ("mn", "<key>"), "unknown key 'salary.mn'"),
    ({"min": 3000, "max": 4000, "levels": "viele"}, ("levels",), "'salary.levels' must be a list"),
    ({"min": 3000, "max": 4000, "levels": ["Einstieg"]}, ("levels", 0),
     "level 1 must be a mapping with label, min and max"),
    ({"min": 3000, "max": 4000, "levels": [{"min": 3000, "max": 3500}]}, ("levels", 0), "level 1 needs a label"),
    ({"min": 3000, "max": 4000, "levels": [{"label": "A", "min": 3000}]}, ("levels", 0), "level 'A' has no max"),
    ({"min": 3000, "max": 4000, "levels": [{"label": "A", "min": 3000, "max": 3500, "median": 1}]},
     ("levels", 0, "median", "<key>"), "unknown key 'median' in level 1"),
    ({"min": 3000, "max": 4000, "levels": [{"label": "A", "min": 3600, "max": 3500}]}, ("levels", 0, "min"),
     "level 'A': min (3600) is greater than max (3500)"),
    ({"min": 3000, "max": 4000, "levels": [{"label": "A", "min": 2500, "max": 3500}]}, ("levels", 0),
     "level 'A' (2500–3500) lies outside the salary range (3000–4000)"),
    ({"min": 3000, "max": 4000, "levels": [{"label": "A", "min": 3500, "max": 4100}]}, ("levels", 0),
     "level 'A' (3500–4100) lies outside the salary range (3000–4000)"),
    (3000, (), "'salary' must be a mapping with min and max, or one line like 3.300–4.600 €"),
    ([3000, 4000], (), "'salary' must be a mapping with min and max, or one line like 3.300–4.600 €"),
])
def test_mapping_problems(value, where, message):
    found = problems(value)
    assert [(w, m) for w, m, _ in found] == [(where, message)]
    assert all(hint for _, _, hint in found), "every problem needs a hint"


def test_unknown_key_suggests_the_nearest_one():
    assert problems({"min": 3000, "max": 4000, "mxa": 1})[0][2] == "did you mean 'max'?"


def test_all_problems_of_one_salary_are_reported_together():
    value = {"currency": "XX", "period": "week", "mn": 3, "min": 3.3, "max": 4.6,
             "levels": [{"label": "A", "min": 3.3, "max": 4000}, {"min": 1, "max": 2}]}
    raws = {("min",): ("3.300", True), ("max",): ("4.600", True), ("levels", 0, "min"): ("3.300", True)}
    messages = [m for _, m, _ in problems(value, raws)]
    assert messages == [
        "unknown key 'salary.mn'", "unknown currency 'XX'", "unknown period 'week'",
        "'3.300' is read as 3.3, not as 3300", "'4.600' is read as 4.6, not as 4600",
        "'3.300' is read as 3.3, not as 3300", "level 2 needs a label"]


def test_german_thousands_trap():
    """``min: 3.300`` is YAML's float 3.3; the raw text shows what the author meant."""
    found = problems({"min": 3.3, "max": 4600}, {("min",): ("3.300", True)})
    assert found == [(("min",), "'3.300' is read as 3.3, not as 3300", "write 3300 (no thousands separator)")]
    # a million with two separators
    found = problems({"min": 3000, "max": 1.2}, {("max",): ("1.200.000", True)}, period="year")
    assert found[0][2] == "write 1200000 (no thousands separator)"


def test_quoted_thousands_are_text_not_the_trap():
    found = problems({"min": "3.300", "max": 4600}, {("min",): ("3.300", False)})
    assert found[0][1] == "amount '3.300' is not a number"


def test_small_amount_without_raw_text_gets_a_times_thousand_hint():
    found = problems({"min": 3.3, "max": 4600})
    assert found == [(("min",), "amount 3.3 is implausible for a monthly salary", "write 3300")]


@pytest.mark.parametrize("period, amount, ok", [
    ("hour", 4, False), ("hour", 5, True), ("hour", 1000, True), ("hour", 1001, False),
    ("month", 299, False), ("month", 300, True), ("month", 100000, True), ("month", 100001, False),
    ("year", 2999, False), ("year", 3000, True), ("year", 2_000_000, True), ("year", 2_000_001, False),
])
def test_plausible_bounds_per_period(period, amount, ok):
    value = {"period": period, "min": amount, "max": amount}
    if ok:
        assert read(value).min == amount
    else:
        assert "implausible" in problems(value)[0][1]


def test_a_wrong_period_does_not_add_plausibility_noise():
    assert [m for _, m, _ in problems({"period": "week", "min": 800, "max": 900})] == ["unknown period 'week'"]


# --- one-line form -----------------------------------------------------------------------

@pytest.mark.parametrize("text, locale, expected", [
    ("3.300–4.600 €", "de_DE", ("EUR", "month", 3300, 4600)),
    ("3.300 - 4.600 € im Monat", "de_DE", ("EUR", "month", 3300, 4600)),
    ("3.300 bis 4.600 €", "de_DE", ("EUR", "month", 3300, 4600)),
    ("3300-4600 EUR", "de_DE", ("EUR", "month", 3300, 4600)),
    ("3.300–4.600", "de_DE", ("EUR", "month", 3300, 4600)),
    ("45.000–60.000 € im Jahr", "de_DE", ("EUR", "year", 45000, 60000)),
    ("45.000–60.000 € p.a.", "de_DE", ("EUR", "year", 45000, 60000)),
    ("14,50–18 € pro Stunde", "de_DE", ("EUR", "hour", Decimal("14.50"), 18)),
    ("3.300,50–4.600 €", "de_DE", ("EUR", "month", Decimal("3300.50"), 4600)),
    ("3.300–4.600 $", "de_DE", ("USD", "month", 3300, 4600)),
    ("3.300–4.600 CHF", "de_DE", ("CHF", "month", 3300, 4600)),
    ("3,300–4,600 €", "en_US", ("EUR", "month", 3300, 4600)),
    ("3.300–4.600\u00a0€", "de_AT", ("EUR", "month", 3300, 4600)),
    ("€ 3.300–4.600", "de_AT", ("EUR", "month", 3300, 4600)),
    ("$3,300–4,600", "en_US", ("USD", "month", 3300, 4600)),
])
def test_one_line_form(text, locale, expected):
    salary = parse_line(text, "EUR", "month", locale)
    assert (salary.currency, salary.period, salary.min, salary.max) == expected
    assert salary.levels == ()


def test_one_line_form_is_read_with_the_site_locale():
    """``3,300`` is three thousand three hundred in en_US, but 3.3 (implausible) in de_DE."""
    assert parse_line("3,300–4,600 €", "EUR", "month", "en_US").min == 3300
    with pytest.raises(SalaryProblem, match="implausible"):
        parse_line("3,300–4,600 €", "EUR", "month", "de_DE")


def test_one_line_form_through_front_matter():
    assert read("3.300–4.600 €").max == 4600
    assert [m for _, m, _ in problems("4.600–3.300 €")] == ["salary min (4600) is greater than max (3300)"]


@pytest.mark.parametrize("text, message", [
    ("viel", "cannot read salary 'viel'"),
    ("4.600–3.300 €", "salary min (4600) is greater than max (3300)"),
    ("3.300–4.600 € pro Woche", "cannot read the period"),
    ("3.30–4.600 €", "cannot read the amount '3.30'"),
    ("3,3–4,6 €", "amount 3.3 is implausible for a monthly salary"),
])
def test_one_line_form_problems(text, message):
    with pytest.raises(SalaryProblem) as info:
        parse_line(text, "EUR", "month", "de_DE")
    assert message in info.value.message
    assert info.value.hint


# --- formatting --------------------------------------------------------------------------

@pytest.mark.parametrize("amount, locale, expected", [
    (Decimal(3300), "de_DE", "3.300"),
    (Decimal(300), "de_DE", "300"),
    (Decimal("14.5"), "de_DE", "14,50"),
    (Decimal(1250000), "de_DE", "1.250.000"),
    (Decimal(3300), "en_US", "3,300"),
])
def test_format_number(amount, locale, expected):
    assert format_number(amount, locale) == expected


def test_format_money_and_range_in_german():
    assert format_money(Decimal(3300), "EUR", "de_DE") == f"3.300{NBSP}€"
    assert format_range(Decimal(3300), Decimal(4600), "EUR", "de_DE") == f"3.300–4.600{NBSP}€"
    assert format_range(Decimal(3300), Decimal(3300), "EUR", "de_DE") == f"3.300{NBSP}€"
    assert format_money(Decimal("14.5"), "EUR", "de_DE") == f"14,50{NBSP}€"


def test_format_money_puts_the_symbol_where_the_locale_wants_it():
    assert format_money(Decimal(3300), "USD", "en_US") == f"${NBSP}3,300"
    assert format_range(Decimal(3300), Decimal(4600), "USD", "en_US") == f"${NBSP}3,300–4,600"


amounts = st.decimals(min_value=300, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)


@given(amounts, amounts, st.sampled_from(["de_DE", "de_AT", "en_US", "en_GB"]))
def test_format_then_parse_round_trips(a, b, locale):
    low, high = sorted((a, b))
    assume(low < high)  # one amount prints as "300 €", which is no range
    text = format_range(low, high, "EUR", locale)
    salary = parse_line(text, "USD", "month", locale)
    assert (salary.currency, salary.min, salary.max) == ("EUR", low, high)


# --- statistics --------------------------------------------------------------------------

def test_statistics_per_currency_and_period_largest_group_first():
    month = [Salary("EUR", "month", Decimal(a), Decimal(b)) for a, b in ((3000, 4000), (2000, 3000), (5000, 7000))]
    year = [Salary("EUR", "year", Decimal(40000), Decimal(50000))]
    stats = statistics([*year, *month])
    assert [(s.period, s.count) for s in stats] == [("month", 3), ("year", 1)]
    assert (stats[0].lowest, stats[0].highest, stats[0].median) == (2000, 7000, 3500)
    assert stats[1].median == 45000
    assert statistics([]) == []
