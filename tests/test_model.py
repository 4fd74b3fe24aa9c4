"""careersite.model: terms, URLs, collisions and cross links of the site model."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from conftest import article

from careersite import markup
from careersite.config import load_config
from careersite.content import read_article
from careersite.model import build_site


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return load_config(None)


def articles(config, files: dict[str, str]):
    out = []
    for source, text in files.items():
        path = config.content_dir / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result = read_article(path, source, source, locale="de_DE", currency="EUR", period="month",
                              raw_html=False, render_body=lambda key, body: markup.convert(body))
        assert result.problems == (), result.problems
        out.append(result.article)
    return out


def site_of(config, files: dict[str, str]):
    return build_site(articles(config, files), config)


SAMPLE = {
    "essen/baecker.md": article("Bäcker", "Essen", 2600, 3100),
    "essen/koch.md": article("Koch", "Essen", 2500, 3000),
    "bochum/baecker.md": article("Bäcker", "Bochum", 2700, 3200),
    "muenster/koch.md": article("Koch", "Münster", 2400, 2900, region="Münsterland"),
    "osnabrueck/koch.md": article("Koch", "Osnabrück", 2400, 2900, region="Osnabrücker Land",
                                  state="Niedersachsen"),
}


def test_terms_and_urls(config):
    site = site_of(config, SAMPLE)
    assert [(a.city_slug, a.role_slug) for a in site.articles] == [
        ("bochum", "baecker"), ("essen", "baecker"), ("essen", "koch"), ("muenster", "koch"), ("osnabrueck", "koch")]
    assert site.article_urls == ("bochum/baecker/", "essen/baecker/", "essen/koch/", "muenster/koch/",
                                 "osnabrueck/koch/")
    assert sorted(site.cities) == ["bochum", "essen", "muenster", "osnabrueck"]
    assert site.cities["muenster"].name == "Münster" and site.cities["muenster"].url == "muenster/"
    assert site.professions["baecker"].url == "berufe/baecker/" and site.professions["baecker"].name == "Bäcker"
    assert site.regions["ruhrgebiet"].children == ("bochum", "essen")
    assert site.regions["ruhrgebiet"].parent == "nordrhein-westfalen"
    assert site.regions["muensterland"].url == "regionen/muensterland/"
    assert site.states["niedersachsen"].children == ("osnabrueck",)
    assert site.states["nordrhein-westfalen"].url == "bundeslaender/nordrhein-westfalen/"
    osnabrueck = site.cities["osnabrueck"]
    assert (osnabrueck.parent, osnabrueck.state) == ("osnabruecker-land", "niedersachsen")
    assert site.by_source["essen/koch.md"] == 2
    assert site.problems == () and site.warnings == ()


def test_cross_links_same_profession_elsewhere_and_other_professions_here(config):
    site = site_of(config, SAMPLE)
    index = site.by_source["essen/koch.md"]
    me = site.articles[index]
    same_profession = [site.articles[i].city for i in site.professions[me.role_slug].articles if i != index]
    same_city = [site.articles[i].role for i in site.cities[me.city_slug].articles if i != index]
    assert same_profession == ["Münster", "Osnabrück"]
    assert same_city == ["Bäcker"]


def test_statistics_per_term(config):
    site = site_of(config, SAMPLE)
    (stats,) = site.stats(site.professions["koch"])
    assert (stats.count, stats.lowest, stats.highest, stats.median) == (3, 2400, 3000, 2650)


def test_url_patterns_come_from_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text('urls:\n  article: "{city}/{role}.html"\n  profession: "beruf-{role}/"\n')
    config = load_config(tmp_path / "config.yaml")
    site = site_of(config, {"essen/koch.md": article("Koch", "Essen")})
    assert site.article_urls == ("essen/koch.html",)
    assert site.professions["koch"].url == "beruf-koch/"


@pytest.mark.parametrize("variants", [
    [("Bäcker", "Münster"), ("Baecker", "Muenster")],
    [("Bäcker", "Münster"), ("bäcker", "MÜNSTER")],
    [("Bäcker", "Münster"), (unicodedata.normalize("NFD", "Bäcker"), unicodedata.normalize("NFD", "Münster"))],
    [("Straßenbauer", "Gießen"), ("Strassenbauer", "GIESSEN"), ("STRASSENBAUER", "giessen")],
])
def test_two_sources_for_one_url_are_an_error_naming_all_files(config, variants):
    files = {f"f{i}/{n}.md": article(role, city) for i, (role, city) in enumerate(variants) for n in ["x"]}
    site = site_of(config, files)
    names = ", ".join(str(Path("content", f)) for f in sorted(files))
    assert len(site.problems) == len(variants) - 1
    for problem in site.problems:
        assert problem.message.endswith(f"has more than one article: {names}")
        assert "unique" in problem.hint
    assert len(site.articles) == 1  # the first is kept, so the rest of the site can still be checked


def test_different_spellings_of_one_city_are_one_city_with_a_warning(config):
    site = site_of(config, {"a/koch.md": article("Koch", "Münster"), "b/baecker.md": article("Bäcker", "Münster"),
                            "c/maurer.md": article("Maurer", "Muenster")})
    assert list(site.cities) == ["muenster"]
    assert site.cities["muenster"].name == "Münster"
    (warning,) = site.warnings
    assert warning.path == "c/maurer.md" and warning.severity == "warning"
    assert "'Münster' (2×), 'Muenster' (1×); using 'Münster'" in warning.message
    assert site.problems == ()


def test_digests_change_only_with_what_they_cover(config):
    one = site_of(config, SAMPLE)
    again = site_of(config, SAMPLE)
    assert one.digest == again.digest and one.article_digests == again.article_digests
    assert one.cities["essen"].digest == again.cities["essen"].digest
    changed = dict(SAMPLE, **{"essen/koch.md": article("Koch", "Essen", 2500, 3050)})
    two = site_of(config, changed)
    assert two.digest != one.digest
    assert two.cities["essen"].digest != one.cities["essen"].digest
    assert two.professions["koch"].digest != one.professions["koch"].digest
    assert two.cities["bochum"].digest == one.cities["bochum"].digest
    assert two.professions["baecker"].digest == one.professions["baecker"].digest
    i = one.by_source["bochum/baecker.md"]
    assert two.article_digests[i] == one.article_digests[i]


def test_empty_site(config):
    site = build_site([], config)
    assert site.articles == () and site.cities == {} and site.problems == ()


def test_lazy_articles_fetch_each_article_once_when_first_asked_for():
    from careersite.model import LazyArticles, article_sources
    fetched: list[str] = []

    def get(source):
        fetched.append(source)
        return f"article of {source}"

    arts = LazyArticles(["a.md", "b.md", "c.md"], get, lambda sources: [get(s) for s in sources])
    assert len(arts) == 3 and article_sources(arts) == ["a.md", "b.md", "c.md"] and fetched == []
    assert arts[1] == "article of b.md" and arts[-1] == "article of c.md" and arts[1] == "article of b.md"
    assert fetched == ["b.md", "c.md"]
    changed = arts.replaced({0: "new a"})
    assert changed[0] == "new a" and arts[0] == "article of a.md"
    assert fetched == ["b.md", "c.md", "a.md"]
    assert changed.materialize() == ("new a", "article of b.md", "article of c.md")
    assert list(changed) == list(changed.materialize()) and changed[0:2] == ("new a", "article of b.md")
    assert fetched == ["b.md", "c.md", "a.md"]  # what the original fetched, the copy has
