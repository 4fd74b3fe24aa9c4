"""Salary records: reading them from front matter, statistics, and locale formatting."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from statistics import median
from typing import Any, NamedTuple

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, get_currency_symbol, parse_decimal

from .records import pickled_as_tuple

PERIODS = ("hour", "month", "year")

#: Amounts outside these bounds are almost certainly typing mistakes (3.300 read as 3.3).
PLAUSIBLE = {"hour": (Decimal(5), Decimal(1000)), "month": (Decimal(300), Decimal(100_000)),
             "year": (Decimal(3_000), Decimal(2_000_000))}
_PERIOD_WORDS = {"hour": "an hourly", "month": "a monthly", "year": "a yearly"}


# A NamedTuple, not a dataclass: the build state pickles ~12 of these per article, and
# tuples unpickle in C (a frozen slots dataclass restores each field in Python: 10x slower).
@pickled_as_tuple
class Level(NamedTuple):
    label: str
    min: Decimal
    max: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.min + self.max) / 2


@pickled_as_tuple
class Salary(NamedTuple):
    """A gross salary range for one period, optionally split into ordered levels."""

    currency: str
    period: str
    min: Decimal
    max: Decimal
    levels: tuple[Level, ...] = ()

    @property
    def mid(self) -> Decimal:
        """The middle of the range, used as the article's median."""
        return (self.min + self.max) / 2

    @property
    def group(self) -> tuple[str, str]:
        """Salaries are only compared within one currency and period."""
        return (self.currency, self.period)


@dataclass(frozen=True, slots=True)
class Stats:
    """Salary statistics over several ranges of one currency and period."""

    currency: str
    period: str
    count: int
    lowest: Decimal
    highest: Decimal
    median: Decimal


class SalaryProblem(Exception):
    """A salary value is wrong; ``where`` is the front-matter path of the bad value."""

    def __init__(self, where: tuple, message: str, hint: str = ""):
        super().__init__(message)
        self.where, self.message, self.hint = where, message, hint


class SalaryProblems(Exception):
    """Every :class:`SalaryProblem` found in one ``salary:`` value."""

    def __init__(self, problems: list[SalaryProblem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def statistics(salaries: Iterable[Salary]) -> list[Stats]:
    """Stats per (currency, period) group, largest group first (ties by name)."""
    groups: dict[tuple[str, str], list[Salary]] = {}
    for salary in salaries:
        groups.setdefault(salary.group, []).append(salary)
    result = [
        Stats(cur, per, len(items), min(s.min for s in items), max(s.max for s in items),
              Decimal(median(s.mid for s in items)))
        for (cur, per), items in groups.items()
    ]
    return sorted(result, key=lambda s: (-s.count, s.currency, s.period))


# --- reading --------------------------------------------------------------------------

def from_front_matter(value: Any, raws: dict[tuple, tuple[str | None, bool]], default_currency: str,
                      default_period: str, locale: str) -> Salary:
    """Build a :class:`Salary` from the ``salary:`` value (a mapping or a one-line text).

    ``raws`` maps paths below ``salary`` (e.g. ``("min",)``) to the scalar's source text and
    whether it was unquoted, so that ``min: 3.300`` (YAML's float 3.3) is caught.
    Raises :class:`SalaryProblems` holding every problem found, so that an author sees all
    of them in one run.
    """
    if isinstance(value, str):
        try:
            return parse_line(value, default_currency, default_period, locale)
        except SalaryProblem as exc:
            raise SalaryProblems([exc]) from None
    if not isinstance(value, dict):
        raise SalaryProblems([SalaryProblem(
            (), "'salary' must be a mapping with min and max, or one line like 3.300–4.600 €",
            "write 'salary:' and below it the indented lines 'min: 3300' and 'max: 4600'")])
    problems: list[SalaryProblem] = []
    known = {"currency", "period", "min", "max", "levels"}
    for key in value:
        if key not in known:
            from .errors import did_you_mean
            problems.append(SalaryProblem((key, "<key>"), f"unknown key 'salary.{key}'",
                                          did_you_mean(key, known) or "allowed: " + ", ".join(sorted(known))))
    currency = value.get("currency", default_currency)
    if not isinstance(currency, str) or not _is_currency(currency.upper()):
        problems.append(SalaryProblem(("currency",), f"unknown currency {currency!r}",
                                      "use an ISO 4217 code such as EUR"))
        currency = default_currency
    currency = currency.upper()
    period = value.get("period", default_period)
    if period not in PERIODS:
        problems.append(SalaryProblem(("period",), f"unknown period {period!r}", "use one of: hour, month, year"))
        period = None  # amounts cannot be checked for plausibility without a period
    bounds: list[Decimal | None] = []
    for key in ("min", "max"):
        if key not in value or value[key] is None:
            if key in value:
                problems.append(SalaryProblem((key,), f"'salary.{key}' is empty", f"write an amount after '{key}:'"))
            else:
                problems.append(SalaryProblem((), f"'salary.{key}' is missing",
                                              f"add '{key}: <amount>' below 'salary:'"))
            bounds.append(None)
        else:
            bounds.append(_collect(problems, _amount, value[key], (key,), raws, period))
    low, high = bounds
    if low is not None and high is not None and low > high:
        problems.append(SalaryProblem(("min",), f"salary min ({low}) is greater than max ({high})",
                                      "swap the two values"))
        low = high = None
    levels = _levels(value.get("levels"), raws, period, low, high, problems)
    if problems:
        raise SalaryProblems(problems)
    assert low is not None and high is not None and period is not None
    return Salary(currency, period, low, high, levels)


def _collect(problems: list[SalaryProblem], check, *args) -> Any:
    """``check(*args)``, or None with its :class:`SalaryProblem` added to ``problems``."""
    try:
        return check(*args)
    except SalaryProblem as exc:
        problems.append(exc)
        return None


def _levels(value: Any, raws, period: str | None, low: Decimal | None, high: Decimal | None,
            problems: list[SalaryProblem]) -> tuple[Level, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(SalaryProblem(("levels",), "'salary.levels' must be a list",
                                      "write each level as '- {label: Berufseinstieg, min: 3300, max: 3800}'"))
        return ()
    levels = []
    for i, item in enumerate(value):
        level = _collect(problems, _level, i, item, raws, period, low, high)
        if level is not None:
            levels.append(level)
    return tuple(levels)


def _level(i: int, item: Any, raws, period: str | None, low: Decimal | None, high: Decimal | None) -> Level:
    where = ("levels", i)
    if not isinstance(item, dict):
        raise SalaryProblem(where, f"level {i + 1} must be a mapping with label, min and max",
                            "write '- {label: Berufseinstieg, min: 3300, max: 3800}'")
    extra = sorted(set(item) - {"label", "min", "max"})
    if extra:
        raise SalaryProblem((*where, extra[0], "<key>"), f"unknown key '{extra[0]}' in level {i + 1}",
                            "a level has only label, min and max")
    label = item.get("label")
    if not isinstance(label, str) or not label.strip():
        raise SalaryProblem(where, f"level {i + 1} needs a label", "add 'label: Berufseinstieg'")
    for key in ("min", "max"):
        if item.get(key) is None:
            raise SalaryProblem(where, f"level '{label}' has no {key}", f"add '{key}: <amount>'")
    lo = _amount(item["min"], (*where, "min"), raws, period)
    hi = _amount(item["max"], (*where, "max"), raws, period)
    if lo > hi:
        raise SalaryProblem((*where, "min"), f"level '{label}': min ({lo}) is greater than max ({hi})",
                            "swap the two values")
    if low is not None and high is not None and (lo < low or hi > high):
        raise SalaryProblem(where, f"level '{label}' ({lo}–{hi}) lies outside the salary range ({low}–{high})",
                            "widen salary min/max or correct the level")
    return Level(label.strip(), lo, hi)


def _amount(value: Any, where: tuple, raws, period: str | None) -> Decimal:
    raw, plain = raws.get(where, (None, False))
    if plain and raw and re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):
        raise SalaryProblem(where, f"'{raw}' is read as {value}, not as {raw.replace('.', '')}",
                            f"write {raw.replace('.', '')} (no thousands separator)")
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise SalaryProblem(where, f"amount {value!r} is not a number", "write a plain number such as 3300")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount <= 0:
        raise SalaryProblem(where, f"amount {value} must be greater than 0", "write a positive number such as 3300")
    if period is None:
        return _plain(amount)
    low, high = PLAUSIBLE[period]
    if not low <= amount <= high:
        hint = f"write {int(amount * 1000)}" if amount < low and amount * 1000 <= high else \
            f"check the amount or the period (allowed for {period}: {low}–{high})"
        raise SalaryProblem(where, f"amount {value} is implausible for {_PERIOD_WORDS[period]} salary", hint)
    return _plain(amount)


def _plain(amount: Decimal) -> Decimal:
    return Decimal(int(amount)) if amount == amount.to_integral_value() else amount


# "3.300–4.600 € im Monat", or a single amount "3.300 €" (min = max)
_LINE = re.compile(r"^\s*(?P<a>[\d.,\s]*\d)\s*(?:(?:–|—|-|bis)\s*(?P<b>[\d.,\s]*\d))?\s*(?P<rest>\D*)$")
_PERIOD_SUFFIX = {
    "month": ("monat", "monatlich", "mtl", "mon"),
    "year": ("jahr", "jährlich", "jahresgehalt", "p a", "pa", "jahr brutto"),  # "p.a." loses its dots
    "hour": ("stunde", "std", "h", "stündlich"),
}


def parse_line(text: str, default_currency: str, default_period: str, locale: str) -> Salary:
    """Parse the one-line form ``3.300–4.600 €`` (optionally ``/Monat``, ``im Jahr``, ``pro Stunde``),
    or a single amount ``3.300 €`` (a fixed salary: min = max).

    Numbers are read with the site's locale, so ``3.300`` is three thousand three hundred in de_DE.
    The currency may also stand first (``€ 3.300–4.600`` in de_AT, ``$3,300–4,600`` in en_US).
    """
    hint = "write it like 'salary: 3.300–4.600 €' or as a mapping with min and max"
    currency = default_currency
    symbols = _symbols(locale)
    amounts_text = text.strip()
    for symbol, code in symbols.items():
        if amounts_text.startswith(symbol):
            currency, amounts_text = code, amounts_text[len(symbol):]
            break
    match = _LINE.match(amounts_text)
    if not match:
        raise SalaryProblem((), f"cannot read salary {text!r}", hint)
    rest = match["rest"].strip()
    for symbol, code in symbols.items():
        if rest.startswith(symbol):
            currency, rest = code, rest[len(symbol):].strip()
            break
    words = re.sub(r"[/.]|\b(im|pro|je|brutto|per)\b", " ", rest.lower()).split()
    period = default_period
    if words:
        word = " ".join(words)
        period = next((p for p, names in _PERIOD_SUFFIX.items() if word in names), "")
        if not period:
            raise SalaryProblem((), f"cannot read the period {rest!r} in salary {text!r}",
                                "end with 'im Monat', 'im Jahr' or 'pro Stunde', or leave it out")
    amounts = []
    for part in (match["a"], match["b"] or match["a"]):
        try:
            number = parse_decimal(part.replace(" ", ""), locale=locale, strict=True)
        except (NumberFormatError, InvalidOperation):
            raise SalaryProblem((), f"cannot read the amount {part.strip()!r} in salary {text!r}", hint) from None
        try:  # normalize: '3,300' in de_DE is 3.3, not "3.300" (which a German reads as 3300)
            amounts.append(_amount(_plain(number) if number % 1 == 0 else number.normalize(), (), {}, period))
        except SalaryProblem as exc:
            raise SalaryProblem((), f"{exc.message} ({part.strip()!r} read with locale {locale})", exc.hint) from None
    low, high = amounts
    if low > high:
        raise SalaryProblem((), f"salary min ({low}) is greater than max ({high})", "swap the two values")
    return Salary(currency, period, low, high)


@lru_cache(maxsize=8)
def _symbols(locale: str) -> dict[str, str]:
    codes = ["EUR", "CHF", "USD", "GBP", "PLN", "CZK", "DKK", "SEK"]
    symbols = {}
    for code in codes:
        symbols[code] = code
        symbols[get_currency_symbol(code, locale)] = code
    return dict(sorted(symbols.items(), key=lambda kv: -len(kv[0])))


@lru_cache(maxsize=256)
def _is_currency(code: str) -> bool:
    from babel.numbers import get_currency_name
    return bool(re.fullmatch(r"[A-Z]{3}", code)) and get_currency_name(code, locale="en") != code


# --- formatting -----------------------------------------------------------------------

@lru_cache(maxsize=4096)
def format_number(amount: Decimal, locale: str) -> str:
    """``3300`` -> ``3.300``; ``14.5`` -> ``14,50`` (cents only where there are cents)."""
    if amount == amount.to_integral_value():
        return format_decimal(amount, format="#,##0", locale=locale)
    return format_decimal(amount, format="#,##0.00", locale=locale)


@lru_cache(maxsize=64)
def _currency_layout(currency: str, locale: str) -> tuple[str, bool]:
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return get_currency_symbol(currency, locale), pattern.index("¤") < pattern.index("#")


@lru_cache(maxsize=16384)
def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``3.300 €`` with a no-break space, in the locale's order of symbol and number."""
    symbol, before = _currency_layout(currency, locale)
    number = format_number(amount, locale)
    return f"{symbol}\u00a0{number}" if before else f"{number}\u00a0{symbol}"


@lru_cache(maxsize=16384)
def format_range(low: Decimal, high: Decimal, currency: str, locale: str) -> str:
    """``3.300–3.800 €``: an en dash without spaces, the currency once."""
    if low == high:
        return format_money(low, currency, locale)
    symbol, before = _currency_layout(currency, locale)
    numbers = f"{format_number(low, locale)}–{format_number(high, locale)}"
    return f"{symbol}\u00a0{numbers}" if before else f"{numbers}\u00a0{symbol}"
