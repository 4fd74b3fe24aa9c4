"""Rendered pages: what each kind of page shows, German typography, limits at scale, page keys."""

from __future__ import annotations

import re

import lxml.html
import pytest
from conftest import article

from careersite import render


def doc(site, relpath: str):
    return lxml.html.fromstring(site.page(relpath))


def text(element) -> str:
    """The element's text with runs of ASCII white space as one space (no-break spaces stay)."""
    return re.sub(r"[ \t\r\n]+", " ", element.text_content()).strip()


def entry(role: str, city: str, low: int = 3000, high: int = 4000, *, region: str = "Ruhrgebiet",
          state: str = "Nordrhein-Westfalen", tags: tuple[str, ...] = (), date: str = "2026-11-01",
          updated: str | None = None, period: str = "month", body: str = "Ein Absatz.\n") -> str:
    lines = ["---", f"role: {role}", f"city: {city}", f"region: {region}", f"state: {state}",
             "salary:", f"  period: {period}", f"  min: {low}", f"  max: {high}", f"date: {date}"]
    if updated:
        lines.append(f"updated: {updated}")
    if tags:
        lines.append("tags: [" + ", ".join(tags) + "]")
    return "\n".join(lines) + "\n---\n" + body


def slug(name: str) -> str:
    from careersite.urls import slugify
    return slugify(name)


# --- article page -------------------------------------------------------------------------

def test_article_page_answers_what_a_profession_earns_in_a_city(make_site):
    long_body = ("Straßenbau in Bochum: ein Einstieg mit Perspektive.\n\n## Aufgaben\n\nA.\n\n"
                 "## Ausbildung\n\nB.\n\n## Gehalt\n\nC.\n")
    site = make_site({
        "bochum/strassenbauer.md": article("Straßenbauer", "Bochum", 3000, 4000, date="2026-11-23",
                                           body=long_body),
        "essen/strassenbauer.md": article("Straßenbauer", "Essen", 3200, 4400),
        "dortmund/strassenbauer.md": article("Straßenbauer", "Dortmund", 2600, 3400),
        "bochum/baecker.md": article("Bäcker", "Bochum", 2400, 2900),
    })
    assert site.build() == 0
    page = doc(site, "bochum/strassenbauer/index.html")
    html = site.page("bochum/strassenbauer/index.html")

    assert page.get("lang") == "de"
    assert text(page.find(".//title")) == "Straßenbauer in Bochum – Testatlas"
    assert page.xpath("//meta[@name='description']/@content") == [
        "Straßenbau in Bochum: ein Einstieg mit Perspektive."]
    assert page.xpath("//link[@rel='canonical']/@href") == ["https://example.org/bochum/strassenbauer/"]
    assert page.xpath("//meta[@property='og:url']/@content") == ["https://example.org/bochum/strassenbauer/"]
    assert page.xpath("//meta[@property='og:type']/@content") == ["article"]
    assert page.xpath("//meta[@property='og:title']/@content") == ["Straßenbauer in Bochum"]

    crumbs = page.xpath("//nav[@class='crumbs']//a")
    assert [text(a) for a in crumbs] == ["Start", "Bochum", "Straßenbauer"]
    assert [a.get("href") for a in crumbs] == ["../../", "../../bochum/", "../../bochum/strassenbauer/"]
    assert crumbs[-1].get("aria-current") == "page"

    box = page.xpath("//section[@class='salary-box']")[0]
    assert "3.000–4.000\u00a0€ brutto im Monat" in text(box)
    assert [text(td) for td in box.xpath(".//table[@class='levels']//td")] == ["3.000–3.500\u00a0€",
                                                                            "3.500–4.000\u00a0€"]
    assert "(brutto im Monat, EUR)" in text(box.xpath(".//caption")[0])
    assert box.xpath(".//svg[@role='img']"), "a small chart in the salary box"
    # Bochum's middle (3.500) against the median of 3.000, 3.500 and 3.800
    assert "In Bochum entspricht die Mitte der Spanne (3.500\u00a0€) dem Median aller 3 Städte." in text(box)
    assert "Damit steht Bochum auf Platz 2 von 3." in text(box)

    assert '<time datetime="2026-11-23">23. November 2026</time>' in html
    assert "Stand: 23. November 2026" in text(page.xpath("//p[@class='meta']")[0])
    assert [text(a) for a in page.xpath("//nav[@class='toc']//a")] == ["Aufgaben", "Ausbildung", "Gehalt"]

    rows = page.xpath("//section[@aria-labelledby='vergleich_staedte']//tbody/tr")
    cells = [[text(c) for c in row] for row in rows]
    assert cells == [["Essen", "3.200–4.400\u00a0€", "3.800\u00a0€ +9\u00a0%"],
                     ["Bochum", "3.000–4.000\u00a0€", "3.500\u00a0€ ±0\u00a0%"],
                     ["Dortmund", "2.600–3.400\u00a0€", "3.000\u00a0€ \u221214\u00a0%"]]
    assert rows[1].get("class") == "current"
    assert page.xpath("//section[@aria-labelledby='weitere_berufe']//li/a/text()") == ["Bäcker"]


def test_article_without_other_cities_has_no_comparison_and_short_article_no_toc(make_site):
    site = make_site({"bochum/strassenbauer.md": article(), "bochum/baecker.md": article("Bäcker")})
    assert site.build() == 0
    page = doc(site, "bochum/strassenbauer/index.html")
    assert not page.xpath("//section[@aria-labelledby='vergleich_staedte']")
    assert not page.xpath("//nav[@class='toc']")  # one h2: below toc_min_headings
    assert not page.xpath("//p[@class='verdict']")
    assert page.xpath("//line[@class='median']") == []


def test_article_lists_are_capped_with_links_to_the_full_hubs(make_site):
    cities = [f"Stadt{chr(65 + n)}" for n in range(15)]  # StadtA … StadtO
    files = {}
    for n, city in enumerate(cities):
        region = "Ruhrgebiet" if n % 3 == 0 else "Rheinland"
        files[f"{city.lower()}/pfleger.md"] = entry("Pfleger", city, 3000 + 50 * n, 4000 + 50 * n, region=region)
    roles = [f"Beruf {chr(65 + n)}" for n in range(15)]
    for n, role in enumerate(roles):
        tags = ("Pflege",) if n in (3, 11) else ("Technik",)
        files[f"stadtb/{slug(role)}.md"] = entry(role, "StadtB", 2500, 3000, region="Rheinland", tags=tags)
    files["stadtb/pfleger.md"] = entry("Pfleger", "StadtB", 3050, 4050, region="Rheinland", tags=("Pflege",))
    site = make_site(files)
    assert site.build() == 0
    page = doc(site, "stadtb/pfleger/index.html")

    section = page.xpath("//section[@aria-labelledby='vergleich_staedte']")[0]
    shown = [text(a) for a in section.xpath(".//tbody//th/a")]
    assert len(shown) == render.COMPARE_LIMIT and "StadtB" in shown
    # nearness: every other city of StadtB's region (Rheinland) comes before those of the Ruhrgebiet
    rheinland = [c for n, c in enumerate(cities) if n % 3 != 0]
    assert set(shown) == set(sorted(rheinland)[: render.COMPARE_LIMIT])
    mids = [int(re.sub(r"\D", "", text(td).split("€")[0])) for td in section.xpath(".//tbody//td[@class='num']")]
    assert mids == sorted(mids, reverse=True), "shown by salary, highest first"
    assert "Die Tabelle zeigt 10 von 15 Städten." in text(section)
    link = section.xpath(".//a[contains(., 'Alle 15 Städte')]")[0]
    assert link.get("href") == "../../berufe/pfleger/"

    related = page.xpath("//section[@aria-labelledby='weitere_berufe']")[0]
    names = [text(a) for a in related.xpath(".//li/a")]
    assert len(names) == render.RELATED_LIMIT
    assert {"Beruf D", "Beruf L"} <= set(names), "professions sharing a tag come first"
    assert names == sorted(names)
    assert related.xpath(".//a[.='Alle 16 Berufe in StadtB']/@href") == ["../../stadtb/"]


def test_article_without_date_has_no_stand_line(make_site):
    site = make_site({"bochum/x.md": "---\nrole: X\ncity: Bochum\nsalary: 3.000–4.000 €\n---\nText.\n"})
    assert site.build() == 0
    assert "Stand" not in site.page("bochum/x/index.html")


# --- hubs ---------------------------------------------------------------------------------

def test_city_hub_shows_overview_region_state_and_every_profession(make_site):
    site = make_site({
        "bochum/a.md": entry("Altenpfleger", "Bochum", 3000, 4000),  # middle 3.500
        "bochum/b.md": entry("Bäcker", "Bochum", 2500, 3200),  # 2.850
        "bochum/c.md": entry("Chemiker", "Bochum", 3600, 4400),  # 4.000
    })
    assert site.build() == 0
    page = doc(site, "bochum/index.html")
    assert text(page.find(".//h1")) == "Berufe und Gehälter in Bochum"
    assert page.xpath("//meta[@name='description']/@content") == [
        "Bochum: 3 Berufe, Gehälter 2.500–4.400\u00a0€ brutto im Monat (Median 3.500\u00a0€)."]
    assert "Region: Ruhrgebiet · Bundesland: Nordrhein-Westfalen" in text(page.xpath("//p[@class='lead']")[0])
    stats = {text(d.find("dt")): text(d.find("dd")) for d in page.xpath("//dl[@class='stats']/div")}
    assert stats == {"Median": "3.500\u00a0€", "Niedrigster Wert": "2.500\u00a0€", "Höchster Wert": "4.400\u00a0€",
                     "Berufe": "3"}
    rows = [[text(c) for c in tr] for tr in page.xpath("//table[@class='salaries']/tbody/tr")]
    assert rows == [["Altenpfleger", "3.000–4.000\u00a0€", "3.500\u00a0€"],
                    ["Bäcker", "2.500–3.200\u00a0€", "2.850\u00a0€"],
                    ["Chemiker", "3.600–4.400\u00a0€", "4.000\u00a0€"]]
    assert [text(a) for a in page.xpath("//nav[@class='crumbs']//a")] == ["Start", "Nordrhein-Westfalen", "Bochum"]
    assert not page.xpath("//nav[@class='az']"), "no letter navigation for a short list"


def test_hubs_paginate_with_a_working_letter_navigation(make_site):
    names = [f"{letter}beruf {n}" for letter in "ABÄCKMZ" for n in range(4)]  # 28, Ä sorts with A
    files = {f"bochum/{slug(name)}.md": entry(name, "Bochum") for name in names}
    site = make_site(files, config="hub_page_size: 10\n")
    assert site.build() == 0
    pages = ["bochum/index.html", "bochum/seite-2/index.html", "bochum/seite-3/index.html"]
    assert all((site.output / p).is_file() for p in pages)
    assert not (site.output / "bochum/seite-4/index.html").exists()

    second = doc(site, pages[1])
    assert text(second.find(".//title")) == "Berufe und Gehälter in Bochum – Seite 2 von 3 – Testatlas"
    assert text(second.find(".//h1")) == "Berufe und Gehälter in Bochum"
    assert second.xpath("//link[@rel='canonical']/@href") == ["https://example.org/bochum/seite-2/"]
    assert second.xpath("//nav[@class='pager']//a[@aria-current='page']/text()") == ["2"]

    for relpath in pages:
        page = doc(site, relpath)
        letters = page.xpath("//nav[@class='az']//li")
        assert [text(li) for li in letters] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
        linked = {text(a): a.get("href") for a in page.xpath("//nav[@class='az']//a")}
        assert set(linked) == {"A", "B", "C", "K", "M", "Z"}
        for href in linked.values():
            target, _, anchor = href.partition("#")
            folder = (site.output / relpath).parent
            target_doc = lxml.html.fromstring((folder / target / "index.html").read_text()) if target else page
            assert target_doc.xpath(f"//*[@id='{anchor}']"), (relpath, href)
    # the start page shows the first professions and leads to the rest through the letters
    start = doc(site, "index.html")
    assert len(start.xpath("//section[@aria-labelledby='berufe_liste']/ul/li")) == 10
    for href in start.xpath("//nav[@class='az']//a/@href"):
        target, _, anchor = href.partition("#")
        assert target.startswith("berufe/")
        assert doc(site, target + "index.html").xpath(f"//h2[@id='{anchor}']"), href
    assert len(start.xpath("//nav[@class='az']//a")) == 6

    first = doc(site, pages[0])
    assert [text(th) for th in first.xpath("//tr[@class='letter']/th")] == ["A", "B"]
    # A has 8 entries (A…, Ä…): the second page goes on with A without claiming the A anchor
    a_rows = [text(a) for a in first.xpath("//tbody[@id='az_a']//a")]
    assert a_rows[:5] == ["Aberuf 0", "Äberuf 0", "Aberuf 1", "Äberuf 1", "Aberuf 2"]


def test_profession_hub_compares_cities_in_chart_and_table(make_site):
    site = make_site({
        "bochum/pfleger.md": article("Pfleger", "Bochum", 3000, 4000),
        "essen/pfleger.md": article("Pfleger", "Essen", 3200, 4400),
        "muenster/pfleger.md": article("Pfleger", "Münster", 2800, 3600, region="Münsterland"),
    })
    assert site.build() == 0
    page = doc(site, "berufe/pfleger/index.html")
    assert text(page.find(".//h1")) == "Pfleger: Gehalt im Städtevergleich"
    stats = {text(d.find("dt")): text(d.find("dd")) for d in page.xpath("//dl[@class='stats']/div")}
    assert stats == {"Median": "3.500\u00a0€", "Niedrigster Wert": "2.800\u00a0€", "Höchster Wert": "4.400\u00a0€",
                     "Städte": "3"}
    assert "Spanne der Städte-Mediane: 3.200–3.800\u00a0€" in text(page)
    svg = page.xpath("//figure[@class='chart-box']/svg")[0]
    chart_values = [text(t) for t in svg.xpath(".//*[local-name()='text'][@class='value']")]
    chart_labels = [text(t) for t in svg.xpath(".//*[local-name()='text'][@class='label']")]
    rows = page.xpath("//table[@class='salaries']/tbody/tr")
    table = [(text(r.find("th")), text(r.find("td")).split(" Berufseinstieg")[0]) for r in rows]
    assert list(zip(chart_labels, chart_values, strict=True)) == table, "the table carries the chart's numbers"
    levels = [text(li) for li in rows[0].xpath(".//ul[@class='levels']/li")]
    assert levels == ["Berufseinstieg: 3.000–3.500\u00a0€", "Mit Berufserfahrung: 3.500–4.000\u00a0€"]
    assert [text(t) for t in svg.xpath(".//*[local-name()='text'][@class='median-label']")] == [
        "Median aller Städte 3.500\u00a0€"]


def test_region_hub_shows_its_state_and_state_hub_its_regions(make_site):
    site = make_site({
        "bochum/a.md": entry("A", "Bochum"),
        "essen/a.md": entry("A", "Essen"),
        "muenster/a.md": entry("A", "Münster", region="Münsterland"),
    })
    assert site.build() == 0
    region = doc(site, "regionen/ruhrgebiet/index.html")
    assert text(region.xpath("//p[@class='lead']")[0]) == "Bundesland: Nordrhein-Westfalen"
    assert region.xpath("//p[@class='lead']/a/@href") == ["../../bundeslaender/nordrhein-westfalen/"]
    assert [text(a) for a in region.xpath("//table//tbody//th/a")] == ["Bochum", "Essen"]
    state = doc(site, "bundeslaender/nordrhein-westfalen/index.html")
    assert text(state.xpath("//p[@class='lead']")[0]) == "Regionen: Münsterland, Ruhrgebiet"
    assert [text(a) for a in state.xpath("//table//tbody//th/a")] == ["Bochum", "Essen", "Münster"]


def test_start_page_groups_cities_and_lists_professions_and_latest(make_site):
    site = make_site({
        "bochum/a.md": entry("Zimmerer", "Bochum", date="2026-10-01"),
        "bochum/b.md": entry("Ärztin", "Bochum", date="2026-11-23"),
        "muenster/a.md": entry("Bäcker", "Münster", region="Münsterland", date="2026-09-01", updated="2026-11-02"),
        "osnabrueck/a.md": entry("Bäcker", "Osnabrück", region="Osnabrücker Land", state="Niedersachsen"),
    })
    assert site.build() == 0
    page = doc(site, "index.html")
    cities = page.xpath("//section[@aria-labelledby='staedte_liste']")[0]
    headings = [(h.tag, text(h)) for h in cities.xpath(".//h3|.//h4")]
    assert headings == [("h3", "Niedersachsen"), ("h4", "Osnabrücker Land"), ("h3", "Nordrhein-Westfalen"),
                        ("h4", "Münsterland"), ("h4", "Ruhrgebiet")]
    assert "Bochum (2 Artikel)" in text(cities) and "Münster (1 Artikel)" in text(cities)
    professions = page.xpath("//section[@aria-labelledby='berufe_liste']//li")
    assert [text(li) for li in professions] == ["Ärztin (1 Stadt)", "Bäcker (2 Städte)", "Zimmerer (1 Stadt)"]
    latest = [text(a) for a in page.xpath("//section[@aria-labelledby='neu_liste']//a")]
    assert latest == ["Ärztin in Bochum", "Bäcker in Münster", "Bäcker in Osnabrück", "Zimmerer in Bochum"]
    assert "3 Städte · 3 Berufe · 4 Artikel" in text(page)


def test_not_found_page_links_from_the_site_root(make_site):
    site = make_site({"bochum/a.md": article()}, config="base_url: https://example.org/karriere/\n")
    site.root.joinpath("config.yaml").write_text("title: Testatlas\nbase_url: https://example.org/karriere/\n")
    assert site.build() == 0
    page = doc(site, "404.html")
    hrefs = page.xpath("//a/@href") + page.xpath("//link[@rel='stylesheet']/@href")
    hrefs = [h for h in hrefs if not h.startswith("#")]
    assert hrefs and all(h.startswith("/karriere/") for h in hrefs), hrefs
    assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert not page.xpath("//link[@rel='canonical']")


def test_every_page_has_title_description_canonical_and_open_graph(make_site):
    site = make_site({"bochum/a.md": article(), "essen/b.md": article("Bäcker", "Essen")})
    assert site.build() == 0
    pages = [p for p in site.files() if p.endswith(".html") and p != "404.html"]
    assert len(pages) > 8
    for relpath in pages:
        page = doc(site, relpath)
        assert page.get("lang") == "de"
        assert text(page.find(".//title"))
        assert page.xpath("//meta[@name='description']/@content")[0].strip()
        canonical = page.xpath("//link[@rel='canonical']/@href")
        assert canonical == ["https://example.org/" + render.page_url(relpath)], relpath
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name", "og:locale"):
            assert page.xpath(f"//meta[@property='{prop}']/@content"), (relpath, prop)
        assert len(page.xpath("//h1")) == 1, relpath


def test_stylesheet_is_fingerprinted_and_linked(make_site):
    import hashlib

    site = make_site({"bochum/a.md": article()})
    assert site.build() == 0
    css = [p for p in site.files() if p.startswith("static/style.")]
    assert len(css) == 1 and re.fullmatch(r"static/style\.[0-9a-f]{10}\.css", css[0])
    data = (site.output / css[0]).read_bytes()
    assert css[0].split(".")[1] == hashlib.sha256(data).hexdigest()[:10]
    assert f'href="../../{css[0]}"' in site.page("bochum/strassenbauer/index.html")


@pytest.mark.parametrize(("period", "shown"), [("year", "brutto im Jahr"), ("hour", "brutto pro Stunde")])
def test_other_periods_are_named(make_site, period, shown):
    low, high = (30000, 42000) if period == "year" else (14, 19)
    site = make_site({"bochum/a.md": entry("A", "Bochum", low, high, period=period)})
    assert site.build() == 0
    assert shown in text(doc(site, "bochum/a/index.html").xpath("//p[@class='range']")[0])


# --- keys: a page re-renders when anything it shows changes -----------------------------------

def test_incremental_build_matches_a_cold_build_when_another_citys_name_changes(make_site):
    # The profession page of "Pfleger" names the city Essen as the model spells it (the most common
    # spelling among Essen's articles). Articles that are not about Pfleger can change that spelling.
    files = {
        "bochum/pfleger.md": entry("Pfleger", "Bochum"),
        "essen/pfleger.md": entry("Pfleger", "Essen"),
        "essen/baecker.md": entry("Bäcker", "Essen"),
    }
    site = make_site(files, name="incremental")
    assert site.build() == 0
    changed = {"essen/baecker.md": entry("Bäcker", "ESSEN"), "essen/koch.md": entry("Koch", "ESSEN")}
    for relpath, content in changed.items():
        site.write(relpath, content)
    assert site.build() == 0
    assert "ESSEN" in site.page("berufe/pfleger/index.html")
    assert "ESSEN" in site.page("bochum/pfleger/index.html")
    cold = make_site({**files, **changed}, name="cold")
    assert cold.build() == 0
    assert site.files() == cold.files()


def test_the_quicker_calls_and_lookups_behave_as_jinja_s(make_site):
    """careersite's Jinja environment calls plain functions and looks up attributes and items on
    its own fast paths; what a template sees must be what stock Jinja gives."""
    import collections

    import jinja2

    from careersite.config import load_config
    site = make_site({"bochum/a.md": article()})
    env = render.make_environment(load_config(site.root / "config.yaml"))
    stock = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

    @jinja2.pass_context
    def with_context(context, x):
        return f"{context['name']}:{x}"

    def stops(x):
        raise StopIteration

    class Keyed(tuple):  # a tuple that answers string keys itself
        def __getitem__(self, key):
            return f"key {key}" if isinstance(key, str) else tuple.__getitem__(self, key)

    card = collections.namedtuple("Card", "url role")("/a/", "Koch")
    values = {"plain": lambda x, y="": f"<{x}{y}>", "with_context": with_context, "name": "ctx", "card": card,
              "row": {"url": "/b/", "items": 1}, "stops": stops, "col": "role", "keyed": Keyed((1, 2))}
    source = ("{{ plain(1) }} {{ plain(2, y=3) }} {{ with_context(4) }} {{ card.role }} {{ card.url }} "
              "{{ row.url }} {{ row['url'] }} {{ card.index('Koch') }} {{ card[col] }} {{ card['url'] }} "
              "{{ card[1] }} {{ card[-1] }} {{ keyed['x'] }} {{ keyed[0] }} {{ (1, 2)[1] }} {{ card['count'] }} "
              "{% for n in [5, 6] %}{{ plain(n) }}{{ with_context(n) }}{% endfor %}")
    assert env.from_string(source).render(values) == stock.from_string(source).render(values)
    # printed values are escaped to plain text (not Markup): the same output in macros,
    # {% set %} and filter blocks, which Jinja makes Markup as a whole
    values["data"] = {"b": [1.5, None, True, 10**20], "a": "</script><!-- & 'x' \"ä€\u2028", "c": {"z": {}}}
    values["safe"] = jinja2.utils.markupsafe.Markup("<b>fett</b>")
    source = ("{{ data|tojson }}|{{ data|tojson(2) }}|{{ 'x'|tojson }}|{{ '<a href=\"&\">' }}{{ safe }}{{ 5 }}"
              "{{ none }}{% macro m(v) %}<{{ v }}>{% endmacro %}{{ m('&') }}{{ m('<')|length }}"
              "{% set block %}{{ '<i>' }}{{ safe }}{% endset %}{{ block }}{{ block|length }}"
              "{% filter upper %}{{ '<u>' }}{{ safe }}{% endfilter %}"
              "{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}{{ '&amp;' }}{% endcall %}")
    assert env.from_string(source).render(values) == stock.from_string(source).render(values)
    # the environment's globals (one plain dict per template here, a ChainMap in Jinja)
    source = "{{ range(3)|list }} {{ dict(a=1) }} {% set ns = namespace(n=2) %}{{ ns.n }} {{ lipsum is defined }}"
    assert env.from_string(source).render() == stock.from_string(source).render()
    assert env.from_string("{{ x }}{{ range is defined }}", globals={"x": 1}).render() == "1True"
    # the link filter is the page's link function
    linked = "{{ 'a/'|link }} {% for u in ['b/', ''] %}{{ u|link }} {% endfor %}{% include 'inc' %}"
    loader = jinja2.DictLoader({"page": linked, "inc": "{{ 'c/'|link }}"})
    env.loader = loader
    assert env.get_template("page").render(link=lambda t: "../" + t or "./") == "../a/ ../b/ ../ ../c/"
    # without a link in sight (a macro imported without context), the error link() gives
    loader.mapping.update({"m": "{% macro a(u) %}{{ u|link }}{% endmacro %}",
                           "n": "{% macro a(u) %}{{ link(u) }}{% endmacro %}"})
    for name in ("m", "n"):
        with pytest.raises(jinja2.UndefinedError, match="'link' is undefined"):
            env.from_string(f'{{% import "{name}" as m %}}{{{{ m.a("x/") }}}}').render(link=lambda t: t)
    # percent is cached by value: equal values print alike whatever came first
    from decimal import Decimal
    shown = env.from_string("{{ a|percent }} {{ b|percent }} {{ c|percent }} {{ d|percent }}")
    assert shown.render(a=Decimal("-0"), b=Decimal(0), c=Decimal("5.0"), d=Decimal(-5)) == \
        "\u00b10\u00a0% \u00b10\u00a0% +5\u00a0% \u22125\u00a0%"
    for broken in ("{{ stops(1) }}", "{{ card.missing }}", "{{ row.missing }}", "{{ row.items }}x",
                   "{{ card['missing'] }}", "{{ card[5] }}", "{{ (1, 2)['x'] }}"):
        results = []
        for environment in (env, stock):
            try:
                results.append(environment.from_string(broken).render(values))
            except jinja2.UndefinedError as exc:
                results.append(type(exc))
        assert results[0] == results[1], broken


def test_compiled_templates_are_reused_only_by_the_same_jinja_and_careersite_code(monkeypatch, tmp_path):
    """Jinja's bytecode cache checks a template's source alone: code compiled by another Jinja or
    another careersite (its code generator, codegen.py) would be loaded after an upgrade."""
    import jinja2

    from careersite import cache
    bytecode = render._BytecodeCache(str(tmp_path))
    same = bytecode.get_source_checksum("{{ x }}")
    assert bytecode.get_source_checksum("{{ x }}") == same
    assert bytecode.get_source_checksum("{{ y }}") != same
    monkeypatch.setattr(jinja2, "__version__", "9.9.9")
    assert bytecode.get_source_checksum("{{ x }}") != same
    monkeypatch.undo()
    monkeypatch.setattr(cache, "code_version", lambda: "other code")
    assert bytecode.get_source_checksum("{{ x }}") != same


def test_theme_files_name_a_folder_they_cannot_read(tmp_path, monkeypatch):
    import os

    from careersite.errors import BuildFailed, Problem
    (tmp_path / "partials").mkdir()
    (tmp_path / "base.html").write_text("x")
    real_scandir = os.scandir

    def scandir(path):  # (the tests run as root, whom permissions do not stop)
        if str(path).endswith("partials"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BuildFailed) as failed:
        render.theme_files(tmp_path)
    assert failed.value.problems == [Problem("partials", 0, 0, "cannot read the folder: Permission denied",
                                             "make it readable (chmod a+rx), or move it out of the templates folder")]
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert render.theme_files(tmp_path) == [("base.html", b"x")]
