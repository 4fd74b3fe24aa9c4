"""Which other cities (comparison) and professions (related) an article page lists.

The renderer computes both with per-city and per-profession shortcuts (memoised groups,
bisection); these tests hold them to the plain definitions on random sites.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import article as article_text

from careersite import markup
from careersite.config import load_config
from careersite.content import read_article
from careersite.model import build_site
from careersite.render import COMPARE_LIMIT, RELATED_LIMIT, Renderer, Theme, _sort_key
from careersite.urls import slugify

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TAGS = ["Handwerk", "handwerk", "IT", "Pflege", "Büro", "Ruhr", "Nacht"]
REGIONS = [None, "Ruhrgebiet", "Münsterland", "Rheinland"]
STATES = [None, "Nordrhein-Westfalen", "Niedersachsen"]


def base_article(tmp_path):
    path = tmp_path / "a.md"
    path.write_text(article_text(), encoding="utf-8")
    return read_article(path, "a.md", "a.md", locale="de_DE", currency="EUR", period="month", raw_html=False,
                        render_body=lambda key, body: markup.convert(body)).article


def random_site(tmp_path, seed: int):
    rng = random.Random(seed)
    config = load_config(None)
    base = base_article(tmp_path)
    # many cities (more than the comparison shows) for half the seeds; as many professions as fit
    cities = [f"Stadt {c:02d}" for c in range(rng.choice([rng.randint(1, 8), 40]))]
    roles = [f"Beruf {n:02d}" for n in range(rng.randint(1, 40 if len(cities) < 10 else 3))]
    articles = []
    for city in cities:
        for role in rng.sample(roles, rng.randint(1, len(roles))):
            low = rng.randrange(2000, 5000, 100)
            salary = base.salary._replace(min=Decimal(low), max=Decimal(low + rng.randrange(0, 1500, 100)),
                                          period=rng.choice(["month", "month", "year"]))
            articles.append(base._replace(
                source=f"{slugify(city)}/{slugify(role)}.md", role=role, city=city, role_slug=slugify(role),
                city_slug=slugify(city), region=rng.choice(REGIONS), state=rng.choice(STATES), salary=salary,
                tags=tuple(rng.choice(TAGS) for _ in range(rng.choice([0, 1, 1, 2, 3, 4])))))
    site = build_site(articles, config)
    return site, Renderer(site, Theme.load(TEMPLATES), lambda key: "")


def expected_related(site, index: int) -> list[int]:
    """Most shared tags first (counting repeats), ties to the professions following in A–Z order
    (wrapping around), then the following ones without shared tags; shown A–Z."""
    article = site.articles[index]
    members = sorted(site.cities[article.city_slug].articles,
                     key=lambda i: _sort_key(site.professions[site.articles[i].role_slug].name))
    position = {i: n for n, i in enumerate(members)}
    tags = {t.casefold() for t in article.tags}
    shared = {i: sum(t.casefold() in tags for t in site.articles[i].tags) for i in members if i != index}
    after = lambda i: (position[i] - position[index]) % len(members)  # noqa: E731
    best = sorted((i for i in shared if shared[i]), key=lambda i: (-shared[i], after(i)))[:RELATED_LIMIT]
    rest = sorted((i for i in shared if not shared[i]), key=after)
    return sorted(best + rest[: RELATED_LIMIT - len(best)], key=position.get)


def expected_comparison(site, index: int) -> list[int]:
    """Its own city and the nearest others (same region, then state, then the rest; A–Z each),
    shown by salary, highest first."""
    article = site.articles[index]
    peers = [i for i in site.professions[article.role_slug].articles
             if site.articles[i].salary.group == article.salary.group]
    if len(peers) < 2:
        return []
    city_key = lambda i: _sort_key(site.cities[site.articles[i].city_slug].name)  # noqa: E731

    def nearness(i: int) -> tuple:
        other = site.articles[i]
        same_region = article.region is not None and slugify(other.region or "") == slugify(article.region)
        same_state = article.state is not None and slugify(other.state or "") == slugify(article.state)
        return (not same_region, not same_state, city_key(i))

    chosen = {index, *sorted((i for i in peers if i != index), key=nearness)[: COMPARE_LIMIT - 1]}
    return sorted(chosen, key=lambda i: (-site.articles[i].salary.mid, city_key(i)))


@pytest.mark.parametrize("seed", range(25))
def test_related_and_comparison_follow_their_definitions(tmp_path, monkeypatch, seed):
    monkeypatch.chdir(tmp_path)
    site, renderer = random_site(tmp_path, seed)
    for index, article in enumerate(site.articles):
        assert [card.index for card in renderer._related(index)] == expected_related(site, index)
        stat = next((s for s in site.stats(site.professions[article.role_slug])
                     if (s.currency, s.period) == article.salary.group), None)
        rows, rank, count = renderer._comparison(index, stat)
        assert [row.index for row in rows] == expected_comparison(site, index)
        assert [row.index for row in rows if row.current] == ([index] if rows else [])
        # each row's deviation from the median of the article's group, in whole percent
        assert [row.delta for row in rows] == [
            round((site.articles[row.index].salary.mid / stat.median - 1) * 100) for row in rows] if stat else \
            all(row.delta is None for row in rows)


def test_comparison_prefers_the_same_region_and_state_then_the_same_region(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = base_article(tmp_path)
    articles = [base._replace(source=f"stadt-{n:02d}/koch.md", role="Koch", role_slug="koch", city=f"Stadt {n:02d}",
                              city_slug=f"stadt-{n:02d}", region="Ruhrgebiet",
                              state="Nordrhein-Westfalen" if n == 0 or n >= 9 else "Niedersachsen")
                for n in range(12)]
    site = build_site(articles, load_config(None))
    renderer = Renderer(site, Theme.load(TEMPLATES), lambda key: "")
    stat = site.stats(site.professions["koch"])[0]
    rows, _, count = renderer._comparison(0, stat)
    assert count == 12
    assert sorted(row.city for row in rows) == [f"Stadt {n:02d}" for n in (0, 1, 2, 3, 4, 5, 6, 9, 10, 11)]
    assert [row.index for row in rows] == expected_comparison(site, 0)
