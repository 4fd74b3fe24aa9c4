"""JSON-LD (schema.org) for pages: Occupation, BreadcrumbList, ItemList, WebSite.

Returns plain dicts; templates serialise them with Jinja's ``tojson``, which escapes
``<``, ``>`` and ``&`` so text from front matter can never close the script element.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

DURATION = {"hour": "PT1H", "month": "P1M", "year": "P1Y"}
CONTEXT = "https://schema.org"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def occupation(site, index: int) -> dict[str, Any]:
    """``Occupation`` for an article: role, city with state, salary distribution per level."""
    article = site.articles[index]
    config = site.config
    city = site.cities[article.city_slug]
    salary = article.salary
    location: dict[str, Any] = {"@type": "City", "name": city.name}
    if city.state_name:
        location["containedInPlace"] = {"@type": "State", "name": city.state_name}
    distributions = [{
        "@type": "MonetaryAmountDistribution", "name": config.words["salary_range"],
        "currency": salary.currency, "duration": DURATION[salary.period],
        "minValue": _number(salary.min), "maxValue": _number(salary.max), "median": _number(salary.mid),
    }]
    for level in salary.levels:
        distributions.append({
            "@type": "MonetaryAmountDistribution", "name": level.label, "currency": salary.currency,
            "duration": DURATION[salary.period], "minValue": _number(level.min),
            "maxValue": _number(level.max), "median": _number(level.mid),
        })
    page: dict[str, Any] = {"@type": "WebPage", "@id": config.base_url + site.article_urls[index]}
    if article.date:
        page["datePublished"] = article.date.isoformat()
    if article.modified:
        page["dateModified"] = article.modified.isoformat()
    data = {
        "@context": CONTEXT, "@type": "Occupation", "name": article.role, "description": article.summary,
        "occupationLocation": [location], "estimatedSalary": distributions, "mainEntityOfPage": page,
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
