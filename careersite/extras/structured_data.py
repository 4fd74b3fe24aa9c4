"""JSON-LD (schema.org) for pages: Occupation, BreadcrumbList, ItemList, WebSite.

Returns plain dicts; templates serialise them with Jinja's ``tojson``, which escapes
``<``, ``>`` and ``&`` so text from front matter can never close the script element.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

DURATION = {"hour": "PT1H", "month": "P1M", "year": "P1Y"}
UNIT = {"hour": "HOUR", "month": "MONTH", "year": "YEAR"}
CONTEXT = "https://schema.org"


@lru_cache(maxsize=4096)  # by value (equal amounts give the same number): 15 calls per article page
def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def salary_entries(salary, name: str) -> list[dict[str, Any]]:
    """``estimatedSalary`` entries for a salary: for the whole range and for each level, a
    ``MonetaryAmountDistribution`` (currency, duration, median = middle of the range, as the
    page shows it) and a ``MonetaryAmount`` (currency, minValue, maxValue; its QuantitativeValue
    names the period as unitText, the form search engines read for job salaries).

    schema.org gives a distribution no min and max, and an amount no duration, so each range
    needs both to say "3.300–4.600 € a month".
    """
    ranges = [(name, salary.min, salary.max)] + [(lv.label, lv.min, lv.max) for lv in salary.levels]
    out: list[dict[str, Any]] = []
    for label, low, high in ranges:
        out.append({"@type": "MonetaryAmountDistribution", "name": label, "currency": salary.currency,
                    "duration": DURATION[salary.period], "median": _number((low + high) / 2)})
    for label, low, high in ranges:
        out.append({"@type": "MonetaryAmount", "name": label, "currency": salary.currency,
                    "minValue": _number(low), "maxValue": _number(high),
                    "value": {"@type": "QuantitativeValue", "minValue": _number(low), "maxValue": _number(high),
                              "unitText": UNIT[salary.period]}})
    return out


def occupation(site, index: int) -> dict[str, Any]:
    """``Occupation`` for an article: role, city with state, salary per range and level, page dates."""
    article = site.articles[index]
    config = site.config
    city = site.cities[article.city_slug]
    location: dict[str, Any] = {"@type": "City", "name": city.name}
    if city.state_name:
        location["containedInPlace"] = {"@type": "State", "name": city.state_name}
    page: dict[str, Any] = {"@type": "WebPage", "@id": config.base_url + site.article_urls[index],
                            "url": config.base_url + site.article_urls[index]}
    if article.date:
        page["datePublished"] = article.date.isoformat()
    if article.modified:
        page["dateModified"] = page["lastReviewed"] = article.modified.isoformat()
    data = {
        "@context": CONTEXT, "@type": "Occupation", "name": site.professions[article.role_slug].name,
        "description": article.summary, "occupationLocation": [location],
        "estimatedSalary": salary_entries(article.salary, config.words["salary_range"]),
        "mainEntityOfPage": page,
    }
    if article.tags:
        data["skills"] = ", ".join(article.tags)
    return data


def breadcrumbs(site, crumbs: list[tuple[str, str]]) -> dict[str, Any]:
    """``BreadcrumbList`` from (name, site-relative URL) pairs."""
    return {"@context": CONTEXT, "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": n, "name": name, "item": site.config.base_url + url}
        for n, (name, url) in enumerate(crumbs, start=1)]}


def item_list(site, items: list[tuple[str, str]]) -> dict[str, Any]:
    """``ItemList`` of the entries a hub shows."""
    return {"@context": CONTEXT, "@type": "ItemList", "numberOfItems": len(items), "itemListElement": [
        {"@type": "ListItem", "position": n, "name": name, "url": site.config.base_url + url}
        for n, (name, url) in enumerate(items, start=1)]}


def website(site) -> dict[str, Any]:
    config = site.config
    return {"@context": CONTEXT, "@type": "WebSite", "name": config.title, "url": config.base_url,
            "inLanguage": config.language, "description": config.description}
