"""careersite.scaffold: `python build.py new "ROLE" "CITY"`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import article

from careersite import markup
from careersite.config import load_config
from careersite.content import read_article
from careersite.errors import SiteError, UsageError
from careersite.scaffold import new_article

DAY = dt.date(2026, 11, 24)


def read(path: Path, content: Path):
    source = path.relative_to(content).as_posix()
    return read_article(path, source, source, locale="de_DE", currency="EUR", period="month", raw_html=False,
                        render_body=lambda key, body: markup.convert(body))


def fill_salary(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = text.replace("  min: 0  #", "  min: 3300  #").replace("  max: 0  #", "  max: 4600  #")
    path.write_text(text, encoding="utf-8")


def test_creates_skeleton_with_region_and_state_of_the_city(make_site):
    site = make_site({"bochum/strassenbauer.md": article("Straßenbauer", "Bochum", region="Ruhrgebiet",
                                                         state="Nordrhein-Westfalen")})
    config = load_config(site.root / "config.yaml")
    path = new_article(config, "Fachinformatiker Systemintegration", "Bochum", today=DAY)
    assert path == site.content / "bochum" / "fachinformatiker-systemintegration.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\nrole: Fachinformatiker Systemintegration\ncity: Bochum\n"
                           "region: Ruhrgebiet\nstate: Nordrhein-Westfalen\nsalary:\n")
    assert "date: 2026-11-24\n" in text
    assert "draft: true" in text
    for heading in ("## Aufgaben im Alltag", "## Ausbildung und Einstieg", "## Gehalt in Bochum",
                    "## Arbeitgeber und Branchen vor Ort", "## Perspektiven"):
        assert f"\n{heading}\n" in text


def test_salary_placeholders_fail_until_filled_then_the_article_is_valid(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    path = new_article(load_config(site.root / "config.yaml"), "Fachinformatiker Systemintegration", "Bochum",
                       today=DAY)
    lines = path.read_text(encoding="utf-8").splitlines()
    min_line = next(i for i, line in enumerate(lines, 1) if line.startswith("  min: 0"))
    result = read(path, site.content)
    assert result.article is None
    assert [(p.line, p.message) for p in result.problems] == [
        (min_line, "amount 0 must be greater than 0"), (min_line + 1, "amount 0 must be greater than 0")]
    assert all("3300" in p.hint for p in result.problems)  # the hint shows what to write

    fill_salary(path)
    result = read(path, site.content)
    assert result.problems == ()
    art = result.article
    assert (art.role, art.city, art.region, art.state) == ("Fachinformatiker Systemintegration", "Bochum",
                                                          "Ruhrgebiet", "Nordrhein-Westfalen")
    assert (art.salary.min, art.salary.max, art.salary.period) == (Decimal(3300), Decimal(4600), "month")
    assert art.date == DAY and art.draft is True
    assert [h.text for h in art.headings][:2] == ["Aufgaben im Alltag", "Ausbildung und Einstieg"]


def test_build_fails_on_the_placeholder_and_succeeds_once_filled(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.run("new", "Fachinformatiker Systemintegration", "Bochum") == 0
    out = capsys.readouterr().out
    assert "Created content/bochum/fachinformatiker-systemintegration.md" in out
    assert site.build() == 1
    assert "content/bochum/fachinformatiker-systemintegration.md:8:8: amount 0 must be greater than 0" \
        in capsys.readouterr().err
    fill_salary(site.content / "bochum" / "fachinformatiker-systemintegration.md")
    assert site.build("--drafts") == 0
    page = site.page("bochum/fachinformatiker-systemintegration/index.html")
    assert "Entwurf" in page  # the draft is marked


def test_unknown_city_leaves_region_and_state_open_and_uses_today(make_site):
    site = make_site()
    path = new_article(load_config(site.root / "config.yaml"), "Bäcker", "Gießen")
    assert path == site.content / "giessen" / "baecker.md"
    text = path.read_text(encoding="utf-8")
    assert "region:  # optional" in text and "state:  # optional" in text
    assert f"date: {dt.date.today().isoformat()}" in text
    fill_salary(path)
    art = read(path, site.content).article
    assert art is not None and art.region is None and art.state is None


def test_city_spelling_of_existing_articles_is_kept(make_site):
    site = make_site({"muenster/strassenbauer.md": article("Straßenbauer", "Münster", region="Münsterland")})
    path = new_article(load_config(site.root / "config.yaml"), "Bäcker", "münster", today=DAY)
    assert path == site.content / "muenster" / "baecker.md"
    text = path.read_text(encoding="utf-8")
    assert "city: Münster\nregion: Münsterland\n" in text


def test_refuses_to_overwrite(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    before = (site.content / "bochum" / "strassenbauer.md").read_bytes()
    with pytest.raises(SiteError, match="content/bochum/strassenbauer.md already exists"):
        new_article(load_config(site.root / "config.yaml"), "Straßenbauer", "Bochum")
    assert site.run("new", "Straßenbauer", "Bochum") == 1
    assert "content/bochum/strassenbauer.md already exists; nothing was written" in capsys.readouterr().err
    assert (site.content / "bochum" / "strassenbauer.md").read_bytes() == before


def test_refuses_a_second_article_for_the_same_role_and_city(make_site):
    site = make_site({"bochum/strassenbau.md": article("Straßenbauer", "Bochum")})
    with pytest.raises(SiteError, match="strassenbau.md already is the article for 'Straßenbauer' in 'Bochum'"):
        new_article(load_config(site.root / "config.yaml"), "Strassenbauer", "Bochum")
    assert not (site.content / "bochum" / "strassenbauer.md").exists()


@pytest.mark.parametrize("role", ["Kaufmann: Büro", "Koch #1", "yes", "123", "Techniker \"Nord\"", "- Maler"])
def test_names_that_yaml_would_misread_are_quoted(make_site, role):
    site = make_site()
    path = new_article(load_config(site.root / "config.yaml"), role, "Essen", today=DAY)
    fill_salary(path)
    art = read(path, site.content).article
    assert art is not None and art.role == role


@pytest.mark.parametrize("role, message", [
    ("", "the role is empty"), ("   ", "the role is empty"), ("../x", "looks like a file path"),
    ("!!!", "gives an empty URL"), ("x" * 300, "too long"),
])
def test_bad_names_are_usage_errors(make_site, capsys, role, message):
    site = make_site()
    with pytest.raises(UsageError, match=message):
        new_article(load_config(site.root / "config.yaml"), role, "Essen")
    assert site.run("new", role, "Essen") == 2
    assert message in capsys.readouterr().err
    assert list(site.content.iterdir()) == []
