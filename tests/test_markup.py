"""careersite.markup: Markdown to safe HTML, headings, summary, links."""

from __future__ import annotations

from pathlib import Path

import pytest

from careersite import markup
from careersite.markup import SOURCE_LINK, Heading, cache_key, convert, resolve_source_links

ROOT = Path(__file__).resolve().parent.parent


def test_basic_markdown_tables_and_fenced_code():
    html = convert("Ein *Text*.\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n```\nx = 1\n```\n").html
    assert "<p>Ein <em>Text</em>.</p>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>x = 1\n</code></pre>" in html


@pytest.mark.parametrize("body", ["", "   \n\n", "\n"])
def test_an_empty_body_is_fine(body):
    result = convert(body)
    assert (result.html, result.headings, result.summary, result.links, result.words) == ("", (), "", (), 0)


def test_empty_body_after_a_full_one_does_not_keep_the_old_summary():
    convert("Alter Absatz mit [Link](https://x.org).\n")
    result = convert("")
    assert (result.summary, result.links) == ("", ())


def test_h1_becomes_h2_and_headings_get_german_ids():
    result = convert("# Titel\n\n## Über uns\n\n### Straße & Co\n\n## Über uns\n\n#### tief\n")
    assert '<h2 id="titel">Titel</h2>' in result.html
    assert "<h1" not in result.html
    assert result.headings == (Heading(2, "titel", "Titel"), Heading(2, "ueber-uns", "Über uns"),
                               Heading(3, "strasse-co", "Straße & Co"), Heading(2, "ueber-uns_1", "Über uns"))


def test_a_heading_without_letters_still_gets_an_id():
    assert convert("## !!!\n").headings[0].id == "abschnitt"


def test_summary_is_the_plain_text_of_the_first_paragraph():
    result = convert("## Kopf\n\nErster *Absatz*\nüber zwei   Zeilen.\n\nZweiter.\n")
    assert result.summary == "Erster Absatz über zwei Zeilen."
    assert result.words == 8  # words of the Markdown source, "##" included


def test_links_are_recorded_and_article_links_marked():
    result = convert("[a](https://x.org) [b](../essen/baecker.md#gehalt) [c](datei.pdf) ![d](bild.png)\n")
    assert result.links == ("https://x.org", "../essen/baecker.md#gehalt", "datei.pdf", "bild.png")
    assert f'href="{SOURCE_LINK}../essen/baecker.md#gehalt"' in result.html
    assert 'href="datei.pdf"' in result.html and 'src="bild.png"' in result.html


def test_resolve_source_links():
    html = convert("[b](../essen/baecker.md)\n").html
    assert resolve_source_links(html, lambda target: "/essen/baecker/") == '<p><a href="/essen/baecker/">b</a></p>'
    assert resolve_source_links("<p>x</p>", lambda target: 1 / 0) == "<p>x</p>"


@pytest.mark.parametrize("target", [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java%0ascript:alert(1)".replace("%0a", "\t"),
    "&#106;avascript:alert(1)",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
    "&#0000106&#0000097vascript:alert(1)",
    "javascript&colon;alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
])
def test_unsafe_link_targets_are_removed(target):
    html = convert(f"[klick]({target})\n\n[ref][r]\n\n[r]: {target}\n").html
    assert "href" not in html
    assert "<a>klick</a>" in html
    if "\t" not in target:  # a tab makes Python-Markdown ignore the definition: "[ref][r]" stays text
        assert "<a>ref</a>" in html and "alert" not in html.split("</p>", 1)[1]


def test_unsafe_image_source_keeps_its_text():
    html = convert("![Bild](javascript:alert(1))\n").html
    assert html == "<p><span>Bild</span></p>"


def test_autolink_with_javascript_is_not_a_link():
    html = convert("<javascript:alert(1)>\n").html
    assert "href" not in html and "&lt;javascript:alert(1)&gt;" in html


@pytest.mark.parametrize("target", ["https://x.org/a?b=1", "http://x.org", "mailto:a@x.org", "tel:+49201123",
                                    "//cdn.example.org/x.png", "#gehalt", "../bochum/", "datei.pdf"])
def test_safe_link_targets_are_kept(target):
    assert f'href="{target}"' in convert(f"[x]({target})\n").html


def test_raw_html_is_escaped_by_default():
    html = convert("<script>alert(1)</script>\n\nText <b onclick=\"x()\">fett</b> <!-- c -->\n").html
    assert "<script>" not in html and "<b " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onclick=&quot;x()&quot;&gt;fett&lt;/b&gt;" in html or "&lt;b onclick=\"x()\"&gt;" in html


def test_raw_html_passes_when_the_site_allows_it():
    html = convert("<div class=\"box\">roh</div>\n\nText <b>fett</b>\n", raw_html=True).html
    assert '<div class="box">roh</div>' in html and "<b>fett</b>" in html


def test_markdown_links_stay_safe_even_with_raw_html():
    assert "href" not in convert("[a](javascript:alert(1))\n", raw_html=True).html


def test_template_syntax_is_plain_text():
    html = convert("Rechnung: {{ 7*7 }} und {% raw %}x{% endraw %} {# c #}\n").html
    assert html == "<p>Rechnung: {{ 7*7 }} und {% raw %}x{% endraw %} {# c #}</p>"


def test_the_two_modes_do_not_share_an_instance():
    convert("<b>x</b>", raw_html=True)
    assert "&lt;b&gt;" in convert("<b>x</b>").html


def test_cache_key_depends_on_body_mode_and_version(monkeypatch):
    key = cache_key("Text", False)
    assert key == cache_key("Text", False)
    assert key != cache_key("Text ", False)
    assert key != cache_key("Text", True)
    monkeypatch.setattr(markup, "VERSION", markup.VERSION + "x")
    assert key != cache_key("Text", False)


# --- the fast inline processor gives exactly the stock result ----------------------------

_TRICKY = [
    "Text mit *Betonung*, **fett**, ***beides***, _unter_, __fett__ und snake_case_wort.",
    "Zeile mit zwei Leerzeichen  \nund Umbruch; `code *nicht* betont`, ``doppelt `innen` ``.",
    r"Escapes: \*kein\*, \[kein Link\], \\ und \` sowie C:\\Pfad.",
    "[Link](https://example.org \"Titel\"), [Ref][r], [r], ![Bild](b.png), ![Ref-Bild][r]\n\n[r]: https://x.org",
    "<https://example.org/a?b=c&d=e>, <mail@example.org>, < kein tag >, a<b, 3 < 4 & 5 > 2",
    "Entitäten: &amp; &#38; &#x26; &copy; & allein; AT&T",
    "<span>inline html</span> und <!-- Kommentar --> und <br/>",
    "| Stufe | Gehalt |\n|---|---:|\n| *Einstieg* | 3.300 € |\n| [Profi](../b/c.md) | 4.600 € |",
    "* Liste mit *Stern*\n* zweiter `Punkt`\n    * eingerückt mit [Link](x.md#abschnitt)",
    "```python\nprint('*nicht* betont')\n```\n\nDanach **fett**.",
    "# Titel *schräg*\n\n## Gehalt & Zulagen\n\n### `Code` im Titel\n\n## Gehalt & Zulagen",
    "Sterne * allein * und Unterstriche _ allein _ und **ungeschlossen",
    "\x02klzzwxh:0\x03 Platzhalter-ähnlich \x02wzxhzdk:0\x03",
    "Viele ***gemischte*** _*Marker*_ **_hier_** *a **b** c* __a *b* c__",
    "> Zitat mit *Betonung*\n> und [Link](https://example.org)",
    "Text  \n  \n  Leerzeichen   überall  ",
    "## Gehalt  in   Essen \n\n## Gehalt in Essen\n\n### Gehalt in Essen\n\n## Gehalt in Essen_1\n\n## Gehalt in Essen",
    "# Ärzte und Straße\n\n## 123\n\n## ...\n\n##\n\n#### Tief\n\n## Ärzte > Pflege\n\n## A 'quote' \"x\"",
    "## Aufgaben\n\n[TOC]\n\n## Gehalt",
    "Setext\n======\n\nZweite\n------\n\n## Dritte ##",
    "Absatz\n# Titel mitten drin\nweiter\n#kein Titel\n\n####### sieben",
    "  ***\n\n- - -\n\n___\n\n * * *\n\nText\n   ---\nmehr\n    ---\n\n-- -\n\n_ _ _ _",
    "Text\n-\n\nText\n=\n\nA\n- Liste\n\nB\n==\nC\n\nD\n-- \n",
    "Text\n> Zitat mitten\n   > eingerückt\n    > Code\n\na > b\n\n>\n",
    "[x]: https://x.org\n[y]: <https://y.org> \"T\"\nText [x] und [y]\n\nVorher\n[z]: /z \"Z\"\nNachher [z]",
    "   [w]: /w\n[kein]:\n\n[v]:\n  /v\n  'V'\n\n[v] und [w]",
    "| eins |\n| --- |\n| zwei |\n\na | b\n--|--\nc | d\n\nKein | Tisch\nnur Text\n\n|\n|\n\n\\| a | b",
]


def _random_markdown(rng) -> str:
    pieces = ["Wort", "Gehalt", " ", "  \n", "\n\n", "*", "**", "_", "__", "`", "``", "[", "]", "(", ")", "![",
              "<", ">", "&", "&amp;", ";", "\\", "#", "## ", "- ", "1. ", "| a | b |\n|---|---|\n| c | d |\n",
              "https://example.org", "mail@example.org", "x.md", "ä", "ß", "\t", "> ", "---\n", "!", ":", '"',
              "\n", "\n=", "\n-", "***", "_ _ _", "   ", "[r]: /r", "]:", "|", "\n|---|\n", "#"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))


@pytest.mark.parametrize("raw_html", [False, True])
def test_fast_processors_equal_stock_python_markdown(raw_html):
    import random
    fast, stock = markup._new_instance(raw_html), markup._new_instance(raw_html, fast=False)
    assert type(fast.treeprocessors["inline"]).__name__ == "_FastInline"
    assert type(stock.treeprocessors["inline"]).__name__ == "InlineProcessor"
    assert type(fast.treeprocessors["toc"]).__name__ == "_FastToc"
    assert type(stock.treeprocessors["toc"]).__name__ == "TocTreeprocessor"
    rng = random.Random(20261124)
    samples = _TRICKY + [_random_markdown(rng) for _ in range(3000)]
    samples += [p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in (ROOT / "content").rglob("*.md")]
    for text in samples:
        fast.reset()
        stock.reset()
        assert fast.convert(text) == stock.convert(text), repr(text)
        assert fast.toc_tokens == stock.toc_tokens


def test_every_block_check_is_in_place():
    """If Python-Markdown changes a block processor's expression, its check quietly turns off:
    notice it here."""
    for raw_html in (False, True):
        processors = markup._new_instance(raw_html).parser.blockprocessors
        for name in ("hashheader", "setextheader", "hr", "quote", "table"):
            assert "test" in vars(processors[name]), name
        assert "run" in vars(processors["reference"])
        stock = markup._new_instance(raw_html, fast=False).parser.blockprocessors
        assert not any("test" in vars(p) or "run" in vars(p) for p in stock)


def test_fast_inline_processor_knows_every_installed_pattern():
    """If Python-Markdown changes a pattern, the fast path quietly turns off: notice it here."""
    for raw_html in (False, True):
        md = markup._new_instance(raw_html)
        unknown = [p.pattern for p in md.inlinePatterns if getattr(p, "pattern", None) not in markup._TRIGGERS]
        assert unknown == []


@pytest.mark.parametrize("target", ["http://[", "https://[::1", "a[b.md", "//[x"])
def test_link_targets_urlsplit_rejects_do_not_crash(target):
    html = convert(f"[x]({target})").html  # urlsplit() raised "Invalid IPv6 URL" here
    assert ">x</a>" in html


def test_a_build_that_converts_no_markdown_does_not_import_pygments():
    """fenced_code (and with it codehilite and Pygments, ~40 ms) is imported with the first
    Markdown instance, not with the package: a template edit converts no Markdown."""
    import subprocess
    import sys
    probe = ("import sys, careersite.pipeline, careersite.render; "
             "print(sorted(m for m in sys.modules if m.startswith(('pygments', 'markdown.extensions.fenced'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    assert "<pre><code>" in convert("```\nx = 1\n```\n").html
