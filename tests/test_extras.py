"""Machine-readable output: JSON-LD, Atom feeds, sitemap.xml (against the sitemaps XSD), robots.txt."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import article
from lxml import etree

from careersite.extras import sitemap

SUPPORT = Path(__file__).parent / "support"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def jsonld(html: str) -> list[dict]:
    page = lxml.html.fromstring(html)
    return [json.loads(script.text) for script in page.xpath("//script[@type='application/ld+json']")]


def of_type(blocks: list[dict], kind: str) -> list[dict]:
    return [b for b in blocks if b.get("@type") == kind]


@pytest.fixture
def small_site(make_site):
    site = make_site({
        "bochum/strassenbauer.md": article("Straßenbauer", "Bochum", 3000, 4000, date="2026-11-01"),
        "essen/strassenbauer.md": article("Straßenbauer", "Essen", 3200, 4400, date="2026-11-20"),
        "essen/baecker.md": article("Bäcker", "Essen", 2600, 3100, date="2026-10-05"),
        "muenster/baecker.md": article("Bäcker", "Münster", 2500, 3000, region="Münsterland", date="2026-09-01"),
    })
    assert site.build() == 0
    return site


def test_article_has_occupation_with_location_salary_and_page_dates(small_site):
    blocks = jsonld(small_site.page("bochum/strassenbauer/index.html"))
    (occupation,) = of_type(blocks, "Occupation")
    assert occupation["@context"] == "https://schema.org"
    assert occupation["name"] == "Straßenbauer"
    assert occupation["description"].startswith("Straßenbauer in Bochum")
    assert occupation["occupationLocation"] == [
        {"@type": "City", "name": "Bochum", "containedInPlace": {"@type": "State", "name": "Nordrhein-Westfalen"}}]
    distributions = of_type(occupation["estimatedSalary"], "MonetaryAmountDistribution")
    amounts = of_type(occupation["estimatedSalary"], "MonetaryAmount")
    assert [d["name"] for d in distributions] == ["Gehaltsspanne", "Berufseinstieg", "Mit Berufserfahrung"]
    assert [a["name"] for a in amounts] == ["Gehaltsspanne", "Berufseinstieg", "Mit Berufserfahrung"]
    for d in distributions:
        assert d["currency"] == "EUR" and d["duration"] == "P1M"
        assert set(d) == {"@type", "name", "currency", "duration", "median"}  # only schema.org properties
    assert distributions[0]["median"] == 3500
    assert [(a["minValue"], a["maxValue"]) for a in amounts] == [(3000, 4000), (3000, 3500), (3500, 4000)]
    assert all(a["currency"] == "EUR" and a["value"]["unitText"] == "MONTH" for a in amounts)
    page = occupation["mainEntityOfPage"]
    assert page["@type"] == "WebPage" and page["@id"] == "https://example.org/bochum/strassenbauer/"
    assert page["dateModified"] == page["lastReviewed"] == "2026-11-01"


@pytest.mark.parametrize(("period", "duration", "unit"), [("year", "P1Y", "YEAR"), ("hour", "PT1H", "HOUR")])
def test_salary_duration_follows_the_period(make_site, period, duration, unit):
    low, high = (30000, 42000) if period == "year" else (14, 19)
    text = f"---\nrole: X\ncity: Bochum\nsalary:\n  period: {period}\n  min: {low}\n  max: {high}\n---\nText.\n"
    site = make_site({"bochum/x.md": text})
    assert site.build() == 0
    (occupation,) = of_type(jsonld(site.page("bochum/x/index.html")), "Occupation")
    assert {d.get("duration") for d in occupation["estimatedSalary"]} - {None} == {duration}
    assert {a["value"]["unitText"] for a in of_type(occupation["estimatedSalary"], "MonetaryAmount")} == {unit}
    assert "dateModified" not in occupation["mainEntityOfPage"]  # no date in front matter: none invented


def test_every_page_has_breadcrumbs_and_hubs_have_item_lists(small_site):
    pages = [p for p in small_site.files() if p.endswith(".html") and p != "404.html"]
    hubs = {"essen/index.html": ["Bäcker in Essen", "Straßenbauer in Essen"],
            "berufe/baecker/index.html": ["Bäcker in Essen", "Bäcker in Münster"],
            "regionen/ruhrgebiet/index.html": ["Bochum", "Essen"],
            "bundeslaender/nordrhein-westfalen/index.html": ["Bochum", "Essen", "Münster"],
            "berufe/index.html": ["Bäcker", "Straßenbauer"]}
    for relpath in pages:
        blocks = jsonld(small_site.page(relpath))
        (crumbs,) = of_type(blocks, "BreadcrumbList")
        items = crumbs["itemListElement"]
        assert [i["position"] for i in items] == list(range(1, len(items) + 1))
        assert items[0]["item"] == "https://example.org/"
        assert items[-1]["item"] == "https://example.org/" + relpath.removesuffix("index.html"), relpath
        if relpath in hubs:
            (listing,) = of_type(blocks, "ItemList")
            assert [i["name"] for i in listing["itemListElement"]] == hubs[relpath]
            assert listing["numberOfItems"] == len(hubs[relpath])
            assert all(i["url"].startswith("https://example.org/") for i in listing["itemListElement"])
    article_crumbs = of_type(jsonld(small_site.page("essen/baecker/index.html")), "BreadcrumbList")[0]
    assert [i["name"] for i in article_crumbs["itemListElement"]] == ["Start", "Essen", "Bäcker"]


def test_json_ld_cannot_be_closed_by_content(make_site):
    evil = "X</script><script>alert(1)</script>"
    text = f"---\nrole: X\ncity: Bochum\nsummary: '{evil}'\nsalary: 3.000–4.000 €\n---\nT.\n"
    site = make_site({"bochum/x.md": text})
    assert site.build() == 0
    html = site.page("bochum/x/index.html")
    assert "alert(1)</script>" not in html
    assert of_type(jsonld(html), "Occupation")[0]["description"] == evil


def test_feeds_parse_and_are_linked_from_the_pages(small_site):
    site_feed = feedparser.parse(small_site.page("feed.xml"))
    assert not site_feed.bozo, site_feed.bozo_exception
    assert site_feed.version == "atom10"
    assert [e.title for e in site_feed.entries] == ["Straßenbauer in Essen", "Straßenbauer in Bochum",
                                                    "Bäcker in Essen", "Bäcker in Münster"]
    assert site_feed.entries[0].link == "https://example.org/essen/strassenbauer/"
    assert site_feed.entries[0].updated == "2026-11-20T00:00:00Z"
    city = feedparser.parse(small_site.page("feeds/stadt-essen.xml"))
    assert not city.bozo and [e.title for e in city.entries] == ["Straßenbauer in Essen", "Bäcker in Essen"]
    profession = feedparser.parse(small_site.page("feeds/beruf-baecker.xml"))
    assert not profession.bozo and [e.link for e in profession.entries] == [
        "https://example.org/essen/baecker/", "https://example.org/muenster/baecker/"]

    def feed_links(relpath: str) -> list[str]:
        page = lxml.html.fromstring(small_site.page(relpath))
        return page.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href")

    assert feed_links("index.html") == ["feed.xml"]
    assert feed_links("essen/index.html") == ["../feed.xml", "../feeds/stadt-essen.xml"]
    assert feed_links("berufe/baecker/index.html") == ["../../feed.xml", "../../feeds/beruf-baecker.xml"]
    assert feed_links("essen/baecker/index.html") == ["../../feed.xml", "../../feeds/stadt-essen.xml",
                                                      "../../feeds/beruf-baecker.xml"]


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SUPPORT / name)))


def test_sitemap_validates_and_lists_every_page_with_lastmod(small_site):
    document = etree.fromstring(small_site.files()["sitemap.xml"])
    schema("sitemap.xsd").assertValid(document)
    urls = {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in document.findall("s:url", NS)}
    pages = {"https://example.org/" + p.removesuffix("index.html")
             for p in small_site.files() if p.endswith(".html") and p != "404.html"}
    assert set(urls) == pages
    assert urls["https://example.org/essen/strassenbauer/"] == "2026-11-20"
    assert urls["https://example.org/essen/"] == "2026-11-20"  # a hub: its newest article
    assert urls["https://example.org/"] == "2026-11-20"
    robots = small_site.page("robots.txt")
    assert "Sitemap: https://example.org/sitemap.xml" in robots.splitlines()


def test_sitemap_becomes_an_index_above_the_url_limit(make_site, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 5)
    site = make_site({f"stadt{n}/a.md": article("A", f"Stadt{n}") for n in range(4)})
    assert site.build() == 0
    files = site.files()
    index = etree.fromstring(files["sitemap.xml"])
    schema("siteindex.xsd").assertValid(index)
    locs = [s.findtext("s:loc", namespaces=NS) for s in index.findall("s:sitemap", NS)]
    assert locs == [f"https://example.org/sitemap-{n}.xml" for n in range(1, len(locs) + 1)]
    listed = []
    for n in range(1, len(locs) + 1):
        part = etree.fromstring(files[f"sitemap-{n}.xml"])
        schema("sitemap.xsd").assertValid(part)
        listed += [u.findtext("s:loc", namespaces=NS) for u in part.findall("s:url", NS)]
        assert len(part.findall("s:url", NS)) <= 5
    assert len(listed) == len(set(listed)) == len([p for p in files if p.endswith(".html") and p != "404.html"])


def test_feed_time_comes_from_articles_or_source_date_epoch(make_site, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    site = make_site({"bochum/x.md": "---\nrole: X\ncity: Bochum\nsalary: 3.000–4.000 €\n---\nText.\n"})
    assert site.build() == 0
    feed = feedparser.parse(site.page("feed.xml"))
    assert not feed.bozo and feed.feed.updated == "2023-11-14T22:13:20Z"


def test_sitemap_count_matches_its_entries(make_site):
    """count() decides between a sitemap and a sitemap index; it must equal len(entries())."""
    from conftest import article

    from careersite.cache import MarkupStore, State
    from careersite.config import load_config
    from careersite.content import discover
    from careersite.extras import sitemap
    from careersite.model import build_site
    from careersite.pipeline import BuildOptions, read_sources
    files = {f"s{i % 3}/b{i}.md": article(f"Beruf {i}", f"Stadt {i % 3}") for i in range(25)}
    files["s0/draft.md"] = article("Entwurf", "Stadt 0").replace("---\n", "---\ndraft: true\n", 1)
    site = make_site(files, config="hub_page_size: 10\n")
    for drafts in (False, True):
        config = load_config(site.root / "config.yaml", {"drafts": drafts})
        store = MarkupStore(config.cache_dir / "m.sqlite3")
        read = read_sources(discover(config.content_dir), config, State(), store, BuildOptions(jobs=1))
        built = build_site([r.article for _, r in read.values() if r.article and (drafts or not r.article.draft)],
                           config)
        assert sitemap.count(built) == len(sitemap.entries(built))
        store.close()


@pytest.mark.parametrize("text", ["", "plain", "a & b < c > d", 'say "hi"', "it's", "both \" and '",
                                  "tab\tnew\nline\rcr", "&amp; already", "Ärztin – 3.300 €"])
def test_xml_escaping_matches_the_standard_library(text):
    from xml.sax import saxutils

    from careersite.extras import xml
    assert xml.escape(text) == saxutils.escape(text)
    assert xml.quoteattr(text) == saxutils.quoteattr(text)
