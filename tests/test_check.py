"""careersite.check: `python build.py check` validates everything and checks links, writing no output/."""

from __future__ import annotations

import pytest
from conftest import article


def with_body(body: str, role: str = "Straßenbauer", city: str = "Bochum", **kw) -> str:
    """An article whose body is ``body`` (its first line is file line 14, see conftest.ARTICLE)."""
    return article(role, city, body=body, **kw)


BODY_LINE = 14  # the first body line of article(): 13 front-matter lines, then the body

ESSEN = with_body("Einleitung.\n\n## Aufgaben\n\nText.\n\n## Gehalt in Essen\n\nMehr.\n", "Bäcker", "Essen")


def run_check(site, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = site.run("check", *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_valid_site_passes_and_writes_nothing(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": with_body("Siehe [Bäcker](../essen/baecker.md#aufgaben).\n"),
                      "essen/baecker.md": ESSEN})
    code, out, err = run_check(site, capsys)
    assert (code, err) == (0, "")
    assert "No problems found." in out
    assert not site.output.exists()


@pytest.mark.parametrize("link", [
    "../essen/baecker.md", "../essen/baecker.md#gehalt-in-essen",  # by source file
    "/essen/baecker/", "/essen/baecker/#aufgaben", "/essen/baecker", "/essen/baecker/index.html",  # by URL
    "../../essen/baecker/", "../../essen/", "../../", "/", "../../berufe/baecker/",  # relative URLs
    "#aufgaben-im-alltag", "https://example.org/essen/baecker/",  # own heading; the site's own full URL
    "https://nicht-vorhanden.invalid/x", "mailto:info@example.org", "tel:+49123", "//cdn.invalid/x.png",
    "/sitemap.xml", "/feed.xml",
])
def test_links_that_resolve(make_site, capsys, link):
    site = make_site({"bochum/strassenbauer.md": with_body(f"Text mit [Link]({link}).\n\n## Aufgaben im Alltag\n"),
                      "essen/baecker.md": ESSEN})
    code, out, err = run_check(site, capsys)
    assert (code, err) == (0, ""), err


@pytest.mark.parametrize("link, message, hint", [
    ("../essen/backer.md", "link '../essen/backer.md' points to a missing article (content/essen/backer.md)",
     "did you mean '../essen/baecker.md'?"),
    ("../essen/baecker.md#gehalt", "link '../essen/baecker.md#gehalt': /essen/baecker/ has no heading '#gehalt'",
     "its headings are: #aufgaben, #gehalt-in-essen"),
    ("/essen/baeker/", "link '/essen/baeker/' points to a page that does not exist (/essen/baeker/)",
     "did you mean '/essen/baecker/'?"),
    ("../../essen/bcker/x/", "link '../../essen/bcker/x/' points to a page that does not exist (/essen/bcker/x/)",
     ""),
    ("#nirgends", "link '#nirgends': this article has no heading '#nirgends'",
     "its headings are: #aufgaben-im-alltag"),
    ("https://example.org/essen/nichts/", "link 'https://example.org/essen/nichts/' points to a page that does "
     "not exist (/essen/nichts/)", ""),
    ("javascript:alert(1)", "link 'javascript:alert(1)' uses the scheme 'javascript:', which is removed from the page",
     "write a link starting with https://, mailto: or tel:"),
    ("bild.png", "link 'bild.png' points to a page that does not exist (/bochum/strassenbauer/bild.png)", ""),
    ("http://[", "link 'http://[' is not a valid address",
     "remove the '[' or ']' from the link target, or write them as %5B and %5D"),
])
def test_broken_links_are_errors_with_line_and_column(make_site, capsys, link, message, hint):
    body = f"Einleitung.\n\n## Aufgaben im Alltag\n\nDazu [mehr]({link}) lesen.\n"
    site = make_site({"bochum/strassenbauer.md": with_body(body), "essen/baecker.md": ESSEN})
    code, out, err = run_check(site, capsys)
    assert code == 1
    column = len("Dazu [mehr](") + 1
    assert f"content/bochum/strassenbauer.md:{BODY_LINE + 4}:{column}: {message}\n" in err
    if hint:
        assert f"  hint: {hint}" in err
    assert "error: 1 error in 1 file; nothing was written." in err
    assert not site.output.exists()


def test_fragment_may_name_an_id_the_template_adds(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": with_body("[Zum Inhalt](#inhalt)\n"), "essen/baecker.md": ESSEN})
    page_ids = _ids_of_article_page(site)
    template_id = sorted(page_ids - {"aufgaben", "gehalt-in-essen"})[0]
    site.write("bochum/strassenbauer.md", with_body(f"[Sprung](../essen/baecker.md#{template_id})\n"))
    code, out, err = run_check(site, capsys)
    assert (code, err) == (0, ""), (template_id, err)


def _ids_of_article_page(site) -> set[str]:
    import re
    assert site.build() == 0
    return set(re.findall(r'\sid="([^"]+)"', site.page("essen/baecker/index.html")))


def test_every_occurrence_gets_its_own_line(make_site, capsys):
    body = "A [x](../essen/nix.md).\n\nB\n\nC [y](../essen/nix.md) und [z](../essen/nix.md).\n"
    site = make_site({"bochum/strassenbauer.md": with_body(body)})
    code, out, err = run_check(site, capsys)
    lines = [line.split(": link")[0] for line in err.splitlines() if line.startswith("content/")]
    assert lines == ["content/bochum/strassenbauer.md:14:7", "content/bochum/strassenbauer.md:18:7",
                     "content/bochum/strassenbauer.md:18:32"]


def test_links_to_drafts_are_broken_unless_drafts_are_built(make_site, capsys):
    draft = ESSEN.replace("date: 2026-11-01\n", "date: 2026-11-01\ndraft: true\n")
    site = make_site({"bochum/strassenbauer.md": with_body("[a](../essen/baecker.md) [b](/essen/baecker/)\n"),
                      "essen/baecker.md": draft,
                      "essen/koch.md": with_body("[c](baecker.md)\n", "Koch", "Essen").replace(
                          "date: 2026-11-01\n", "date: 2026-11-01\ndraft: true\n")})
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "content/bochum/strassenbauer.md:14:5: link '../essen/baecker.md' points to a draft, which is not " \
           "published" in err
    assert "content/bochum/strassenbauer.md:14:30: link '/essen/baecker/' points to a draft" in err
    assert "koch.md" not in err  # a draft may link to a draft
    code, out, err = run_check(site, capsys, "--drafts")
    assert (code, err) == (0, "")


def test_links_under_a_base_path(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": with_body("[a](/karriere/essen/baecker/) [b](/essen/baecker/)\n"),
                      "essen/baecker.md": ESSEN})
    (site.root / "config.yaml").write_text("title: T\nbase_url: https://example.org/karriere/\n", encoding="utf-8")
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "link '/karriere/essen/baecker/'" not in err
    assert "content/bochum/strassenbauer.md:14:35: link '/essen/baecker/' points outside the site (its pages " \
           "start with /karriere/)" in err


def test_content_problems_are_the_builds(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article(), "a/one.md": "---\nrole: X\ncity: Y\nsalery: 1\n---\n",
                      "a/two.md": "kein front matter\n"})
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "content/a/one.md:4:1: unknown key 'salery'" in err
    assert "content/a/two.md:1:1: the file does not start with front matter" in err
    assert "nothing was written" in err
    assert not site.output.exists()


def test_github_annotations_on_request_and_under_actions(make_site, capsys, monkeypatch):
    site = make_site({"bochum/strassenbauer.md": with_body("[x](../nix.md)\n")})
    expected = ("::error file=content/bochum/strassenbauer.md,line=14,col=5::link '../nix.md' points to a missing "
                "article (content/nix.md) (hint: link to an article by its file")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code, out, err = run_check(site, capsys)
    assert code == 1 and "::error" not in err
    code, out, err = run_check(site, capsys, "--format", "github")
    assert code == 1 and expected in err
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = run_check(site, capsys)
    assert code == 1 and expected in err


def test_template_syntax_and_runtime_errors(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    tpl = site.root / "templates" / "article.html"
    original = tpl.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    tpl.write_text("".join(lines[:2]) + "{{ article.titel }}\n" + "".join(lines[2:]), encoding="utf-8")
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "templates/article.html:3: UndefinedError: " in err and "titel" in err
    tpl.write_text("".join(lines[:2]) + "{% if %}\n" + "".join(lines[2:]), encoding="utf-8")
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "templates/article.html:3: template syntax error:" in err
    assert not site.output.exists()


def test_check_leaves_an_existing_output_alone(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build() == 0
    before = {path: (data, (site.output / path).stat().st_mtime_ns) for path, data in site.files().items()}
    site.write("bochum/strassenbauer.md", article(min=3100))
    site.write("essen/x.md", "---\nrole: X\n---\n")
    code, out, err = run_check(site, capsys)
    assert code == 1 and "content/essen/x.md" in err
    after = {path: (data, (site.output / path).stat().st_mtime_ns) for path, data in site.files().items()}
    assert after == before


def test_config_error_exit_1(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()}, config="colour: blau\n")
    code, out, err = run_check(site, capsys)
    assert code == 1
    assert "config.yaml:3:1: unknown key 'colour'" in err


def test_strict_turns_warnings_into_errors(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article(region="Ruhrgebiet"),
                      "bochum/baecker.md": article("Bäcker", region="Ruhrpott"),
                      "bochum/koch.md": article("Koch", region="Ruhrgebiet")})
    code, out, err = run_check(site, capsys)
    assert code == 0 and "warning: the region of 'Bochum' is written differently" in err
    code, out, err = run_check(site, capsys, "--strict")
    assert code == 1 and "the region of 'Bochum' is written differently" in err


def test_search_without_pagefind_is_reported(make_site, capsys, monkeypatch):
    from careersite.errors import BuildFailed, Problem
    from careersite.extras import search

    def missing(config):
        raise BuildFailed([Problem("config.yaml", 0, 0, "search is on, but Pagefind (the search indexer) is not "
                                   "installed", "install it")])

    monkeypatch.setattr(search, "pagefind_binary", missing)
    site = make_site({"bochum/strassenbauer.md": article()})
    code, out, err = run_check(site, capsys)
    assert code == 1 and "search is on, but Pagefind (the search indexer) is not installed" in err
    (site.root / "config.yaml").write_text("title: T\nbase_url: https://example.org/\nsearch: false\n")
    code, out, err = run_check(site, capsys)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("damage", ["stored article", "Markdown result"])
def test_check_starts_again_without_the_state_when_the_cache_is_damaged(make_site, capsys, damage):
    """It raised CacheDamaged out of ``check`` (a traceback) where a build starts again (found by review)."""
    import sqlite3
    site = make_site({"bochum/strassenbauer.md": with_body("Siehe [Bäcker](../essen/baecker.md#aufgaben).\n"),
                      "essen/baecker.md": ESSEN})
    assert site.build("-q") == 0
    cache_dir = site.root / ".cache" / "careersite"
    if damage == "stored article":
        for path in cache_dir.glob("state-*.sources-*.pickle"):
            data = bytearray(path.read_bytes())
            blob = 20 + int.from_bytes(data[8:16], "little")  # (see cache._read_chunk)
            data[blob + 4: blob + 5] = b"X"  # what kind of stored result it is
            path.write_bytes(data)
    else:
        with sqlite3.connect(cache_dir / "markup.sqlite3") as db:
            db.execute("UPDATE markup SET html = html || 'x'")
    code, out, err = run_check(site, capsys)
    assert (code, err) == (0, "")
    assert "No problems found." in out
