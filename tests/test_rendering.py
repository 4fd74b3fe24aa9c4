"""The rendering contract of issue 2, proven on whole builds (render.py, templates/ and extras/ together).

Escaping everywhere (HTML, JSON-LD, feeds, sitemap), StrictUndefined, German money and dates,
template syntax in content printed literally, raw HTML escaped unless ``raw_html: true``,
``javascript:`` links never live, and the cross links between articles.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import article

XSS_ROLE = "<img src=x onerror=alert(1)>"  # a role may not contain "/", so no "</script>" here
XSS = "<script>alert(1)</script>"

HOSTILE = f"""\
---
role: "{XSS_ROLE}"
city: "Essen"
title: "{XSS} {{{{ 7*7 }}}}"
region: "{XSS}"
state: "<b>NRW</b>"
summary: "{{% raw %}} {XSS} &amp; \\"quoted\\""
salary:
  min: 3300
  max: 4600
  levels:
    - {{label: "{XSS}", min: 3300, max: 4000}}
date: 2026-11-23
tags: ["{XSS}", "&lt;i&gt;"]
---
Text mit {{{{ 7*7 }}}} und {{% raw %}}x{{% endraw %}} und {{# c #}} und {{{{ config }}}}.

<script>alert(2)</script> und <b onclick="alert(3)">fett</b>

[a](javascript:alert(4)) [b](JaVaScRiPt:alert(5)) [c](&#106;avascript:alert(6))
[d](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(7)) <javascript:alert(8)>
![e](javascript:alert(9)) [f](vbscript:msgbox(10)) [g](data:text/html,hi) [ok](https://example.org/ok)
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One build with hostile values in every field: {relpath: text}."""
    import os
    import shutil

    from conftest import TEMPLATES

    from careersite.cli import main

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(TEMPLATES, root / "templates")
    (root / "config.yaml").write_text("title: Testatlas\nbase_url: https://example.org/\n", encoding="utf-8")
    for rel, text in {"essen/x.md": HOSTILE, "essen/koch.md": article("Koch", "Essen"),
                      "bochum/x.md": article(XSS_ROLE, "Bochum")}.items():
        path = root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    old = os.getcwd()
    os.chdir(root)
    try:
        assert main(["build", "-q"]) == 0
    finally:
        os.chdir(old)
    pages = {}
    for path in sorted((root / "output").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xml", ".txt", ".json", ".js", ".css"):
            pages[path.relative_to(root / "output").as_posix()] = path.read_text(encoding="utf-8")
    return pages  # the compressed search index is left out: search.js inserts its text as text


def test_hostile_values_never_appear_as_markup(hostile):
    assert any(XSS_ROLE in html.unescape(text) for text in hostile.values())  # the test data did arrive
    for relpath, text in hostile.items():
        assert "<script>alert" not in text, relpath
        assert "<img src=x" not in text, relpath
        assert "<b>NRW" not in text and "<b onclick" not in text, relpath


def test_template_syntax_in_content_prints_literally(hostile):
    page = hostile["essen/img-src-x-onerror-alert-1/index.html"]
    assert "{{ 7*7 }}" in page and "{% raw %}x{% endraw %}" in page and "{# c #}" in page
    assert "{{ config }}" in page
    assert "Text mit 49" not in page
    for text in hostile.values():
        assert "Testatlas 49" not in text and "&lt;/script&gt; 49" not in text  # the title's {{ 7*7 }}


def test_json_ld_is_valid_and_cannot_close_its_script(hostile):
    page = hostile["essen/img-src-x-onerror-alert-1/index.html"]
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert blocks
    names = []
    for block in blocks:
        assert "<" not in block and ">" not in block  # escaped as \u003c, so "</script>" cannot occur
        data = json.loads(block)
        names.append(json.dumps(data, ensure_ascii=False))
    assert any(XSS_ROLE in n for n in names)


def test_feeds_and_sitemap_are_well_formed_and_carry_the_literal_text(hostile):
    feeds = [rel for rel in hostile if rel.endswith(".xml") and "feed" in rel]
    assert feeds
    titles = []
    for rel in feeds:
        root = ET.fromstring(hostile[rel].encode())
        titles += [el.text or "" for el in root.iter() if el.tag.endswith("title")]
    assert any(XSS in t for t in titles) or any(XSS_ROLE in t for t in titles)
    sitemap = ET.fromstring(hostile["sitemap.xml"].encode())
    locs = [el.text for el in sitemap.iter() if el.tag.endswith("loc")]
    assert "https://example.org/essen/img-src-x-onerror-alert-1/" in locs
    assert all(re.fullmatch(r"https://example\.org/[a-z0-9/._-]*", loc) for loc in locs), locs


def test_javascript_links_are_never_live(hostile):
    for relpath, text in hostile.items():
        for target in re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', text, re.I):
            probe = re.sub(r"[\x00-\x20]", "", html.unescape(target)).lower()
            assert not probe.startswith(("javascript:", "vbscript:", "data:")), (relpath, target)
    page = hostile["essen/img-src-x-onerror-alert-1/index.html"]
    assert '<a href="https://example.org/ok">ok</a>' in page


def test_raw_html_in_markdown_is_escaped(hostile):
    page = hostile["essen/img-src-x-onerror-alert-1/index.html"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b onclick=" in page


def test_raw_html_passes_when_the_site_allows_it(make_site):
    site = make_site({"essen/koch.md": article("Koch", "Essen", body="<div class=\"box\">roh</div>\n\nText\n")},
                     config="raw_html: true\n")
    assert site.build("-q") == 0
    assert '<div class="box">roh</div>' in site.page("essen/koch/index.html")


def test_german_money_and_dates(make_site):
    site = make_site({"essen/koch.md": article("Koch", "Essen", 3300, 4600, date="2026-11-23")})
    assert site.build("-q") == 0
    page = site.page("essen/koch/index.html")
    assert "3.300–4.600\u00a0€" in page
    assert "23. November 2026" in page
    assert 'datetime="2026-11-23"' in page


def test_an_undefined_template_value_fails_the_build(make_site, capsys):
    site = make_site({"essen/koch.md": article("Koch", "Essen")})
    template = site.root / "templates" / "article.html"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "{% block main %}", "{% block main %}{{ article.no_such_field }}", 1), encoding="utf-8")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert err.startswith("templates/article.html:")
    assert "no_such_field" in err and "(while rendering essen/koch/index.html)" in err
    assert not site.output.exists()


def test_cross_links_same_profession_elsewhere_and_other_professions_here(make_site):
    site = make_site({
        "essen/koch.md": article("Koch", "Essen"),
        "essen/baecker.md": article("Bäcker", "Essen"),
        "muenster/koch.md": article("Koch", "Münster"),
        "bochum/maurer.md": article("Maurer", "Bochum"),
    })
    assert site.build("-q") == 0
    page = site.page("essen/koch/index.html")
    assert 'href="../../muenster/koch/"' in page  # the same profession in another city
    assert 'href="../../essen/baecker/"' in page  # another profession in the same city
    assert 'href="../../bochum/maurer/"' not in page  # neither
    lone = site.page("bochum/maurer/index.html")
    assert 'href="../../essen/koch/"' not in lone and 'href="../../muenster/koch/"' not in lone
