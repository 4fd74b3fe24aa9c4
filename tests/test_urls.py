"""careersite.urls: German slugs, URL patterns, safe output paths, relative links."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careersite.urls import MAX_SEGMENT_BYTES, check_relpath, expand, relative_url, safe_join, slugify, url_to_file


@pytest.mark.parametrize("text, slug", [
    ("Bäcker", "baecker"),
    ("Köln", "koeln"),
    ("Münster", "muenster"),
    ("Gießen", "giessen"),
    ("ÄRZTIN", "aerztin"),
    ("Übersetzer", "uebersetzer"),
    ("Öko", "oeko"),
    ("GROẞ", "gross"),
    ("IT-Koordinator Qualitätssicherung", "it-koordinator-qualitaetssicherung"),
    ("Fachkraft für Lagerlogistik (m/w/d)", "fachkraft-fuer-lagerlogistik-m-w-d"),
    ("  Elektroniker   für Betriebstechnik ", "elektroniker-fuer-betriebstechnik"),
    ("Café Crème", "cafe-creme"),  # other accents are dropped, not transliterated
    ("Mülheim an der Ruhr", "muelheim-an-der-ruhr"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
    ("!!!", ""),
])
def test_slugify_examples(text, slug):
    assert slugify(text) == slug


@pytest.mark.parametrize("word", ["Münster", "Bäcker", "Köln", "Übach-Palenberg", "Gießen"])
def test_composed_and_decomposed_umlauts_give_one_slug(word):
    nfd = unicodedata.normalize("NFD", word)
    assert nfd != word or "ß" in word
    assert slugify(nfd) == slugify(unicodedata.normalize("NFC", word))


def test_transliterated_spelling_gives_the_same_slug():
    assert slugify("Muenster") == slugify("Münster") == slugify("MÜNSTER") == slugify("münster")


@given(st.text())
def test_slugify_is_idempotent_and_ascii(text):
    slug = slugify(text)
    assert slug == slugify(slug)
    assert slug.isascii()
    assert slug == slug.lower()
    assert not slug.startswith("-") and not slug.endswith("-")
    assert "--" not in slug
    if slug and len(slug) <= MAX_SEGMENT_BYTES:
        assert check_relpath(slug) == ""


@given(st.text())
def test_slugify_ignores_unicode_normalisation(text):
    assert slugify(unicodedata.normalize("NFD", text)) == slugify(unicodedata.normalize("NFC", text))


def test_expand_and_url_to_file():
    assert expand("{city}/{role}/", city="bochum", role="baecker") == "bochum/baecker/"
    assert url_to_file("bochum/baecker/") == "bochum/baecker/index.html"
    assert url_to_file("") == "index.html"
    assert url_to_file("berufe/baecker.html") == "berufe/baecker.html"


@pytest.mark.parametrize("relpath", ["", "../x", "a/../../x", "/etc/passwd", "a\\b", "a\x00b", "a/../b",
                                     "a/" + "x" * (MAX_SEGMENT_BYTES + 1), "a/\udcff.html", "\udcff",
                                     "a/" + "ä" * (MAX_SEGMENT_BYTES // 2 + 1), "./a", "a/./b", "a//b", "a/",
                                     "ä//b", "ä/./b"])
def test_check_relpath_rejects_unsafe_paths(relpath):
    assert check_relpath(relpath) != ""


@pytest.mark.parametrize("relpath", ["index.html", "bochum/baecker/index.html", "x" * MAX_SEGMENT_BYTES,
                                     "a/" + "ä" * (MAX_SEGMENT_BYTES // 2), "static/logo-ü.css"])
def test_check_relpath_accepts_safe_paths(relpath):
    assert check_relpath(relpath) == ""


def test_safe_join_stays_inside_root(tmp_path):
    root = tmp_path / "output"
    root.mkdir()
    assert safe_join(root, "a/b.html") == (root / "a/b.html").resolve()
    for bad in ("../escape.html", "/tmp/escape.html", "a/../../escape.html"):
        with pytest.raises(ValueError, match="unsafe output path"):
            safe_join(root, bad)


def test_safe_join_is_not_fooled_by_a_sibling_with_the_same_prefix(tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "output2").mkdir()
    (tmp_path / "output" / "link").symlink_to(tmp_path / "output2")
    with pytest.raises(ValueError, match="leaves"):
        safe_join(tmp_path / "output", "link/x.html")


def test_safe_join_refuses_a_symlink_that_leaves_root(tmp_path):
    root = tmp_path / "output"
    root.mkdir()
    (root / "evil").symlink_to(Path("/"))
    with pytest.raises(ValueError):
        safe_join(root, "evil/etc/x")


@pytest.mark.parametrize("from_file, to_url, expected", [
    ("index.html", "", "./"),
    ("index.html", "bochum/", "bochum/"),
    ("bochum/index.html", "", "../"),
    ("bochum/baecker/index.html", "essen/", "../../essen/"),
    ("404.html", "static/style.css", "static/style.css"),
])
def test_relative_url(from_file, to_url, expected):
    assert relative_url(from_file, to_url) == expected
