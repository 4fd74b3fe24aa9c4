"""config.yaml: declared once, validated once, frozen.

Every key is declared in :data:`SCHEMA` with its type and default. Unknown keys and
wrong types are errors naming the key and the nearest known one; nothing silently
falls back to a default when a value is wrong. The result is a frozen :class:`Config`
that no later stage can change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name

from . import locales, yamlsource
from .errors import ConfigError, Problem, did_you_mean

#: The generated site's words. German by default; override single words under ``words:``.
DEFAULT_WORDS: Mapping[str, str] = MappingProxyType({
    "home": "Start",
    "cities": "Städte",
    "city": "Stadt",
    "professions": "Berufe",
    "profession": "Beruf",
    "regions": "Regionen",
    "region": "Region",
    "states": "Bundesländer",
    "state": "Bundesland",
    "articles": "Artikel",
    "latest": "Neueste Artikel",
    "salary": "Gehalt",
    "salary_range": "Gehaltsspanne",
    "salary_overview": "Gehaltsübersicht",
    "salary_comparison": "Gehaltsvergleich",
    "median": "Median",
    "lowest": "Niedrigster Wert",
    "highest": "Höchster Wert",
    "from": "von",
    "to": "bis",
    "level": "Stufe",
    "per_month": "im Monat",
    "per_year": "im Jahr",
    "per_hour": "pro Stunde",
    "gross": "brutto",
    "as_of": "Stand",
    "published": "Veröffentlicht",
    "contents": "Inhalt",
    "related_in_city": "Weitere Berufe in {city}",
    "same_elsewhere": "{role} in anderen Städten",
    "above_median": "über dem Median",
    "below_median": "unter dem Median",
    "at_median": "im Median",
    "all_cities": "Alle Städte",
    "all_professions": "Alle Berufe",
    "article_count": "{count} Artikel",
    "article_count_one": "{count} Artikel",
    "city_count": "{count} Städte",
    "city_count_one": "{count} Stadt",
    "profession_count": "{count} Berufe",
    "profession_count_one": "{count} Beruf",
    "in_city": "{role} in {city}",
    "breadcrumb": "Brotkrumennavigation",
    "main_nav": "Hauptnavigation",
    "skip_to_content": "Zum Inhalt springen",
    "search": "Suche",
    "search_label": "Beruf oder Stadt suchen",
    "search_placeholder": "z. B. Pflege Bochum",
    "search_no_js": "Die Suche braucht JavaScript. Alle Inhalte finden Sie auch über die A–Z-Listen.",
    "search_button": "Suchen",
    "search_filters": "Filter",
    "search_any": "alle",
    "search_results": "Suchergebnisse",
    "search_count": "{count} Treffer",
    "search_none": "Keine Treffer. Versuchen Sie ein anderes Wort oder die A–Z-Listen.",
    "search_more": "Weitere Treffer",
    "search_error": "Die Suche ist gerade nicht verfügbar. Alle Inhalte finden Sie über die A–Z-Listen.",
    "not_found_title": "Seite nicht gefunden",
    "not_found_text": "Diese Seite gibt es nicht (mehr). Vielleicht hilft die Startseite weiter.",
    "feed": "Atom-Feed",
    "feed_of": "Neue Artikel: {name}",
    "draft": "Entwurf",
    "draft_notice": "Entwurf: Dieser Artikel ist noch nicht veröffentlicht.",
    "chart_title": "Gehaltsspannen: {name}",
    "chart_desc": "Balkendiagramm der Gehaltsspannen, {period}; dieselben Zahlen stehen in der Tabelle.",
    "chart_desc_levels": "Eine dünne Linie reicht vom niedrigsten bis zum höchsten Wert, "
                         "die Balken darauf sind die Gehaltsstufen.",
    "chart_desc_median": "Die gestrichelte Linie markiert den Median aller Städte ({median}).",
    "chart_legend": "Linie: gesamte Spanne · Balken: Gehaltsstufen · gestrichelt: Median aller Städte. "
                    "Abweichung: Mitte der Spanne gegenüber dem Median aller Städte.",
    "table_caption": "Gehaltsspannen: {name}",
    "entries": "Einträge",
    "letter_nav": "Nach Anfangsbuchstabe",
    "page": "Seite",
    "footer": "Alle Angaben ohne Gewähr. Gehälter sind Bruttobeträge.",
    "city_title": "Berufe und Gehälter in {city}",
    "profession_title": "{role}: Gehalt im Städtevergleich",
    "group_title": "{name}: Städte, Berufe und Gehälter",
    "hub_description": "{name}: {count}, Gehälter {range} brutto {period} (Median {median}).",
    "page_of": "Seite {number} von {count}",
    "pagination": "Seitennavigation",
    "professions_az": "Berufe von A bis Z",
    "deviation": "Abweichung",
    "median_all": "Median aller Städte",
    "levels": "Gehaltsstufen",
    "median_spread": "Spanne der Städte-Mediane",
    "comparison_above": "In {city} liegt die Mitte der Spanne ({value}) {percent} über dem Median "
                        "aller {count} Städte ({median}).",
    "comparison_below": "In {city} liegt die Mitte der Spanne ({value}) {percent} unter dem Median "
                        "aller {count} Städte ({median}).",
    "comparison_equal": "In {city} entspricht die Mitte der Spanne ({value}) dem Median aller {count} Städte.",
    "comparison_rank": "Damit steht {city} auf Platz {rank} von {count}.",
    "comparison_shown": "Die Tabelle zeigt {shown} von {count} Städten.",
    "comparison_all": "Alle {count} Städte im Gehaltsvergleich: {role}",
    "related_all": "Alle {count} Berufe in {city}",
    "city_overview_note": "Median: der mittlere Wert der Spannenmitten aller {count} Artikel; dazu der "
                          "niedrigste und der höchste genannte Betrag. Alle Beträge brutto {period}.",
    "cities_in": "{name}: Städte",
    "other_letters": "Sonstige",
    "not_found_links": "Weiter zu",
    "other_places": "Weitere Orte",
})

#: URL patterns: where each kind of page lands below output/. ``{city}``, ``{role}``,
#: ``{region}`` and ``{state}`` are slugs. A pattern ending in "/" gives index.html.
DEFAULT_URLS: Mapping[str, str] = MappingProxyType({
    "article": "{city}/{role}/",
    "city": "{city}/",
    "profession": "berufe/{role}/",
    "region": "regionen/{region}/",
    "state": "bundeslaender/{state}/",
})
_URL_FIELDS = {"article": {"city", "role"}, "city": {"city"}, "profession": {"role"},
               "region": {"region"}, "state": {"state"}}

_PERIODS = ("hour", "month", "year")


@dataclass(frozen=True)
class Config:
    """The validated site configuration. Paths are absolute."""

    title: str
    description: str
    base_url: str  # always ends in "/"
    language: str  # BCP 47, e.g. "de"
    locale: str  # Babel/CLDR, e.g. "de_DE"
    currency: str  # ISO 4217
    period: str
    raw_html: bool
    content_dir: Path
    templates_dir: Path
    output_dir: Path
    cache_dir: Path
    urls: Mapping[str, str]
    words: Mapping[str, str]
    latest_count: int
    feed_entries: int
    hub_page_size: int
    toc_min_headings: int
    search: bool
    source: Path | None = None  # the config file, if any
    drafts: bool = False  # build drafts too (``--drafts``; on in serve)

    def digest(self) -> str:
        """A hash of everything that can change rendered output (for the build cache)."""
        # Folders are left out: what they hold is hashed on its own (articles, templates), and
        # the same site built into another folder (a shard, a CI runner) must get the same keys.
        ignored = {"fingerprint", "source", "cache_dir", "content_dir", "templates_dir", "output_dir"}
        payload = {k: v for k, v in _as_plain(self).items() if k not in ignored}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def parse_digest(self) -> str:
        """A hash of the settings that change how an article is read (not how it is rendered)."""
        payload = [self.locale, self.currency, self.period, self.raw_html, self.drafts]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _as_plain(config: Config) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in config.__dataclass_fields__:
        value = getattr(config, name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[name] = value
    return out


# --- schema ---------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(low: int, high: int) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else None
    check.__doc__ = f"a whole number from {low} to {high}"
    return check


_text.__doc__ = "non-empty text"
_bool.__doc__ = "true or false"

#: key -> (check returning the value or None, default, description of a valid value)
SCHEMA: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "title": (_text, "Karriere-Atlas"),
    "description": (_text, "Berufe, Gehälter und Perspektiven in deiner Region."),
    "base_url": (_text, "http://localhost:8000/"),
    "language": (_text, None),
    "locale": (_text, "de_DE"),
    "currency": (_text, "EUR"),
    "period": (_text, "month"),
    "raw_html": (_bool, False),
    "content_dir": (_text, "content"),
    "templates_dir": (_text, "templates"),
    "output_dir": (_text, "output"),
    "cache_dir": (_text, ".cache/careersite"),
    "urls": (lambda v: v if isinstance(v, dict) else None, {}),
    "words": (lambda v: v if isinstance(v, dict) else None, {}),
    "latest_count": (_int(0, 1000), 10),
    "feed_entries": (_int(1, 1000), 20),
    "hub_page_size": (_int(10, 100000), 100),
    "toc_min_headings": (_int(1, 100), 3),
    "search": (_bool, True),
}
_DESCRIPTIONS = {"urls": "a mapping of page kinds to patterns", "words": "a mapping of word keys to text"}


def load_config(path: Path | str | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate ``path`` (or the defaults when ``None``), applying CLI ``overrides``.

    Relative directories are resolved against the config file's folder. All problems
    are collected and raised together as one :class:`ConfigError`.

    >>> load_config(None).locale
    'de_DE'
    """
    raw: dict[str, Any] = {}
    doc = None
    shown = "config.yaml"
    if path is not None:
        path = Path(path)
        shown = str(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise ConfigError([Problem(shown, 0, 0, "config file not found",
                                       "create config.yaml or pass --config PATH")]) from None
        except UnicodeDecodeError as exc:
            raise ConfigError([Problem(shown, 0, 0, f"not UTF-8 text ({exc.reason})",
                                       "save the file as UTF-8")]) from None
        except OSError as exc:  # a folder, no permission, a symbolic link in a circle
            raise ConfigError([Problem(shown, 0, 0, f"cannot read the config file: {exc.strerror}",
                                       "make it a readable file, or pass --config PATH")]) from None
        try:
            doc = yamlsource.load(text)
        except yamlsource.YamlProblem as exc:
            raise ConfigError([Problem(shown, exc.line, exc.column, exc.message, exc.hint)]) from None
        if doc.data is not None and not isinstance(doc.data, dict):
            raise ConfigError([Problem(shown, 1, 1, "config.yaml must be a mapping of keys to values")])
        raw = dict(doc.data or {})
    base = path.parent.resolve() if path is not None else Path.cwd()
    problems: list[Problem] = []

    def report(key_path: tuple, message: str, hint: str = "") -> None:
        mark = doc.mark(key_path) if doc else yamlsource.Mark(0, 0)
        problems.append(Problem(shown, mark.line, mark.column, message, hint))

    if doc:
        for dup_path, mark in doc.duplicates:
            problems.append(Problem(shown, mark.line, mark.column, f"duplicate key '{dup_path[-1]}'",
                                    "remove one of the two entries"))
    values: dict[str, Any] = {}
    for key in raw:
        if key not in SCHEMA:
            report((key, "<key>"), f"unknown key '{key}'",
                   did_you_mean(key, SCHEMA) or "known keys: " + ", ".join(SCHEMA))
    for key, (check, default) in SCHEMA.items():
        if key in raw:
            value = check(raw[key])
            if value is None:
                wanted = _DESCRIPTIONS.get(key) or check.__doc__ or "a valid value"
                report((key,), f"'{key}' must be {wanted}, not {raw[key]!r}", _example(key, default))
                value = default
            values[key] = value
        else:
            values[key] = default
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value

    locale = str(values["locale"]).replace("-", "_")
    try:
        parsed_locale = Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        report(("locale",), f"unknown locale '{values['locale']}'", "use a locale such as de_DE or de_AT")
        parsed_locale = Locale.parse("de_DE")
    with contextlib.suppress(Exception):  # only ever a shortcut
        locales.preload(str(parsed_locale), (base / str(values["cache_dir"])).resolve())
    language = values["language"] or parsed_locale.language
    currency = str(values["currency"]).upper()
    # (names in the site's locale, which pages need anyway: English ones cost another 20 ms to load)
    if not re.fullmatch(r"[A-Z]{3}", currency) or get_currency_name(currency, locale=parsed_locale) == currency:
        report(("currency",), f"unknown currency '{values['currency']}'", "use an ISO 4217 code such as EUR")
    if values["period"] not in _PERIODS:
        report(("period",), f"unknown period '{values['period']}'", "use one of: " + ", ".join(_PERIODS))
    base_url = str(values["base_url"])
    if not re.match(r"https?://[^/\s]+", base_url):
        report(("base_url",), f"base_url '{base_url}' is not an absolute http(s) URL",
               "write it like https://example.org/ or https://example.org/karriere/")
    if not base_url.endswith("/"):
        base_url += "/"

    urls = dict(DEFAULT_URLS)
    for kind, pattern in values["urls"].items():
        if kind not in DEFAULT_URLS:
            report(("urls", kind, "<key>"), f"unknown URL kind '{kind}'", did_you_mean(kind, DEFAULT_URLS))
            continue
        error = _check_pattern(kind, pattern)
        if error:
            report(("urls", kind), error, f"for example: {kind}: \"{DEFAULT_URLS[kind]}\"")
        else:
            urls[kind] = pattern
    words = dict(DEFAULT_WORDS)
    for key, text in values["words"].items():
        if key not in DEFAULT_WORDS:
            report(("words", key, "<key>"), f"unknown word '{key}'", did_you_mean(key, DEFAULT_WORDS))
        elif not isinstance(text, str) or not text.strip():
            report(("words", key), f"word '{key}' must be non-empty text")
        else:
            words[key] = text

    dirs = {}
    for k in ("content_dir", "templates_dir", "output_dir", "cache_dir"):
        try:
            dirs[k] = (base / str(values[k])).resolve()
        except (OSError, RuntimeError):  # a symbolic link in a circle (RuntimeError up to Python 3.12)
            report((k,), f"'{k}' leads through a symbolic link in a circle: {values[k]}",
                   "point it at a real folder")
    if problems:
        raise ConfigError(problems)
    config = Config(
        title=values["title"], description=values["description"], base_url=base_url,
        language=language, locale=str(parsed_locale), currency=currency, period=values["period"],
        raw_html=values["raw_html"], urls=MappingProxyType(urls), words=MappingProxyType(words),
        latest_count=values["latest_count"], feed_entries=values["feed_entries"],
        hub_page_size=values["hub_page_size"], toc_min_headings=values["toc_min_headings"],
        search=values["search"], source=path, drafts=bool(values.get("drafts", False)), **dirs,
    )
    return config


def _example(key: str, default: Any) -> str:
    """How to write a valid value of ``key``, shown as the hint of a wrong one."""
    if isinstance(default, bool):
        return f"write {key}: true or {key}: false"
    if isinstance(default, int):
        return f"write a whole number, e.g. {key}: {default}"
    if isinstance(default, dict):
        return f"write 'name: value' lines indented below '{key}:'"
    return f"write {key}: \"{default or 'de'}\" (quotes are optional for plain text)"


def _check_pattern(kind: str, pattern: Any) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        return f"URL pattern for '{kind}' must be non-empty text"
    fields = set(re.findall(r"{(\w*)}", pattern))
    unknown = fields - _URL_FIELDS[kind]
    if unknown:
        return f"URL pattern '{pattern}' uses unknown field {{{sorted(unknown)[0]}}}"
    if fields != _URL_FIELDS[kind]:
        missing = sorted(_URL_FIELDS[kind] - fields)
        return f"URL pattern '{pattern}' for '{kind}' must contain {{{missing[0]}}}"
    if pattern.startswith("/") or ".." in pattern.split("/") or "\\" in pattern:
        return f"URL pattern '{pattern}' must be a relative path without '..'"
    if ":" in pattern:  # "C:/…" names a drive on Windows
        return f"URL pattern '{pattern}' must not contain ':'"
    if not (pattern.endswith("/") or pattern.endswith(".html")):
        return f"URL pattern '{pattern}' must end in '/' or '.html'"
    return ""
